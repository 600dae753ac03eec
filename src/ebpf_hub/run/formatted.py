"""Events as people and scripts read them: `EventFormat`, the cells of a row and the JSON
line, with the formats a package declares.

ebpf_hub.run.eventfmt compiles the raw forms; this adds what a package declares
(ebpf_hub.formats.plan): formatted text per field, columns in the declared order with
hidden fields left out, a union shown as its chosen member, and the TIME column of
`--timestamp`. A package that declares nothing prints exactly as before, at the same speed.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

from ebpf_hub.bpfobj.decode import Decoder
from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.formats.plan import FieldPlan, FormatPlan, UnionPlan, field_names
from ebpf_hub.formats.sets import host_arch
from ebpf_hub.run import eventfmt
from ebpf_hub.run.fieldformat import Formatter, formatter, width
from ebpf_hub.safetext import escape

# (header, width, text of the cell from the decoded event)
Cell = tuple[str, int, Callable[[Any], str]]
_TIME_WIDTH = 8
_INTEGERS = frozenset({"int", "uint", "enum"})
_OF_NOW = frozenset({"age"})  # formats whose text also depends on the time of printing
_MAX_REMEMBERED = 4096


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    """The part of a decoded event at `path`, or None when a union left it out."""
    try:
        return eventfmt.lookup(value, path)
    except (KeyError, TypeError):
        return None


def _clock_cell() -> Callable[[Any], str]:
    """`HH:MM:SS` now, local time, as libbpf-tools' -T; formatted once a second."""
    last: list[Any] = [0, ""]

    def show(_value: Any) -> str:
        now = int(time.time())
        if now != last[0]:
            last[0], last[1] = now, time.strftime("%H:%M:%S", time.localtime(now))
        return str(last[1])

    return show


def _family(plan: FieldPlan) -> Callable[[Any], Any] | None:
    path = plan.family
    return None if path is None else (lambda event: _lookup(event, path))


class FormattedEvent:
    """The cells and the JSON line of one event type under a format plan."""

    def __init__(
        self,
        layout: Layout,
        plan: FormatPlan,
        base: list[eventfmt.Column],
        timestamp: bool,
    ) -> None:
        self.arch = arch = host_arch()
        self.layout = layout
        self.plan = plan
        self.timestamp = timestamp
        self.formats: dict[tuple[str, ...], tuple[FieldPlan, Formatter]] = {
            p.path: (p, formatter(p.spec, p.layout, arch, _family(p))) for p in plan.fields
        }
        self.cells = self._cells(base, arch)

    # --- columns ---

    def _cells(self, base: list[eventfmt.Column], arch: str) -> list[Cell]:
        named: list[tuple[str, Cell]] = []
        unions_done: set[str] = set()
        for column in base:
            union = self._union_of(column.path)
            if union is not None:
                if union.column not in unions_done:
                    unions_done.add(union.column)
                    named.append((union.column, self._union_cell(union)))
                continue
            found = self.formats.get(column.path)
            key = ".".join(column.path)
            if found is None:
                named.append((key, (column.name.upper(), column.width, self._raw(column.path))))
                continue
            plan, text = found
            if plan.spec.format == "hidden":
                continue
            title = escape(plan.spec.title or column.name.upper())
            size = max(len(title), width(plan.spec, plan.layout, arch))
            named.append((key, (title, size, self._shown(column.path, text))))
        cells = [cell for _, cell in _ordered(named, self.plan.columns)]
        if self.timestamp:
            cells.insert(0, ("TIME", _TIME_WIDTH, _clock_cell()))
        return cells

    def _union_of(self, path: tuple[str, ...]) -> UnionPlan | None:
        """The union whose member holds the leaf at `path`, if one is declared."""
        for union in self.plan.unions:
            depth = len(union.container)
            inside = len(path) > depth and path[:depth] == union.container
            if inside and path[depth] in union.members:
                return union
        return None

    @staticmethod
    def _raw(path: tuple[str, ...]) -> Callable[[Any], str]:
        cell = eventfmt.cell
        return lambda event: cell(_lookup(event, path))

    @staticmethod
    def _shown(path: tuple[str, ...], text: Formatter) -> Callable[[Any], str]:
        return lambda event: _text(text, _lookup(event, path), event)

    def _union_cell(self, union: UnionPlan) -> Cell:
        """`key=value ...` of the member the tag chooses; `-` for a tag value not declared."""
        choose = dict(union.choose)
        leaves: dict[str, list[tuple[str, tuple[str, ...], Callable[[Any, Any], str]]]] = {}
        size = len(union.column)
        for field in union.layout.fields:
            if field.name not in choose.values():
                continue
            shown = leaves.setdefault(field.name, [])
            member_size = -1
            for leaf in eventfmt.columns(field.layout, (field.name,)):
                found = self.formats.get((*union.container, *leaf.path))
                if found is not None and found[0].spec.format == "hidden":
                    continue
                text = found[1] if found is not None else _cell_text
                shown.append((leaf.name, (*union.container, *leaf.path), text))
                plan = found[0] if found is not None else None
                leaf_size = width(plan.spec, plan.layout, self.arch) if plan else leaf.width
                member_size += len(leaf.name) + 2 + leaf_size
            size = max(size, member_size)

        def show(event: Any) -> str:
            member = choose.get(_lookup(event, union.tag))
            if member is None:
                return "-"
            return " ".join(
                f"{label}={_text(text, _lookup(event, path), event)}"
                for label, path, text in leaves[member]
            )

        return (escape(union.column.upper()), size, show)

    # --- JSON ---

    def json_line(
        self, raw_json: Callable[[bytes], str], decode: Decoder
    ) -> Callable[[bytes], str]:
        """The JSON line: the raw one when nothing is declared; the raw line with
        `formatted` (and `time`) appended when no union is declared, reading only the fields
        it formats; else the decoded event with unchosen members left out."""
        shown = [(p, text) for p, text in self.formats.values() if p.spec.format != "hidden"]
        if not shown and not self.plan.unions and not self.timestamp:
            return raw_json
        keys = "{" + ",".join(f"{json.dumps(p.name)}:%s" for p, _ in shown) + "}"
        quote = encode_basestring_ascii
        stamp = self.timestamp

        def from_event(event: Any) -> str:
            return keys % tuple(quote(text(_lookup(event, p.path), event)) for p, text in shown)

        if self.plan.unions:
            return self._pruned_json(decode, shown)
        if not stamp and _scalars(shown):
            extras = [(p.name, p.offset, _json_text(p, text)) for p, text in shown]
            fast = eventfmt.compiled_with_formats(self.layout, extras)
            if fast is not None:
                return fast
        parts = ',"formatted":' if shown else ""
        pick = _picker(self.layout, [p for p, _ in shown])

        def line(record: bytes) -> str:
            text = raw_json(record)[:-2]
            if shown:
                text += parts + from_event(pick(record))
            if stamp:
                text += ',"time":"' + _now_iso() + '"'
            return text + "}\n"

        return line

    def _pruned_json(
        self, decode: Decoder, shown: list[tuple[FieldPlan, Formatter]]
    ) -> Callable[[bytes], str]:
        """The decoded event, unchosen members left out; `formatted` has the fields that
        are left (a field of an unchosen member has none)."""
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        unions = [(u, dict(u.choose)) for u in self.plan.unions]
        stamp = self.timestamp

        def line(record: bytes) -> str:
            event = decode(record)
            for union, choose in unions:
                chosen = choose.get(_lookup(event, union.tag))
                container = _lookup(event, union.container)
                for member in union.members:
                    if member != chosen and isinstance(container, dict):
                        container.pop(member, None)
            text = '{"event":' + dumps(event)
            if shown:
                values = ((p.name, _lookup(event, p.path), show) for p, show in shown)
                formatted = {name: show(v, event) for name, v, show in values if v is not None}
                text += ',"formatted":' + dumps(formatted)
            if stamp:
                text += ',"time":"' + _now_iso() + '"'
            return text + "}\n"

        return line


def _json_text(plan: FieldPlan, text: Formatter) -> Callable[[Any], str]:
    """The JSON string of a field's text from its raw value. A format whose text depends on
    the value alone remembers it: a tool sees few distinct errno, flag or syscall values,
    and this is the JSON hot path."""
    quote = encode_basestring_ascii
    if plan.spec.format in _OF_NOW:
        return lambda value: quote(text(value, None))
    seen: dict[Any, str] = {}

    def remembered(value: Any) -> str:
        found = seen.get(value)
        if found is None:
            found = quote(text(value, None))
            if len(seen) < _MAX_REMEMBERED:
                seen[value] = found
        return found

    return remembered


def _text(text: Formatter, value: Any, event: Any) -> str:
    """A cell's text: `-` where the event has no value (a member its union's tag did not
    choose), never the formatter's reading of None."""
    return "-" if value is None else escape(text(value, event))


def _cell_text(value: Any, _event: Any) -> str:
    return eventfmt.cell(value)


def _now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def _ordered(named: list[tuple[str, Cell]], order: tuple[str, ...]) -> list[tuple[str, Cell]]:
    """The declared columns first, in their order (a struct's name takes all its leaves),
    then the others as they come."""
    first: list[tuple[str, Cell]] = []
    for name in order:
        first.extend(
            item
            for item in named
            if (item[0] == name or item[0].startswith(name + ".")) and item not in first
        )
    return first + [item for item in named if item not in first]


def _scalars(shown: list[tuple[FieldPlan, Formatter]]) -> bool:
    """Whether every formatted field is a top-level integer needing no other field: then
    the compiled JSON template reads them from the values it unpacks anyway."""
    return all(
        not p.family and len(p.path) == 1 and p.offset >= 0 and p.layout.kind in _INTEGERS
        for p, _ in shown
    )


def _picker(layout: Layout, plans: list[FieldPlan]) -> Callable[[bytes], Any]:
    """A decoder of only the top-level fields the formats read (the JSON hot path skips the
    strings it does not format), or of everything when the event is not a struct."""
    if layout.kind != "struct":
        return Decoder(layout)
    needed = {p.path[0] for p in plans} | {p.family[0] for p in plans if p.family}
    kept = tuple(
        f
        for f in layout.fields
        if f.name in needed or (not f.name and needed & set(field_names(f.layout)))
    )
    return Decoder(Layout("struct", layout.size, layout.type, fields=kept))


class EventFormat:
    """How the events of one type are printed: `json(record)` gives a JSON line
    `{"event": {...}}`, `header` and `row(record)` aligned columns.

    With a `plan` (the package's declared formats), columns show the formatted text in the
    declared order, hidden fields and unchosen union members left out; the JSON line keeps
    `event` raw (unchosen union members left out) and adds `formatted`, the text of each
    formatted field. `timestamp` adds a first TIME column (a top-level `time`, ISO 8601
    UTC, in JSON): when the event was printed."""

    def __init__(
        self, layout: Layout, plan: FormatPlan | None = None, timestamp: bool = False
    ) -> None:
        self.layout = layout
        self._decode = Decoder(layout)
        self.columns = list(eventfmt.columns(layout))
        shown = FormattedEvent(layout, plan or FormatPlan(), self.columns, timestamp)
        self.json = shown.json_line(eventfmt.raw_json(layout, self._decode), self._decode)
        self._cells = shown.cells
        self._format_row = eventfmt.row_format([width for _, width, _ in self._cells])
        self.header = self._format_row([title for title, _, _ in self._cells])

    def decode(self, record: bytes) -> Any:
        return self._decode(record)

    def row(self, record: bytes) -> str:
        value = self._decode(record)
        return self._format_row([show(value) for _, _, show in self._cells])
