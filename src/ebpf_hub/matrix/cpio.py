"""A deterministic cpio archive ("newc", the format the kernel unpacks as an initramfs).

Written here rather than by the `cpio` tool: the guest's tree is a handful of entries known in
memory, and equal entries must give equal bytes (no timestamps, owners or inode numbers of the
machine that built it), so that a guest image is cached and compared by its digest.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass

MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    """One file of the archive: `mode` holds the type bits (`stat.S_IFREG | 0o755`)."""

    path: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def regular(path: str, data: bytes, executable: bool = False) -> Entry:
    return Entry(path, stat.S_IFREG | (0o755 if executable else 0o644), data)


def directory(path: str) -> Entry:
    return Entry(path, stat.S_IFDIR | 0o755)


def char_device(path: str, major: int, minor: int) -> Entry:
    return Entry(path, stat.S_IFCHR | 0o600, rdev=(major, minor))


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def _header(inode: int, entry: Entry, name: bytes) -> bytes:
    fields = (
        inode,
        entry.mode,
        0,  # uid
        0,  # gid
        2 if stat.S_ISDIR(entry.mode) else 1,  # nlink
        0,  # mtime
        len(entry.data),
        0,  # dev major
        0,  # dev minor
        entry.rdev[0],
        entry.rdev[1],
        len(name),
        0,  # checksum (none in newc)
    )
    return MAGIC + b"".join(b"%08x" % value for value in fields)


def archive(entries: Iterable[Entry]) -> bytes:
    """The archive of `entries`, in the order given (parents before their children)."""
    parts: list[bytes] = []
    for inode, entry in enumerate([*entries, Entry(TRAILER, 0)], start=1):
        name = entry.path.lstrip("/").encode() + b"\0"
        head = _header(0 if entry.path == TRAILER else inode, entry, name)
        parts += [head, name, _pad(len(head) + len(name)), entry.data, _pad(len(entry.data))]
    return b"".join(parts)
