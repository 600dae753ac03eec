"""Work done in a forked child while this process goes on: a second core for a long build.

The site build spends most of its time in MkDocs, one page after another on one core, while
the JSON index it also writes needs nothing MkDocs makes. A forked child starts with every
object the parent built (no copying, no pickling on the way in) and does its share meanwhile;
what it returns comes back pickled, once the parent is ready for it. Threads would not help:
both halves are Python, and only one thread runs Python at a time.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from ebpf_hub.errors import HubError

T = TypeVar("T")
Item = TypeVar("Item")
# Below this many items (package files, pages), a fork costs more than a second core saves.
SPLIT_AT = 1000
# What the child sends up its pipe: one byte saying which, then its result or its failure.
_RESULT, _FAILURE = b"r", b"f"
# The child's failure, one line: longer than any message of this project.
_MESSAGE_LIMIT = 4096


class Beside(Generic[T]):
    """The child's result, there once the `with` block of `running_beside` has ended."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._done = False

    @property
    def value(self) -> T:
        if not self._done:
            raise RuntimeError("the child's result is read after the block that waits for it")
        return self._value  # type: ignore[return-value]  # set, with its type, by the child

    def _set(self, value: T) -> None:
        self._value, self._done = value, True


@contextmanager
def running_beside(work: Callable[[], T], what: str) -> Iterator[Beside[T]]:
    """Run `work` in a forked child while the `with` block runs; at the block's end wait for
    it, and either hand back what it returned or raise a HubError naming `what`. If the block
    raises, the child is stopped first: it never writes on after the caller cleans up."""
    read_end, write_end = os.pipe()
    # What exists now is the parent's and the child's alike: the collector leaves it alone in
    # both, or its passes would write to (and so copy) every page of the child's memory.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child: its coverage is its parent's tests)
        os.close(read_end)
        _run_child(work, write_end)
    os.close(write_end)
    result: Beside[T] = Beside()
    try:
        yield result
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        # Read before waiting: a child with more to send than a pipe holds cannot end first.
        with os.fdopen(read_end, "rb") as pipe:
            sent = pipe.read()
        _, status = os.waitpid(pid, 0)
        gc.unfreeze()
    if os.waitstatus_to_exitcode(status) == 0 and sent[:1] == _RESULT:
        result._set(pickle.loads(sent[1:]))  # noqa: S301  (our own child's, through a pipe)
        return
    message = sent[1:].decode("utf-8", "replace") if sent[:1] == _FAILURE else ""
    raise HubError(f"{what} failed: {message or _describe(status)}")


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


def _cores() -> int:
    """The cores this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _run_child(work: Callable[[], object], report: int) -> None:
    """Run `work`, send its result or failure up `report`, and leave without the parent's
    exit work (atexit handlers, buffered output, open files' flushes)."""
    code = 0
    try:
        with os.fdopen(report, "wb") as pipe:
            try:
                sent = _RESULT + pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # reported to the parent, which raises a HubError
                code = 1
                sent = _FAILURE + " ".join(str(exc).split()).encode()[:_MESSAGE_LIMIT]
            pipe.write(sent)
    finally:
        os._exit(code)


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"
