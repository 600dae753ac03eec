"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


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
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
