"""Parse BTF, the BPF Type Format (the kernel's Documentation/bpf/btf.rst), in pure Python.

A :class:`Btf` indexes the type section once (where each type id starts) and builds a
type's dataclass on first use: /sys/kernel/btf/vmlinux holds ~130,000 types and a caller
such as the runner needs only a few of them (an enum, an event struct).  Only little-endian
BTF is read: the BPF target of every supported architecture is little-endian.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar, Final, TypeVar

from ._json import JsonMixin, dataclass_json
from .errors import ObjectError

BTF_MAGIC: Final = 0xEB9F
VMLINUX_BTF: Final = Path("/sys/kernel/btf/vmlinux")

_HEADER: Final = struct.Struct("<HBBIIIII")
_MAX_CHAIN: Final = 64  # longest type chain followed before it is called a loop
_LINKAGE: Final = ("static", "global", "extern")


class _Kind(IntEnum):
    """BTF_KIND_* numbers (include/uapi/linux/btf.h)."""

    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


# Per kind: 32-bit words after the common 3-word header that do not depend on vlen, and
# words per vlen entry (btf.rst, "Type Encoding"); every other kind is zero of both.
_TRAILER: Final[dict[int, tuple[int, int]]] = {
    _Kind.INT: (1, 0),  # encoding word
    _Kind.ARRAY: (3, 0),  # btf_array
    _Kind.STRUCT: (0, 3),  # btf_member[vlen]
    _Kind.UNION: (0, 3),
    _Kind.ENUM: (0, 2),  # btf_enum[vlen]
    _Kind.FUNC_PROTO: (0, 2),  # btf_param[vlen]
    _Kind.VAR: (1, 0),  # btf_var
    _Kind.DATASEC: (0, 3),  # btf_var_secinfo[vlen]
    _Kind.DECL_TAG: (1, 0),  # btf_decl_tag
    _Kind.ENUM64: (0, 3),  # btf_enum64[vlen]
}
# Indexed by kind number; 0 words in total marks a kind this parser does not know.
_KINDS: Final = frozenset(_Kind)
_FIXED_WORDS: Final = tuple(3 + _TRAILER.get(k, (0, 0))[0] if k in _KINDS else 0 for k in range(32))
_WORDS_PER_ENTRY: Final = tuple(_TRAILER.get(k, (0, 0))[1] for k in range(32))


def _s32(value: int) -> int:
    return value - (1 << 32) if value & (1 << 31) else value


def _s64(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


@dataclass(frozen=True)
class BtfType(JsonMixin):
    """What every BTF type has: its id and its name ('' when anonymous).

    A kind that adds no field to its base (void, the references, struct and union, enum64)
    is a plain subclass: the base's generated methods serve it (``==`` compares the classes
    too), and a third fewer dataclasses to build is a third less to import this module,
    which every `ebpf-hub run` does.
    """

    type_id: int
    name: str
    kind: ClassVar[str] = "void"

    def to_json(self) -> dict[str, Any]:
        """The sorted JSON form, with the kind spelled out (``"struct"``, ``"int"``...)."""
        result = dataclass_json(self)
        result["kind"] = self.kind
        return dict(sorted(result.items()))


class BtfVoid(BtfType):
    """Type id 0: ``void``, never stored in the type section."""


@dataclass(frozen=True)
class BtfInt(BtfType):
    """An integer; ``bits``/``bit_offset`` below ``size * 8`` mark a legacy bitfield type."""

    size: int
    bits: int
    bit_offset: int
    signed: bool
    is_char: bool
    is_bool: bool
    kind: ClassVar[str] = "int"


@dataclass(frozen=True)
class BtfRef(BtfType):
    """A type that refers to exactly one other type through ``type``."""

    type: int


class BtfPtr(BtfRef):
    """A pointer to ``type``."""

    kind: ClassVar[str] = "ptr"


class BtfTypedef(BtfRef):
    """``typedef type name``."""

    kind: ClassVar[str] = "typedef"


class BtfVolatile(BtfRef):
    """``volatile type``."""

    kind: ClassVar[str] = "volatile"


class BtfConst(BtfRef):
    """``const type``."""

    kind: ClassVar[str] = "const"


class BtfRestrict(BtfRef):
    """``restrict type``."""

    kind: ClassVar[str] = "restrict"


class BtfTypeTag(BtfRef):
    """``type`` annotated with ``btf_type_tag(name)``."""

    kind: ClassVar[str] = "type_tag"


@dataclass(frozen=True)
class BtfFunc(BtfRef):
    """A function; ``type`` is its FUNC_PROTO."""

    linkage: str
    kind: ClassVar[str] = "func"


@dataclass(frozen=True)
class BtfVar(BtfRef):
    """A global variable of ``type``."""

    linkage: str
    kind: ClassVar[str] = "var"


@dataclass(frozen=True)
class BtfDeclTag(BtfRef):
    """``btf_decl_tag(name)`` on ``type``; ``component_idx`` -1 tags the whole type."""

    component_idx: int
    kind: ClassVar[str] = "decl_tag"


@dataclass(frozen=True)
class BtfArray(BtfType):
    """``element_type[nelems]``."""

    element_type: int
    index_type: int
    nelems: int
    kind: ClassVar[str] = "array"


@dataclass(frozen=True)
class BtfMember(JsonMixin):
    """A struct/union member; ``bitfield_size`` is 0 unless it is a bitfield."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int


@dataclass(frozen=True)
class BtfComposite(BtfType):
    """What structs and unions share."""

    size: int
    members: tuple[BtfMember, ...]


class BtfStruct(BtfComposite):
    """A struct."""

    kind: ClassVar[str] = "struct"


class BtfUnion(BtfComposite):
    """A union."""

    kind: ClassVar[str] = "union"


@dataclass(frozen=True)
class BtfEnumValue(JsonMixin):
    """One enumerator."""

    name: str
    value: int


@dataclass(frozen=True)
class BtfEnum(BtfType):
    """An enum with 32-bit values; ``signed`` is the BTF kind flag.

    Toolchains older than Linux 6.0 (clang 14 among them) never set the flag and store a
    negative enumerator as its unsigned 32-bit pattern; values are kept exactly as stored.
    """

    size: int
    signed: bool
    values: tuple[BtfEnumValue, ...]
    kind: ClassVar[str] = "enum"


class BtfEnum64(BtfEnum):
    """An enum with 64-bit values (a subclass, so ``isinstance(t, BtfEnum)`` finds both)."""

    kind: ClassVar[str] = "enum64"


@dataclass(frozen=True)
class BtfFwd(BtfType):
    """A forward declaration of a struct or (``is_union``) a union."""

    is_union: bool
    kind: ClassVar[str] = "fwd"


@dataclass(frozen=True)
class BtfParam(JsonMixin):
    """A function parameter."""

    name: str
    type: int


@dataclass(frozen=True)
class BtfFuncProto(BtfType):
    """A function signature."""

    return_type: int
    params: tuple[BtfParam, ...]
    kind: ClassVar[str] = "func_proto"


@dataclass(frozen=True)
class BtfVarSecinfo(JsonMixin):
    """Where variable ``type`` (a VAR) sits in a data section."""

    type: int
    offset: int
    size: int


@dataclass(frozen=True)
class BtfDatasec(BtfType):
    """A data section (``.maps``, ``.rodata``...) and the variables in it.

    In an object straight from clang, ``size`` and the offsets are 0: libbpf fills them in
    from the ELF section and symbol table at load time, and so does the inspector.
    """

    size: int
    vars: tuple[BtfVarSecinfo, ...]
    kind: ClassVar[str] = "datasec"


@dataclass(frozen=True)
class BtfFloat(BtfType):
    """A floating-point type."""

    size: int
    kind: ClassVar[str] = "float"


_SIMPLE_REFS: Final[dict[int, type[BtfRef]]] = {
    _Kind.PTR: BtfPtr,
    _Kind.TYPEDEF: BtfTypedef,
    _Kind.VOLATILE: BtfVolatile,
    _Kind.CONST: BtfConst,
    _Kind.RESTRICT: BtfRestrict,
    _Kind.TYPE_TAG: BtfTypeTag,
}
_MODIFIERS: Final = (BtfConst, BtfVolatile, BtfRestrict, BtfTypeTag)
_VOID: Final = BtfVoid(0, "")
_KEYWORDS: Final = {
    "struct": "struct", "union": "union", "enum": "enum", "enum64": "enum", "fwd": "struct",
}  # fmt: skip

T = TypeVar("T", bound=BtfType)


class Btf:
    """The types of one BTF blob, by id (``btf[type_id]``) and by name (:meth:`find`)."""

    def __init__(self, data: bytes) -> None:
        """Check the header and index the type section; raises ObjectError if malformed."""
        if len(data) < _HEADER.size:
            raise ObjectError(f"BTF is truncated ({len(data)} bytes)")
        header = _HEADER.unpack_from(data)
        magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = header
        if magic == 0x9FEB:
            raise ObjectError("big-endian BTF is not supported")
        if magic != BTF_MAGIC:
            raise ObjectError(f"not BTF (magic 0x{magic:04x})")
        if version != 1:
            raise ObjectError(f"unsupported BTF version {version}")
        type_start, str_start = hdr_len + type_off, hdr_len + str_off
        if (
            hdr_len < _HEADER.size
            or type_len % 4
            or type_start + type_len > len(data)
            or str_start + str_len > len(data)
        ):
            raise ObjectError("BTF header points outside the data (truncated?)")
        self._words = array("I")
        self._words.frombytes(data[type_start : type_start + type_len])
        if sys.byteorder == "big":
            self._words.byteswap()
        self._strings = data[str_start : str_start + str_len]
        self._starts = self._index()
        self._cache: list[BtfType | None] = [_VOID] + [None] * (len(self._starts) - 1)
        self._by_name: dict[str, list[int]] | None = None

    @classmethod
    def from_file(cls, path: str | Path = VMLINUX_BTF) -> Btf:
        """Parse a raw BTF file, by default the running kernel's vmlinux BTF."""
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            raise ObjectError(f"{path}: {err.strerror}") from None
        return cls(data)

    def _index(self) -> list[int]:
        """Word offset of each type id (index 0 is void), found by walking the trailers."""
        words, fixed, per_entry = self._words, _FIXED_WORDS, _WORDS_PER_ENTRY
        starts = [-1]
        append = starts.append
        pos, end = 0, len(words)
        while pos + 3 <= end:
            info = words[pos + 1]
            kind = (info >> 24) & 0x1F
            if not fixed[kind]:
                raise ObjectError(f"unknown BTF kind {kind} at type id {len(starts)}")
            append(pos)
            pos += fixed[kind] + per_entry[kind] * (info & 0xFFFF)
        if pos != end:
            raise ObjectError("BTF type section is truncated")
        return starts

    def __len__(self) -> int:
        """Number of type ids, void included: valid ids are ``range(len(btf))``."""
        return len(self._starts)

    def __getitem__(self, type_id: int) -> BtfType:
        """The type with this id; raises ObjectError for an id the blob does not have."""
        if not 0 <= type_id < len(self._cache):
            raise ObjectError(f"BTF type id {type_id} is out of range (0..{len(self) - 1})")
        cached = self._cache[type_id]
        if cached is None:
            cached = self._cache[type_id] = self._parse(type_id)
        return cached

    def _string(self, offset: int) -> str:
        end = self._strings.find(b"\0", offset)
        if end < 0:
            raise ObjectError(f"BTF string offset {offset} is out of range")
        return self._strings[offset:end].decode("utf-8", "replace")

    def _parse(self, type_id: int) -> BtfType:
        words, string = self._words, self._string
        pos = self._starts[type_id]
        name, info, size_or_type = string(words[pos]), words[pos + 1], words[pos + 2]
        kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, bool(info >> 31)
        at = pos + 3
        if kind == _Kind.INT:
            enc = words[at]
            flags = enc >> 24
            return BtfInt(
                type_id, name, size_or_type, bits=enc & 0xFF, bit_offset=(enc >> 16) & 0xFF,
                signed=bool(flags & 1), is_char=bool(flags & 2), is_bool=bool(flags & 4),
            )  # fmt: skip
        if kind == _Kind.ARRAY:
            return BtfArray(type_id, name, words[at], words[at + 1], words[at + 2])
        if kind in (_Kind.STRUCT, _Kind.UNION):
            members = tuple(
                BtfMember(
                    string(words[m]),
                    words[m + 1],
                    words[m + 2] & 0xFFFFFF if kflag else words[m + 2],
                    words[m + 2] >> 24 if kflag else 0,
                )
                for m in range(at, at + 3 * vlen, 3)
            )
            composite = BtfStruct if kind == _Kind.STRUCT else BtfUnion
            return composite(type_id, name, size_or_type, members)
        if kind == _Kind.ENUM:
            values = tuple(
                BtfEnumValue(string(words[e]), _s32(words[e + 1]) if kflag else words[e + 1])
                for e in range(at, at + 2 * vlen, 2)
            )
            return BtfEnum(type_id, name, size_or_type, kflag, values)
        if kind == _Kind.ENUM64:
            values = tuple(
                BtfEnumValue(string(words[e]), self._enum64(words[e + 1], words[e + 2], kflag))
                for e in range(at, at + 3 * vlen, 3)
            )
            return BtfEnum64(type_id, name, size_or_type, kflag, values)
        if kind == _Kind.FWD:
            return BtfFwd(type_id, name, is_union=kflag)
        if kind == _Kind.FUNC:
            return BtfFunc(type_id, name, size_or_type, self._linkage(vlen))
        if kind == _Kind.FUNC_PROTO:
            params = tuple(
                BtfParam(string(words[p]), words[p + 1]) for p in range(at, at + 2 * vlen, 2)
            )
            return BtfFuncProto(type_id, name, size_or_type, params)
        if kind == _Kind.VAR:
            return BtfVar(type_id, name, size_or_type, self._linkage(words[at]))
        if kind == _Kind.DATASEC:
            secinfos = tuple(
                BtfVarSecinfo(words[v], words[v + 1], words[v + 2])
                for v in range(at, at + 3 * vlen, 3)
            )
            return BtfDatasec(type_id, name, size_or_type, secinfos)
        if kind == _Kind.FLOAT:
            return BtfFloat(type_id, name, size_or_type)
        if kind == _Kind.DECL_TAG:
            return BtfDeclTag(type_id, name, size_or_type, _s32(words[at]))
        return _SIMPLE_REFS[kind](type_id, name, size_or_type)

    @staticmethod
    def _enum64(low: int, high: int, signed: bool) -> int:
        value = low | high << 32
        return _s64(value) if signed else value

    @staticmethod
    def _linkage(value: int) -> str:
        return _LINKAGE[value] if value < len(_LINKAGE) else f"linkage_{value}"

    def find(self, name: str, cls: type[T]) -> T | None:
        """The first type named ``name`` that is a ``cls`` (e.g. ``BtfEnum``), or None."""
        if self._by_name is None:
            self._by_name = self._name_index()
        for type_id in self._by_name.get(name, ()):
            found = self[type_id]
            if isinstance(found, cls):
                return found
        return None

    def _name_index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        words, string = self._words, self._string
        for type_id, pos in enumerate(self._starts[1:], 1):
            if words[pos]:
                index.setdefault(string(words[pos]), []).append(type_id)
        return index

    def _follow(self, type_id: int, through: tuple[type[BtfRef], ...]) -> int:
        for _ in range(_MAX_CHAIN):
            current = self[type_id]
            if not isinstance(current, through):
                return type_id
            type_id = current.type
        raise ObjectError(f"BTF type {type_id}: chain of references too long (a loop?)")

    def skip_modifiers(self, type_id: int) -> int:
        """The id behind any const/volatile/restrict/type_tag (typedefs are kept)."""
        return self._follow(type_id, _MODIFIERS)

    def resolve(self, type_id: int) -> int:
        """The id behind any modifiers and typedefs: the type that says what data is."""
        return self._follow(type_id, (*_MODIFIERS, BtfTypedef))

    def size_of(self, type_id: int) -> int:
        """Size in bytes of a value of this type (pointers are 8: BPF is a 64-bit target)."""
        return self._size(type_id, 0)

    def _size(self, type_id: int, depth: int) -> int:
        resolved = self[self.resolve(type_id)]
        if isinstance(resolved, BtfPtr):
            return 8
        if isinstance(resolved, BtfArray) and depth < _MAX_CHAIN:
            return resolved.nelems * self._size(resolved.element_type, depth + 1)
        if isinstance(resolved, (BtfInt, BtfEnum, BtfComposite, BtfFloat, BtfDatasec)):
            return resolved.size
        raise ObjectError(f"type {self.type_name(type_id)!r} has no size")

    def type_name(self, type_id: int) -> str:
        """The type spelled as C would: ``struct event``, ``const char *``, ``__u64[27]``."""
        return self._spell(type_id, 0)

    def _spell(self, type_id: int, depth: int) -> str:
        if depth > _MAX_CHAIN:
            raise ObjectError(f"BTF type {type_id}: chain of references too long (a loop?)")
        named = self[type_id]
        if isinstance(named, BtfVoid):
            return "void"
        if isinstance(named, BtfPtr):
            return f"{self._spell(named.type, depth + 1)} *"
        if isinstance(named, (BtfConst, BtfVolatile, BtfRestrict)):
            return f"{named.kind} {self._spell(named.type, depth + 1)}"
        if isinstance(named, BtfTypeTag):
            return self._spell(named.type, depth + 1)
        if isinstance(named, BtfArray):
            dims, element = "", self[type_id]
            for _ in range(_MAX_CHAIN):
                if not isinstance(element, BtfArray):
                    break
                dims += f"[{element.nelems}]"
                element = self[element.element_type]
            return self._spell(element.type_id, depth + 1) + dims
        if isinstance(named, (BtfStruct, BtfUnion, BtfEnum, BtfFwd)):
            keyword = _KEYWORDS[named.kind]
            if isinstance(named, BtfFwd) and named.is_union:
                keyword = "union"
            return f"{keyword} {named.name}" if named.name else keyword
        if isinstance(named, BtfFuncProto):
            return "func"
        return named.name
