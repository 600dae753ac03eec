"""The programs of an object: where each attaches and which helpers it can reach.

Like libbpf, every function symbol in an executable section other than ``.text`` is a
program, and functions in ``.text`` are subprograms that programs call.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._json import JsonMixin
from .calls import CallGraph
from .elf import ElfObject
from .helpers import helper_name
from .sections import classify_section

_TEXT = ".text"


@dataclass(frozen=True)
class ProgramInfo(JsonMixin):
    """One BPF program.

    ``kind``, ``prog_type`` and ``attach_type`` come from libbpf's section table (see
    :mod:`.sections`) and are None for a section libbpf does not know; ``target`` is the
    section name's part after the kind (``syscalls/sys_enter_execve``, ``/bin/bash:readline``).
    ``helpers`` and ``kfuncs`` include those called from subprograms and callbacks, whose
    names are in ``subprograms``; kfuncs by the name libbpf resolves (no ``___flavour``).
    ``insn_count`` counts the program's own 8-byte slots.
    """

    name: str
    section: str
    kind: str | None
    target: str | None
    prog_type: str | None
    attach_type: str | None
    insn_count: int
    helpers: tuple[str, ...]
    kfuncs: tuple[str, ...]
    subprograms: tuple[str, ...]


def find_programs(elf: ElfObject, graph: CallGraph) -> tuple[ProgramInfo, ...]:
    """Every program of ``elf``, sorted by name, with what ``graph`` says each calls."""
    programs = []
    for section in elf.sections:
        if not section.executable or section.name == _TEXT:
            continue
        row, target = classify_section(section.name)
        for function in graph.functions_in(section.index):
            calls = graph.reachable(function)
            programs.append(
                ProgramInfo(
                    name=function.name,
                    section=section.name,
                    kind=row.kind if row else None,
                    target=target,
                    prog_type=row.prog_type if row else None,
                    attach_type=row.attach_type if row else None,
                    insn_count=function.end - function.start,
                    helpers=tuple(sorted({helper_name(h) for h in calls.helpers})),
                    kfuncs=tuple(sorted(calls.kfuncs)),
                    subprograms=tuple(sorted(f.name for f in calls.functions)),
                )
            )
    return tuple(sorted(programs, key=lambda p: p.name))
