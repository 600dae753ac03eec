"""How the fields of a package's events print: `output.fields`, `output.unions`, `output.columns`;
and those of its output maps' keys and values (`output.maps[].fields`, the same formats).

Declared in the package metadata and copied into the artifact config, so an installed package
formats its events and maps without the index. The runner turns these into text
(ebpf_hub.run.fieldformat); build checks them against the object's event struct and map
types (ebpf_hub.build.formatcheck). The schema (`output.fields`) bounds each key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Format name -> the options it takes (besides `title`), as the schema lists them.
FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "errno": frozenset({"sign"}),
    "signal": frozenset(),
    "flags": frozenset({"set", "values"}),
    "enum": frozenset({"set", "values"}),
    "syscall": frozenset(),
    "ip": frozenset({"family"}),
    "port": frozenset({"byte_order"}),
    "duration": frozenset({"unit"}),
    "timestamp": frozenset({"clock"}),
    "age": frozenset({"clock"}),
    "bytes": frozenset({"unit"}),
    "hidden": frozenset(),
}


@dataclass(frozen=True)
class FieldFormat:
    """One field's format and its options (None: not given, the format's default applies)."""

    format: str
    title: str | None = None
    set: str | None = None
    values: tuple[tuple[str, int], ...] | None = None
    family: str | None = None
    unit: str | None = None
    byte_order: str | None = None
    clock: str | None = None
    sign: str | None = None

    @classmethod
    def from_json(cls, data: str | Mapping[str, Any]) -> FieldFormat:
        if isinstance(data, str):
            return cls(data)
        values = data.get("values")
        return cls(
            data["format"],
            title=data.get("title"),
            set=data.get("set"),
            values=tuple(values.items()) if values is not None else None,
            family=data.get("family"),
            unit=data.get("unit"),
            byte_order=data.get("byte_order"),
            clock=data.get("clock"),
            sign=data.get("sign"),
        )

    def to_json(self) -> str | dict[str, Any]:
        """The shorthand string when only the format is given, else the mapping."""
        options = {
            "title": self.title,
            "set": self.set,
            "values": dict(self.values) if self.values is not None else None,
            "family": self.family,
            "unit": self.unit,
            "byte_order": self.byte_order,
            "clock": self.clock,
            "sign": self.sign,
        }
        given = {key: value for key, value in options.items() if value is not None}
        return {"format": self.format, **given} if given else self.format


@dataclass(frozen=True)
class UnionChoice:
    """A union of the event that prints only the member its `tag` field chooses.

    `members`: (member name, tag values that choose it); a tag value is a number or a name
    (of the tag's enum format or its C enumerators)."""

    tag: str
    members: tuple[tuple[str, tuple[int | str, ...]], ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnionChoice:
        members = tuple(
            (name, tuple(value) if isinstance(value, list) else (value,))
            for name, value in data["members"].items()
        )
        return cls(data["tag"], members)

    def to_json(self) -> dict[str, Any]:
        members = {
            name: values[0] if len(values) == 1 else list(values) for name, values in self.members
        }
        return {"tag": self.tag, "members": members}


def fields_from_json(data: Mapping[str, Any] | None) -> tuple[tuple[str, FieldFormat], ...] | None:
    if data is None:
        return None
    return tuple((name, FieldFormat.from_json(spec)) for name, spec in data.items())


def fields_to_json(
    fields: tuple[tuple[str, FieldFormat], ...] | None,
) -> dict[str, Any] | None:
    return {name: spec.to_json() for name, spec in fields} if fields is not None else None


def unions_from_json(data: list[Mapping[str, Any]] | None) -> tuple[UnionChoice, ...] | None:
    return tuple(UnionChoice.from_json(u) for u in data) if data is not None else None


def unions_to_json(unions: tuple[UnionChoice, ...] | None) -> list[dict[str, Any]] | None:
    return [u.to_json() for u in unions] if unions is not None else None
