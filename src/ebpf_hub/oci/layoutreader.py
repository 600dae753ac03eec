"""Read-only access to a directory of OCI image layouts, one per repository, for serving them.

`ebpf-hub publish --registry oci:DIR` writes ``DIR/NAME`` for each package; a local hub serves
``DIR`` to other programs (`ebpf_hub.oci.distribution`). Whatever asks names only a repository
and a tag or digest, both checked by the caller; here every directory below ``DIR`` is opened
relative to its parent with ``O_NOFOLLOW``, so no symbolic link inside the layouts is followed
(a link planted there would otherwise serve any file of the machine). Unlike
:class:`~ebpf_hub.oci.layout.LayoutStore` it takes no lock and writes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from ebpf_hub.fsutil import UnsafePathError, open_regular
from ebpf_hub.oci.digest import check_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError
from ebpf_hub.oci.layout import REF_NAME_ANNOTATION
from ebpf_hub.oci.manifest import MAX_MANIFEST_SIZE

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_BLOBS = ("blobs", "sha256")


class ServedManifest(NamedTuple):
    """A manifest's bytes with the media type and digest a registry answers them with."""

    data: bytes
    media_type: str
    digest: str


class LayoutReader:
    """The layouts under ``root``: repository ``NAME`` is the layout ``root/NAME``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def _directory(self, repository: str, *parts: str) -> Iterator[int | None]:
        """An open descriptor of ``root/repository/parts...``, or None if it is missing or
        any step of it is not a real directory (a link is never followed)."""
        fd = _open_below(self.root, (repository, *parts))
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    def _read(self, repository: str, parts: tuple[str, ...], name: str, limit: int) -> bytes | None:
        with self._directory(repository, *parts) as fd:
            if fd is None:
                return None
            try:
                with open_regular(Path(name), directory=fd) as handle:
                    data = handle.read(limit + 1)
            except (OSError, UnsafePathError):
                return None
        if len(data) > limit:
            raise IntegrityError(f"{repository}/{name} is larger than {limit} bytes")
        return data

    def _index(self, repository: str) -> list[Any] | None:
        data = self._read(repository, (), "index.json", MAX_MANIFEST_SIZE)
        if data is None:
            return None
        try:
            manifests = json.loads(data).get("manifests")
        except (ValueError, AttributeError):
            raise IntegrityError(f"{repository}/index.json is not an OCI image index") from None
        return manifests if isinstance(manifests, list) else []

    def tags(self, repository: str) -> list[str] | None:
        """Every tag of ``repository``, sorted; None if there is no such layout."""
        index = self._index(repository)
        if index is None:
            return None
        return sorted({tag for entry in index if (tag := _ref_name(entry))})

    def manifest(self, repository: str, reference: str) -> ServedManifest | None:
        """The manifest a tag or a digest (checked by the caller) names, verified; None if
        there is none."""
        if ":" in reference:
            return self._manifest_blob(repository, reference, None)
        for entry in self._index(repository) or []:
            if _ref_name(entry) == reference and isinstance(entry.get("digest"), str):
                return self._manifest_blob(repository, entry["digest"], entry.get("mediaType"))
        return None

    def _manifest_blob(
        self, repository: str, digest: str, media_type: object
    ) -> ServedManifest | None:
        data = self._read(repository, _BLOBS, check_digest(digest), MAX_MANIFEST_SIZE)
        if data is None:
            return None
        if sha256_digest(data) != digest:
            raise IntegrityError(f"{repository}@{digest}: the stored bytes do not match")
        if not isinstance(media_type, str):  # by digest: the type the manifest itself declares
            try:
                media_type = json.loads(data).get("mediaType")
            except (ValueError, AttributeError):
                return None  # a blob, not a manifest
        return ServedManifest(data, media_type, digest) if isinstance(media_type, str) else None

    def blob(self, repository: str, digest: str) -> BinaryIO | None:
        """The blob file opened for reading, or None. Its bytes are not checked here: the
        client checks them against the digest it asked for, as with any registry."""
        with self._directory(repository, *_BLOBS) as fd:
            if fd is None:
                return None
            try:
                return open_regular(Path(check_digest(digest)), directory=fd)
            except (OSError, UnsafePathError):
                return None


def _open_below(root: Path, parts: tuple[str, ...]) -> int | None:
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    for part in parts:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        fd = child
    return fd


def _ref_name(entry: object) -> str | None:
    annotations = entry.get("annotations") if isinstance(entry, dict) else None
    name = annotations.get(REF_NAME_ANNOTATION) if isinstance(annotations, dict) else None
    return name if isinstance(name, str) else None
