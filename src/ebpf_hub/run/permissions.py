"""What a package will do to the host, in words, shown before it runs.

The attach points come from the objects themselves (the truth), what it may do with them
from the package's declared permissions, joined with what the objects' helper calls show:
the build checks that the two agree, and a local object has no declarations at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ebpf_hub.bpfobj import DANGEROUS_HELPERS, ObjectInfo
from ebpf_hub.bpfobj import ProgramInfo as ObjectProgram
from ebpf_hub.run.attach import AttachTargets

_USER_MEMORY_HELPERS = frozenset(
    {"bpf_probe_read_user", "bpf_probe_read_user_str", "bpf_copy_from_user"}
)


def hook(program: ObjectProgram, targets: AttachTargets) -> str:
    """Where a program attaches, e.g. 'tracepoint syscalls/sys_enter_openat', 'XDP on eth0'."""
    kind, target = program.kind or program.section, program.target
    if kind in ("xdp", "xdp.frags"):
        return f"XDP on {targets.iface or '(--iface)'}"
    if kind in ("tc", "classifier"):
        return f"TC ingress on {targets.iface or '(--iface)'}"
    if kind.startswith("cgroup"):
        return f"{program.section} on cgroup {targets.cgroup or '(--cgroup)'}"
    if kind.startswith(("uprobe", "uretprobe")) and not target:
        target = targets.uprobe or "(--uprobe)"
    return f"{kind} {target}" if target else kind


def describe(
    permissions: Mapping[str, Any], objects: Sequence[ObjectInfo], targets: AttachTargets
) -> list[str]:
    """One line per thing the package will do."""
    programs = [program for info in objects for program in info.programs]
    helpers = {h for program in programs for h in program.helpers}
    lines = [f"attach {program.name} to {hook(program, targets)}" for program in programs]
    if permissions.get("reads_user_memory") or helpers & _USER_MEMORY_HELPERS:
        lines.append("read the memory of processes (arguments, strings)")
    if permissions.get("drops_packets"):
        lines.append("drop or redirect network packets")
    dangerous = sorted(set(permissions.get("helpers", ())) | helpers & DANGEROUS_HELPERS.keys())
    if dangerous:
        lines.append(f"call helpers that change the system: {', '.join(dangerous)}")
    return lines
