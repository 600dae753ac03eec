"""The content hash that pins an in-repo source directory to a published version.

Git commits pin external sources; for a directory of this repository the version records a
hash of the files themselves, so it does not depend on which commit it was merged in.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ebpf_hub.errors import HubError


def tree_hash(directory: Path) -> str:
    """`sha256:` of the sorted (relative path, file hash) list of every file below `directory`.

    Symbolic links are refused, the directory itself included: a source tree must not point
    outside itself (a linked ``sources/NAME`` would pin, build and publish whatever it names).
    """
    if directory.is_symlink():
        raise HubError(f"{directory}: symbolic links are not allowed in package sources")
    if not directory.is_dir():
        raise HubError(f"{directory}: source directory does not exist")
    listing = hashlib.sha256()
    for path in sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).as_posix()):
        relative = path.relative_to(directory).as_posix()
        if path.is_symlink():
            raise HubError(f"{path}: symbolic links are not allowed in package sources")
        if path.is_dir():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        listing.update(f"{relative}\0{digest}\n".encode())
    return f"sha256:{listing.hexdigest()}"
