"""Read the parts of a BPF ELF object the inspector needs into plain dataclasses.

A few struct formats cover everything the inspector reads (the header, section headers,
symbols and relocations), so this reads them itself rather than through pyelftools, which
cost ~35 ms of import in every process that inspects an object and copied every section
(`ebpf-hub install` inspects every object it verifies, 50 MB ones included). Section data
is not copied until a caller asks for it. Every offset, size and index is checked against
the file before use, so hostile input becomes a single ObjectError line, never an
IndexError, a struct.error or an allocation sized by the attacker.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final, NamedTuple, Union

from .errors import ObjectError

#: An object's bytes: read into memory, or mapped (only the pages parsed are ever read).
ElfBytes = Union[bytes, mmap.mmap]

_ELF_MAGIC: Final = b"\x7fELF"
_ELFCLASS64, _ELFDATA2LSB, _EM_BPF = 2, 1, 247
_MACHINES: Final = {
    0: "EM_NONE", 3: "EM_386", 8: "EM_MIPS", 20: "EM_PPC", 21: "EM_PPC64", 22: "EM_S390",
    40: "EM_ARM", 43: "EM_SPARCV9", 62: "EM_X86_64", 183: "EM_AARCH64", 243: "EM_RISCV",
    258: "EM_LOONGARCH",
}  # fmt: skip
_SYMBOL_TYPES: Final = (
    "STT_NOTYPE", "STT_OBJECT", "STT_FUNC", "STT_SECTION", "STT_FILE", "STT_COMMON", "STT_TLS",
)  # fmt: skip

# Elf64_Ehdr from e_ident: ident, type, machine, version, entry, phoff, shoff, flags, ehsize,
# phentsize, phnum, shentsize, shnum, shstrndx.
_HEADER: Final = struct.Struct("<16sHHIQQQIHHHHHH")
# Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize.
_SECTION: Final = struct.Struct("<IIQQQQIIQQ")
_SYMBOL: Final = struct.Struct("<IBBHQQ")  # Elf64_Sym: name, info, other, shndx, value, size
_REL: Final = struct.Struct("<QQ")  # Elf64_Rel: offset, info
_RELA: Final = struct.Struct("<QQq")  # Elf64_Rela: offset, info, addend

_SHT_SYMTAB, _SHT_STRTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 3, 4, 8, 9
_SHF_EXECINSTR = 0x4
_SHN_LORESERVE = 0xFF00


@dataclass(frozen=True)
class ElfSection:
    """A section; ``data`` is empty for NOBITS (``.bss``), whose ``size`` still counts.

    ``view`` is the section's bytes inside the file without a copy; ``data`` copies them
    into ``bytes`` on first use, so sections nobody reads (a 50 MB payload) cost nothing.
    """

    index: int
    name: str
    executable: bool
    size: int
    view: memoryview = field(repr=False)

    @cached_property
    def data(self) -> bytes:
        """The section's contents (``b""`` for NOBITS)."""
        return self.view.tobytes()


class ElfSymbol(NamedTuple):
    """A symbol; ``section`` is None when it is in no section (an extern: kfunc or ksym)."""

    name: str
    type: str
    section: int | None
    value: int
    size: int


class ElfObject(NamedTuple):
    """Sections by index, all symbols, and for each section its relocations by offset."""

    sections: tuple[ElfSection, ...]
    symbols: tuple[ElfSymbol, ...]
    relocations: dict[int, dict[int, ElfSymbol]]

    def section(self, name: str) -> ElfSection | None:
        """The first section called ``name``."""
        return next((s for s in self.sections if s.name == name), None)

    def symbol(self, section: int, name: str) -> ElfSymbol | None:
        """The symbol called ``name`` defined in section index ``section``."""
        return next((s for s in self.symbols if s.section == section and s.name == name), None)


class _Header(NamedTuple):
    """An Elf64_Shdr, field for field (a tuple: quicker to define than a dataclass)."""

    name: int
    type: int
    flags: int
    addr: int
    offset: int
    size: int  # as declared: NOBITS sections occupy no bytes of the file
    link: int
    info: int
    addralign: int
    entsize: int

    @property
    def length(self) -> int:
        """How many bytes of the file the section occupies."""
        return 0 if self.type == _SHT_NOBITS else self.size


def read_elf(data: ElfBytes) -> ElfObject:
    """Parse ``data`` as a little-endian 64-bit BPF ELF object or raise ObjectError."""
    _check_header(data)
    view = memoryview(data)
    headers, names = _section_headers(data, view)
    sections = tuple(
        ElfSection(
            index,
            _string(data, names, header.name, f"section {index}"),
            bool(header.flags & _SHF_EXECINSTR),
            header.size,
            view[header.offset : header.offset + header.length],
        )
        for index, header in enumerate(headers)
    )
    tables = {
        index: _symbols(data, view, headers, index)
        for index, header in enumerate(headers)
        if header.type == _SHT_SYMTAB
    }
    relocations: dict[int, dict[int, ElfSymbol]] = {}
    for index, header in enumerate(headers):
        if header.type in (_SHT_REL, _SHT_RELA):
            if header.info >= len(headers):
                raise _malformed(f"relocation section {index} applies to missing {header.info}")
            relocations.setdefault(header.info, {}).update(
                _relocations(view, headers, index, tables)
            )
    symbols = tuple(symbol for table in tables.values() for symbol in table)
    return ElfObject(sections, symbols, relocations)


def _malformed(reason: str) -> ObjectError:
    return ObjectError(f"malformed ELF file ({reason})")


def _check_header(data: ElfBytes) -> None:
    """Refuse anything but a complete little-endian 64-bit BPF header, saying why."""
    if data[: len(_ELF_MAGIC)] != _ELF_MAGIC:
        raise ObjectError("not an ELF file")
    if len(data) < 20:  # e_ident, e_type and e_machine: where any ELF names its machine
        raise _malformed("header is truncated")
    elf_class, encoding = data[4], data[5]
    if elf_class not in (1, 2) or encoding not in (1, 2):
        raise _malformed(f"class {elf_class}, data encoding {encoding}")
    machine = int.from_bytes(data[18:20], "little" if encoding == _ELFDATA2LSB else "big")
    if machine != _EM_BPF:
        raise ObjectError(f"not a BPF object (ELF machine {_MACHINES.get(machine, machine)})")
    if elf_class != _ELFCLASS64 or encoding != _ELFDATA2LSB:
        raise ObjectError("only little-endian 64-bit BPF objects are supported")
    if len(data) < _HEADER.size:
        raise _malformed("header is truncated")


def _section_headers(data: ElfBytes, view: memoryview) -> tuple[list[_Header], _Header]:
    """Every section header and the section name table, once all lie inside the file."""
    *_, shoff, _flags, _ehsize, _phentsize, _phnum, shentsize, shnum, shstrndx = (
        _HEADER.unpack_from(data)
    )
    if shnum == 0:  # with shoff set, the count is in section 0: clang never needs that many
        raise _malformed("extended section numbering" if shoff else "no sections")
    if shentsize != _SECTION.size:
        raise _malformed(f"section header size {shentsize}, expected {_SECTION.size}")
    end = shoff + shnum * _SECTION.size
    if end > len(data):
        raise _malformed("section headers lie past the end of the file")
    if not 0 < shstrndx < shnum:  # SHN_XINDEX (extended numbering) included
        raise _malformed(f"section name table {shstrndx} is missing")
    headers = [_Header._make(fields) for fields in _SECTION.iter_unpack(view[shoff:end])]
    for index, header in enumerate(headers):
        if header.offset + header.length > len(data):
            raise _malformed(f"section {index} lies past the end of the file")
    return headers, headers[shstrndx]


def _string(data: ElfBytes, table: _Header, offset: int, what: str) -> str:
    """The NUL-terminated UTF-8 string at ``offset`` of string table ``table``."""
    if offset == 0:  # index 0 is the empty name, even in an empty table
        return ""
    if offset >= table.length:
        raise _malformed(f"name of {what} lies past its string table")
    start = table.offset + offset
    end = data.find(b"\0", start, table.offset + table.length)
    if end < 0:
        raise _malformed(f"name of {what} is not terminated")
    try:
        return data[start:end].decode()
    except UnicodeDecodeError:
        raise _malformed(f"name of {what} is not UTF-8") from None


def _entries(view: memoryview, header: _Header, entry: struct.Struct) -> list[tuple[int, ...]]:
    """A table section's fixed-size entries, refusing any other entry size."""
    if header.entsize != entry.size or header.length % entry.size:
        raise _malformed(f"{header.entsize}-byte entries where {entry.size} are expected")
    return list(entry.iter_unpack(view[header.offset : header.offset + header.length]))


def _symbols(
    data: ElfBytes, view: memoryview, headers: list[_Header], index: int
) -> list[ElfSymbol]:
    """The symbols of symbol table section ``index``, the null symbol (number 0) included."""
    link = headers[index].link
    if link >= len(headers) or headers[link].type != _SHT_STRTAB:
        raise _malformed(f"symbol table {index} links to section {link}, not a string table")
    symbols = []
    for number, (name, info, _other, shndx, value, size) in enumerate(
        _entries(view, headers[index], _SYMBOL)
    ):
        text = _string(data, headers[link], name, f"symbol {number}")
        section = None if shndx == 0 or shndx >= _SHN_LORESERVE else shndx
        if section is not None and section >= len(headers):
            raise ObjectError(f"symbol {text!r} is in section {section}, which is missing")
        kind = info & 0xF
        kind_name = _SYMBOL_TYPES[kind] if kind < len(_SYMBOL_TYPES) else f"STT_{kind}"
        symbols.append(ElfSymbol(text, kind_name, section, value, size))
    return symbols


def _relocations(
    view: memoryview, headers: list[_Header], index: int, tables: dict[int, list[ElfSymbol]]
) -> dict[int, ElfSymbol]:
    """Relocation section ``index``'s symbols by the offset they apply at."""
    header = headers[index]
    symbols = tables.get(header.link)
    if symbols is None:
        raise _malformed(f"relocation section {index} links to {header.link}, not a symbol table")
    relocations = {}
    for offset, info, *_ in _entries(view, header, _REL if header.type == _SHT_REL else _RELA):
        if info >> 32 >= len(symbols):
            raise _malformed(f"relocation in section {index} names missing symbol {info >> 32}")
        relocations[offset] = symbols[info >> 32]
    return relocations
