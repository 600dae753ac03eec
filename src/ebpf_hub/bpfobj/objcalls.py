"""What an object's code calls, read from its bytecode alone: cheap enough for every install.

The client judges each verified object by its bytes at install, `info` and upgrade time
(:mod:`.capabilities`). That needs the programs, the helpers and kfuncs every function calls
and the kernel variables the code reads, but none of what :func:`.inspect.inspect_object`
decodes from BTF types (maps, parameters, the event layout), so this reads only the ELF.
BTF is parsed, lazily, only for an object that references an undefined symbol other than a
kfunc, to tell a ``__ksym`` variable from a ``__kconfig`` one.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from .calls import CallGraph
from .elf import ElfBytes, ElfObject, read_elf
from .errors import ObjectError
from .helpers import helper_name
from .programs import ProgramInfo, find_programs

if TYPE_CHECKING:
    from .btf import Btf

_KSYMS_SECTION: Final = ".ksyms"  # where BTF lists the object's __ksym externs
_BTF_SECTION: Final = ".BTF"
_NOT_EXTERNS: Final = frozenset({"STT_FILE", "STT_SECTION"})  # in no section, yet not externs


class ObjectCalls(NamedTuple):
    """One object's programs, and what any of its functions calls or reads (reached by a
    program's call graph or not): all that :func:`.capabilities.capabilities` judges."""

    programs: tuple[ProgramInfo, ...]
    helpers: tuple[str, ...]
    kfuncs: tuple[str, ...]
    kernel_variables: tuple[str, ...]


def object_calls(path: str | os.PathLike[str]) -> ObjectCalls:
    """Read the object at ``path``; any problem raises a one-line ObjectError naming it.

    The file is mapped, not read: an object may carry megabytes no program uses (data
    sections, BTF), and only the headers, the code, the symbols and the relocations are read.
    """
    try:
        with Path(path).open("rb") as handle:
            data: ElfBytes = (
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                if os.fstat(handle.fileno()).st_size
                else b""
            )
    except OSError as err:
        raise ObjectError(f"{path}: {err.strerror}") from None
    try:
        elf = read_elf(data)
        return read_calls(elf, lambda: _btf(elf))
    except ObjectError as err:
        raise ObjectError(f"{path}: {err}") from None


def read_calls(elf: ElfObject, btf: Callable[[], Btf]) -> ObjectCalls:
    """The calls of ``elf``; ``btf`` gives its BTF, asked for only when it is needed."""
    graph = CallGraph(elf)
    calls = graph.everything()
    return ObjectCalls(
        programs=find_programs(elf, graph),
        helpers=tuple(sorted({helper_name(h) for h in calls.helpers})),
        kfuncs=tuple(sorted(calls.kfuncs)),
        kernel_variables=_kernel_variables(elf, calls.kfuncs, btf),
    )


def _kernel_variables(
    elf: ElfObject, kfuncs: frozenset[str], btf: Callable[[], Btf]
) -> tuple[str, ...]:
    """The ``extern ... __ksym`` variables (not kfuncs) the code reads, by name.

    Every extern the code uses is an undefined symbol; with none besides the kfuncs there is
    no variable to name, and no BTF to parse.
    """
    externs = {
        symbol.name.partition("___")[0]
        for symbol in elf.symbols
        if symbol.section is None and symbol.name and symbol.type not in _NOT_EXTERNS
    }
    if not externs - kfuncs:
        return ()
    from .btf import BtfDatasec, BtfVar

    types = btf()
    datasec = types.find(_KSYMS_SECTION, BtfDatasec)
    found = [types[secinfo.type] for secinfo in datasec.vars] if datasec else []
    return tuple(sorted(var.name for var in found if isinstance(var, BtfVar)))


def _btf(elf: ElfObject) -> Btf:
    from .btf import Btf

    section = elf.section(_BTF_SECTION)
    if section is None:
        raise ObjectError("no BTF (.BTF section): compile with clang -g, strip with llvm-strip -g")
    return Btf(section.data)
