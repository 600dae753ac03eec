"""The client's own directories, opened so that no other user and no planted link can steer it.

Two rules, checked every time a directory under one of the client's roots (`cache_dir()`,
`data_dir()`) is opened, and every time a file is read from `config_dir()` (the config file
names the registry and the key that signatures are checked against):

1. Ownership, as git's `safe.directory`: the root, every directory above it and every
   directory the client opens inside it must be owned by the current user or by root, and
   none may be writable by every user (directories above the root may be, if sticky, as
   /tmp is). Otherwise another user could swap entries between a check and a use; and root,
   run with another user's HOME (`sudo -E`), would write, delete and load where that user
   chooses. `EBPF_HUB_SAFE_DIRECTORY` (paths separated by `:`, or `*`) names roots whose
   owner is trusted anyway.
2. No links inside a root: each component below it is opened with `O_NOFOLLOW` relative to
   its parent's descriptor, so a link planted as `packages/NAME` or `oci/blobs` is refused
   with a clear error instead of being followed. The root itself, and the path leading to
   it, are the user's choice and may be links (`~/.cache -> /data/cache`).

With both checks passed, only the current user or root can change what was checked, so
callers may use the returned path for the file operations that follow; those never follow a
link at the last component either (`ebpf_hub.fsutil`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from ebpf_hub.fsutil import UnsafePathError, link_refused, open_regular

SAFE_DIRECTORY_ENV = "EBPF_HUB_SAFE_DIRECTORY"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def private_dir(root: Path, *parts: str) -> Path:
    """`root/parts...`, created if missing, after the checks above."""
    with open_private_dir(root, *parts):
        return root.joinpath(*parts)


@contextmanager
def open_private_dir(root: Path, *parts: str, create: bool = True) -> Iterator[int]:
    """An open descriptor of `root/parts...`, checked as above, for `*at` operations.

    Without `create`, a missing directory raises FileNotFoundError (readers create nothing).
    The directories above `root` are checked before anything is created in them.
    """
    with _open_checked(root, parts, create) as (fd, _trusted):
        yield fd


def open_private_file(root: Path, name: str) -> BinaryIO:
    """The file `root/name` opened for reading after the checks above, the file's own owner
    and mode included: no link, no file of another user, none every user may write.
    A missing directory or file raises FileNotFoundError."""
    path = root / name
    with _open_checked(root, (), create=False) as (directory, trusted):
        handle = open_regular(path, directory=directory)
        try:
            _check_directory(path, os.fstat(handle.fileno()), trusted, root)
        except BaseException:
            handle.close()
            raise
    return handle


@contextmanager
def _open_checked(
    root: Path, parts: tuple[str, ...], create: bool
) -> Iterator[tuple[int, frozenset[int]]]:
    """`open_private_dir`, yielding the users it trusted too."""
    trusted = _trusted_owners(root)
    if create:
        root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _check_directory(root, os.fstat(fd), trusted, root)
        path = root
        for part in parts:
            path = path / part
            child = _open_child(fd, part, path, create)
            os.close(fd)
            fd = child
            _check_directory(path, os.fstat(fd), trusted, root)
        yield fd, trusted
    finally:
        os.close(fd)


def _open_child(parent: int, name: str, path: Path, create: bool) -> int:
    """Open the directory `name` in `parent` without following a link; create it if asked."""
    if not name or name in (".", "..") or "/" in name:
        raise UnsafePathError(f"{path}: {name!r} is not a plain file name")
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        if stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode):
            raise link_refused(path) from None
        raise UnsafePathError(f"{path} is not a directory; remove it and try again") from None
    with suppress(FileExistsError):  # made meanwhile by a concurrent client: open it
        os.mkdir(name, dir_fd=parent)
    return _open_child(parent, name, path, create=False)


def _trusted_owners(root: Path) -> frozenset[int]:
    """The users whose directories the client works in: itself, root, and, for a root named
    in EBPF_HUB_SAFE_DIRECTORY, the owner of the root (or of the nearest directory above it,
    if it does not exist yet). Checks the existing directories above `root` on the way."""
    real = Path(os.path.realpath(root))
    existing = [(path, status) for path, status in map(_status, (real, *real.parents)) if status]
    owners = {os.geteuid(), 0}
    if _declared_safe(real):
        owners.add(existing[0][1].st_uid)
    trusted = frozenset(owners)
    for path, status in existing:
        if path != real:
            _check_directory(path, status, trusted, root, sticky_ok=True)
    return trusted


def _status(path: Path) -> tuple[Path, os.stat_result | None]:
    try:
        return path, path.stat()
    except FileNotFoundError:
        return path, None


def _declared_safe(real: Path) -> bool:
    declared = os.environ.get(SAFE_DIRECTORY_ENV, "")
    entries = [entry for entry in declared.split(os.pathsep) if entry]
    return "*" in entries or any(Path(os.path.realpath(e)) == real for e in entries)


def _check_directory(
    path: Path, status: os.stat_result, trusted: frozenset[int], root: Path, sticky_ok: bool = False
) -> None:
    if status.st_uid not in trusted:
        raise UnsafePathError(
            f"{path} is owned by {_user(status.st_uid)}, not by {_user(os.geteuid())}; ebpf-hub "
            "does not work in another user's directories: run it as that user, point "
            "EBPF_HUB_HOME / XDG_CACHE_HOME / XDG_DATA_HOME / XDG_CONFIG_HOME elsewhere, or "
            f"trust the owner with {SAFE_DIRECTORY_ENV}={root}"
        )
    shared = status.st_mode & stat.S_IWOTH and not (sticky_ok and status.st_mode & stat.S_ISVTX)
    if shared:
        raise UnsafePathError(
            f"{path} is writable by every user, so ebpf-hub refuses to use it; "
            f"run `chmod o-w {path}` or choose another directory"
        )


def _user(uid: int) -> str:
    import pwd

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
