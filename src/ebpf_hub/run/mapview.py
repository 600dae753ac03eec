"""Output maps: what a package declares under `output.maps`, read and printed on an interval.

Keys and values are decoded from the object's BTF like events. A per-CPU map's values are
summed over the CPUs. `counter` and `table` maps print as one row per key, largest first;
a `histogram` map's value holds log2 slots (`__u64 slots[EBPF_HUB_HIST_SLOTS]`, alone or as
the struct's array member) and prints as bars, one histogram per key.

A map's declared formats (`output.maps[].fields`, ebpf_hub.formats.mapplan) print as events'
do, with the same formatters (ebpf_hub.run.fieldformat): the cells and a histogram's key line
show the text, `--json` entries keep `key`/`value` raw and add `formatted`, and --metrics
labels carry the text. Rows still sort by the raw values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Final

from ebpf_hub.bpfobj.btf import Btf
from ebpf_hub.bpfobj.decode import compile_decoder
from ebpf_hub.bpfobj.layout import Layout, build_layout
from ebpf_hub.bpfobj.maps import MapInfo
from ebpf_hub.errors import HubError
from ebpf_hub.formats.mapplan import MapPlan, map_plan
from ebpf_hub.formats.plan import FieldPlan
from ebpf_hub.formats.sets import host_arch
from ebpf_hub.model.metrics import NO_UNIT
from ebpf_hub.model.package import OutputMap as DeclaredMap
from ebpf_hub.run import histogram
from ebpf_hub.run.eventfmt import Column, cell, columns, lookup, row_format
from ebpf_hub.run.fieldformat import Formatter, formatter
from ebpf_hub.run.maps import Map
from ebpf_hub.safetext import escape

KINDS: Final = ("counter", "table", "histogram")
_dumps = json.JSONEncoder(separators=(",", ":")).encode

Decode = Callable[[bytes], Any]
Entry = tuple[Any, Any]


@dataclass(frozen=True)
class OutputSpec:
    """One entry of the package's `output.maps`; `declared` keeps its formats (None: none,
    as with --raw)."""

    map: str
    kind: str
    title: str
    unit: str
    declared: DeclaredMap | None = None

    @classmethod
    def from_config(cls, entry: DeclaredMap, raw: bool = False) -> OutputSpec:
        if entry.kind not in KINDS:
            raise HubError(f"output map {entry.map!r}: kind {entry.kind!r} is not one of {KINDS}")
        declared = None if raw else entry
        return cls(entry.map, entry.kind, entry.title or entry.map, entry.unit or NO_UNIT, declared)


@dataclass(frozen=True)
class _Cell:
    """A column of the map's rows: `show` gives its text from the decoded key (`is_key`)
    or value; `text` is its formatter, None when nothing is declared for it."""

    header: str
    is_key: bool
    column: Column
    text: Formatter | None

    def show(self, part: Any) -> str:
        found = lookup(part, self.column.path)
        return cell(found) if self.text is None else escape(self.text(found, part))


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
    if isinstance(first, (int, float)):
        return sum(values)
    if isinstance(first, dict):
        return {key: merge([v[key] for v in values]) for key in first}
    if isinstance(first, list):
        return [merge(column) for column in zip(*values)]
    return first


def _weight(value: Any) -> float:
    """What rows sort by: the value's first number."""
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, dict):
        return next((_weight(v) for v in value.values() if isinstance(v, (int, float))), 0)
    return 0


class OutputMap:
    """An output map's decoders and printers, checked against the object before it loads;
    `entries()` reads the loaded map."""

    def __init__(self, spec: OutputSpec, declared: MapInfo, btf: Btf, label: str = "") -> None:
        self.spec = spec
        self._key, key_layout = _decoder(btf, declared.key_type_id)
        self._value, value_layout = _decoder(btf, declared.value_type_id)
        self._slots = _slots_of(value_layout, spec.map) if spec.kind == "histogram" else None
        declared_formats = spec.declared
        plan = (
            MapPlan()
            if declared_formats is None
            else map_plan(declared_formats, key_layout, value_layout, label or spec.map)
        )
        self._formatted = _formatters(plan)
        texts = {(is_key, path): text for _, is_key, path, text in self._formatted}
        key_cells = _cells(key_layout, "key", True, plan.key, texts)
        default = "count" if spec.kind == "counter" else "value"
        self._cells = key_cells + _cells(value_layout, default, False, plan.value, texts)
        self._key_formatted = any(c.text is not None for c in key_cells)

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
        """The shown parts of a key, one per struct member (flattened), else the key itself."""
        return [c.column for c in self._cells if c.is_key]

    @property
    def value_columns(self) -> list[Column]:
        """The shown parts of a value, as `key_columns` splits a key."""
        return [c.column for c in self._cells if not c.is_key]

    def key_texts(self, key: Any) -> list[str]:
        """The text of each of `key_columns` in a decoded key, formatted as declared."""
        return [c.show(key) for c in self._cells if c.is_key]

    @property
    def slots(self) -> Callable[[Any], list[int]] | None:
        """What gives a decoded histogram value's log2 slots; None for other kinds."""
        return self._slots

    def _formatted_of(self, key: Any, value: Any) -> dict[str, str]:
        """The `formatted` of an entry's JSON: declared name -> text."""
        texts = {}
        for name, is_key, path, text in self._formatted:
            root = key if is_key else value
            texts[name] = text(lookup(root, path), root)
        return texts

    def json(self, entries: Sequence[Entry]) -> str:
        spec = self.spec
        body: dict[str, Any] = {"name": spec.map, "kind": spec.kind, "title": spec.title}
        items: list[dict[str, Any]] = []
        for key, value in entries:
            if self._slots is not None:
                buckets = [asdict(b) for b in histogram.buckets(self._slots(value))]
                item: dict[str, Any] = {"key": key, "buckets": buckets}
            else:
                item = {"key": key, "value": value}
            if self._formatted:
                item["formatted"] = self._formatted_of(key, value)
            items.append(item)
        if self._slots is not None:
            body["unit"] = spec.unit
        body["entries"] = items
        return _dumps({"map": body}) + "\n"

    def _key_line(self, key: Any) -> str:
        """A histogram's key as its heading shows it: declared formats applied."""
        if not self._key_formatted:
            return cell(key)
        shown = [(c.column.name, c.show(key)) for c in self._cells if c.is_key]
        if len(shown) == 1 and not self.key_columns[0].path:
            return shown[0][1]
        return " ".join(f"{name}={text}" for name, text in shown)

    def text(self, entries: Sequence[Entry]) -> str:
        lines = [f"{escape(self.spec.title)}\n"]  # the package's words, like its summary
        if self._slots is not None:
            for key, value in entries:
                if len(entries) > 1:
                    lines.append(f"key = {self._key_line(key)}\n")
                lines.append(histogram.render(self._slots(value), escape(self.spec.unit)))
            return "".join(lines)
        if not entries:
            return lines[0] + "(empty)\n"
        table = [
            [c.show(key if c.is_key else value) for c in self._cells] for key, value in entries
        ]
        headers = [c.header for c in self._cells]
        widths = [max(len(row[i]) for row in [headers, *table]) for i in range(len(headers))]
        lines.extend(map(row_format(widths), [headers, *table]))
        return "".join(lines)


def _formatters(plan: MapPlan) -> list[tuple[str, bool, tuple[str, ...], Formatter]]:
    """(declared name, in the key?, path, formatter) of each shown formatted field; an ip
    field's family is read from the same key or value."""
    arch = host_arch()
    found = []
    for is_key, plans in ((True, plan.key), (False, plan.value)):
        for p in plans:
            if p.spec.format != "hidden":
                family = p.family
                read = None if family is None else partial(lookup, path=family)
                found.append((p.name, is_key, p.path, formatter(p.spec, p.layout, arch, read)))
    return found


def _cells(
    layout: Layout | None,
    default: str,
    is_key: bool,
    plans: tuple[FieldPlan, ...],
    texts: dict[tuple[bool, tuple[str, ...]], Formatter],
) -> list[_Cell]:
    """The columns of a key or value: hidden ones left out, titles and formats applied."""
    by_path = {p.path: p for p in plans}
    shown = []
    for column in _columns(layout, default):
        found = by_path.get(column.path)
        if found is None:
            shown.append(_Cell(column.name.upper(), is_key, column, None))
        elif found.spec.format != "hidden":
            title = escape(found.spec.title) if found.spec.title else column.name.upper()
            shown.append(_Cell(title, is_key, column, texts[(is_key, column.path)]))
    return shown


def _columns(layout: Layout | None, default: str) -> list[Column]:
    if layout is None:
        return [Column(default, (), len(default))]
    return list(columns(layout, default=default))
