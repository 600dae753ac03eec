"""How each program attaches, decided from its section before load, and the attachments.

Every attachment is a bpf link on a file descriptor of this process, so the kernel detaches
it when the process ends, however it ends. TC programs attach through a tcx link (kernel
6.6+); only on older kernels does a netlink clsact filter stand in, which would outlive a
crash and which detach() removes.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.errors import AttachError, LoaderError
from ebpf_hub.run.host import KPROBE_KINDS, NO_KPROBES, ensure_tracefs, has_kprobes
from ebpf_hub.run.libbpf import check_int, check_ptr, describe_error
from ebpf_hub.run.programs import ProgramInfo

UPROBE_KINDS = frozenset({"uprobe", "uretprobe", "uprobe.s", "uretprobe.s"})
TRACEPOINT_KINDS = frozenset({"tracepoint", "tp"})


@dataclass(frozen=True)
class AttachTargets:
    """What programs attach to when their section does not say: an interface for XDP and TC,
    a cgroup v2 directory for cgroup programs, BINARY:SYMBOL for a bare SEC("uprobe")."""

    iface: str | None = None
    cgroup: str | None = None
    uprobe: str | None = None


class Attachment(Protocol):
    def detach(self) -> None: ...


@dataclass
class _Link:
    """A libbpf bpf_link: destroying it detaches the program (nothing is pinned)."""

    ptr: int

    def detach(self) -> None:
        lib.bpf_link__destroy(self.ptr)


@dataclass
class _FdLink:
    """A kernel link we created with bpf_link_create (tcx): closing the fd detaches it."""

    fd: int

    def detach(self) -> None:
        os.close(self.fd)


@dataclass
class ClsactFilter:
    """A legacy TC filter on the clsact qdisc: a netlink object, not an fd, so it must be
    removed explicitly; the qdisc goes too if we created it."""

    ifindex: int
    handle: int
    priority: int
    created_qdisc: bool

    def detach(self) -> None:
        hook = lib.BpfTcHook(ifindex=self.ifindex, attach_point=lib.BPF_TC_INGRESS)
        opts = lib.BpfTcOpts(handle=self.handle, priority=self.priority)
        ret = lib.bpf_tc_detach(ctypes.byref(hook), ctypes.byref(opts))
        if ret < 0 and ret != -errno.ENODEV:  # ENODEV: the interface went away with it
            import logging  # only for this rare warning: not imported at start-up

            logging.getLogger(__name__).warning(
                "cannot remove TC filter on ifindex %d: %s", self.ifindex, describe_error(-ret)
            )
        if self.created_qdisc:
            _destroy_clsact(self.ifindex)


def _destroy_clsact(ifindex: int) -> None:
    # Only both attach points name the qdisc itself; INGRESS alone would flush its filters.
    hook = lib.BpfTcHook(ifindex=ifindex, attach_point=lib.BPF_TC_INGRESS | lib.BPF_TC_EGRESS)
    lib.bpf_tc_hook_destroy(ctypes.byref(hook))


def _link(ptr: int | None, what: str) -> _Link:
    return _Link(check_ptr(ptr, what))


def attach_tc_clsact(prog_fd: int, ifindex: int) -> ClsactFilter:
    """TC ingress as a filter on the clsact qdisc: the way before tcx links (kernel < 6.6)."""
    hook = lib.BpfTcHook(ifindex=ifindex, attach_point=lib.BPF_TC_INGRESS)
    ret = lib.bpf_tc_hook_create(ctypes.byref(hook))
    if ret != -errno.EEXIST:
        check_int(ret, "creating the clsact qdisc")
    created = ret == 0
    opts = lib.BpfTcOpts(prog_fd=prog_fd)
    ret = lib.bpf_tc_attach(ctypes.byref(hook), ctypes.byref(opts))
    if ret < 0:
        if created:
            _destroy_clsact(ifindex)
        raise LoaderError(f"attaching the TC filter: {describe_error(-ret)}")
    return ClsactFilter(ifindex, opts.handle, opts.priority, created)


def _attach_tc(prog_fd: int, ifindex: int) -> Attachment:
    """TC ingress through a tcx link, which dies with the process; kernels before 6.6 answer
    EINVAL and get a clsact filter instead."""
    fd = lib.bpf_link_create(prog_fd, ifindex, lib.BPF_TCX_INGRESS, None)
    if fd >= 0:
        return _FdLink(fd)
    if fd != -errno.EINVAL:
        raise LoaderError(f"creating the tcx link: {describe_error(-fd)}")
    return attach_tc_clsact(prog_fd, ifindex)


def _attach_uprobe(prog: int, binary: str, symbol: str, retprobe: bool) -> _Link:
    opts = lib.BpfUprobeOpts(retprobe=retprobe, func_name=symbol.encode())
    ptr = lib.bpf_program__attach_uprobe_opts(prog, -1, binary.encode(), 0, ctypes.byref(opts))
    return _link(ptr, f"attaching to {binary}:{symbol}")


def _attach_cgroup(prog: int, path: str) -> _Link:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:  # the link holds its own reference to the cgroup
        return _link(lib.bpf_program__attach_cgroup(prog, fd), f"attaching to cgroup {path}")
    finally:
        os.close(fd)


Attacher = Callable[[int], Attachment]


def _ifindex(prog: ProgramInfo, iface: str | None) -> int:
    if iface is None:
        raise AttachError(
            f"program {prog.name!r} ({prog.section}) attaches to a network interface: give --iface"
        )
    try:
        return socket.if_nametoindex(iface)
    except OSError:
        raise AttachError(f"no network interface named {iface!r}") from None


def plan_attach(prog: ProgramInfo, targets: AttachTargets) -> Attacher:
    """Decide how `prog` attaches, failing now (before loading) on what is missing."""
    kind = prog.section.split("/", 1)[0]
    if prog.section in ("xdp", "xdp.frags"):
        ifindex = _ifindex(prog, targets.iface)
        return lambda ptr: _link(lib.bpf_program__attach_xdp(ptr, ifindex), "attaching XDP")
    if prog.section in ("tc", "classifier"):
        ifindex = _ifindex(prog, targets.iface)
        return lambda ptr: _attach_tc(lib.bpf_program__fd(ptr), ifindex)
    if kind.startswith("cgroup"):
        cgroup = targets.cgroup
        if cgroup is None or not Path(cgroup).is_dir():
            raise AttachError(
                f"program {prog.name!r} ({prog.section}) attaches to a cgroup: give --cgroup "
                "with a cgroup v2 directory"
            )
        return lambda ptr: _attach_cgroup(ptr, cgroup)
    if kind in UPROBE_KINDS and prog.section == kind:
        binary, _, symbol = (targets.uprobe or "").rpartition(":")
        if not binary or not symbol:
            raise AttachError(
                f"program {prog.name!r} ({prog.section}) names no function: give "
                "--uprobe BINARY:SYMBOL"
            )
        if "/" in binary and not Path(binary).is_file():
            raise AttachError(f"uprobe target {binary} does not exist")
        retprobe = kind.startswith("uret")
        return lambda ptr: _attach_uprobe(ptr, binary, symbol, retprobe)
    if kind in KPROBE_KINDS and not has_kprobes():
        raise AttachError(f"program {prog.name!r} ({prog.section}) needs kprobes: {NO_KPROBES}")
    if kind in TRACEPOINT_KINDS:
        ensure_tracefs()
    return lambda ptr: _link(lib.bpf_program__attach(ptr), "attaching by section")


def detach_all(attachments: list[Attachment]) -> None:
    for attachment in reversed(attachments):
        attachment.detach()
