"""Facts about the running host that decide what can load: kernel, BTF, privileges, mounts.

Read from /proc, /sys and uname only: nothing here talks to the bpf() syscall (the probes
that do live in ebpf_hub.run.probes).
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from ebpf_hub.run.errors import LoaderError

TRACEFS = Path("/sys/kernel/tracing")
BPFFS = Path("/sys/fs/bpf")
KERNEL_BTF = Path("/sys/kernel/btf/vmlinux")
_EVENT_SOURCES = Path("/sys/bus/event_source/devices")
_LOCKDOWN = Path("/sys/kernel/security/lockdown")
_MOUNTS = Path("/proc/self/mounts")
_STATUS = Path("/proc/self/status")

#: Capability numbers (include/uapi/linux/capability.h) of those eBPF programs need.
CAPABILITIES = {
    "CAP_NET_ADMIN": 12,
    "CAP_SYS_ADMIN": 21,
    "CAP_SYS_RESOURCE": 24,
    "CAP_PERFMON": 38,
    "CAP_BPF": 39,
}
# Before CAP_BPF and CAP_PERFMON existed (kernel 5.8) CAP_SYS_ADMIN granted both, and the
# kernel still accepts it in their place.
_IMPLIED_BY_SYS_ADMIN = frozenset({"CAP_BPF", "CAP_PERFMON"})


def kernel_version() -> tuple[int, int, int]:
    """The running kernel as (major, minor, patch), read from uname's release string."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", os.uname().release)
    if match is None:
        raise LoaderError(f"cannot parse the kernel release {os.uname().release!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def architecture() -> str:
    """The machine as package metadata names it: 'x86_64', 'aarch64'."""
    return platform.machine()


def has_kernel_btf() -> bool:
    """CO-RE relocations need the kernel's own BTF."""
    return KERNEL_BTF.is_file()


def _present(path: Path) -> bool:
    """Whether `path` exists; tracefs is unreadable to users, which counts as absent."""
    try:
        path.stat()
    except OSError:
        return False
    return True


# Here rather than beside the attach code, so preflight can name them without loading libbpf.
KPROBE_KINDS = frozenset(
    {"kprobe", "kretprobe", "ksyscall", "kretsyscall", "kprobe.multi", "kretprobe.multi"}
)
NO_KPROBES = "this kernel has no kprobes (CONFIG_KPROBES unset)"


def has_kprobes() -> bool:
    """libbpf attaches kprobes through the kprobe PMU, or kprobe_events on older kernels;
    a kernel built without CONFIG_KPROBES has neither."""
    return _present(_EVENT_SOURCES / "kprobe") or _present(TRACEFS / "kprobe_events")


def has_uprobes() -> bool:
    """The same for uprobes (CONFIG_UPROBE_EVENTS)."""
    return _present(_EVENT_SOURCES / "uprobe") or _present(TRACEFS / "uprobe_events")


def lockdown_mode() -> str | None:
    """The active kernel lockdown mode ('none', 'integrity', 'confidentiality'), or None
    when securityfs is not mounted and it cannot be told."""
    try:
        text = _LOCKDOWN.read_text()
    except OSError:
        return None
    match = re.search(r"\[(\w+)\]", text)
    return match.group(1) if match else None


def effective_capabilities() -> frozenset[str]:
    """The capabilities of CAPABILITIES this process holds (CapEff of /proc/self/status),
    counting CAP_SYS_ADMIN as CAP_BPF and CAP_PERFMON too, as the kernel does."""
    match = re.search(r"^CapEff:\s*([0-9a-f]+)$", _STATUS.read_text(), re.MULTILINE)
    mask = int(match.group(1), 16) if match else 0
    held = {name for name, bit in CAPABILITIES.items() if mask >> bit & 1}
    if "CAP_SYS_ADMIN" in held:
        held |= _IMPLIED_BY_SYS_ADMIN
    return frozenset(held)


def mounted(path: Path, fstype: str) -> bool:
    """Whether a filesystem of `fstype` is mounted at `path`."""
    for line in _MOUNTS.read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[1] == str(path) and fields[2] == fstype:
            return True
    return False


def tracefs_ready() -> bool:
    """Tracepoint attachment reads event ids from tracefs: mounted, and readable by us."""
    return _present(TRACEFS / "events")


def tracepoint_exists(category: str, name: str) -> bool:
    """Whether tracefs lists the tracepoint (only meaningful once tracefs is ready)."""
    return _present(TRACEFS / "events" / category / name / "id")


def ensure_tracefs() -> None:
    """Mount tracefs if it is missing and this process may; say how otherwise."""
    if tracefs_ready():
        return
    hint = f"mount -t tracefs tracefs {TRACEFS}"
    if os.geteuid() != 0:
        raise LoaderError(f"tracepoints need tracefs at {TRACEFS}; as root run: {hint}")
    import subprocess  # only where tracefs is not mounted: not at every run's start-up

    result = subprocess.run(
        ["mount", "-t", "tracefs", "tracefs", str(TRACEFS)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LoaderError(f"cannot mount tracefs ({hint}): {result.stderr.strip()}")
