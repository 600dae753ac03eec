"""What a program can do to the system by being attached at all, judged by its section.

Calls are half of the truth (:mod:`.capabilities`): some kinds of program change the system
through their return value or their context alone, with no call to see. An ``fmod_ret``
program replaces a kernel function's return value, an LSM program denies operations, an XDP
or TC program drops, redirects or rewrites packets by returning a verdict or writing through
a packet pointer. This module holds the one table of the hook kinds a package may declare in
``permissions.attach``: which libbpf section kinds (:mod:`.sections`) each covers, and what
it does beyond observing (``None``: it only observes). The schemas' ``attach`` enum is this
table (a test checks it). A section kind no row covers (``struct_ops``, ``sk_msg``,
``freplace``...) is not something a package may ship: the build and ``validate`` refuse it,
and a local object that has one is shown as able to change the system.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

from .sections import SECTION_DEFS, classify_section

_PACKETS = "passes, drops, redirects or rewrites the packets of a network interface"


class HookKind(NamedTuple):
    """One kind of hook: its ``permissions.attach`` name, the libbpf section kinds it covers,
    what it does beyond observing (None: nothing), and whether it decides the fate of packets,
    which a package also declares as ``permissions.drops_packets``."""

    name: str
    sections: tuple[str, ...]
    effect: str | None = None
    drops_packets: bool = False


def _sections(words: str) -> tuple[str, ...]:
    """Section kinds from a whitespace-separated list."""
    return tuple(words.split())


_CGROUP_SECTIONS: Final = tuple(
    dict.fromkeys(row.kind for row in SECTION_DEFS if row.kind.startswith("cgroup"))
)

#: Every kind of hook a package may declare, in the schemas' order.
HOOK_KINDS: Final[Mapping[str, HookKind]] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            HookKind("tracepoint", ("tracepoint",)),
            HookKind("raw_tracepoint", ("raw_tracepoint",)),
            HookKind("tp_btf", ("tp_btf",)),
            HookKind("fentry", ("fentry", "fentry.s")),
            HookKind("fexit", ("fexit", "fexit.s")),
            HookKind(
                "fmod_ret",
                ("fmod_ret", "fmod_ret.s"),
                "changes the return value of kernel functions, skipping their code",
            ),
            HookKind(
                "kprobe",
                _sections("kprobe kretprobe kprobe.multi kretprobe.multi ksyscall kretsyscall"),
            ),
            HookKind(
                "uprobe",
                _sections(
                    "uprobe uretprobe uprobe.s uretprobe.s uprobe.multi uretprobe.multi "
                    "uprobe.multi.s uretprobe.multi.s usdt usdt.s"
                ),
            ),
            HookKind(
                "xdp",
                _sections("xdp xdp.frags xdp/devmap xdp.frags/devmap xdp/cpumap xdp.frags/cpumap"),
                _PACKETS,
                drops_packets=True,
            ),
            HookKind("tc", ("tc", "tcx/ingress", "tcx/egress"), _PACKETS, drops_packets=True),
            HookKind(
                "cgroup",
                _CGROUP_SECTIONS,
                "allows or denies the network traffic, connections, socket options, sysctl "
                "writes or device access of processes in a cgroup, and may rewrite them",
                drops_packets=True,
            ),
            HookKind(
                "lsm",
                ("lsm", "lsm.s", "lsm_cgroup"),
                "allows or denies what the kernel's security checks guard (opening files, "
                "running programs, loading modules...)",
            ),
            HookKind("perf_event", ("perf_event",)),
            HookKind(
                "socket",
                ("socket",),
                "drops or truncates the packets a socket receives",
                drops_packets=True,
            ),
        )
    }
)

_BY_SECTION: Final[Mapping[str, HookKind]] = MappingProxyType(
    {section: kind for kind in HOOK_KINDS.values() for section in kind.sections}
)

#: What a section kind no row covers is shown as doing.
UNPUBLISHABLE = "may change the system (a kind of program eBPF Hub does not publish)"


def hook_kind(section: str) -> HookKind | None:
    """The hook kind of a program in ``section``, decided as libbpf decides it; None for a
    section libbpf does not know or a kind no package may declare."""
    row, _target = classify_section(section)
    return _BY_SECTION.get(row.kind) if row else None


def section_effect(section_kind: str) -> tuple[str, str | None]:
    """The hook name a libbpf section kind is shown as, and what it does beyond observing."""
    kind = _BY_SECTION.get(section_kind)
    return (kind.name, kind.effect) if kind else (section_kind, UNPUBLISHABLE)
