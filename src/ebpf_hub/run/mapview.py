"""Output maps: what a package declares under `output.maps`, read and printed on an interval.

Keys and values are decoded from the object's BTF like events. A per-CPU map's values are
summed over the CPUs. `counter` and `table` maps print as one row per key, largest first;
a `histogram` map's value holds log2 slots (`__u64 slots[EBPF_HUB_HIST_SLOTS]`, alone or as
the struct's array member) and prints as bars, one histogram per key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from ebpf_hub.bpfobj.btf import Btf
from ebpf_hub.bpfobj.decode import compile_decoder
from ebpf_hub.bpfobj.layout import Layout, build_layout
from ebpf_hub.bpfobj.maps import MapInfo
from ebpf_hub.errors import HubError
from ebpf_hub.model.metrics import NO_UNIT
from ebpf_hub.model.package import OutputMap as DeclaredMap
from ebpf_hub.run import histogram
from ebpf_hub.run.eventfmt import Column, cell, columns, format_row, lookup
from ebpf_hub.run.maps import Map
from ebpf_hub.safetext import escape

KINDS: Final = ("counter", "table", "histogram")
_dumps = json.JSONEncoder(separators=(",", ":")).encode

Decode = Callable[[bytes], Any]
Entry = tuple[Any, Any]


@dataclass(frozen=True)
class OutputSpec:
    """One entry of the package's `output.maps`."""

    map: str
    kind: str
    title: str
    unit: str

    @classmethod
    def from_config(cls, entry: DeclaredMap) -> OutputSpec:
        if entry.kind not in KINDS:
            raise HubError(f"output map {entry.map!r}: kind {entry.kind!r} is not one of {KINDS}")
        return cls(entry.map, entry.kind, entry.title or entry.map, entry.unit or NO_UNIT)


def _decoder(btf: Btf, type_id: int | None) -> tuple[Decode, Layout | None]:
    if type_id is None:  # declared by size only: show the bytes
        return (lambda raw: raw.hex()), None
    return compile_decoder(btf, type_id), build_layout(btf, type_id)


def _slots_of(layout: Layout | None, name: str) -> Callable[[Any], list[int]]:
    """Where a histogram value keeps its slots: the value itself, or its array member."""
    if layout is not None and _is_slots(layout):
        return list
    for field in layout.fields if layout is not None and layout.kind == "struct" else ():
        if _is_slots(field.layout):
            member = field.name
            return lambda value: list(value[member])
    raise HubError(
        f"output map {name!r} is declared a histogram, but its value is not log2 slots "
        "(__u64 slots[EBPF_HUB_HIST_SLOTS], alone or in a struct)"
    )


def _is_slots(layout: Layout) -> bool:
    element = layout.element
    return layout.kind == "array" and element is not None and element.kind in ("int", "uint")


def merge(values: Sequence[Any]) -> Any:
    """One value from a per-CPU map's values: numbers add up, structs and arrays per member."""
    first = values[0]
    if isinstance(first, bool):
        return any(values)
    if isinstance(first, int | float):
        return sum(values)
    if isinstance(first, dict):
        return {key: merge([v[key] for v in values]) for key in first}
    if isinstance(first, list):
        return [merge(column) for column in zip(*values, strict=True)]
    return first


def _weight(value: Any) -> float:
    """What rows sort by: the value's first number."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return next((_weight(v) for v in value.values() if isinstance(v, int | float)), 0)
    return 0


class OutputMap:
    """An output map's decoders and printers, checked against the object before it loads;
    `entries()` reads the loaded map."""

    def __init__(self, spec: OutputSpec, declared: MapInfo, btf: Btf) -> None:
        self.spec = spec
        self._key, key_layout = _decoder(btf, declared.key_type_id)
        self._value, value_layout = _decoder(btf, declared.value_type_id)
        self._slots = _slots_of(value_layout, spec.map) if spec.kind == "histogram" else None
        key_columns = _columns(key_layout, "key")
        value_columns = _columns(value_layout, "count" if spec.kind == "counter" else "value")
        self._columns = [(True, c) for c in key_columns] + [(False, c) for c in value_columns]

    def entries(self, loaded: Map) -> list[Entry]:
        """(key, value) pairs decoded, per-CPU values merged, in printing order."""
        rows = []
        for raw_key, raw_value in loaded.items():
            values = raw_value if isinstance(raw_value, list) else [raw_value]
            rows.append((self._key(raw_key), merge([self._value(v) for v in values])))
        if self._slots is not None:
            return sorted(rows, key=lambda row: _dumps(row[0]))
        return sorted(rows, key=lambda row: (-_weight(row[1]), _dumps(row[0])))

    @property
    def key_columns(self) -> list[Column]:
        """The parts of a key, one per struct member (flattened), else the key itself."""
        return [c for is_key, c in self._columns if is_key]

    @property
    def value_columns(self) -> list[Column]:
        """The parts of a value, as `key_columns` splits a key."""
        return [c for is_key, c in self._columns if not is_key]

    @property
    def slots(self) -> Callable[[Any], list[int]] | None:
        """What gives a decoded histogram value's log2 slots; None for other kinds."""
        return self._slots

    def json(self, entries: Sequence[Entry]) -> str:
        spec = self.spec
        body: dict[str, Any] = {"name": spec.map, "kind": spec.kind, "title": spec.title}
        if self._slots is not None:
            body["unit"] = spec.unit
            body["entries"] = [
                {"key": key, "buckets": [asdict(b) for b in histogram.buckets(self._slots(v))]}
                for key, v in entries
            ]
        else:
            body["entries"] = [{"key": key, "value": value} for key, value in entries]
        return _dumps({"map": body}) + "\n"

    def text(self, entries: Sequence[Entry]) -> str:
        lines = [f"{escape(self.spec.title)}\n"]  # the package's words, like its summary
        if self._slots is not None:
            for key, value in entries:
                if len(entries) > 1:
                    lines.append(f"key = {cell(key)}\n")
                lines.append(histogram.render(self._slots(value), escape(self.spec.unit)))
            return "".join(lines)
        if not entries:
            return lines[0] + "(empty)\n"
        table = [
            [cell(lookup(key if is_key else value, c.path)) for is_key, c in self._columns]
            for key, value in entries
        ]
        headers = [c.name.upper() for _, c in self._columns]
        widths = [max(len(row[i]) for row in [headers, *table]) for i in range(len(headers))]
        lines.extend(format_row(row, widths) for row in [headers, *table])
        return "".join(lines)


def _columns(layout: Layout | None, default: str) -> list[Column]:
    if layout is None:
        return [Column(default, (), len(default))]
    return list(columns(layout, default=default))
