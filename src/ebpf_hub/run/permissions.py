"""What a package will do to the host, in words, shown before it runs and by `info`.

The attach points, the hooks that change the system (an `fmod_ret`, LSM or XDP program) and
the dangerous calls come from the objects themselves (the truth), never from the metadata or
the artifact config, which are claims: a tampered install or a registry serving a lying
config must not hide a call or a hook. The metadata only marks what it fails to declare.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from ebpf_hub.bpfobj.capabilities import actions, capabilities
from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.programs import ProgramInfo as ObjectProgram
from ebpf_hub.model.package import Permissions
from ebpf_hub.run.attach import AttachTargets


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
    permissions: Permissions | None,
    objects: Sequence[ObjectInfo],
    targets: AttachTargets,
    skipped: Set[str] = frozenset(),
) -> list[str]:
    """One line per thing the package will do (`permissions`: what it declares, if known),
    the programs it leaves out (`skipped`: another mode's, a missing hook's) aside."""
    programs = [p for info in objects for p in info.programs if p.name not in skipped]
    found = capabilities(objects)
    lines = [f"attach {program.name} to {hook(program, targets)}" for program in programs]
    if (permissions is not None and permissions.reads_user_memory) or found.reads_user_memory:
        lines.append("read the memory of processes (arguments, strings)")
    if found.kernel_variables:
        lines.append(f"read kernel variables: {', '.join(found.kernel_variables)}")
    lines += actions(found.everything(), permissions)
    return lines
