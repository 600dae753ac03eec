"""What a program's ELF section name means, decided exactly as libbpf decides it.

The table mirrors ``section_defs[]`` in libbpf's src/libbpf.c (libbpf 1.3+, a superset of the
1.1 shipped by Debian 12), in the same order, because libbpf takes the first entry that
matches.  A pattern ending in ``+`` matches the bare name or ``name/anything``; any other
pattern must equal the section name.  ``kind`` is our canonical name for the attach point:
the pattern without ``+``, with libbpf's aliases folded (``tp`` is ``tracepoint``,
``classifier`` is ``tc``...), so a package declaring either spelling compares equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple


class SectionDef(NamedTuple):
    """One row of libbpf's table: the pattern, our kind, and what libbpf loads it as."""

    pattern: str
    kind: str
    prog_type: str
    attach_type: str | None


def _row(
    pattern: str, prog_type: str, attach_type: str | None = None, kind: str = ""
) -> SectionDef:
    return SectionDef(pattern, kind or pattern.rstrip("+"), prog_type, attach_type)


SECTION_DEFS: Final = (
    _row("socket", "socket_filter"),
    _row("sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate"),
    _row("sk_reuseport", "sk_reuseport", "sk_reuseport_select"),
    _row("kprobe+", "kprobe"),
    _row("uprobe+", "kprobe"),
    _row("uprobe.s+", "kprobe"),
    _row("kretprobe+", "kprobe"),
    _row("uretprobe+", "kprobe"),
    _row("uretprobe.s+", "kprobe"),
    _row("kprobe.multi+", "kprobe", "trace_kprobe_multi"),
    _row("kretprobe.multi+", "kprobe", "trace_kprobe_multi"),
    _row("uprobe.multi+", "kprobe", "trace_uprobe_multi"),
    _row("uretprobe.multi+", "kprobe", "trace_uprobe_multi"),
    _row("uprobe.multi.s+", "kprobe", "trace_uprobe_multi"),
    _row("uretprobe.multi.s+", "kprobe", "trace_uprobe_multi"),
    _row("ksyscall+", "kprobe"),
    _row("kretsyscall+", "kprobe"),
    _row("usdt+", "kprobe"),
    _row("usdt.s+", "kprobe"),
    _row("tc/ingress", "sched_cls", "tcx_ingress", kind="tcx/ingress"),
    _row("tc/egress", "sched_cls", "tcx_egress", kind="tcx/egress"),
    _row("tcx/ingress", "sched_cls", "tcx_ingress"),
    _row("tcx/egress", "sched_cls", "tcx_egress"),
    _row("tc", "sched_cls"),
    _row("classifier", "sched_cls", kind="tc"),
    _row("action", "sched_act"),
    _row("netkit/primary", "sched_cls", "netkit_primary"),
    _row("netkit/peer", "sched_cls", "netkit_peer"),
    _row("tracepoint+", "tracepoint"),
    _row("tp+", "tracepoint", kind="tracepoint"),
    _row("raw_tracepoint+", "raw_tracepoint"),
    _row("raw_tp+", "raw_tracepoint", kind="raw_tracepoint"),
    _row("raw_tracepoint.w+", "raw_tracepoint_writable"),
    _row("raw_tp.w+", "raw_tracepoint_writable", kind="raw_tracepoint.w"),
    _row("tp_btf+", "tracing", "trace_raw_tp"),
    _row("fentry+", "tracing", "trace_fentry"),
    _row("fmod_ret+", "tracing", "modify_return"),
    _row("fexit+", "tracing", "trace_fexit"),
    _row("fentry.s+", "tracing", "trace_fentry"),
    _row("fmod_ret.s+", "tracing", "modify_return"),
    _row("fexit.s+", "tracing", "trace_fexit"),
    _row("freplace+", "ext"),
    _row("lsm+", "lsm", "lsm_mac"),
    _row("lsm.s+", "lsm", "lsm_mac"),
    _row("lsm_cgroup+", "lsm", "lsm_cgroup"),
    _row("iter+", "tracing", "trace_iter"),
    _row("iter.s+", "tracing", "trace_iter"),
    _row("syscall", "syscall"),
    _row("xdp.frags/devmap", "xdp", "xdp_devmap"),
    _row("xdp/devmap", "xdp", "xdp_devmap"),
    _row("xdp.frags/cpumap", "xdp", "xdp_cpumap"),
    _row("xdp/cpumap", "xdp", "xdp_cpumap"),
    _row("xdp.frags", "xdp", "xdp"),
    _row("xdp", "xdp", "xdp"),
    _row("perf_event", "perf_event"),
    _row("lwt_in", "lwt_in"),
    _row("lwt_out", "lwt_out"),
    _row("lwt_xmit", "lwt_xmit"),
    _row("lwt_seg6local", "lwt_seg6local"),
    _row("sockops", "sock_ops", "cgroup_sock_ops"),
    _row("sk_skb/stream_parser", "sk_skb", "sk_skb_stream_parser"),
    _row("sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict"),
    _row("sk_skb", "sk_skb"),
    _row("sk_msg", "sk_msg", "sk_msg_verdict"),
    _row("lirc_mode2", "lirc_mode2", "lirc_mode2"),
    _row("flow_dissector", "flow_dissector", "flow_dissector"),
    _row("cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress"),
    _row("cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress"),
    _row("cgroup/skb", "cgroup_skb"),
    _row("cgroup/sock_create", "cgroup_sock", "cgroup_inet_sock_create"),
    _row("cgroup/sock_release", "cgroup_sock", "cgroup_inet_sock_release"),
    _row("cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create"),
    _row("cgroup/post_bind4", "cgroup_sock", "cgroup_inet4_post_bind"),
    _row("cgroup/post_bind6", "cgroup_sock", "cgroup_inet6_post_bind"),
    _row("cgroup/bind4", "cgroup_sock_addr", "cgroup_inet4_bind"),
    _row("cgroup/bind6", "cgroup_sock_addr", "cgroup_inet6_bind"),
    _row("cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect"),
    _row("cgroup/connect6", "cgroup_sock_addr", "cgroup_inet6_connect"),
    _row("cgroup/connect_unix", "cgroup_sock_addr", "cgroup_unix_connect"),
    _row("cgroup/sendmsg4", "cgroup_sock_addr", "cgroup_udp4_sendmsg"),
    _row("cgroup/sendmsg6", "cgroup_sock_addr", "cgroup_udp6_sendmsg"),
    _row("cgroup/sendmsg_unix", "cgroup_sock_addr", "cgroup_unix_sendmsg"),
    _row("cgroup/recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg"),
    _row("cgroup/recvmsg6", "cgroup_sock_addr", "cgroup_udp6_recvmsg"),
    _row("cgroup/recvmsg_unix", "cgroup_sock_addr", "cgroup_unix_recvmsg"),
    _row("cgroup/getpeername4", "cgroup_sock_addr", "cgroup_inet4_getpeername"),
    _row("cgroup/getpeername6", "cgroup_sock_addr", "cgroup_inet6_getpeername"),
    _row("cgroup/getpeername_unix", "cgroup_sock_addr", "cgroup_unix_getpeername"),
    _row("cgroup/getsockname4", "cgroup_sock_addr", "cgroup_inet4_getsockname"),
    _row("cgroup/getsockname6", "cgroup_sock_addr", "cgroup_inet6_getsockname"),
    _row("cgroup/getsockname_unix", "cgroup_sock_addr", "cgroup_unix_getsockname"),
    _row("cgroup/sysctl", "cgroup_sysctl", "cgroup_sysctl"),
    _row("cgroup/getsockopt", "cgroup_sockopt", "cgroup_getsockopt"),
    _row("cgroup/setsockopt", "cgroup_sockopt", "cgroup_setsockopt"),
    _row("cgroup/dev", "cgroup_device", "cgroup_device"),
    _row("struct_ops+", "struct_ops"),
    _row("struct_ops.s+", "struct_ops"),
    _row("sk_lookup", "sk_lookup", "sk_lookup"),
    _row("netfilter", "netfilter", "netfilter"),
)


def _first_rows(prefixes: bool) -> Mapping[str, int]:
    """Where in the table the first row of each pattern is, for the patterns ending in ``+``
    (``prefixes``, keyed without it) or the others."""
    rows: dict[str, int] = {}
    for position, row in enumerate(SECTION_DEFS):
        if row.pattern.endswith("+") == prefixes:
            rows.setdefault(row.pattern.rstrip("+"), position)
    return MappingProxyType(rows)


# libbpf's first-match scan, as two lookups built once (a scan of the table per program showed
# in `validate` and the site at 10,000 packages). A pattern without ``+`` matches only its own
# name; no ``+`` pattern holds a ``/``, so one matches exactly the sections whose part before
# the first ``/`` is the pattern. Of the two rows looked up, the earlier in the table wins.
_EXACT: Final = _first_rows(prefixes=False)
_PREFIXES: Final = _first_rows(prefixes=True)


def classify_section(section: str) -> tuple[SectionDef | None, str | None]:
    """The first table row matching ``section`` and the attach target it carries.

    ``(None, None)`` means libbpf would refuse to load the program ("missing BPF prog type").
    For ``tp/syscalls/sys_enter_execve`` the target is ``syscalls/sys_enter_execve``; for
    ``uprobe//bin/bash:readline`` it is ``/bin/bash:readline``.
    """
    head, slash, target = section.partition("/")
    exact = _EXACT.get(section)
    prefix = _PREFIXES.get(head)
    if prefix is not None and (exact is None or prefix < exact):
        return SECTION_DEFS[prefix], target if slash else None
    return (SECTION_DEFS[exact], None) if exact is not None else (None, None)
