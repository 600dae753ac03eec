"""An OCI image layout directory used as a store: the embedded default with no server at all.

On disk (OCI image-spec "image layout"): ``oci-layout``, ``index.json`` listing the tagged
manifests (tag = ``org.opencontainers.image.ref.name`` annotation, one entry per tag) and
``blobs/sha256/HEX``. skopeo reads and writes the same layout (``oci:DIR:TAG``).
Blobs and ``index.json`` are written atomically, and updates of ``index.json`` hold a file lock,
so concurrent writers and a crash never leave a torn index or a half-written blob. No file of
the layout is read through a symbolic link, and a link in place of a blob counts as no blob
(writing the blob replaces the link).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ebpf_hub.fsutil import atomic_writer, is_regular_file, open_regular, write_atomic
from ebpf_hub.locking import LockTimeout, file_lock
from ebpf_hub.oci.digest import Verifier, check_digest, copy_verified, is_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError, ManifestError, NotFoundError, OCIError
from ebpf_hub.oci.manifest import (
    MAX_MANIFEST_SIZE,
    OCI_INDEX,
    Descriptor,
    FetchedManifest,
    canonical_json,
)
from ebpf_hub.oci.reference import check_tag
from ebpf_hub.progress import Progress

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
LAYOUT_VERSION = "1.0.0"
LOCK_TIMEOUT = 60.0


class LayoutStore:
    """A :class:`~ebpf_hub.oci.store.Store` backed by an OCI image layout directory."""

    def __init__(self, root: Path, *, create: bool = False, durable: bool = True) -> None:
        """`durable=False` writes blobs without syncing them: for a cache, which verifies
        every blob it reads (the index is always synced)."""
        self.root = root
        self._durable = durable
        self._index_path = root / "index.json"
        self._lock_path = root / "index.json.lock"
        if create:
            self._create()
        self._check_layout()

    @property
    def name(self) -> str:
        """``oci:DIR``, used in messages."""
        return f"oci:{self.root}"

    def _create(self) -> None:
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        with self._locked():
            if not (self.root / "oci-layout").exists():
                write_atomic(
                    self.root / "oci-layout", canonical_json({"imageLayoutVersion": LAYOUT_VERSION})
                )
            if not self._index_path.exists():
                self._write_index([])

    def _check_layout(self) -> None:
        marker = self.root / "oci-layout"
        try:
            with open_regular(marker) as handle:
                version = json.loads(handle.read()).get("imageLayoutVersion")
        except FileNotFoundError:
            raise NotFoundError(
                f"{self.name} is not an OCI image layout (no oci-layout file); "
                "check the path or push to it to create it"
            ) from None
        except (ValueError, AttributeError):
            raise ManifestError(
                f"{marker} is not valid JSON; repair or recreate the layout"
            ) from None
        if version != LAYOUT_VERSION:
            raise ManifestError(
                f"{self.name} has image layout version {version!r}; "
                f"only {LAYOUT_VERSION} is supported"
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            with file_lock(self._lock_path, LOCK_TIMEOUT):
                yield
        except LockTimeout:
            raise OCIError(
                f"{self.name} is locked by another process (lock {self._lock_path}) for "
                f"{LOCK_TIMEOUT:.0f} s; wait for it to finish"
            ) from None

    def _blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / check_digest(digest)

    def _read_index(self) -> list[dict[str, Any]]:
        try:
            with open_regular(self._index_path) as handle:
                index = json.loads(handle.read())
        except FileNotFoundError:
            return []
        except ValueError:
            raise ManifestError(
                f"{self._index_path} is not valid JSON; repair or recreate the layout"
            ) from None
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ManifestError(f"{self._index_path} has no valid 'manifests' list")
        return entries

    def _write_index(self, entries: list[dict[str, Any]]) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        write_atomic(self._index_path, canonical_json(index))

    def _find(self, tag: str) -> Descriptor | None:
        for entry in self._read_index():
            if _ref_name(entry) == tag:
                return Descriptor.from_json(entry, f"{self._index_path} entry {tag!r}")
        return None

    def resolve(self, tag: str) -> str | None:
        """Digest of the manifest tagged ``tag``, or None."""
        found = self._find(check_tag(tag))
        return found.digest if found else None

    def get_manifest(self, reference: str) -> FetchedManifest:
        """Manifest by tag or digest, verified against the digest that names it."""
        if is_digest(reference):
            data = self._read_manifest_blob(reference, None)
            return FetchedManifest(data, _declared_media_type(data), reference)
        found = self._find(check_tag(reference))
        if found is None:
            raise NotFoundError(f"{self.name}:{reference} not found; list tags to see what exists")
        return FetchedManifest(
            self._read_manifest_blob(found.digest, found.size), found.media_type, found.digest
        )

    def _read_manifest_blob(self, digest: str, size: int | None) -> bytes:
        path = self._blob_path(digest)
        try:
            with open_regular(path) as source:
                data = source.read(MAX_MANIFEST_SIZE + 1)
        except FileNotFoundError:
            raise NotFoundError(f"manifest {digest} not found in {self.name}") from None
        what = f"manifest {digest} of {self.name}"
        if len(data) > MAX_MANIFEST_SIZE:
            raise IntegrityError(f"{what} is larger than {MAX_MANIFEST_SIZE} bytes; refusing it")
        verifier = Verifier(digest, len(data) if size is None else size, what)
        verifier.update(data)
        verifier.finish()
        return data

    def put_manifest(self, data: bytes, media_type: str, tag: str | None = None) -> str:
        """Store manifest bytes as a blob and, with ``tag``, point that tag at it."""
        digest = sha256_digest(data)
        descriptor = Descriptor(media_type, digest, len(data))
        self.put_blob(descriptor, data)
        if tag is not None:
            check_tag(tag)
            entry = Descriptor(media_type, digest, len(data), {REF_NAME_ANNOTATION: tag})
            with self._locked():
                kept = [e for e in self._read_index() if _ref_name(e) != tag]
                self._write_index([*kept, entry.to_json()])
        return digest

    def blob_exists(self, digest: str) -> bool:
        """True if the blob is present (its content is verified when it is read)."""
        return is_regular_file(self._blob_path(digest))

    def put_blob(self, descriptor: Descriptor, source: Path | bytes) -> bool:
        """Store a blob, verified against its descriptor; False if it was already present."""
        path = self._blob_path(descriptor.digest)
        if is_regular_file(path):
            return False
        verifier = Verifier(descriptor.digest, descriptor.size, f"blob {descriptor.digest}")
        handle = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
        with handle, atomic_writer(path, durable=self._durable) as target:
            copy_verified(handle, target, verifier)
        return True

    def get_blob(
        self, descriptor: Descriptor, dest: Path, progress: Progress | None = None
    ) -> None:
        """Copy a blob to ``dest`` atomically, verifying its size and digest; each chunk
        copied is reported to ``progress``."""
        what = f"blob {descriptor.digest} of {self.name}"
        try:
            source = open_regular(self._blob_path(descriptor.digest))
        except FileNotFoundError:
            raise NotFoundError(f"{what} not found; the layout is incomplete") from None
        verifier = Verifier(descriptor.digest, descriptor.size, what)
        with source, atomic_writer(dest, durable=self._durable) as target:
            copy_verified(source, target, verifier, progress)

    def list_tags(self) -> list[str]:
        """Every tag of the layout, sorted."""
        return sorted(name for name in map(_ref_name, self._read_index()) if name)


def _ref_name(entry: dict[str, Any]) -> str | None:
    annotations = entry.get("annotations")
    if isinstance(annotations, dict):
        name = annotations.get(REF_NAME_ANNOTATION)
        return name if isinstance(name, str) else None
    return None


def _declared_media_type(data: bytes) -> str:
    """The ``mediaType`` a manifest declares (a layout stores no type for untagged ones)."""
    try:
        value = json.loads(data)
    except ValueError:
        return ""
    media_type = value.get("mediaType") if isinstance(value, dict) else None
    return media_type if isinstance(media_type, str) else ""
