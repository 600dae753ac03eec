"""Decode records (ring-buffer events, map values) into JSON-able values, fast.

Decoding sits on the runner's hot path, so a :class:`Decoder` is compiled once per type:
the whole record, nested structs and arrays included, becomes one ``struct.Struct`` format,
and each record then costs one unpack in C plus one call per field: a C itemgetter for a
number, a small closure for what needs converting (strings, addresses, enum names,
bitfields).  Nothing walks BTF per record.
Integers are little-endian, as on every BPF target the hub supports.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import Any, Final

from .btf import Btf
from .errors import ObjectError
from .layout import Field, Layout, build_layout

Getter = Callable[[tuple[Any, ...]], Any]

_INT_CODES: Final = {1: "b", 2: "h", 4: "i", 8: "q"}
_FLOAT_CODES: Final = {2: "e", 4: "f", 8: "d"}
# A bound on the compiled format, so a hostile object's "array of 2^32 structs" fails
# cleanly instead of building billions of closures.
_MAX_CODES: Final = 100_000


def _int_code(size: int, signed: bool) -> str | None:
    code = _INT_CODES.get(size)
    return code if code is None or signed else code.upper()


def _plain_code(layout: Layout) -> str | None:
    """The struct code of a value used exactly as unpacked, if it is one."""
    if layout.kind == "int":
        return _int_code(layout.size, True)
    if layout.kind in ("uint", "pointer"):
        return _int_code(layout.size, False)
    if layout.kind == "float":
        return _FLOAT_CODES.get(layout.size)
    if layout.kind == "bool":
        return "?" if layout.size == 1 else None
    return None


def _text(raw: bytes) -> str:
    """A C string: up to the first NUL, invalid UTF-8 replaced rather than fatal."""
    return raw.partition(b"\0")[0].decode("utf-8", "replace")


def _from_bytes(layout: Layout) -> Callable[[bytes], Any]:
    """How to turn the raw bytes of a value that has no struct code into its value."""
    if layout.kind in ("string", "char"):
        return _text
    if layout.kind == "ipv4":
        return socket.inet_ntoa
    if layout.kind == "ipv6":
        return partial(socket.inet_ntop, socket.AF_INET6)
    if layout.kind in ("int", "uint"):  # e.g. __int128
        return partial(int.from_bytes, byteorder="little", signed=layout.kind == "int")
    raise ObjectError(f"cannot decode {layout.kind} {layout.type!r} of {layout.size} bytes")


def _from_int(layout: Layout) -> Callable[[int], Any]:
    """How to turn a bitfield's integer into its value."""
    if layout.kind in ("int", "uint", "char"):
        return int
    if layout.kind == "bool":
        return bool
    if layout.kind == "enum":
        names = {v.value: v.name for v in layout.values}
        return lambda value: names.get(value, value)
    raise ObjectError(f"a bitfield cannot be of kind {layout.kind} ({layout.type!r})")


class _Plan:
    """One struct format built up field by field, in increasing byte offsets."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.items = 0
        self.end = 0

    def take(self, offset: int, code: str, count: int = 1) -> int:
        """Place ``code`` at byte ``offset``; the index of its first item in the tuple."""
        if offset < self.end:
            raise ObjectError(f"fields overlap at byte {offset}")
        if len(self.codes) >= _MAX_CODES:
            raise ObjectError(f"more than {_MAX_CODES} fields to decode")
        if offset > self.end:
            self.codes.append(f"{offset - self.end}x")
        self.codes.append(code)
        self.end = offset + struct.calcsize("<" + code)
        index, self.items = self.items, self.items + count
        return index


def _getter(plan: _Plan, layout: Layout, offset: int) -> Getter:
    """Plan ``layout`` at ``offset`` and return what builds its value from the tuple."""
    code = _plain_code(layout)
    if code is not None:
        return itemgetter(plan.take(offset, code))
    if layout.kind == "struct":
        return _struct(plan, layout, offset)
    if layout.kind == "array" and layout.element is not None:
        return _array(plan, layout.element, layout.length, offset)
    if layout.kind == "enum" and (code := _int_code(layout.size, layout.signed)):
        names = {v.value: v.name for v in layout.values}
        index = plan.take(offset, code)
        return lambda v: names.get(v[index], v[index])
    index = plan.take(offset, f"{layout.size}s")
    if layout.kind == "union":
        return _union(layout, index)
    convert = _from_bytes(layout)
    return lambda v: convert(v[index])


def _array(plan: _Plan, element: Layout, count: int, offset: int) -> Getter:
    code = _plain_code(element)
    if code is not None and count:
        first = plan.take(offset, f"{count}{code}", count)
        return lambda v: list(v[first : first + count])
    getters = [_getter(plan, element, offset + i * element.size) for i in range(count)]
    return lambda v: [get(v) for get in getters]


def _units(fields: tuple[Field, ...]) -> list[tuple[Field, ...]]:
    """Fields by position, bitfields that share bytes grouped to unpack as one item."""
    units: list[tuple[Field, ...]] = []
    run: list[Field] = []
    for field in sorted(fields, key=lambda f: (f.offset, f.bit_offset)):
        if run and (not field.bits or field.offset >= max(map(_byte_end, run))):
            units.append(tuple(run))
            run = []
        if field.bits:
            run.append(field)
        else:
            units.append((field,))
    if run:
        units.append(tuple(run))
    return units


def _byte_end(field: Field) -> int:
    return field.offset + (field.bit_offset + field.bits + 7) // 8


def _struct(plan: _Plan, layout: Layout, offset: int) -> Getter:
    named: list[tuple[str, Getter]] = []
    merged: list[Getter] = []  # anonymous struct/union members: their fields join ours
    for unit in _units(layout.fields):
        first = unit[0]
        if first.bits:
            end = max(map(_byte_end, unit))
            index = plan.take(offset + first.offset, f"{end - first.offset}s")
            named.extend((f.name, _bitfield(f, index, first.offset)) for f in unit)
        elif first.name:
            named.append((first.name, _getter(plan, first.layout, offset + first.offset)))
        else:
            merged.append(_getter(plan, first.layout, offset + first.offset))
    if not merged:
        return lambda v: {name: get(v) for name, get in named}

    def build(v: tuple[Any, ...]) -> dict[str, Any]:
        value = {name: get(v) for name, get in named}
        for get in merged:
            value.update(get(v))
        return value

    return build


def _bitfield(field: Field, index: int, start: int) -> Getter:
    shift = (field.offset - start) * 8 + field.bit_offset
    mask = (1 << field.bits) - 1
    layout = field.layout
    sign = 1 << (field.bits - 1) if layout.kind == "int" or layout.signed else 0
    convert = _from_int(layout)

    def get(v: tuple[Any, ...]) -> Any:
        value = (int.from_bytes(v[index], "little") >> shift) & mask
        return convert(value - (mask + 1) if value & sign else value)

    return get


def _union(layout: Layout, index: int) -> Getter:
    # Members overlap, so each gets its own decoder over the union's raw bytes.
    members = [
        Decoder(Layout("struct", layout.size, layout.type, fields=(field,)))
        for field in layout.fields
    ]

    def get(v: tuple[Any, ...]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for member in members:
            value.update(member(v[index]))
        return value

    return get


class Decoder:
    """Turns the bytes of one type into JSON-able values; build once, call per record."""

    __slots__ = ("_build", "_needs", "_unpack", "layout")

    def __init__(self, layout: Layout) -> None:
        """Compile ``layout``; raises ObjectError if some part of it cannot be decoded."""
        plan = _Plan()
        try:
            self._build = _getter(plan, layout, 0)
            self._unpack = struct.Struct("<" + "".join(plan.codes)).unpack_from
        except (ObjectError, struct.error) as err:
            raise ObjectError(f"cannot decode {layout.type!r}: {err}") from None
        self._needs = plan.end
        self.layout = layout

    def __call__(self, data: bytes | bytearray | memoryview) -> Any:
        """The value in ``data``, which may be longer than the type (ring-buffer records are)."""
        try:
            items = self._unpack(data)
        except struct.error:
            raise ObjectError(
                f"{self.layout.type!r} needs {self._needs} bytes, got {len(data)}"
            ) from None
        return self._build(items)


def compile_decoder(btf: Btf, type_id: int) -> Decoder:
    """A decoder for type ``type_id`` of ``btf``: what the runner builds once per type."""
    return Decoder(build_layout(btf, type_id))


def decode(btf: Btf, type_id: int, data: bytes | bytearray | memoryview) -> Any:
    """Decode one value; for many values of one type keep a :func:`compile_decoder`."""
    return compile_decoder(btf, type_id)(data)
