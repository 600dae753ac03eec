"""Load a CO-RE eBPF object, attach every program by its section, read its maps and events,
and take it all down again.

Nothing is ever pinned: programs, maps and links live on file descriptors of this process, so
the kernel drops them when the process ends, however it ends (see ebpf_hub.run.attach for the
one exception, legacy TC filters, which close() removes).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Set
from contextlib import contextmanager
from types import TracebackType

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.attach import (
    Attacher,
    Attachment,
    AttachTargets,
    detach_all,
    plan_attach,
)
from ebpf_hub.run.errors import AttachError, LoaderError, LoadError
from ebpf_hub.run.events import EventBuffer
from ebpf_hub.run.host import lockdown_mode
from ebpf_hub.run.libbpf import check_int, check_ptr, describe_error
from ebpf_hub.run.maps import Map, MapInfo, map_info, text
from ebpf_hub.run.programs import ProgramInfo, program_info
from ebpf_hub.safetext import escape

__all__ = ["AttachError", "AttachTargets", "LoadError", "LoadedObject", "LoaderError"]

_LOG_TAIL = 20
_TRAMPOLINE_TYPES = frozenset({"tracing", "lsm", "ext"})


# --- libbpf's log: captured per thread while the loader calls libbpf, else logged ---

_capture = threading.local()


def _on_libbpf_message(level: int, message: str) -> None:
    lines: list[str] | None = getattr(_capture, "lines", None)
    if lines is None:
        # libbpf's lines start with "libbpf: " already; they quote names from the object
        # (sections, programs, maps), which its author chose: escaped like all foreign text.
        # `logging` is imported here, as it is rarely needed: it costs every start-up ~4 ms.
        import logging

        logging.getLogger(__name__).warning("%s", escape(message.rstrip(), keep="\n"))
    else:
        lines.extend(line for line in message.splitlines() if line.strip())


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
def _signals_deferred() -> Iterator[None]:
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
        layout[text(name)] = (var.offset, var.size)
    return layout


def _set_params(obj: int, params: Mapping[str, bytes]) -> None:
    layout = _rodata_layout(obj)
    rodata = lib.bpf_object__find_map_by_name(obj, b".rodata")
    if not layout or not rodata:
        raise LoaderError("this object has no parameters (no const volatile globals)")
    size = lib.c_size_t()
    base = check_ptr(lib.bpf_map__initial_value(rodata, ctypes.byref(size)), "reading .rodata")
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
        self._plans: list[tuple[int, Attacher]] = []
        self._attachments: list[Attachment] = []
        self._buffers: list[EventBuffer] = []

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        params: Mapping[str, bytes] | None = None,
        targets: AttachTargets | None = None,
        skip: Set[str] = frozenset(),
    ) -> LoadedObject:
        """Open the object, write `params` (already-encoded values of .rodata variables, by
        name) and decide how each program attaches: missing targets fail here, before load.
        The programs named in `skip` (another mode's, optional ones whose hook is missing)
        are neither loaded nor attached."""
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
            for prog in self._iter(lib.bpf_object__next_program):
                info = program_info(prog)
                if info.name in skip:
                    check_int(lib.bpf_program__set_autoload(prog, False), "leaving a program out")
                else:
                    self._plans.append((prog, plan_attach(info, targets or AttachTargets())))
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
        return [program_info(prog) for prog in self._iter(lib.bpf_object__next_program)]

    def maps(self) -> list[MapInfo]:
        return [map_info(m) for m in self._iter(lib.bpf_object__next_map)]

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
        attached: list[Attachment] = []
        with _signals_deferred():
            try:
                for prog, attach in self._plans:
                    with self._logged() as lines:
                        try:
                            attached.append(attach(prog))
                        except LoaderError as exc:
                            raise AttachError(_attach_message(prog, exc, lines)) from None
            except BaseException:
                detach_all(attached)
                raise
            self._attachments.extend(attached)

    def fill_cgroup_array(self, name: str, directory: str) -> None:
        """Put the cgroup `directory` at key 0 of the cgroup array map `name`, for the
        programs' bpf_current_task_under_cgroup(); the map keeps its own reference."""
        fd = self.map(name).fd
        cgroup = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            key, value = ctypes.c_uint32(0), ctypes.c_uint32(cgroup)
            ret = lib.bpf_map_update_elem(fd, ctypes.byref(key), ctypes.byref(value), 0)
        finally:
            os.close(cgroup)
        if ret < 0:
            raise LoaderError(
                f"cannot put cgroup {directory} in map {name!r}: {describe_error(-ret)} "
                "(is it a directory of the cgroup v2 hierarchy?)"
            )

    def map(self, name: str) -> Map:
        """A loaded map by name, to read keys and values."""
        return Map(self._map_ptr(name))

    def events(self, map_name: str, on_record: Callable[[bytes], None]) -> EventBuffer:
        """Records of a ring buffer or perf event array map, each handed to on_record."""
        found = self._map_ptr(map_name)
        fd = lib.bpf_map__fd(found)
        if fd < 0:
            raise LoaderError(f"map {map_name!r} is not loaded yet")
        buffer = EventBuffer(map_info(found), fd, on_record)
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
        with _signals_deferred():
            for buffer in self._buffers:
                buffer.close()
            detach_all(self._attachments)
            self._attachments.clear()
            lib.bpf_object__close(self._obj)
            self._obj = None

    def __enter__(self) -> LoadedObject:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _attach_message(prog: int, exc: LoaderError, lines: list[str]) -> str:
    info = program_info(prog)
    message = f"cannot attach program {info.name!r} ({info.section}): {exc}"
    return f"{message}; {lines[-1]}" if lines else message
