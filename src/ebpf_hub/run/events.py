"""Records of ring buffer and perf event array maps, handed to Python one by one."""

from __future__ import annotations

import ctypes
import errno
import sys
from collections.abc import Callable

from ebpf_hub.run import libbpf as lib
from ebpf_hub.run.errors import LoaderError
from ebpf_hub.run.libbpf import check_int, check_ptr
from ebpf_hub.run.maps import MapInfo


def _deliverer(
    on_record: Callable[[bytes], None], errors: list[BaseException], count: list[int]
) -> Callable[[int | None, int, int], int]:
    """The callback libbpf calls per record: the runner's hot path, so it touches only
    locals. An exception is kept for poll() to raise (C cannot unwind Python frames) and
    stops delivery: libbpf stops at a negative return, a perf buffer at the next record."""
    string_at = ctypes.string_at

    def deliver(_ctx: int | None, data: int, size: int) -> int:
        if errors:
            return -1
        try:
            on_record(string_at(data, size))
        except BaseException as exc:
            errors.append(exc)
            return -1
        count[0] += 1
        return 0

    return deliver


class EventBuffer:
    """Delivers each record of a ring buffer or perf event array map to `on_record` as bytes.

    An exception raised by `on_record` (KeyboardInterrupt included) stops delivery and is
    raised again from poll() or consume(). `lost` counts records the kernel dropped from a
    perf buffer; a ring buffer cannot lose records silently (the program sees the failure).
    `fileno()` is an epoll fd that turns readable when records arrive, so one select/epoll
    can wait on several buffers and consume() the ready ones.
    """

    def __init__(
        self, info: MapInfo, fd: int, on_record: Callable[[bytes], None], perf_pages: int = 64
    ) -> None:
        self.info = info
        self.lost = 0
        self._errors: list[BaseException] = []
        self._count = [0]
        deliver = _deliverer(on_record, self._errors, self._count)
        if info.type == "ringbuf":
            ring_sample = lib.RING_BUFFER_SAMPLE_FN(deliver)
            self._callbacks: tuple[object, ...] = (ring_sample,)  # C holds them: keep alive
            ptr = lib.ring_buffer__new(fd, ring_sample, None, None)
            self._poll, self._consume, self._free, epoll_fd = (
                lib.ring_buffer__poll,
                lib.ring_buffer__consume,
                lib.ring_buffer__free,
                lib.ring_buffer__epoll_fd,
            )
        elif info.type == "perf_event_array":

            def deliver_perf(ctx: int | None, _cpu: int, data: int, size: int) -> None:
                deliver(ctx, data, size)

            perf_sample = lib.PERF_BUFFER_SAMPLE_FN(deliver_perf)
            perf_lost = lib.PERF_BUFFER_LOST_FN(self._count_lost)
            self._callbacks = (perf_sample, perf_lost)
            ptr = lib.perf_buffer__new(fd, perf_pages, perf_sample, perf_lost, None, None)
            self._poll, self._consume, self._free, epoll_fd = (
                lib.perf_buffer__poll,
                lib.perf_buffer__consume,
                lib.perf_buffer__free,
                lib.perf_buffer__epoll_fd,
            )
        else:
            raise LoaderError(f"map {info.name!r} is a {info.type}, not an event map")
        self._ptr: int | None = check_ptr(ptr, f"opening event map {info.name}")
        self._epoll_fd: int = epoll_fd(self._ptr)

    @property
    def delivered(self) -> int:
        """Records handed to on_record so far."""
        return self._count[0]

    def _count_lost(self, _ctx: int | None, _cpu: int, count: int) -> None:
        self.lost += count

    def _unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_value is not None:
            self._errors.append(unraisable.exc_value)

    def fileno(self) -> int:
        """An fd to wait on (epoll, select) for records."""
        return self._epoll_fd

    def poll(self, timeout_ms: int) -> int:
        """Wait up to timeout_ms for records and deliver them; returns how many. A signal
        ends the wait early with 0, and Python then runs its handler (Ctrl-C raises)."""
        return self._run(lambda ptr: self._poll(ptr, timeout_ms))

    def consume(self) -> int:
        """Deliver whatever is buffered now, without waiting; returns how many."""
        return self._run(self._consume)

    def _run(self, call: Callable[[int], int]) -> int:
        """Call into libbpf, then raise what a callback raised. A signal handler may also
        run at a callback's first line, before its try: ctypes would then print and drop
        its exception (Ctrl-C lost), so such "unraisable" exceptions are caught too."""
        if self._ptr is None:
            raise LoaderError(f"event buffer {self.info.name!r} is closed")
        before = self.delivered
        previous, sys.unraisablehook = sys.unraisablehook, self._unraisable
        try:
            ret = call(self._ptr)
        finally:
            sys.unraisablehook = previous
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise error
        if ret != -errno.EINTR:
            check_int(ret, f"reading events from {self.info.name}")
        return self.delivered - before

    def close(self) -> None:
        if self._ptr is not None:
            self._free(self._ptr)
            self._ptr = None
