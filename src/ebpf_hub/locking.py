"""Locks between processes: `flock(2)` on a lock file, waited for up to a timeout.

This is what the filelock library does on Linux, without its import cost (a tenth of a cold
`ebpf-hub install`). The kernel releases an flock when its process dies, so a crash never
leaves a stale lock; the lock files themselves stay (empty): deleting one that another
process waits on would let two of them in. Each acquisition opens its own descriptor, so
threads of one process exclude each other too. A lock file is never opened through a symbolic
link: with `O_CREAT`, a dangling link would otherwise create a file wherever it points.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ebpf_hub.fsutil import link_refused

POLL_INTERVAL = 0.05  # seconds between attempts while another process holds the lock


class LockTimeout(Exception):
    """The lock stayed taken for the whole timeout."""


@contextmanager
def file_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold the exclusive lock on `path` (created if missing) for the `with` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_refused(path) from None
        raise
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"{path} stayed locked for {timeout:.0f} s") from None
                time.sleep(POLL_INTERVAL)
        yield
    finally:
        os.close(fd)  # releases the lock
