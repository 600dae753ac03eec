"""Typed parameter declarations: the package's `parameters:` map (see schema/package.schema.json).

An object's parameters are its `const volatile` globals, whose C type says how they are stored
but not what they mean: an `int` may hold a bit per signal, a `__u64` a latency in
microseconds. A declaration names that meaning, so `run` takes `KILL,TERM` or `10ms` and
converts it to the kernel's encoding, and `info` and the site describe each parameter. The
package metadata carries the declarations, and the artifact config copies them (top-level
`parameters`), so an installed package keeps what it was built with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The declared types (`type:`); the schema lists the same.
KINDS = ("int", "bool", "string", "enum", "signal", "signal-set", "duration", "list")


@dataclass(frozen=True)
class ParameterDecl:
    """What one `const volatile` global means.

    `unit`: a duration's kernel unit (ns, us, ms, s) or an int's display unit; `bit`: how a
    signal-set numbers its bits (`signal`: bit N is signal N; `signal-1`: the kernel's
    sigmask(), bit N-1); `values`: an enum's names; `items`: a list's element type.
    """

    name: str
    description: str
    type: str
    unit: str | None = None
    bit: str | None = None
    values: tuple[tuple[str, int], ...] | None = None
    items: str | None = None

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> ParameterDecl:
        values = data.get("values")
        return cls(
            name=name,
            description=data["description"],
            type=data["type"],
            unit=data.get("unit"),
            bit=data.get("bit"),
            values=tuple(values.items()) if values is not None else None,
            items=data.get("items"),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"description": self.description, "type": self.type}
        optional = {
            "unit": self.unit,
            "bit": self.bit,
            "values": dict(self.values) if self.values is not None else None,
            "items": self.items,
        }
        data.update((key, value) for key, value in optional.items() if value is not None)
        return data


def declarations_from_json(data: Mapping[str, Any] | None) -> tuple[ParameterDecl, ...] | None:
    """The `parameters:` map of a checked document, None when it has none."""
    if data is None:
        return None
    return tuple(ParameterDecl.from_json(name, entry) for name, entry in data.items())


def declarations_to_json(declarations: tuple[ParameterDecl, ...]) -> dict[str, Any]:
    return {d.name: d.to_json() for d in declarations}
