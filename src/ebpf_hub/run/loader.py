"""Load a CO-RE eBPF object, attach every program by its section, read its maps and events,
and take it all down again.

Nothing is ever pinned. Programs, maps and links live on file descriptors of this process, so
the kernel drops them when the process ends, however it ends. TC programs attach through a tcx
link (kernel 6.6+), which is an fd like any other link; only on older kernels does the loader
fall back to a netlink clsact filter, which would outlive a crash and which `close()` removes.

The host checks `ebpf-hub doctor` shows live here too (kernel version, BTF, kprobes, lockdown,
program type and helper probes, tracefs), because loading depends on the same facts.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.libbpf import describe_error

TRACEFS = Path("/sys/kernel/tracing")
_KPROBE_PMU = Path("/sys/bus/event_source/devices/kprobe")
_LOCKDOWN = Path("/sys/kernel/security/lockdown")
_KERNEL_BTF = Path("/sys/kernel/btf/vmlinux")
_LOG_TAIL = 20

_log = logging.getLogger(__name__)


class LoaderError(Exception):
    """An object could not be opened, loaded, attached or read; the message says why."""


class LoadError(LoaderError):
    """libbpf or the kernel refused the object; the message ends with the relevant log tail."""


class AttachError(LoaderError):
    """A program cannot be attached: a missing target, or the kernel lacks the hook."""


def _check_int(ret: int, what: str) -> int:
    """libbpf's int results: non-negative, or a negative errno."""
    if ret < 0:
        raise LoaderError(f"{what}: {describe_error(-ret)}")
    return ret


def _check_ptr(ptr: int | None, what: str) -> int:
    """libbpf's pointer results: non-NULL, or NULL with errno set."""
    if not ptr:
        raise LoaderError(f"{what}: {describe_error(ctypes.get_errno() or errno.EINVAL)}")
    return ptr


# --- libbpf's log: captured per thread while the loader calls libbpf, else logged ---

_capture = threading.local()


def _on_libbpf_message(level: int, text: str) -> None:
    lines: list[str] | None = getattr(_capture, "lines", None)
    if lines is None:
        _log.warning("%s", text.rstrip())  # libbpf's lines start with "libbpf: " already
    else:
        lines.extend(line for line in text.splitlines() if line.strip())


# INFO is chatter ("skipping unrecognized data section .ebpf_hub" is expected); warnings stay.
lib.set_print(_on_libbpf_message, max_level=lib.LIBBPF_WARN)


@contextmanager
def _captured_log() -> Iterator[list[str]]:
    previous = getattr(_capture, "lines", None)
    lines: list[str] = []
    _capture.lines = lines
    try:
        yield lines
    finally:
        _capture.lines = previous


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while kernel state and our records of it could diverge (an
    attachment made but not yet recorded, a teardown half done); they arrive right after.
    The mask is per thread: this covers signals aimed at the calling (main) thread, which is
    where a single-threaded CLI gets Ctrl-C."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# --- host checks ---


def kernel_version() -> tuple[int, int, int]:
    """The running kernel as (major, minor, patch), read from uname's release string."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", os.uname().release)
    if match is None:
        raise LoaderError(f"cannot parse the kernel release {os.uname().release!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def has_kernel_btf() -> bool:
    """CO-RE relocations need the kernel's own BTF."""
    return _KERNEL_BTF.is_file()


def has_kprobes() -> bool:
    """libbpf attaches kprobes through the kprobe PMU, or kprobe_events on older kernels;
    a kernel built without CONFIG_KPROBES has neither."""
    return _KPROBE_PMU.is_dir() or (TRACEFS / "kprobe_events").exists()


def lockdown_mode() -> str | None:
    """The active kernel lockdown mode ('none', 'integrity', 'confidentiality'), or None
    when securityfs is not mounted and it cannot be told."""
    try:
        text = _LOCKDOWN.read_text()
    except OSError:
        return None
    match = re.search(r"\[(\w+)\]", text)
    return match.group(1) if match else None


def ensure_tracefs() -> None:
    """Tracepoint attachment reads event ids from tracefs; mount it if this process may."""
    if (TRACEFS / "events").is_dir():
        return
    hint = f"mount -t tracefs tracefs {TRACEFS}"
    if os.geteuid() != 0:
        raise LoaderError(f"tracepoints need tracefs at {TRACEFS}; as root run: {hint}")
    result = subprocess.run(
        ["mount", "-t", "tracefs", "tracefs", str(TRACEFS)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LoaderError(f"cannot mount tracefs ({hint}): {result.stderr.strip()}")


@functools.cache
def _prog_types() -> dict[str, int]:
    return lib.type_names(lib.libbpf_bpf_prog_type_str)


def _prog_type_id(name: str) -> int:
    try:
        return _prog_types()[name]
    except KeyError:
        known = ", ".join(sorted(_prog_types()))
        raise LoaderError(f"unknown program type {name!r}; libbpf knows: {known}") from None


_UNPROBEABLE = frozenset({"tracing", "lsm", "ext", "struct_ops"})


def probe_prog_type(name: str) -> bool:
    """Whether the kernel loads programs of a type named as libbpf names them ('xdp',
    'tracepoint', 'sched_cls', ...), by loading a trivial one. Types that need an attach
    target (fentry/fexit are 'tracing') would always probe False, so they raise instead."""
    if name in _UNPROBEABLE:
        raise LoaderError(f"libbpf cannot probe {name!r} programs: load one to find out")
    ret = lib.libbpf_probe_bpf_prog_type(_prog_type_id(name), None)
    return _check_int(ret, f"probing program type {name}") == 1


def probe_helper(prog_type: str, helper_id: int) -> bool:
    """Whether programs of `prog_type` may call helper number `helper_id` (enum bpf_func_id).
    libbpf cannot probe tracing/lsm/ext/struct_ops types: that raises LoaderError."""
    ret = lib.libbpf_probe_bpf_helper(_prog_type_id(prog_type), helper_id, None)
    return _check_int(ret, f"probing helper {helper_id} for {prog_type}") == 1


@functools.cache
def _possible_cpus() -> int:
    return _check_int(lib.libbpf_num_possible_cpus(), "counting possible CPUs")


# --- public records ---


@dataclass(frozen=True)
class AttachTargets:
    """What programs attach to when their section does not say: an interface for XDP and TC,
    a cgroup v2 directory for cgroup programs, BINARY:SYMBOL for a bare SEC("uprobe")."""

    iface: str | None = None
    cgroup: str | None = None
    uprobe: str | None = None


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    section: str
    type: str  # libbpf's name of the program type: 'tracepoint', 'xdp', 'sched_cls', ...
    fd: int  # negative until loaded


_PER_CPU_MAPS = frozenset(
    {"percpu_hash", "percpu_array", "lru_percpu_hash", "percpu_cgroup_storage"}
)
_EVENT_MAPS = frozenset({"ringbuf", "perf_event_array"})


@dataclass(frozen=True)
class MapInfo:
    name: str
    type: str  # libbpf's name of the map type: 'hash', 'percpu_array', 'ringbuf', ...
    key_size: int
    value_size: int
    max_entries: int

    @property
    def per_cpu(self) -> bool:
        return self.type in _PER_CPU_MAPS


MapValue = bytes | list[bytes]
"""A map value: bytes, or for a per-CPU map one bytes value per possible CPU."""


def _text(value: bytes | None) -> str:
    return value.decode(errors="replace") if value is not None else "?"


def _program_info(prog: int) -> ProgramInfo:
    return ProgramInfo(
        name=_text(lib.bpf_program__name(prog)),
        section=_text(lib.bpf_program__section_name(prog)),
        type=_text(lib.libbpf_bpf_prog_type_str(lib.bpf_program__type(prog))),
        fd=lib.bpf_program__fd(prog),
    )


def _map_info(map_ptr: int) -> MapInfo:
    return MapInfo(
        name=_text(lib.bpf_map__name(map_ptr)),
        type=_text(lib.libbpf_bpf_map_type_str(lib.bpf_map__type(map_ptr))),
        key_size=lib.bpf_map__key_size(map_ptr),
        value_size=lib.bpf_map__value_size(map_ptr),
        max_entries=lib.bpf_map__max_entries(map_ptr),
    )


# --- maps ---


class Map:
    """A loaded map, read through its fd: keys, lookups and (key, value) pairs as bytes."""

    def __init__(self, map_ptr: int) -> None:
        self.info = _map_info(map_ptr)
        self.fd: int = lib.bpf_map__fd(map_ptr)
        if self.fd < 0:
            raise LoaderError(f"map {self.info.name!r} is not loaded yet")
        if self.info.type in _EVENT_MAPS:
            raise LoaderError(f"map {self.info.name!r} holds events: read it with events()")

    def keys(self) -> Iterator[bytes]:
        """Every key, in the kernel's order; stops after max_entries keys, so a hash map that
        changes under us cannot make this loop forever."""
        key: ctypes.Array[ctypes.c_char] | None = None
        for _ in range(self.info.max_entries):
            next_key = ctypes.create_string_buffer(self.info.key_size)
            ret = lib.bpf_map_get_next_key(self.fd, key, next_key)
            if ret == -errno.ENOENT:
                return
            _check_int(ret, f"iterating map {self.info.name}")
            yield next_key.raw
            key = next_key

    def lookup(self, key: bytes) -> MapValue | None:
        """The value under `key` (None if absent); per-CPU maps give one value per CPU."""
        if len(key) != self.info.key_size:
            raise LoaderError(
                f"map {self.info.name!r} keys are {self.info.key_size} bytes, got {len(key)}"
            )
        stride = self.info.value_size
        cpus = 1
        if self.info.per_cpu:
            stride = (stride + 7) & ~7  # the kernel lays per-CPU values out 8-byte aligned
            cpus = _possible_cpus()
        value = ctypes.create_string_buffer(stride * cpus)
        ret = lib.bpf_map_lookup_elem(self.fd, key, value)
        if ret == -errno.ENOENT:
            return None
        _check_int(ret, f"reading map {self.info.name}")
        raw = value.raw
        if not self.info.per_cpu:
            return raw
        return [raw[cpu * stride : cpu * stride + self.info.value_size] for cpu in range(cpus)]

    def items(self) -> Iterator[tuple[bytes, MapValue]]:
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:  # deleted between the two calls
                yield key, value


# --- events ---


class EventBuffer:
    """Delivers each record of a ring buffer or perf event array map to `on_record` as bytes.

    An exception raised by `on_record` (KeyboardInterrupt included) stops delivery and is
    raised again from poll() or consume(). `lost` counts records the kernel dropped from a
    perf buffer; a ring buffer cannot lose records silently (the program sees the failure).
    """

    def __init__(
        self, info: MapInfo, fd: int, on_record: Callable[[bytes], None], perf_pages: int = 64
    ) -> None:
        self.info = info
        self.lost = 0
        self._on_record = on_record
        self._delivered = 0
        self._error: BaseException | None = None
        if info.type == "ringbuf":
            ring_sample = lib.RING_BUFFER_SAMPLE_FN(self._deliver)
            self._callbacks: tuple[object, ...] = (ring_sample,)  # C holds them: keep alive
            ptr = lib.ring_buffer__new(fd, ring_sample, None, None)
            self._poll, self._consume, self._free = (
                lib.ring_buffer__poll,
                lib.ring_buffer__consume,
                lib.ring_buffer__free,
            )
        elif info.type == "perf_event_array":
            perf_sample = lib.PERF_BUFFER_SAMPLE_FN(self._deliver_perf)
            perf_lost = lib.PERF_BUFFER_LOST_FN(self._count_lost)
            self._callbacks = (perf_sample, perf_lost)
            ptr = lib.perf_buffer__new(fd, perf_pages, perf_sample, perf_lost, None, None)
            self._poll, self._consume, self._free = (
                lib.perf_buffer__poll,
                lib.perf_buffer__consume,
                lib.perf_buffer__free,
            )
        else:
            raise LoaderError(f"map {info.name!r} is a {info.type}, not an event map")
        self._ptr: int | None = _check_ptr(ptr, f"opening event map {info.name}")

    def _deliver(self, _ctx: int | None, data: int, size: int) -> int:
        if self._error is not None:
            return -1
        try:
            self._on_record(ctypes.string_at(data, size))
        except BaseException as exc:  # re-raised by poll(): C cannot unwind Python frames
            self._error = exc
            return -1
        self._delivered += 1
        return 0

    def _deliver_perf(self, ctx: int | None, _cpu: int, data: int, size: int) -> None:
        self._deliver(ctx, data, size)

    def _count_lost(self, _ctx: int | None, _cpu: int, count: int) -> None:
        self.lost += count

    def poll(self, timeout_ms: int) -> int:
        """Wait up to timeout_ms for records and deliver them; returns how many. A signal
        ends the wait early with 0, and Python then runs its handler (Ctrl-C raises)."""
        return self._run(lambda ptr: self._poll(ptr, timeout_ms))

    def consume(self) -> int:
        """Deliver whatever is buffered now, without waiting; returns how many."""
        return self._run(self._consume)

    def _run(self, call: Callable[[int], int]) -> int:
        if self._ptr is None:
            raise LoaderError(f"event buffer {self.info.name!r} is closed")
        before = self._delivered
        ret = call(self._ptr)
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if ret != -errno.EINTR:
            _check_int(ret, f"reading events from {self.info.name}")
        return self._delivered - before

    def close(self) -> None:
        if self._ptr is not None:
            self._free(self._ptr)
            self._ptr = None


# --- attachments ---


class _Attachment(Protocol):
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
class _ClsactFilter:
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
            _log.warning(
                "cannot remove TC filter on ifindex %d: %s", self.ifindex, describe_error(-ret)
            )
        if self.created_qdisc:
            _destroy_clsact(self.ifindex)


def _destroy_clsact(ifindex: int) -> None:
    # Only both attach points name the qdisc itself; INGRESS alone would flush its filters.
    hook = lib.BpfTcHook(ifindex=ifindex, attach_point=lib.BPF_TC_INGRESS | lib.BPF_TC_EGRESS)
    lib.bpf_tc_hook_destroy(ctypes.byref(hook))


def _link(ptr: int | None, what: str) -> _Link:
    return _Link(_check_ptr(ptr, what))


def _attach_tc_clsact(prog_fd: int, ifindex: int) -> _ClsactFilter:
    hook = lib.BpfTcHook(ifindex=ifindex, attach_point=lib.BPF_TC_INGRESS)
    ret = lib.bpf_tc_hook_create(ctypes.byref(hook))
    if ret != -errno.EEXIST:
        _check_int(ret, "creating the clsact qdisc")
    created = ret == 0
    opts = lib.BpfTcOpts(prog_fd=prog_fd)
    ret = lib.bpf_tc_attach(ctypes.byref(hook), ctypes.byref(opts))
    if ret < 0:
        if created:
            _destroy_clsact(ifindex)
        raise LoaderError(f"attaching the TC filter: {describe_error(-ret)}")
    return _ClsactFilter(ifindex, opts.handle, opts.priority, created)


def _attach_tc(prog_fd: int, ifindex: int) -> _Attachment:
    """TC ingress through a tcx link, which dies with the process; kernels before 6.6 answer
    EINVAL and get a clsact filter instead."""
    fd = lib.bpf_link_create(prog_fd, ifindex, lib.BPF_TCX_INGRESS, None)
    if fd >= 0:
        return _FdLink(fd)
    if fd != -errno.EINVAL:
        raise LoaderError(f"creating the tcx link: {describe_error(-fd)}")
    return _attach_tc_clsact(prog_fd, ifindex)


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


_Attacher = Callable[[int], _Attachment]

_UPROBE_KINDS = frozenset({"uprobe", "uretprobe", "uprobe.s", "uretprobe.s"})
_KPROBE_KINDS = frozenset(
    {"kprobe", "kretprobe", "ksyscall", "kretsyscall", "kprobe.multi", "kretprobe.multi"}
)
_TRACEPOINT_KINDS = frozenset({"tracepoint", "tp"})
_TRAMPOLINE_TYPES = frozenset({"tracing", "lsm", "ext"})


def _ifindex(prog: ProgramInfo, iface: str | None) -> int:
    if iface is None:
        raise AttachError(
            f"program {prog.name!r} ({prog.section}) attaches to a network interface: give --iface"
        )
    try:
        return socket.if_nametoindex(iface)
    except OSError:
        raise AttachError(f"no network interface named {iface!r}") from None


def _plan_attach(prog: ProgramInfo, targets: AttachTargets) -> _Attacher:
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
    if kind in _UPROBE_KINDS and prog.section == kind:
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
    if kind in _KPROBE_KINDS and not has_kprobes():
        raise AttachError(
            f"program {prog.name!r} ({prog.section}) needs kprobes, and this kernel has none "
            "(CONFIG_KPROBES unset)"
        )
    if kind in _TRACEPOINT_KINDS:
        ensure_tracefs()
    return lambda ptr: _link(lib.bpf_program__attach(ptr), "attaching by section")


def _detach_all(attachments: list[_Attachment]) -> None:
    for attachment in reversed(attachments):
        attachment.detach()


# --- .rodata parameters ---


def _rodata_layout(obj: int) -> dict[str, tuple[int, int]]:
    """Variable name -> (offset, size) in .rodata, from the object's BTF DATASEC (libbpf has
    fixed its offsets at open time)."""
    btf = lib.bpf_object__btf(obj)
    sec_id = lib.btf__find_by_name_kind(btf, b".rodata", lib.BTF_KIND_DATASEC) if btf else -1
    if sec_id < 0:
        return {}
    sec = lib.btf__type_by_id(btf, sec_id).contents
    vlen = sec.info & 0xFFFF
    address = ctypes.addressof(sec) + ctypes.sizeof(lib.BtfType)
    layout: dict[str, tuple[int, int]] = {}
    for var in (lib.BtfVarSecinfo * vlen).from_address(address):
        name = lib.btf__name_by_offset(btf, lib.btf__type_by_id(btf, var.type).contents.name_off)
        layout[_text(name)] = (var.offset, var.size)
    return layout


def _set_params(obj: int, params: Mapping[str, bytes]) -> None:
    layout = _rodata_layout(obj)
    rodata = lib.bpf_object__find_map_by_name(obj, b".rodata")
    if not layout or not rodata:
        raise LoaderError("this object has no parameters (no const volatile globals)")
    size = lib.c_size_t()
    base = _check_ptr(lib.bpf_map__initial_value(rodata, ctypes.byref(size)), "reading .rodata")
    for name, value in params.items():
        if name not in layout:
            raise LoaderError(f"unknown parameter {name!r}; known: {', '.join(sorted(layout))}")
        offset, var_size = layout[name]
        if len(value) != var_size or offset + var_size > size.value:
            raise LoaderError(f"parameter {name!r} takes {var_size} bytes, got {len(value)}")
        ctypes.memmove(base + offset, value, var_size)


# --- load errors ---

_FAILED_PROG = re.compile(r"prog '([^']+)': (?:BPF program load failed|failed to load)")


def _verifier_log(lines: list[str]) -> list[str]:
    """The last lines of the last verifier log libbpf printed: where the verifier says why."""
    begins = [i for i, line in enumerate(lines) if "-- BEGIN PROG LOAD LOG --" in line]
    if not begins:
        return []
    body = lines[begins[-1] + 1 :]
    ends = [i for i, line in enumerate(body) if "-- END PROG LOAD LOG --" in line]
    return body[: ends[0] if ends else len(body)][-_LOG_TAIL:]


def _load_error(path: str, err: int, lines: list[str], programs: list[ProgramInfo]) -> LoadError:
    names = [m.group(1) for line in lines if (m := _FAILED_PROG.search(line))]
    prog = next((p for p in programs if names and p.name == names[0]), None)
    label = f"program {prog.name!r} ({prog.section})" if prog else path
    tail = _verifier_log(lines)
    if err == errno.EPERM and prog and prog.type in _TRAMPOLINE_TYPES:
        mode = lockdown_mode()
        lockdown = f" (lockdown: {mode})" if mode else ""
        return LoadError(
            f"the kernel refused to load {label}: EPERM, it does not allow BPF trampoline "
            f"programs (fentry/fexit/fmod_ret/lsm), as under kernel lockdown{lockdown}; "
            "use a tracepoint or tp_btf program instead"
        )
    if err == errno.EPERM:
        summary = f"not permitted to load {label}: EPERM; loading eBPF needs root (or CAP_BPF)"
    elif tail:
        summary = f"the verifier rejected {label}: {describe_error(err)}"
    elif err == errno.EINVAL:
        summary = f"the kernel rejected {label}: EINVAL, it may use a feature this kernel lacks"
    else:
        summary = f"cannot load {label}: {describe_error(err)}"
    detail = tail or lines[-_LOG_TAIL:]
    return LoadError("\n  ".join([summary, *detail]))


# --- the object ---


class LoadedObject:
    """One eBPF object from open to close: parameters, load, attach, maps, events.

        with LoadedObject.open(path, params, targets) as obj:
            obj.load()
            obj.attach_all()
            events = obj.events("events", on_record)
            while True:
                events.poll(100)

    `close()` (also run by the with-block, on any exception, Ctrl-C included) frees event
    buffers, detaches every program and closes the object; it is safe to call twice.
    `log` keeps libbpf's warnings seen along the way.
    """

    def __init__(self, obj: int, path: str) -> None:
        self._obj: int | None = obj
        self._loaded = False
        self.path = path
        self.log: list[str] = []
        self._plans: list[tuple[int, _Attacher]] = []
        self._attachments: list[_Attachment] = []
        self._buffers: list[EventBuffer] = []

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        params: Mapping[str, bytes] | None = None,
        targets: AttachTargets | None = None,
    ) -> Self:
        """Open the object, write `params` (already-encoded values of .rodata variables, by
        name) and decide how each program attaches: missing targets fail here, before load."""
        name = os.fspath(path)
        with _captured_log() as lines:
            ptr = lib.bpf_object__open_file(os.fsencode(name), None)
            err = ctypes.get_errno()
        if not ptr:
            raise LoadError("\n  ".join([f"cannot open {name}: {describe_error(err)}", *lines]))
        self = cls(ptr, name)
        self.log.extend(lines)
        try:
            if params:
                _set_params(ptr, params)
            self._plans = [
                (prog, _plan_attach(_program_info(prog), targets or AttachTargets()))
                for prog in self._iter(lib.bpf_object__next_program)
            ]
        except BaseException:
            self.close()
            raise
        return self

    def _handle(self) -> int:
        if self._obj is None:
            raise LoaderError(f"{self.path} is closed")
        return self._obj

    def _iter(self, next_fn: Callable[[int, int | None], int | None]) -> Iterator[int]:
        item = next_fn(self._handle(), None)
        while item:
            yield item
            item = next_fn(self._handle(), item)

    @contextmanager
    def _logged(self) -> Iterator[list[str]]:
        with _captured_log() as lines:
            try:
                yield lines
            finally:
                self.log.extend(lines)

    def programs(self) -> list[ProgramInfo]:
        return [_program_info(prog) for prog in self._iter(lib.bpf_object__next_program)]

    def maps(self) -> list[MapInfo]:
        return [_map_info(m) for m in self._iter(lib.bpf_object__next_map)]

    def load(self) -> None:
        """Create the maps and load every program into the kernel (the verifier runs here)."""
        with self._logged() as lines:
            ret = lib.bpf_object__load(self._handle())
        if ret < 0:
            raise _load_error(self.path, -ret, lines, self.programs())
        self._loaded = True

    def attach_all(self) -> None:
        """Attach every program as planned at open; all or nothing."""
        if not self._loaded or self._attachments:
            raise LoaderError(f"attach_all() needs a loaded, not yet attached {self.path}")
        attached: list[_Attachment] = []
        with _sigint_deferred():
            try:
                for prog, attach in self._plans:
                    with self._logged() as lines:
                        try:
                            attached.append(attach(prog))
                        except LoaderError as exc:
                            raise AttachError(_attach_message(prog, exc, lines)) from None
            except BaseException:
                _detach_all(attached)
                raise
            self._attachments.extend(attached)

    def map(self, name: str) -> Map:
        """A loaded map by name, to read keys and values."""
        return Map(self._map_ptr(name))

    def events(self, map_name: str, on_record: Callable[[bytes], None]) -> EventBuffer:
        """Records of a ring buffer or perf event array map, each handed to on_record."""
        found = self._map_ptr(map_name)
        fd = lib.bpf_map__fd(found)
        if fd < 0:
            raise LoaderError(f"map {map_name!r} is not loaded yet")
        buffer = EventBuffer(_map_info(found), fd, on_record)
        self._buffers.append(buffer)
        return buffer

    def _map_ptr(self, name: str) -> int:
        ptr = lib.bpf_object__find_map_by_name(self._handle(), name.encode())
        if not ptr:
            raise LoaderError(f"no map named {name!r} in {self.path}")
        return int(ptr)

    def close(self) -> None:
        """Free event buffers, detach every program, close the object; idempotent."""
        if self._obj is None:
            return
        with _sigint_deferred():
            for buffer in self._buffers:
                buffer.close()
            _detach_all(self._attachments)
            self._attachments.clear()
            lib.bpf_object__close(self._obj)
            self._obj = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _attach_message(prog: int, exc: LoaderError, lines: list[str]) -> str:
    info = _program_info(prog)
    message = f"cannot attach program {info.name!r} ({info.section}): {exc}"
    return f"{message}; {lines[-1]}" if lines else message
