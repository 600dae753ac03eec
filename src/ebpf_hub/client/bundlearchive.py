"""An offline bundle on disk: one tar file holding an OCI image layout, written and read safely.

The archive comes from elsewhere (a USB stick, another site), so it is read as hostile: only
the names an image layout has (`oci-layout`, `index.json`, `blobs/sha256/HEX`) are accepted,
only as regular files and directories (no links, devices or FIFOs, so nothing can point out
of the destination), each name once, every entry and the whole bounded in size and count.
The destination is a new directory of the caller's, created here, which nothing else writes.
Written archives are reproducible: sorted names, no owners, no times.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import atomic_writer
from ebpf_hub.safetext import quote

MIB = 1024 * 1024
BUNDLE_LIMIT = 4096 * MIB  # the whole bundle, unpacked
BLOB_LIMIT = 256 * MIB  # one blob: the largest artifact the client installs
METADATA_LIMIT = 4 * MIB  # `oci-layout` and `index.json`
MAX_ENTRIES = 100_000
_ENTRY = re.compile(r"oci-layout|index\.json|blobs(/sha256(/[0-9a-f]{64})?)?")
_HINT = "it is not a bundle `ebpf-hub export` wrote; ask for it again"


def write_archive(layout: Path, out: Path) -> int:
    """Write the image layout directory `layout` as the tar file `out` (atomically);
    return its size in bytes."""
    paths = sorted(p for p in layout.rglob("*") if p.name != "index.json.lock")
    try:
        with atomic_writer(out) as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            for path in paths:
                info = _info(path, path.relative_to(layout).as_posix())
                if info.isdir():
                    tar.addfile(info)
                    continue
                with path.open("rb") as content:
                    tar.addfile(info, content)
    except OSError as exc:
        raise HubError(
            f"cannot write {out} ({exc.strerror or exc})", hint="check the directory and its space"
        ) from None
    return out.stat().st_size


def _info(path: Path, name: str) -> tarfile.TarInfo:
    """A reproducible tar header for `path`: no owner, no time."""
    info = tarfile.TarInfo(name)
    info.mtime = 0
    if path.is_dir():
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.mode = 0o644
        info.size = path.stat().st_size
    return info


def extract_archive(archive: Path, dest: Path) -> None:
    """Unpack the bundle `archive` into the new directory `dest`, refusing anything but the
    entries of an image layout (see the module docstring)."""
    dest.mkdir(mode=0o700)
    try:
        with archive.open("rb") as handle, tarfile.open(fileobj=handle, mode="r|*") as tar:
            _extract(tar, archive, dest)
    except (tarfile.TarError, EOFError) as exc:
        raise HubError(f"{archive} is not a readable tar archive ({exc})", hint=_HINT) from None
    except OSError as exc:
        raise HubError(f"cannot read {archive} ({exc.strerror or exc})") from None


def _extract(tar: tarfile.TarFile, archive: Path, dest: Path) -> None:
    total = 0
    for count, member in enumerate(tar):
        name = member.name.removeprefix("./").rstrip("/")
        where = f"{archive}: entry {quote(member.name)}"
        if count >= MAX_ENTRIES:
            raise HubError(f"{archive} has more than {MAX_ENTRIES} entries", hint=_HINT)
        if not _ENTRY.fullmatch(name):
            raise HubError(f"{where} is not part of an OCI image layout", hint=_HINT)
        target = dest / name
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if not member.isfile():
            raise HubError(f"{where} is a link or a special file, refused", hint=_HINT)
        limit = BLOB_LIMIT if name.startswith("blobs/") else METADATA_LIMIT
        total += member.size
        if member.size > limit or total > BUNDLE_LIMIT:
            raise HubError(
                f"{where} makes the bundle too large ({member.size} bytes; at most {limit} for "
                f"the entry, {BUNDLE_LIMIT} in all)",
                hint=_HINT,
            )
        source = tar.extractfile(member)
        assert source is not None  # noqa: S101 - a regular file has content
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            raise HubError(f"{where} appears twice", hint=_HINT) from None
        with source, os.fdopen(fd, "wb") as writer:
            shutil.copyfileobj(source, writer)
