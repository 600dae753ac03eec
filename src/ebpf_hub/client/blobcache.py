"""The content-addressed blob cache, and a store that reads through it.

The cache is an OCI image layout under `cache_dir()/oci`: blobs (manifests included) are
named by their digest, so whatever it holds is either exactly the content asked for or
detectably wrong, and it can be shared by every package and registry. `CachingStore` puts it
in front of a remote store (a registry repository or a layout): content named by a digest is
served from the cache when present and fetched once otherwise, so a re-install needs no
network. Tags are mutable, so only signature tags are cached (a signature newer than the
cached one is fetched when the cached one does not verify; see `refresh_tags`).

Blobs leave the cache as hard links when the destination is on the same filesystem: an
installed 50 MB object then costs no copy. Cached files are made read-only to discourage
editing an installed file, which would change the cached blob; a damaged blob is found by its
digest on the next read, dropped and fetched again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ebpf_hub.client.console import download_progress
from ebpf_hub.oci.digest import check_digest, file_digest
from ebpf_hub.oci.errors import IntegrityError, OCIError
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor, FetchedManifest
from ebpf_hub.oci.store import Store
from ebpf_hub.paths import cache_dir

CACHED_MODE = 0o444


class BlobCache:
    """The OCI layout holding every manifest and blob the client has verified."""

    def __init__(self) -> None:
        self.root = cache_dir() / "oci"
        self.layout = LayoutStore(self.root, create=True, durable=False)
        self.incoming = self.root / "incoming"  # downloads in progress, one directory each

    def blob_path(self, digest: str) -> Path:
        """Where the layout keeps the blob `digest` (OCI image layout: blobs/sha256/HEX)."""
        return self.root / "blobs" / "sha256" / check_digest(digest)

    def holds(self, descriptor: Descriptor) -> bool:
        """Whether the cache holds the blob intact; a damaged copy is dropped."""
        path = self.blob_path(descriptor.digest)
        try:
            with path.open("rb") as handle:
                found = file_digest(handle)
        except FileNotFoundError:
            return False
        if found == (descriptor.digest, descriptor.size):
            return True
        path.unlink(missing_ok=True)
        return False

    def add(self, staged: Path, digest: str) -> None:
        """Move a downloaded and verified file into the cache as the blob `digest`.

        `staged` must be on the cache's filesystem (under `incoming`), so that the rename is
        atomic: concurrent clients each stage their own copy and the last rename wins, with
        identical content.
        """
        staged.chmod(CACHED_MODE)
        staged.replace(self.blob_path(digest))

    def export(self, digest: str, dest: Path) -> None:
        """Put the cached blob at `dest` (replacing it): a hard link if possible, else a copy."""
        source = self.blob_path(digest)
        staged = dest.with_name(f".{dest.name}.{os.getpid()}.export")
        try:
            os.link(source, staged)
        except OSError:  # another filesystem, or links not allowed: copy
            shutil.copyfile(source, staged)
        staged.replace(dest)


class CachingStore:
    """A read-only :class:`~ebpf_hub.oci.store.Store` that answers from the cache first.

    `remote` opens the store behind the cache; it is called only on the first cache miss, so
    a fully cached read makes no connection at all. Every blob is verified before it is
    handed out: when downloaded, or, when found in the cache, by hashing the cached file.
    """

    def __init__(self, cache: BlobCache, name: str, remote: Callable[[], Store]) -> None:
        self.cache = cache
        self._name = name
        self._open_remote = remote
        self._remote: Store | None = None
        self._verified: set[str] = set()  # digests checked in this process
        self._cached_tags: set[str] = set()  # tags answered from the cache
        self._tags_from_remote = False
        self._scratch: Path | None = None  # this reader's downloads in progress
        self._scratch_lock = threading.Lock()  # blobs may be fetched by several threads

    def __enter__(self) -> CachingStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove this reader's download directory (and any broken download in it)."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    @property
    def name(self) -> str:
        """The remote store's name, for messages."""
        return self._name

    @property
    def remote(self) -> Store:
        """The store behind the cache, opened on first use."""
        if self._remote is None:
            self._remote = self._open_remote()
        return self._remote

    def refresh_tags(self) -> bool:
        """Read tags from the remote from now on; False if no tag came from the cache."""
        if not self._cached_tags or self._tags_from_remote:
            return False
        self._tags_from_remote = True
        return True

    def resolve(self, tag: str) -> str | None:
        """The digest a tag names now: always asked of the remote (tags move)."""
        return self.remote.resolve(tag)

    def get_manifest(self, reference: str) -> FetchedManifest:
        """A manifest by digest (cached) or a signature tag (cached until `refresh_tags`)."""
        layout = self.cache.layout
        if ":" in reference:  # a digest: immutable, the cache answers if it can
            if layout.blob_exists(reference):
                try:
                    return layout.get_manifest(reference)
                except IntegrityError:
                    self.cache.blob_path(reference).unlink(missing_ok=True)
            fetched = self.remote.get_manifest(reference)
            layout.put_manifest(fetched.data, fetched.media_type or OCI_MANIFEST)
            return fetched
        if not self._tags_from_remote and layout.resolve(reference) is not None:
            self._cached_tags.add(reference)
            return layout.get_manifest(reference)
        fetched = self.remote.get_manifest(reference)
        layout.put_manifest(fetched.data, fetched.media_type or OCI_MANIFEST, reference)
        return fetched

    def blob_exists(self, digest: str) -> bool:
        """Whether the cache or the remote has the blob."""
        return self.cache.blob_path(digest).is_file() or self.remote.blob_exists(digest)

    def get_blob(self, descriptor: Descriptor, dest: Path) -> None:
        """The verified blob at `dest`, downloaded into the cache first if it is not there."""
        digest = descriptor.digest
        if digest not in self._verified:
            if not self.cache.holds(descriptor):
                self._download(descriptor)
            self._verified.add(digest)
        self.cache.export(digest, dest)

    def _download(self, descriptor: Descriptor) -> None:
        """Download into this reader's own directory under the cache, then into the cache.

        Each download has a directory of its own there, which its progress bar watches (two
        layers with the same content may be downloaded at once: the second rename wins).
        """
        with self._scratch_lock:
            if self._scratch is None:
                self.cache.incoming.mkdir(exist_ok=True)
                self._scratch = Path(tempfile.mkdtemp(dir=self.cache.incoming))
        directory = Path(tempfile.mkdtemp(dir=self._scratch))
        staged = directory / check_digest(descriptor.digest)
        label = descriptor.title or descriptor.digest[7:19]
        with download_progress(label, descriptor.size, directory):
            self.remote.get_blob(descriptor, staged)  # verified: size and digest
        self.cache.add(staged, descriptor.digest)

    def put_manifest(self, data: bytes, media_type: str, tag: str | None = None) -> str:
        """Refused: this store only reads (it is part of the Store protocol)."""
        raise OCIError(f"{self.name}: the client's cache view is read-only")

    def put_blob(self, descriptor: Descriptor, source: Path | bytes) -> bool:
        """Refused: this store only reads (it is part of the Store protocol)."""
        raise OCIError(f"{self.name}: the client's cache view is read-only")

    def list_tags(self) -> list[str]:
        """The remote's tags."""
        return self.remote.list_tags()
