"""Work done in a forked child while this process goes on: a second core for a long build.

The site build spends most of its time in MkDocs, one page after another on one core, while
the JSON index it also writes needs nothing MkDocs makes. A forked child starts with every
object the parent built (no copying, no pickling) and writes its files while MkDocs runs.
Threads would not help: both halves are Python, and only one thread runs Python at a time.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ebpf_hub.errors import HubError

# The child's failure, one line, sent up a pipe: longer than any message of this project.
_MESSAGE_LIMIT = 4096


@contextmanager
def running_beside(work: Callable[[], object], what: str) -> Iterator[None]:
    """Run `work` in a forked child while the `with` block runs; wait for it at the block's
    end and raise a HubError naming `what` if it failed. If the block raises, the child is
    stopped first: it never writes on after the caller starts cleaning up."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child: its coverage is its parent's tests)
        os.close(read_end)
        _run_child(work, write_end)
    os.close(write_end)
    try:
        yield
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read(_MESSAGE_LIMIT).decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise HubError(f"{what} failed: {message or _describe(status)}")


def _run_child(work: Callable[[], object], report: int) -> None:
    """Run `work`, send its failure up `report`, and leave without the parent's exit work
    (atexit handlers, buffered output, open files' flushes)."""
    code = 0
    try:
        work()
    except BaseException as exc:  # reported to the parent, which raises it as a HubError
        code = 1
        os.write(report, " ".join(str(exc).split()).encode()[:_MESSAGE_LIMIT] or b"error")
    finally:
        os._exit(code)


def _describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"
