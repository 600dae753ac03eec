"""The data layout of a BTF type: what the artifact config documents and the decoder reads.

A :class:`Layout` classifies each value into one of :data:`KINDS`, following the output
convention of ebpf_hub.h: ``char`` arrays are strings, ``ipv4_addr_t``/``ipv6_addr_t``
typedefs are addresses, other arrays are lists.  Typedefs and const/volatile are looked
through; ``type`` keeps the C spelling for people reading the config.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from .btf import (
    Btf,
    BtfArray,
    BtfComposite,
    BtfEnum,
    BtfEnumValue,
    BtfFloat,
    BtfInt,
    BtfPtr,
    BtfTypedef,
    BtfUnion,
)
from .errors import ObjectError

#: Every ``kind`` a layout can have.
KINDS: Final = (
    "int", "uint", "bool", "char", "string", "enum", "struct", "union", "array",
    "ipv4", "ipv6", "float", "pointer",
)  # fmt: skip

# Typedefs from ebpf_hub.h whose values print as addresses, with the size they must have.
_ADDRESS_TYPEDEFS: Final = {"ipv4_addr_t": ("ipv4", 4), "ipv6_addr_t": ("ipv6", 16)}
_MAX_DEPTH: Final = 64


@dataclass(frozen=True)
class Field:
    """A member at byte ``offset``; a bitfield also has ``bits`` > 0 and its ``bit_offset``
    (0-7, counted from the least significant bit of the byte at ``offset``)."""

    name: str
    offset: int
    layout: Layout
    bit_offset: int = 0
    bits: int = 0

    def to_json(self) -> dict[str, Any]:
        """The field's layout with its name and offset (and bit position) merged in."""
        result = self.layout.to_json()
        result.update(name=self.name, offset=self.offset)
        if self.bits:
            result.update(bit_offset=self.bit_offset, bits=self.bits)
        return dict(sorted(result.items()))


@dataclass(frozen=True)
class Layout:
    """How a value of one type is laid out; which fields are set depends on ``kind``.

    ``length``: elements of an array or capacity of a string; ``element``: an array's element;
    ``fields``: a struct's or union's members (an anonymous struct/union member has name '');
    ``values`` and ``signed``: an enum's enumerators and how its bytes are read.
    """

    kind: str
    size: int
    type: str
    signed: bool = False
    length: int = 0
    element: Layout | None = None
    fields: tuple[Field, ...] = ()
    values: tuple[BtfEnumValue, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The sorted JSON form, with only the keys that mean something for this kind."""
        result: dict[str, Any] = {"kind": self.kind, "size": self.size, "type": self.type}
        if self.kind == "enum":
            result["signed"] = self.signed
            ordered = sorted(self.values, key=lambda v: (v.value, v.name))
            result["values"] = [{"name": v.name, "value": v.value} for v in ordered]
        if self.kind in ("array", "string"):
            result["length"] = self.length
        if self.element is not None:
            result["element"] = self.element.to_json()
        if self.kind in ("struct", "union"):
            result["fields"] = [f.to_json() for f in self.fields]
        return dict(sorted(result.items()))


def build_layout(btf: Btf, type_id: int) -> Layout:
    """The layout of type ``type_id``; raises ObjectError for types that hold no data."""
    return _layout(btf, type_id, 0)


def describe_type(btf: Btf, type_id: int) -> dict[str, Any]:
    """The JSON form of :func:`build_layout`, for the artifact config."""
    return build_layout(btf, type_id).to_json()


def _layout(btf: Btf, type_id: int, depth: int) -> Layout:
    if depth > _MAX_DEPTH:
        raise ObjectError(f"type {btf.type_name(type_id)!r} nests too deeply (a loop?)")
    spelled = btf.type_name(type_id)
    named = btf[btf.skip_modifiers(type_id)]
    if isinstance(named, BtfTypedef):
        if named.name in _ADDRESS_TYPEDEFS:
            kind, size = _ADDRESS_TYPEDEFS[named.name]
            actual = btf.size_of(named.type)
            if actual != size:
                raise ObjectError(f"{named.name} must be {size} bytes, not {actual}")
            return Layout(kind, size, spelled)
        return replace(_layout(btf, named.type, depth + 1), type=spelled)
    if isinstance(named, BtfInt):
        return Layout(_int_kind(named), named.size, spelled)
    if isinstance(named, BtfEnum):
        return Layout("enum", named.size, spelled, signed=named.signed, values=named.values)
    if isinstance(named, BtfComposite):
        kind = "union" if isinstance(named, BtfUnion) else "struct"
        return Layout(kind, named.size, spelled, fields=_fields(btf, named, depth))
    if isinstance(named, BtfArray):
        element = _layout(btf, named.element_type, depth + 1)
        if element.kind == "char":
            return Layout("string", named.nelems, spelled, length=named.nelems)
        size = named.nelems * element.size
        return Layout("array", size, spelled, length=named.nelems, element=element)
    if isinstance(named, BtfPtr):
        return Layout("pointer", 8, spelled)
    if isinstance(named, BtfFloat):
        return Layout("float", named.size, spelled)
    raise ObjectError(f"type {spelled!r} ({named.kind}) holds no data")


def _int_kind(integer: BtfInt) -> str:
    # clang never sets the CHAR encoding bit: plain `char` is only recognisable by its name.
    if integer.is_bool:
        return "bool"
    if integer.is_char or integer.name == "char":
        return "char"
    return "int" if integer.signed else "uint"


def _fields(btf: Btf, composite: BtfComposite, depth: int) -> tuple[Field, ...]:
    fields = []
    for member in composite.members:
        layout = _layout(btf, member.type, depth + 1)
        if not member.name and layout.kind not in ("struct", "union"):
            continue  # an unnamed bitfield is padding
        position, bits = member.bit_offset, member.bitfield_size
        resolved = btf[btf.resolve(member.type)]
        if not bits and isinstance(resolved, BtfInt) and _is_int_bitfield(resolved):
            position, bits = position + resolved.bit_offset, resolved.bits  # pre-kind_flag BTF
        if not bits and position % 8:
            owner = btf.type_name(composite.type_id)
            raise ObjectError(f"member {member.name!r} of {owner!r} is not byte-aligned")
        fields.append(Field(member.name, position // 8, layout, position % 8, bits))
    return tuple(fields)


def _is_int_bitfield(integer: BtfInt) -> bool:
    return integer.bits != 8 * integer.size or integer.bit_offset != 0
