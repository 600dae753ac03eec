"""What libbpf says about a program of an opened object."""

from __future__ import annotations

from dataclasses import dataclass

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.maps import text


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    section: str
    type: str  # libbpf's name of the program type: 'tracepoint', 'xdp', 'sched_cls', ...
    fd: int  # negative until loaded


def program_info(prog: int) -> ProgramInfo:
    return ProgramInfo(
        name=text(lib.bpf_program__name(prog)),
        section=text(lib.bpf_program__section_name(prog)),
        type=text(lib.libbpf_bpf_prog_type_str(lib.bpf_program__type(prog))),
        fd=lib.bpf_program__fd(prog),
    )
