"""Writing files so that a reader never sees half of one, and never through a symbolic link.

Nothing here writes into an existing file: new content goes to a fresh temporary file
(`O_EXCL`) that is renamed into place, and a rename replaces a link planted at the target
instead of following it. Reads of files the client made (`open_regular`) refuse links and
anything that is not a regular file, so a planted link can neither redirect a read nor
make one block on a FIFO. Removal (`remove_entry`) unlinks a link itself, never its target.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from ebpf_hub.errors import HubError

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePathError(HubError):
    """A path the client must not use: a link where it expects its own file or directory,
    or a directory that another user controls."""


def link_refused(path: Path) -> UnsafePathError:
    """The one-line error for a symbolic link found where the client keeps its own files."""
    return UnsafePathError(
        f"{path} is a symbolic link, and ebpf-hub never follows links inside its own "
        f"directories; remove the link (rm {path}) and try again"
    )


def open_regular(path: Path, *, directory: int | None = None) -> BinaryIO:
    """Open a regular file for reading without following a link at its last component.

    With `directory` (an open directory), `path.name` is opened relative to it and `path`
    only names the file in messages. A missing file raises FileNotFoundError.
    """
    try:
        fd = os.open(path.name if directory is not None else path, _READ_FLAGS, dir_fd=directory)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_refused(path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{path} is not a regular file; remove it and try again")
    return os.fdopen(fd, "rb")


def is_regular_file(path: Path) -> bool:
    """Whether `path` is a regular file itself (a link to one does not count)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def remove_entry(directory: int, name: str) -> None:
    """Remove `name` from the open `directory`: a real directory with everything in it,
    anything else (a link included) by unlinking the entry itself. Best effort, as it
    cleans up after failures and must not hide the original error."""
    try:
        mode = os.lstat(name, dir_fd=directory).st_mode
        if stat.S_ISDIR(mode):
            _remove_tree(directory, name)
        else:
            os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        pass


def _remove_tree(directory: int, name: str) -> None:
    """Remove the directory `name` of the open `directory` and what it holds, best effort.

    Each level is opened relative to its parent's descriptor with O_NOFOLLOW, so a link
    planted anywhere in the tree, even while it is being removed, is unlinked and never
    followed. (shutil.rmtree takes a `dir_fd` only from Python 3.11; the client runs on 3.9.)
    """
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=directory)
    except OSError:
        return  # gone, or no longer a directory: nothing of it to walk
    try:
        with os.scandir(fd) as listing:
            entries = list(listing)  # read whole before anything is removed from it
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(fd, entry.name)
            else:
                with suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    with suppress(OSError):
        os.rmdir(name, dir_fd=directory)


@contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """Yield a temporary file beside `path`; on success sync it and rename it onto `path`.

    A crash or an exception leaves either the old file or the new one, never a truncated mix;
    on an exception the temporary file is removed and `path` is untouched. `durable=False`
    skips the sync (a millisecond or more per file, far more on a busy disk), for caches
    whose readers verify what they read: after a power loss such a file may be empty, which
    its reader detects.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        temp.chmod(0o644)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` through `atomic_writer`."""
    with atomic_writer(path, durable=durable) as handle:
        handle.write(data)


def replace_directory(staged: Path, target: Path) -> None:
    """Put the fully written directory `staged` in the place of `target`.

    Directories cannot be renamed over a non-empty one, so the old tree is moved aside first
    and removed only once the new one is in place.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    retired = None
    if target.exists():
        retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
        target.replace(retired / target.name)
    staged.replace(target)
    if retired is not None:
        shutil.rmtree(retired)


def sync_files(paths: Iterable[Path]) -> None:
    """Flush files written without a sync to disk, before a record that names them is."""
    for path in paths:
        with open_regular(path) as handle:
            os.fsync(handle.fileno())
