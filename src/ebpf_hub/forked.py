"""Work done in a forked child while this process goes on: a second core for a long build.

The site build spends most of its time in MkDocs, one page after another on one core, while
the JSON index it also writes needs nothing MkDocs makes. A forked child starts with every
object the parent built (no copying, no pickling on the way in) and does its share meanwhile;
what it returns comes back pickled, once the parent is ready for it. Threads would not help:
both halves are Python, and only one thread runs Python at a time.

A process with other threads running (`site serve` rebuilding while it serves) does the work
itself instead: a fork copies a lock another thread holds, and the child would wait on it
forever. A child whose parent is killed outright runs on to the end of its work, which only
ever writes beside the parent's own temporary output.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar, cast

from ebpf_hub.errors import HubError

T = TypeVar("T")
Item = TypeVar("Item")
# Below this many items (package files, pages), a fork costs more than a second core saves.
SPLIT_AT = 1000


class Beside(Generic[T]):
    """The work's result, there once the `with` block of `running_beside` has ended."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._done = False

    @property
    def value(self) -> T:
        if not self._done:
            raise RuntimeError("the child's result is read after the block that waits for it")
        return self._value  # type: ignore[return-value]  # set, with its type, by `_set`

    def _set(self, value: T) -> None:
        self._value, self._done = value, True


@contextmanager
def running_beside(work: Callable[[], T], what: str) -> Iterator[Beside[T]]:
    """Run `work` in a forked child while the `with` block runs; at the block's end wait for
    it, and either hand back what it returned or raise its failure as a HubError naming `what`
    (a HubError's own message and hint kept). If the block raises, or the wait is interrupted,
    the child is stopped first: it never writes on after the caller starts cleaning up. With
    other threads running, `work` is done here, before the block."""
    result: Beside[T] = Beside()
    if threading.active_count() > 1:
        result._set(work())
        yield result
        return
    with _forked(work) as child:
        yield result
        # What `work` returned, pickled by the child and so of its type.
        result._set(cast(T, child.result(what)))


def split_in_two(
    work: Callable[[Sequence[Item]], list[T]],
    items: Sequence[Item],
    what: str,
    *,
    least: int = SPLIT_AT,
) -> list[T]:
    """`work(items)`, in order, with the second half done by a forked child on another core
    when there are at least `least` items and this process may run on two cores. `work` must
    give one result per item, in order."""
    if len(items) < least or _cores() < 2:
        return work(items)
    half = (len(items) + 1) // 2
    with running_beside(lambda: work(items[half:]), what) as rest:
        first = work(items[:half])
    return [*first, *rest.value]


class _Child:
    """A forked child doing some work, and the pipe its outcome comes back on."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid, self.pipe = pid, pipe
        self.status: int | None = None  # once waited for

    def stop(self) -> None:
        """Stop the child, if it has not been waited for already."""
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        if self.status is None:
            self.status = os.waitpid(self.pid, 0)[1]
        return self.status

    def result(self, what: str) -> object:
        """What the child's work returned; its failure, or its end without one, raised."""
        with os.fdopen(os.dup(self.pipe), "rb") as pipe:
            # Read before waiting: a child with more to send than a pipe holds cannot end.
            sent = pipe.read()
        code = os.waitstatus_to_exitcode(self.wait())
        outcome = pickle.loads(sent) if code == 0 else None  # noqa: S301  (our own child's)
        if isinstance(outcome, _Result):
            return outcome.value
        if isinstance(outcome, _Failure):
            raise HubError(f"{what} failed: {outcome.message}", outcome.hint)
        ended = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        raise HubError(f"{what} failed: the worker process ended ({ended}) without a result")


class _Result:
    def __init__(self, value: object) -> None:
        self.value = value


class _Failure:
    """The child's exception as one line: a HubError's message and hint, else its type and
    text (a `KeyError('x')` would say only `'x'`)."""

    def __init__(self, exc: BaseException) -> None:
        self.hint = exc.hint if isinstance(exc, HubError) else None
        text = exc.message if isinstance(exc, HubError) else str(exc)
        line = " ".join(text.split())
        if not isinstance(exc, HubError):
            line = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
        self.message = line


@contextmanager
def _forked(work: Callable[[], object]) -> Iterator[_Child]:
    """Fork a child doing `work`; on leaving, the child is waited for (and stopped first when
    leaving by an exception, or when the wait itself is interrupted), its pipe closed and the
    collector left as it was."""
    read_end, write_end = os.pipe()
    # What exists now is the parent's and the child's alike: the collector leaves it alone in
    # both, or its passes would write to (and so copy) every page of the child's memory.
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    # Output buffered now would be written twice: by the parent and by a child that flushes.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        if freezing:
            gc.unfreeze()
        raise
    if pid == 0:  # pragma: no cover  (the child: its coverage is its parent's tests)
        os.close(read_end)
        _run_child(work, write_end)
    os.close(write_end)
    child = _Child(pid, read_end)
    try:
        yield child
    except BaseException:
        child.stop()
        raise
    finally:
        try:
            child.wait()
        except BaseException:  # interrupted while waiting: the child must not outlive this
            child.stop()
            child.wait()
            raise
        finally:
            os.close(read_end)
            if freezing:
                gc.unfreeze()


def _cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _run_child(work: Callable[[], object], report: int) -> None:
    """Run `work`, send its outcome up `report`, and leave without the parent's exit work
    (atexit handlers, buffered output, open files' flushes); exit 0 only once all is sent."""
    code = 1
    try:
        try:
            sent = pickle.dumps(_Result(work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # a failure, or a result that cannot be sent
            sent = pickle.dumps(_Failure(exc), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(report, "wb") as pipe:
            pipe.write(sent)
        code = 0
    finally:
        os._exit(code)
