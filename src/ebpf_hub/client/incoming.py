"""Downloads in progress under the blob cache's `incoming/`, and the removal of abandoned ones.

Each reader of the cache downloads into a directory of its own there and holds an flock on
it while it lives. The kernel drops the lock when the process dies, so a directory nobody
locks is abandoned (a reader killed mid-download, a crash, a power loss): the next reader
that downloads removes it, with anything else there the client did not make. Only entries
older than `STALE_AFTER` are looked at, which covers the instant between a reader creating
its directory and locking it, and readers of older versions that took no lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from ebpf_hub.fsutil import remove_entry
from ebpf_hub.privatedir import open_private_dir

STALE_AFTER = 3600.0  # seconds; an unlocked download directory this old was abandoned
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Scratch(NamedTuple):
    """A reader's own download directory, locked until `close`."""

    path: Path
    lock: int  # the open directory whose flock marks it as in use

    def close(self) -> None:
        """Remove the directory (with any broken download in it) and release it."""
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self.lock)


def new_scratch(root: Path, *parts: str) -> Scratch:
    """A new, locked download directory in the private directory `root/parts...`.

    Abandoned ones are removed first: this is when a reader is about to add its own.
    """
    with open_private_dir(root, *parts) as incoming:
        _remove_abandoned(incoming)
        path = Path(tempfile.mkdtemp(dir=root.joinpath(*parts)))
        lock = os.open(path.name, _DIR_FLAGS, dir_fd=incoming)
    fcntl.flock(lock, fcntl.LOCK_EX)  # fresh: at most a remover holds it, for an instant
    return Scratch(path, lock)


def _remove_abandoned(incoming: int) -> None:
    for name in _older_than(incoming, time.time() - STALE_AFTER):
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=incoming)
        except FileNotFoundError:
            continue  # removed meanwhile by another reader
        except OSError:  # not a directory, or a link: nothing a reader is using
            remove_entry(incoming, name)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            remove_entry(incoming, name)  # under the lock: no one can be using it
        except BlockingIOError:
            pass  # its reader is alive (a long download)
        finally:
            os.close(fd)


def _older_than(directory: int, moment: float) -> list[str]:
    names = []
    with os.scandir(directory) as entries:
        for entry in entries:
            with suppress(FileNotFoundError):  # removed meanwhile by another reader
                if entry.stat(follow_symlinks=False).st_mtime < moment:
                    names.append(entry.name)
    return names
