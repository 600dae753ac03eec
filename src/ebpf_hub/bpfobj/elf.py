"""Read the parts of a BPF ELF object the inspector needs into plain dataclasses.

pyelftools parses lazily and raises its own exceptions from deep inside; this module reads
everything up front inside one guard, so malformed input becomes a single ObjectError line
and no other module touches pyelftools.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from .errors import ObjectError

_SHF_EXECINSTR = 0x4
_ELF_MAGIC = b"\x7fELF"
# What pyelftools raises on malformed input besides its own ELFError.
_PARSE_ERRORS = (
    ELFError, ConstructError, struct.error, ValueError, IndexError, KeyError, TypeError,
    OverflowError,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ElfSection:
    """A section; ``data`` is empty for NOBITS (``.bss``), whose ``size`` still counts."""

    index: int
    name: str
    executable: bool
    size: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ElfSymbol:
    """A symbol; ``section`` is None when it is in no section (an extern: kfunc or ksym)."""

    name: str
    type: str
    section: int | None
    value: int
    size: int


@dataclass(frozen=True, slots=True)
class ElfObject:
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


def read_elf(data: bytes) -> ElfObject:
    """Parse ``data`` as a little-endian 64-bit BPF ELF object or raise ObjectError."""
    if not data.startswith(_ELF_MAGIC):
        raise ObjectError("not an ELF file")
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine != "EM_BPF":
            raise ObjectError(f"not a BPF object (ELF machine {machine})")
        if not elf.little_endian or elf.elfclass != 64:
            raise ObjectError("only little-endian 64-bit BPF objects are supported")
        sections: list[ElfSection] = []
        symbols: list[ElfSymbol] = []
        relocation_sections: list[RelocationSection] = []
        for index, section in enumerate(elf.iter_sections()):
            nobits = section["sh_type"] == "SHT_NOBITS"
            sections.append(
                ElfSection(
                    index,
                    section.name,
                    bool(section["sh_flags"] & _SHF_EXECINSTR),
                    section["sh_size"],
                    b"" if nobits else section.data(),
                )
            )
            if isinstance(section, SymbolTableSection):
                symbols.extend(_symbol(symbol) for symbol in section.iter_symbols())
            elif isinstance(section, RelocationSection):
                relocation_sections.append(section)
        relocations = {
            section["sh_info"]: {
                reloc["r_offset"]: symbols[reloc["r_info_sym"]]
                for reloc in section.iter_relocations()
            }
            for section in relocation_sections
        }
    except _PARSE_ERRORS as err:
        raise ObjectError(f"malformed ELF file ({_reason(err)})") from None
    for symbol in symbols:
        if symbol.section is not None and symbol.section >= len(sections):
            raise ObjectError(
                f"symbol {symbol.name!r} is in section {symbol.section}, which is missing"
            )
    return ElfObject(tuple(sections), tuple(symbols), relocations)


def _symbol(symbol: Any) -> ElfSymbol:
    # st_shndx is a section index, or a name such as "SHN_UNDEF" or "SHN_ABS".
    shndx = symbol["st_shndx"]
    return ElfSymbol(
        symbol.name,
        symbol["st_info"]["type"],
        shndx if isinstance(shndx, int) else None,
        symbol["st_value"],
        symbol["st_size"],
    )


def _reason(err: Exception) -> str:
    """The first line of a parser's message, or the exception's type when it has none."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
