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
from collections.abc import Callable, Iterator
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
# Natural column widths: a value usually fits, a longer one pushes its line out.
_NUMBER_WIDTH: Final = {1: 4, 2: 6, 4: 7, 8: 20}
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


def _compiled_json(layout: Layout) -> Callable[[bytes], str]:
    """The fast JSON line of `layout`; raises _Unsupported for what it cannot express."""
    plan = _Template()
    plan.literal(f'{{"{EVENT_KEY}":')
    plan.value(layout, 0)
    plan.literal("}\n")
    unpack = struct.Struct("<" + "".join(plan.codes)).unpack_from
    template = "".join(plan.parts)
    converters = tuple(plan.converters)

    def line(record: bytes) -> str:
        items = list(unpack(record))
        for index, convert in converters:
            items[index] = convert(items[index])
        return template % tuple(items)

    return line


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


def _natural_width(layout: Layout) -> int:
    if layout.kind in ("int", "uint"):
        return _NUMBER_WIDTH.get(layout.size, 20)
    if layout.kind == "string":
        return min(layout.length - 1, _MAX_STRING_WIDTH)
    if layout.kind == "enum":
        return max((len(v.name) for v in layout.values), default=4)
    return _KIND_WIDTH.get(layout.kind, 0)


def cell(value: Any) -> str:
    """A decoded value as column text. Strings are escaped: a file name or a command name is
    chosen by whoever runs the traced process, and must not drive the terminal of the user
    watching (nor break the line of columns)."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def lookup(value: Any, path: tuple[str, ...]) -> Any:
    """The part of a decoded value a column shows."""
    for name in path:
        value = value[name]
    return value


def format_row(cells: list[str], widths: list[int]) -> str:
    """Cells padded to their widths, two spaces apart; the last one is never padded."""
    padded = [text.ljust(width) for text, width in zip(cells[:-1], widths, strict=False)]
    return "  ".join([*padded, cells[-1]]).rstrip() + "\n"


class EventFormat:
    """How the events of one type are printed: `json(record)` gives a JSON line
    `{"event": {...}}`, `header` and `row(record)` aligned columns."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._decode = Decoder(layout)
        try:
            self.json: Callable[[bytes], str] = _compiled_json(layout)
        except (_Unsupported, struct.error):
            self.json = _decoded_json(self._decode)
        self.columns = list(columns(layout))
        self._widths = [c.width for c in self.columns]
        self.header = format_row([c.name.upper() for c in self.columns], self._widths)

    def decode(self, record: bytes) -> Any:
        return self._decode(record)

    def row(self, record: bytes) -> str:
        value = self._decode(record)
        return format_row([cell(lookup(value, c.path)) for c in self.columns], self._widths)
