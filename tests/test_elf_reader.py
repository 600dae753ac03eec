"""ebpf_hub.bpfobj.elf against llvm-readobj on the seed objects, and on hostile variants.

llvm-readobj (the tool behind llvm-readelf, in its structured LLVM output style) is the
independent oracle: every section, symbol and relocation it lists must read the same.
"""

from __future__ import annotations

import re
import struct
import subprocess
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ebpf_hub.bpfobj.elf import ElfObject, read_elf
from ebpf_hub.bpfobj.errors import ObjectError
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.toolchain import toolchain
from hubrepo import REPO

SEEDS = sorted(p.name for p in (REPO / "sources").iterdir() if p.is_dir())
SYMBOL_TYPES = {0: "STT_NOTYPE", 1: "STT_OBJECT", 2: "STT_FUNC", 3: "STT_SECTION", 4: "STT_FILE"}
Entry = dict[str, str]

# Offsets of the fields a hostile test rewrites (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym).
E_SHOFF, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 0x28, 0x3A, 0x3C, 0x3E
SH_NAME, SH_SIZE, SH_INFO, SHDR_SIZE = 0, 32, 44, 64
R_INFO = 8


@pytest.fixture(scope="session")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every seed compiled as `ebpf-hub build` does, and unstripped (with its DWARF and the
    many relocation sections of DWARF) as `NAME.debug`."""
    out = tmp_path_factory.mktemp("elf")
    tools = toolchain()

    def unstripped(name: str) -> Path:
        source = (REPO / "sources" / name).resolve()
        target = out / f"{name}.debug.bpf.o"
        [program] = source.glob("*.bpf.c")
        command = [tools.clang, *tools.flags(source), "-c", str(program), "-o", str(target)]
        subprocess.run(command, check=True, capture_output=True)
        return target

    with ThreadPoolExecutor() as pool:
        built = [
            pool.submit(compile_objects, tools, REPO / "sources" / name, out / name, name)
            for name in SEEDS
        ]
        debug = {f"{name}.debug": pool.submit(unstripped, name) for name in SEEDS}
        result = {name: future.result()[0] for name, future in zip(SEEDS, built, strict=True)}
        return result | {name: future.result() for name, future in debug.items()}


def _readobj(path: Path) -> tuple[list[Entry], list[Entry], list[tuple[int, Entry]]]:
    """Sections, symbols and (relocation section index, relocation) as llvm-readobj lists
    them, each a dict of its ``Key: value`` lines."""
    command = ["llvm-readobj", "--sections", "--symbols", "--relocations", "--expand-relocs"]
    listing = subprocess.run([*command, str(path)], check=True, capture_output=True, text=True)
    sections: list[Entry] = []
    symbols: list[Entry] = []
    relocations: list[tuple[int, Entry]] = []
    current: Entry = {}
    relocation_section = -1
    for line in (line.strip() for line in listing.stdout.splitlines()):
        if line in ("Section {", "Symbol {"):
            current = {}
            (sections if line == "Section {" else symbols).append(current)
        elif line == "Relocation {":
            current = {}
            relocations.append((relocation_section, current))
        elif match := re.fullmatch(r"Section \((\d+)\) .* \{", line):
            relocation_section = int(match[1])
        elif match := re.fullmatch(r"Flags \[ \((0x[0-9A-F]+)\)", line):
            current["Flags"] = match[1]
        elif ": " in line:
            key, value = line.split(": ", 1)
            current.setdefault(key, value)
    return sections, symbols, relocations


def _number(value: str) -> int:
    """``0x1F``, ``31`` or the number in ``name (31)``, as llvm-readobj prints them."""
    match = re.fullmatch(r"(?:.*\()?((?:0x)?[0-9A-Fa-f]+)\)?", value)
    assert match, value
    return int(match[1], 0)


def _name(value: str) -> str:
    """The name in ``name (offset)``. Offset 0 is no name, but llvm-readobj shows a section
    symbol (which has none) by its section's name, which the reader rightly does not invent."""
    match = re.fullmatch(r"(.*) \((\d+)\)", value)
    assert match, value
    return "" if match[2] == "0" else match[1]


@pytest.mark.parametrize("name", [*SEEDS, *(f"{s}.debug" for s in SEEDS)])
def test_reads_what_llvm_readobj_reads(objects: dict[str, Path], name: str) -> None:
    data = objects[name].read_bytes()
    elf = read_elf(data)
    sections, symbols, relocations = _readobj(objects[name])
    assert len(elf.sections) == len(sections)
    for section, want in zip(elf.sections, sections, strict=True):
        offset, size = _number(want["Offset"]), _number(want["Size"])
        nobits = want["Type"].startswith("SHT_NOBITS")
        assert (section.index, section.name, section.size) == (
            _number(want["Index"]),
            _name(want["Name"]),
            size,
        )
        assert section.executable == bool(_number(want["Flags"]) & 0x4)
        assert section.data == (b"" if nobits else data[offset : offset + size])
    assert len(elf.symbols) == len(symbols)
    for symbol, want in zip(elf.symbols, symbols, strict=True):
        shndx = _number(want["Section"])
        assert symbol.name == _name(want["Name"])
        assert symbol.type == SYMBOL_TYPES[_number(want["Type"])]
        assert symbol.section == (None if shndx == 0 or shndx >= 0xFF00 else shndx)
        assert (symbol.value, symbol.size) == (_number(want["Value"]), _number(want["Size"]))
    expected: dict[int, dict[int, int]] = {}
    for relocation_section, want in relocations:
        target = _number(sections[relocation_section]["Info"])
        expected.setdefault(target, {})[_number(want["Offset"])] = _number(want["Symbol"])
    assert expected and elf.relocations.keys() == expected.keys()
    for target, by_offset in expected.items():
        got = elf.relocations[target]
        assert got.keys() == by_offset.keys()
        assert all(got[offset] == elf.symbols[index] for offset, index in by_offset.items())


def _error(data: bytes) -> str:
    """The one-line ObjectError that reading ``data`` must raise."""
    with pytest.raises(ObjectError) as caught:
        read_elf(data)
    message = str(caught.value)
    assert "\n" not in message and caught.value.__cause__ is None, message
    return message


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


def _section_header(data: bytes, index: int) -> int:
    """Where section ``index``'s header lies in the file."""
    return int.from_bytes(data[E_SHOFF : E_SHOFF + 8], "little") + index * SHDR_SIZE


def _first(sections: list[Entry], kind: str) -> Entry:
    return next(s for s in sections if s["Type"].startswith(kind + " "))


def test_every_truncation_is_one_object_error(objects: dict[str, Path]) -> None:
    data = objects["execsnoop"].read_bytes()
    for cut in range(0, len(data), 97):
        _error(data[:cut])


def test_hostile_headers(objects: dict[str, Path]) -> None:
    data = objects["execsnoop"].read_bytes()
    shnum = int.from_bytes(data[E_SHNUM : E_SHNUM + 2], "little")
    cases = [
        ("section headers lie past the end", _patch(data, E_SHOFF, "<Q", len(data))),
        ("section headers lie past the end", _patch(data, E_SHOFF, "<Q", 2**64 - 1)),
        (f"section name table {shnum} is missing", _patch(data, E_SHSTRNDX, "<H", shnum)),
        ("section name table 65535 is missing", _patch(data, E_SHSTRNDX, "<H", 0xFFFF)),
        ("extended section numbering", _patch(data, E_SHNUM, "<H", 0)),
        ("section header size 40, expected 64", _patch(data, E_SHENTSIZE, "<H", 40)),
    ]
    for reason, hostile in cases:
        assert _error(hostile).startswith(f"malformed ELF file ({reason}"), reason
    assert _error(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x01\x00\x3e\x00") == (
        "not a BPF object (ELF machine EM_X86_64)"
    )
    assert _error(b"\x7fELF\x02\x02\x01" + bytes(9) + b"\x00\x01\x00\xf7") == (
        "only little-endian 64-bit BPF objects are supported"
    )
    assert _error(b"\x7fELF\x01\x01\x01" + bytes(9) + b"\x01\x00\xf7\x00") == (
        "only little-endian 64-bit BPF objects are supported"
    )
    assert _error(b"MZ") == "not an ELF file"


def test_hostile_sections(objects: dict[str, Path]) -> None:
    path = objects["execsnoop"]
    data = path.read_bytes()
    sections, _symbols, _relocations = _readobj(path)
    shnum = len(sections)
    symtab, rel = _first(sections, "SHT_SYMTAB"), _first(sections, "SHT_REL")
    strtab = sections[_number(symtab["Link"])]
    symbol_1 = _number(symtab["Offset"]) + 24
    rel_header = _section_header(data, _number(rel["Index"]))
    shstrndx = int.from_bytes(data[E_SHSTRNDX : E_SHSTRNDX + 2], "little")
    names = _number(sections[shstrndx]["Offset"])
    section_0, section_1 = _section_header(data, 0), _section_header(data, 1)
    cases = [
        ("section 1 lies past the end", _patch(data, section_1 + SH_SIZE, "<Q", 2**62)),
        (
            "name of symbol 1 lies past its string table",
            _patch(data, symbol_1, "<I", _number(strtab["Size"])),
        ),
        (
            "name of section 1 lies past its string table",
            _patch(data, section_1 + SH_NAME, "<I", 2**32 - 1),
        ),
        (
            "name of section 0 is not UTF-8",
            _patch(_patch(data, section_0 + SH_NAME, "<I", 1), names + 1, "<B", 0xFF),
        ),
        (
            f"relocation section {rel['Index']} applies to missing {shnum + 5}",
            _patch(data, rel_header + SH_INFO, "<I", shnum + 5),
        ),
        (
            f"relocation in section {rel['Index']} names missing symbol {2**32 - 1}",
            _patch(data, _number(rel["Offset"]) + R_INFO, "<Q", (2**32 - 1) << 32 | 1),
        ),
    ]
    for reason, hostile in cases:
        tracemalloc.start()
        message = _error(hostile)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert message.startswith(f"malformed ELF file ({reason}"), (reason, message)
        assert peak < 4 * len(data), "a hostile size must not size an allocation"


def test_section_data_is_copied_only_when_asked(objects: dict[str, Path]) -> None:
    elf: ElfObject = read_elf(objects["execsnoop"].read_bytes())
    btf = elf.section(".BTF")
    assert btf is not None and isinstance(btf.view, memoryview)
    assert btf.data is btf.data and btf.data == btf.view.tobytes()


def test_a_mapped_object_reads_the_same_calls_as_an_inspected_one(
    objects: dict[str, Path], tmp_path: Path
) -> None:
    """`install` maps objects (object_calls); the runner and the build read them whole
    (inspect_object): both must judge an object alike, and an empty file is one error."""
    from ebpf_hub.bpfobj.inspect import inspect_object
    from ebpf_hub.bpfobj.objcalls import object_calls

    for path in objects.values():
        info, calls = inspect_object(path), object_calls(path)
        assert calls.programs == info.programs
        assert (calls.helpers, calls.kfuncs) == (info.helpers, info.kfuncs)
        assert calls.kernel_variables == info.kernel_variables
    empty = tmp_path / "empty.bpf.o"
    empty.touch()
    with pytest.raises(ObjectError, match=r"empty\.bpf\.o: not an ELF file$"):
        object_calls(empty)
