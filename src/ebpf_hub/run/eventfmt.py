"""Events as text: JSON lines for scripts, aligned columns for people, compiled per type.

This is the runner's hot path (a busy tracer prints hundreds of thousands of events a
second), so a type's JSON line is compiled once into a `struct` format and a `%` template:
per record that is one unpack in C, a conversion for each string, address or enum, and one
string formatting in C. Numbers go into the template untouched. Types the template cannot
express (bitfields, unions) fall back to the BTF decoder and `json.dumps`, which give the
same JSON.

Both forms read the fields as ebpf_hub.bpfobj lays them out: char arrays are strings,
ipv4_addr_t/ipv6_addr_t addresses, enums their enumerator names, nested structs objects
(columns `outer.inner`), arrays lists.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from ebpf_hub.bpfobj.decode import Decoder
from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.safetext import escape

EVENT_KEY: Final = "event"

_INT_CODES: Final = {1: "b", 2: "h", 4: "i", 8: "q"}
_FLOAT_CODES: Final = {4: "f", 8: "d"}
# Column widths of the other kinds: a number or enum column holds its type's widest value
# (number_width); a longer string or a list pushes its line out, and the cells after it
# take the overflow back from their padding (row_format).
_KIND_WIDTH: Final = {"bool": 5, "ipv4": 15, "ipv6": 22, "pointer": 18, "float": 10, "char": 4}
_MAX_STRING_WIDTH: Final = 16
# Arrays are spelled out item by item in a template: a huge one goes to the decoder instead.
_MAX_ITEMS: Final = 4096


class _Unsupported(Exception):
    """The template compiler cannot express this type; the decoder fallback can."""


def _json_string(raw: bytes) -> str:
    return encode_basestring_ascii(raw.partition(b"\0")[0].decode("utf-8", "replace"))


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def _quoted(convert: Callable[[bytes], str]) -> Callable[[bytes], str]:
    return lambda raw: f'"{convert(raw)}"'


_JSON_ADDRESSES: Final = {
    "ipv4": _quoted(socket.inet_ntoa),
    "ipv6": _quoted(partial(socket.inet_ntop, socket.AF_INET6)),
}


class _Template:
    """A JSON text with a `%` slot per unpacked item, built field by field in byte order."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.parts: list[str] = []
        self.converters: list[tuple[int, Callable[[Any], str]]] = []
        self.items = 0
        self.end = 0
        self.index_at: dict[int, int] = {}  # byte offset -> its item, for single values

    def take(self, offset: int, code: str, count: int = 1) -> int:
        if offset < self.end:
            raise _Unsupported("overlapping fields")
        if self.items >= _MAX_ITEMS:
            raise _Unsupported("too many values for one template")
        if offset > self.end:
            self.codes.append(f"{offset - self.end}x")
        self.codes.append(code)
        self.end = offset + struct.calcsize("<" + code)
        first, self.items = self.items, self.items + count
        if count == 1:
            self.index_at[offset] = first
        return first

    def number(self, offset: int, code: str) -> None:
        self.take(offset, code)
        self.parts.append("%d")

    def converted(self, offset: int, code: str, convert: Callable[[Any], str]) -> None:
        self.converters.append((self.take(offset, code), convert))
        self.parts.append("%s")

    def literal(self, text: str) -> None:
        self.parts.append(text.replace("%", "%%"))

    def value(self, layout: Layout, offset: int) -> None:
        kind, size = layout.kind, layout.size
        if kind in ("int", "uint", "pointer") and size in _INT_CODES:
            code = _INT_CODES[size]
            self.number(offset, code if kind == "int" else code.upper())
        elif kind == "bool" and size == 1:
            self.converted(offset, "?", _json_bool)
        elif kind == "float" and size in _FLOAT_CODES:
            self.converted(offset, _FLOAT_CODES[size], json.dumps)
        elif kind in ("string", "char"):
            self.converted(offset, f"{size}s", _json_string)
        elif kind in _JSON_ADDRESSES:
            self.converted(offset, f"{size}s", _JSON_ADDRESSES[kind])
        elif kind == "enum" and size in _INT_CODES:
            code = _INT_CODES[size] if layout.signed else _INT_CODES[size].upper()
            names = {v.value: encode_basestring_ascii(v.name) for v in layout.values}
            self.converted(offset, code, lambda v: names.get(v) or str(v))
        elif kind == "struct":
            self.struct(layout, offset)
        elif kind == "array" and layout.element is not None:
            self.array(layout.element, layout.length, offset)
        else:
            raise _Unsupported(f"{kind} of {size} bytes")

    def struct(self, layout: Layout, offset: int) -> None:
        self.literal("{")
        self.members(layout, offset, first=True)
        self.literal("}")

    def members(self, layout: Layout, offset: int, first: bool) -> bool:
        """The struct's fields as `"name":value` pairs; an anonymous struct member's fields
        join its parent's, as the decoder does. Returns whether nothing was written yet."""
        for field in sorted(layout.fields, key=lambda f: f.offset):
            if field.bits or field.layout.kind == "union":
                raise _Unsupported("bitfield or union")
            if not field.name:
                first = self.members(field.layout, offset + field.offset, first)
                continue
            self.literal(("" if first else ",") + json.dumps(field.name) + ":")
            self.value(field.layout, offset + field.offset)
            first = False
        return first

    def array(self, element: Layout, count: int, offset: int) -> None:
        self.literal("[")
        for index in range(count):
            if index:
                self.literal(",")
            self.value(element, offset + index * element.size)
        self.literal("]")


# A field shown formatted beside the raw event: its JSON key, byte offset, and its text as a
# JSON string from its raw value.
Extra = tuple[str, int, Callable[[Any], str]]


def _compiled_json(layout: Layout, extras: Sequence[Extra] = ()) -> Callable[[bytes], str]:
    """The fast JSON line of `layout`; raises _Unsupported for what it cannot express.
    `extras` (top-level scalar fields) add `"formatted":{KEY:TEXT...}` read from the same
    unpacked values, before their conversion to JSON."""
    plan = _Template()
    plan.literal(f'{{"{EVENT_KEY}":')
    plan.value(layout, 0)
    slots = []
    if extras:
        plan.literal(',"formatted":{')
        for number, (key, offset, text) in enumerate(extras):
            if offset not in plan.index_at:
                raise _Unsupported(f"no single value at byte {offset}")
            plan.literal(("," if number else "") + json.dumps(key) + ":")
            plan.parts.append("%s")
            slots.append((plan.index_at[offset], text))
        plan.literal("}")
    plan.literal("}\n")
    unpack = struct.Struct("<" + "".join(plan.codes)).unpack_from
    template = "".join(plan.parts)
    converters = tuple(plan.converters)

    if not slots:

        def line(record: bytes) -> str:
            items = list(unpack(record))
            for index, convert in converters:
                items[index] = convert(items[index])
            return template % tuple(items)

        return line

    def formatted_line(record: bytes) -> str:
        items = list(unpack(record))
        texts = [text(items[index]) for index, text in slots]
        for index, convert in converters:
            items[index] = convert(items[index])
        return template % (*items, *texts)

    return formatted_line


def compiled_with_formats(layout: Layout, extras: Sequence[Extra]) -> Callable[[bytes], str] | None:
    """The fast JSON line with `formatted` texts, or None when the template cannot say it."""
    try:
        return _compiled_json(layout, extras)
    except (_Unsupported, struct.error):
        return None


def _decoded_json(decoder: Decoder) -> Callable[[bytes], str]:
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    return lambda record: dumps({EVENT_KEY: decoder(record)}) + "\n"


# --- columns ---


@dataclass(frozen=True)
class Column:
    """One leaf of the event: its dotted name, its width and where it is in the decoded dict."""

    name: str
    path: tuple[str, ...]
    width: int


def columns(
    layout: Layout, prefix: tuple[str, ...] = (), default: str = "value"
) -> Iterator[Column]:
    """The columns of a decoded value: struct and union members flattened, anything else
    one column."""
    if layout.kind not in ("struct", "union"):
        name = escape(".".join(prefix) or default)  # BTF names are the package author's
        yield Column(name, prefix, max(len(name), _natural_width(layout)))
        return
    for field in layout.fields:
        # An anonymous member's fields sit in its parent's dict.
        yield from columns(field.layout, (*prefix, field.name) if field.name else prefix, default)


def bounds(layout: Layout) -> tuple[int, int]:
    """The smallest and the largest number an integer of `layout` holds."""
    bits = 8 * max(layout.size, 1)
    if layout.kind == "int" or (layout.kind == "enum" and layout.signed):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def number_width(layout: Layout) -> int:
    """The width of the widest number an integer of `layout` holds (`-2147483648` for an int,
    `4294967295` for a __u32): a column that holds it stays aligned whatever the kernel
    writes, and is decided before the first row, so the header of a stream is right."""
    return max(len(str(bound)) for bound in bounds(layout))


def _natural_width(layout: Layout) -> int:
    if layout.kind in ("int", "uint"):
        return number_width(layout)
    if layout.kind == "string":
        return min(layout.length - 1, _MAX_STRING_WIDTH)
    if layout.kind == "enum":  # a value with no enumerator prints as its number
        return max(number_width(layout), *(len(v.name) for v in layout.values))
    return _KIND_WIDTH.get(layout.kind, 0)


def cell(value: Any) -> str:
    """A decoded value as column text. Strings are escaped: a file name or a command name is
    chosen by whoever runs the traced process, and must not drive the terminal of the user
    watching (nor break the line of columns)."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def lookup(value: Any, path: tuple[str, ...]) -> Any:
    """The part of a decoded value a column shows."""
    for name in path:
        value = value[name]
    return value


def row_format(widths: list[int]) -> Callable[[list[str]], str]:
    """What prints rows of cells padded to `widths`, two spaces apart (the last cell never
    padded), made once for a table or a stream of rows. A cell longer than its width (a long
    file name) pushes the next ones right, and they take the overflow back from their
    padding, so the columns after it line up again."""
    padded_widths = widths[:-1]
    fixed = sum(padded_widths) + 2 * len(padded_widths)  # where the last cell starts

    def row(cells: list[str]) -> str:
        last = cells[-1]
        padded = [text.ljust(width) for text, width in zip(cells, padded_widths)]
        padded.append(last)
        line = "  ".join(padded)
        if len(line) - len(last) != fixed:
            line = _realigned(cells, widths)
        return line.rstrip() + "\n"

    return row


def _realigned(cells: list[str], widths: list[int]) -> str:
    """The row with each cell at its column when the cells before it leave room."""
    line, end = "", 0
    for text, width in zip(cells[:-1], widths):
        end += width
        line = (line + text).ljust(end) + "  "
        end += 2
    return line + cells[-1]


def raw_json(layout: Layout, decoder: Decoder) -> Callable[[bytes], str]:
    """The JSON line of `layout`: compiled when the template can say it, else decoded."""
    try:
        return _compiled_json(layout)
    except (_Unsupported, struct.error):
        return _decoded_json(decoder)
