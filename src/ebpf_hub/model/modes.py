"""What a package lets `run` choose and narrow: modes, optional programs, filters.

Real tools attach a subset of their programs: a mode (sigsnoop's "signals generated" versus
"kill() calls"), minus the programs whose hook this kernel lacks. And they narrow what the
kernel reports from user space: `--pid` writes a `const volatile` global, `--cgroup DIR` puts
the directory's descriptor in a cgroup array map. The package metadata declares all three
(`modes:`, `optional: true` on a program, `filters:`; see schema/package.schema.json), and
the artifact config copies them (`modes`, `optionalPrograms`, `filters`), so an installed
package runs without the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

# The run options a filter may stand behind, in the order errors list them; the schema lists
# the same keys.
FILTER_OPTIONS: Final = ("pid", "tid", "uid", "comm", "cgroup")


@dataclass(frozen=True)
class Mode:
    """A named set of programs; programs no mode names attach in every mode."""

    name: str
    description: str
    programs: tuple[str, ...]
    default: bool = False

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Mode:
        return cls(name, data["description"], tuple(data["programs"]), data.get("default", False))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"description": self.description, "programs": list(self.programs)}
        if self.default:
            data["default"] = True
        return data


@dataclass(frozen=True)
class Filter:
    """A run option (`pid`, `comm`, `cgroup`...) and what the object has for it: a `const
    volatile` global it writes, and for `cgroup` a cgroup array map it fills."""

    option: str
    global_name: str | None = None
    map: str | None = None

    @classmethod
    def from_json(cls, option: str, data: Mapping[str, Any]) -> Filter:
        return cls(option, data.get("global"), data.get("map"))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.global_name is not None:
            data["global"] = self.global_name
        if self.map is not None:
            data["map"] = self.map
        return data


@dataclass(frozen=True)
class Choices:
    """A package's modes, optional programs and filters (all empty: everything attaches,
    every hook is required, no filter option is accepted)."""

    modes: tuple[Mode, ...] = ()
    optional: frozenset[str] = frozenset()
    filters: tuple[Filter, ...] = ()

    @property
    def default_mode(self) -> Mode | None:
        return next((mode for mode in self.modes if mode.default), None)

    def mode(self, name: str) -> Mode | None:
        return next((mode for mode in self.modes if mode.name == name), None)

    def filter(self, option: str) -> Filter | None:
        return next((f for f in self.filters if f.option == option), None)

    def unselected(self, mode: Mode | None) -> frozenset[str]:
        """The programs `mode` leaves out: those other modes name and it does not."""
        if mode is None:
            return frozenset()
        named = {program for other in self.modes for program in other.programs}
        return frozenset(named - set(mode.programs))


def modes_from_json(data: Mapping[str, Any] | None) -> tuple[Mode, ...]:
    return tuple(Mode.from_json(name, body) for name, body in (data or {}).items())


def modes_to_json(modes: tuple[Mode, ...]) -> dict[str, Any]:
    return {mode.name: mode.to_json() for mode in modes}


def filters_from_json(data: Mapping[str, Any] | None) -> tuple[Filter, ...]:
    """The filters in the order of FILTER_OPTIONS, however the document ordered them."""
    given = data or {}
    return tuple(
        Filter.from_json(option, given[option]) for option in FILTER_OPTIONS if option in given
    )


def filters_to_json(filters: tuple[Filter, ...]) -> dict[str, Any]:
    return {f.option: f.to_json() for f in filters}
