"""Can this host run a package? Checked before anything is loaded, and by `ebpf-hub doctor`.

Each check compares one thing the package needs with what the host has: the architecture,
the kernel version, kernel BTF, the capabilities for its hooks, and each program type it
uses, which is probed (a kernel may know a type and still refuse it: under lockdown this one
refuses fentry/fexit with EPERM). A failed check says what is missing and how to get it.

The probes load libbpf, so they are imported where they run: `doctor` reports the host's
other facts, and a missing libbpf as one more line, on a host without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.programs import ProgramInfo as ObjectProgram
from ebpf_hub.errors import HubError, LibbpfMissingError
from ebpf_hub.model.requires import Requires
from ebpf_hub.run import host
from ebpf_hub.run.errors import LoaderError, PreflightError
from ebpf_hub.run.host import KPROBE_KINDS, NO_KPROBES

SUPPORTED_ARCHITECTURES = ("x86_64", "aarch64")
_MIN_KERNEL = (5, 8)  # ring buffers, CAP_BPF and CAP_PERFMON
_UPROBE_KINDS = frozenset(
    {"uprobe", "uretprobe", "uprobe.s", "uretprobe.s", "usdt", "usdt.s", "uprobe.multi",
     "uretprobe.multi", "uprobe.multi.s", "uretprobe.multi.s"}
)  # fmt: skip
_NETWORK_KINDS = ("xdp", "tc", "tcx", "classifier", "cgroup", "sk_", "sockops", "netkit")
# Trampoline programs bind to kernel BTF: where each kind finds its target's type.
_BTF_TARGETS = {
    "fentry": ("func", ""), "fexit": ("func", ""), "fmod_ret": ("func", ""),
    "fentry.s": ("func", ""), "fexit.s": ("func", ""), "fmod_ret.s": ("func", ""),
    "tp_btf": ("typedef", "btf_trace_"), "lsm": ("func", "bpf_lsm_"), "lsm.s": ("func", "bpf_lsm_"),
}  # fmt: skip
_GLOBAL_DATA_MAP = "array"  # what global data lives in: every kernel that runs BPF has it
_PRIVILEGE_HINT = "run as root (sudo ebpf-hub ...) or give the process these capabilities"


@dataclass(frozen=True)
class Check:
    """One requirement and what the host has. `required` False marks what doctor reports
    as a missing feature rather than a broken host."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def problem(self) -> str:
        """The failure as a clause of an error line."""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.name}: {self.detail}{hint}"


def require(checks: Sequence[Check], label: str) -> None:
    """Raise PreflightError naming every failed check, so one run shows them all."""
    failed = [check.problem() for check in checks if not check.ok]
    if failed:
        raise PreflightError(
            f"this host cannot run {label}, nothing was loaded: {'; '.join(failed)}"
        )


# --- one package ---


def package_checks(
    requires: Requires | None, objects: Sequence[ObjectInfo], skipped: Set[str] = frozenset()
) -> list[Check]:
    """Every check a package's requirements and the programs it loads (all but `skipped`:
    another mode's, optional ones whose hook is missing) call for.

    No `requires` is an object without metadata: it may run on any supported architecture
    and kernel, and needs BTF as a CO-RE object does (the schema's default).
    """
    declared = requires or Requires(kernel=None)
    programs = [p for info in objects for p in info.programs if p.name not in skipped]
    privileges = privileges_check(needed_capabilities(declared.capabilities or (), programs))
    checks = [
        arch_check(declared.architectures if requires is not None else None),
        kernel_check(declared.kernel),
        privileges,
    ]
    if declared.btf:
        checks.append(btf_check())
    if not privileges.ok:  # the probes below would fail for want of privileges alone
        return checks
    checks.extend(_program_checks(programs))
    map_types = {m.type for info in objects for m in info.maps} - {_GLOBAL_DATA_MAP}
    checks.extend(map_type_check(name) for name in sorted(map_types))
    return checks


def needed_capabilities(declared: Iterable[str], programs: Sequence[ObjectProgram]) -> set[str]:
    """What the package declares, plus what its hooks need: CAP_BPF to load anything,
    CAP_PERFMON to trace, CAP_NET_ADMIN to attach to interfaces and cgroups."""
    needed = {*declared, "CAP_BPF"}
    for program in programs:
        kind = program.kind or program.section
        if kind.startswith(_NETWORK_KINDS):
            needed.add("CAP_NET_ADMIN")
        else:
            needed.add("CAP_PERFMON")
    return needed


def _program_checks(programs: Sequence[ObjectProgram]) -> Iterator[Check]:
    seen: set[str] = set()
    for program in programs:
        for check in _program_check(program):
            if check.name not in seen:  # programs of one kind share most checks
                seen.add(check.name)
                yield check


def _program_check(program: ObjectProgram) -> Iterator[Check]:
    kind = program.kind
    if kind is None or program.prog_type is None:
        yield Check(
            f"program {program.name}",
            False,
            f"section {program.section!r} is not one libbpf knows how to load",
            "the package is broken: report it to its maintainers",
        )
    elif kind in KPROBE_KINDS:
        yield kprobes_check()
    elif kind in _UPROBE_KINDS:
        yield uprobes_check()
        yield from _uprobe_binary_check(program.target)
    elif kind in _BTF_TARGETS:
        yield from _trampoline_check(kind, program.target or "", program.prog_type)
    elif kind == "tracepoint":
        yield prog_type_check(program.prog_type)
        yield from _tracepoint_check(program.target or "")
    else:
        yield prog_type_check(program.prog_type)


def _uprobe_binary_check(target: str | None) -> Iterator[Check]:
    binary = (target or "").rpartition(":")[0]
    if binary.startswith("/"):
        yield Check(
            f"uprobe target {binary}",
            Path(binary).is_file(),
            "present" if Path(binary).is_file() else "no such file",
            "install the program this package watches",
        )


def _tracepoint_check(target: str) -> Iterator[Check]:
    if not host.tracefs_ready():
        yield tracefs_check()
        return
    category, _, name = target.partition("/")
    exists = host.tracepoint_exists(category, name)
    yield Check(
        f"tracepoint {target}",
        exists,
        "present" if exists else "this kernel has no such tracepoint",
        "" if exists else "the package needs a newer or differently configured kernel",
    )


def _trampoline_check(kind: str, target: str, prog_type: str) -> Iterator[Check]:
    from ebpf_hub.run import probes
    from ebpf_hub.run.libbpf import describe_error

    btf_kind, prefix = _BTF_TARGETS[kind]
    type_id = probes.vmlinux_type_id(prefix + target, btf_kind)
    if type_id is None:  # in a module, or missing: libbpf knows better at load
        return
    attach_type = {"typedef": "trace_raw_tp"}.get(btf_kind) or _attach_type(kind)
    err = probes.probe_btf_attach(prog_type, attach_type, type_id)
    base = kind.removesuffix(".s")
    if not err:
        yield Check(f"{base} programs", True, "supported")
        return
    mode = host.lockdown_mode()
    lockdown = f" (lockdown: {mode})" if mode not in (None, "none") else ""
    yield Check(
        f"{base} programs",
        False,
        f"the kernel refuses {base} programs: {describe_error(err)}{lockdown}",
        "a kernel under lockdown refuses BPF trampolines: run on one that allows them, "
        "or use a package built on tracepoints",
    )


def _attach_type(kind: str) -> str:
    base = kind.removesuffix(".s")
    return {"fentry": "trace_fentry", "fexit": "trace_fexit", "fmod_ret": "modify_return"}.get(
        base, "lsm_mac"
    )


# --- single facts, shared with doctor ---


def arch_check(required: Sequence[str] | None) -> Check:
    arch = host.architecture()
    wanted = list(required or SUPPORTED_ARCHITECTURES)
    ok = arch in wanted
    return Check(
        "architecture",
        ok,
        arch if ok else f"{arch}, but built for {', '.join(wanted)}",
        "" if ok else "run it on a machine of a supported architecture",
    )


def kernel_check(minimum: str | None) -> Check:
    release = os.uname().release
    wanted = tuple(int(p) for p in minimum.split(".")[:2]) if minimum else _MIN_KERNEL
    ok = host.kernel_version()[:2] >= wanted
    need = ".".join(map(str, wanted))
    return Check(
        "kernel",
        ok,
        release if ok else f"{release}, older than the {need} needed",
        "" if ok else f"upgrade to Linux {need} or later",
    )


def btf_check() -> Check:
    ok = host.has_kernel_btf()
    return Check(
        "kernel BTF",
        ok,
        str(host.KERNEL_BTF)
        if ok
        else f"{host.KERNEL_BTF} is missing (CONFIG_DEBUG_INFO_BTF unset)",
        "" if ok else "CO-RE programs need a kernel built with BTF, as most distributions ship",
    )


def privileges_check(needed: set[str]) -> Check:
    held = host.effective_capabilities()
    missing = sorted(needed - held)
    return Check(
        "privileges",
        not missing,
        f"missing {', '.join(missing)}" if missing else f"{', '.join(sorted(needed))} held",
        _PRIVILEGE_HINT if missing else "",
    )


def kprobes_check() -> Check:
    ok = host.has_kprobes()
    return Check(
        "kprobe programs",
        ok,
        "supported" if ok else NO_KPROBES,
        "" if ok else "use a kernel built with CONFIG_KPROBES=y, or a tracepoint-based package",
        required=False,
    )


def uprobes_check() -> Check:
    ok = host.has_uprobes()
    return Check(
        "uprobe programs",
        ok,
        "supported" if ok else "this kernel has no uprobes (CONFIG_UPROBE_EVENTS unset)",
        "" if ok else "use a kernel built with CONFIG_UPROBE_EVENTS=y",
        required=False,
    )


def tracefs_check() -> Check:
    if host.tracefs_ready():
        return Check("tracefs", True, f"mounted at {host.TRACEFS}")
    if host.mounted(host.TRACEFS, "tracefs"):
        return Check("tracefs", False, f"{host.TRACEFS} is not readable", _PRIVILEGE_HINT)
    if os.geteuid() == 0:
        return Check("tracefs", True, f"not mounted; it will be mounted at {host.TRACEFS}")
    hint = f"as root: mount -t tracefs tracefs {host.TRACEFS}"
    return Check("tracefs", False, f"not mounted at {host.TRACEFS}", hint)


def prog_type_check(prog_type: str) -> Check:
    from ebpf_hub.run import probes

    return _probe_check(
        f"{prog_type} programs", probes.probe_prog_type, prog_type, "this kernel does not load them"
    )


def map_type_check(map_type: str) -> Check:
    from ebpf_hub.run import probes

    return _probe_check(
        f"{map_type} maps", probes.probe_map_type, map_type, "this kernel cannot create them"
    )


def _probe_check(name: str, probe: Callable[[str], bool], kind: str, missing: str) -> Check:
    """Whether libbpf's feature probe says the kernel supports `kind`."""
    try:
        ok = probe(kind)
        detail = "supported" if ok else missing
    except LoaderError as exc:
        ok, detail = False, str(exc)
    return Check(name, ok, detail, "" if ok else "use a newer kernel")


# --- the whole host, for `ebpf-hub doctor` ---

# Kernel objects the doctor's trampoline probes bind to: present in every kernel with BTF.
_DOCTOR_FENTRY_TARGET = "vfs_read"
_DOCTOR_TP_BTF_TARGET = "sched_switch"


def host_checks() -> list[Check]:
    """What `ebpf-hub doctor` reports: the basics every package needs (required), then each
    kind of program this host can or cannot run."""
    capabilities = sorted(host.effective_capabilities())
    privileges = privileges_check({"CAP_BPF", "CAP_PERFMON"})
    libbpf = libbpf_check()
    checks = [
        arch_check(None),
        kernel_check(None),
        btf_check(),
        privileges,
        Check("capabilities", True, ", ".join(capabilities) or "none", required=False),
        libbpf,
        Check("lockdown", True, host.lockdown_mode() or "unknown (securityfs not mounted)"),
        tracefs_check(),
        Check(
            "bpffs",
            True,
            f"mounted at {host.BPFFS}"
            if host.mounted(host.BPFFS, "bpf")
            else "not mounted (not needed: ebpf-hub pins nothing)",
            required=False,
        ),
        matrix_check(),
    ]
    if not privileges.ok:  # probes load programs: they would only repeat this failure
        return checks
    if not libbpf.ok:  # every package loads through libbpf, and so do the probes
        checks.append(
            Check("program types", False, "not probed: the probes need libbpf", libbpf.hint)
        )
        return checks
    checks.append(prog_type_check("tracepoint"))
    checks.append(_optional(prog_type_check("raw_tracepoint")))
    checks.extend(
        _optional(c) for c in _trampoline_check("tp_btf", _DOCTOR_TP_BTF_TARGET, "tracing")
    )
    checks.extend(
        _optional(c) for c in _trampoline_check("fentry", _DOCTOR_FENTRY_TARGET, "tracing")
    )
    checks.append(kprobes_check())
    checks.append(uprobes_check())
    checks.extend(_optional(prog_type_check(t)) for t in ("xdp", "sched_cls", "cgroup_skb"))
    checks.append(map_type_check("ringbuf"))
    return checks


def matrix_check() -> Check:
    """What the hub's kernel matrix says of this kernel for each installed package: a "no"
    line when one is known to fail here (`run` would refuse it)."""
    from ebpf_hub.client.installed import list_installed
    from ebpf_hub.client.matrixgate import this_host
    from ebpf_hub.model.matrix import HostResult

    try:
        installed = list_installed()
    except HubError as exc:  # an unsafe data directory: doctor says so, run would refuse
        return Check("kernel matrix", False, exc.message, exc.hint or "", required=False)
    if not installed:
        return Check("kernel matrix", True, "no package installed to look up", required=False)
    parts, failing = [], []
    for package in installed:
        label = f"{package.name} {package.version}"
        if package.matrix is None:
            parts.append(f"{label}: not tested by the hub")
            continue
        answer = this_host(package.matrix)
        parts.append(f"{label}: {answer.sentence()}")
        if answer.tested is HostResult.FAILED:
            failing.append(package.name)
    return Check(
        "kernel matrix",
        not failing,
        "; ".join(parts),
        f"{', '.join(failing)}: known to fail on this kernel; use another kernel"
        if failing
        else "",
        required=False,
    )


def libbpf_check() -> Check:
    """The libbpf in use, or why none can be loaded: a "no" line of doctor, not a crash."""
    try:
        from ebpf_hub.run import probes
    except LibbpfMissingError as exc:
        return Check("libbpf", False, exc.message, exc.hint or "", required=False)
    return Check("libbpf", True, probes.libbpf_version(), required=False)


def _optional(check: Check) -> Check:
    return Check(check.name, check.ok, check.detail, check.hint, required=False)
