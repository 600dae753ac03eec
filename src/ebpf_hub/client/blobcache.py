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

Only what was trusted enters the cache, for it is shared by every later install: a
`CachingStore` keeps what it fetches (the manifest, the signature and its payload) to itself
until `trust` is called once the signature verified; after that, blobs the trusted manifest
names are added as they arrive, each verified by digest. An artifact let through unsigned
never enters the cache. Every path in the cache is opened without following links
(`ebpf_hub.privatedir`, `ebpf_hub.fsutil`): a link planted as a blob counts as a damaged blob.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Optional

from ebpf_hub.client.console import download_progress
from ebpf_hub.client.incoming import Scratch, new_scratch
from ebpf_hub.fsutil import UnsafePathError, is_regular_file, open_regular
from ebpf_hub.oci.digest import check_digest, file_digest, is_digest
from ebpf_hub.oci.errors import IntegrityError, OCIError
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor, FetchedManifest
from ebpf_hub.oci.referrers import ReferrersAPI
from ebpf_hub.oci.store import Store
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir
from ebpf_hub.progress import Progress

CACHED_MODE = 0o444
LAYOUT = "oci"
INCOMING = "incoming"

Show = Callable[[str, int], AbstractContextManager[Optional[Progress]]]
"""How a download is shown: given its label and size, a context that yields the `Progress` it
reports to while it runs (None: shown nowhere). `console.download_progress` by default."""


class BlobCache:
    """The OCI layout holding every manifest and blob the client has verified."""

    def __init__(self) -> None:
        private_dir(cache_dir(), LAYOUT, "blobs", "sha256")  # no links, no other user's
        self.root = cache_dir() / LAYOUT
        self.layout = LayoutStore(self.root, create=True, durable=False)

    def blob_path(self, digest: str) -> Path:
        """Where the layout keeps the blob `digest` (OCI image layout: blobs/sha256/HEX)."""
        return self.root / "blobs" / "sha256" / check_digest(digest)

    def holds(self, descriptor: Descriptor) -> bool:
        """Whether the cache holds the blob intact; a damaged copy is dropped."""
        path = self.blob_path(descriptor.digest)
        try:
            with open_regular(path) as handle:
                found = file_digest(handle)
        except FileNotFoundError:
            return False
        except UnsafePathError:  # a link or a FIFO planted as the blob: never followed
            found = None
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
        staged.replace(self.blob_path(digest))  # replaces a planted link, never follows it

    def new_scratch(self) -> Scratch:
        """A download directory of one reader under `incoming/`, its files on the cache's
        filesystem so that `add` can rename them in."""
        return new_scratch(cache_dir(), LAYOUT, INCOMING)


def _place(source: Path, dest: Path) -> None:
    """Put the file `source` at `dest` (replacing it): a hard link if possible, else a copy.

    Neither follows a link at `source` (the link, not a copy of its target, would land).
    """
    staged = dest.with_name(f".{dest.name}.{os.getpid()}.export")
    try:
        os.link(source, staged, follow_symlinks=False)
    except OSError:  # another filesystem, or links not allowed: copy
        with open_regular(source) as reader, staged.open("xb") as writer:
            shutil.copyfileobj(reader, writer)
    staged.replace(dest)


class CachingStore:
    """A read-only :class:`~ebpf_hub.oci.store.Store` that answers from the cache first.

    `remote` opens the store behind the cache; it is called only on the first cache miss, so
    a fully cached read makes no connection at all. Every blob is verified before it is
    handed out: when downloaded, or, when found in the cache, by hashing the cached file.
    Each download is shown by `show` (a bar of its own on a terminal), unless the caller of
    `get_blob` passes a `Progress` of its own to report to.
    """

    def __init__(
        self,
        cache: BlobCache,
        name: str,
        remote: Callable[[], Store],
        show: Show = download_progress,
    ) -> None:
        self.cache = cache
        self._show = show
        self._name = name
        self._open_remote = remote
        self._remote: Store | None = None
        self._verified: set[str] = set()  # digests checked in this process
        self._cached_tags: set[str] = set()  # tags answered from the cache
        self._tags_from_remote = False
        self._scratch: Scratch | None = None  # this reader's downloads in progress
        self._scratch_lock = threading.Lock()  # blobs may be fetched by several threads
        self._trusted = False  # whether what is fetched may enter the cache
        self._held: dict[str, tuple[FetchedManifest, str | None]] = {}  # reference: (it, tag)
        self._held_blobs: dict[str, Path] = {}  # digest: downloaded file under the scratch

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
            self._scratch.close()
            self._scratch = None

    def trust(self) -> None:
        """Let what this reader fetched, and will fetch, enter the cache.

        Called once the signature of the manifest verified: the manifest, its signature and
        the payload held until now are added, and blobs fetched from now on go straight in.
        """
        for fetched, tag in self._held.values():
            self.cache.layout.put_manifest(fetched.data, fetched.media_type or OCI_MANIFEST, tag)
        for digest, staged in self._held_blobs.items():
            self.cache.add(staged, digest)
        self._held.clear()
        self._held_blobs.clear()
        self._trusted = True

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
        if is_digest(reference):  # immutable: the cache answers if it can
            if reference in self._held:
                return self._held[reference][0]
            if layout.blob_exists(reference):
                try:
                    return layout.get_manifest(reference)
                except IntegrityError:
                    self.cache.blob_path(reference).unlink(missing_ok=True)
            return self._keep(self.remote.get_manifest(reference), reference, None)
        if not self._tags_from_remote and layout.resolve(reference) is not None:
            self._cached_tags.add(reference)
            return layout.get_manifest(reference)
        return self._keep(self.remote.get_manifest(reference), reference, reference)

    def _keep(self, fetched: FetchedManifest, reference: str, tag: str | None) -> FetchedManifest:
        """Add a manifest just fetched to the cache if trusted, else hold it until `trust`."""
        if self._trusted:
            self.cache.layout.put_manifest(fetched.data, fetched.media_type or OCI_MANIFEST, tag)
        else:
            self._held[reference] = (fetched, tag)
        return fetched

    def blob_exists(self, digest: str) -> bool:
        """Whether the cache or the remote has the blob."""
        return is_regular_file(self.cache.blob_path(digest)) or self.remote.blob_exists(digest)

    def get_blob(
        self, descriptor: Descriptor, dest: Path, progress: Progress | None = None
    ) -> None:
        """The verified blob at `dest`, downloaded (into the cache, if trusted) if needed.

        A download reports to `progress` if given, else to a bar of its own (`show`); a
        blob found in the cache reports nothing.
        """
        _place(self._verified_file(descriptor, progress), dest)

    def _verified_file(self, descriptor: Descriptor, progress: Progress | None) -> Path:
        """Where the verified blob is: in the cache, or held by this reader until `trust`."""
        digest = descriptor.digest
        if digest in self._held_blobs:
            return self._held_blobs[digest]
        if digest not in self._verified and not self.cache.holds(descriptor):
            staged = self._download(descriptor, progress)
            if not self._trusted:
                self._held_blobs[digest] = staged
                return staged
            self.cache.add(staged, digest)
        self._verified.add(digest)
        return self.cache.blob_path(digest)

    def _download(self, descriptor: Descriptor, progress: Progress | None) -> Path:
        """Download into this reader's own directory under the cache; return the file.

        Each download has a directory of its own there: two layers with the same content
        may be downloaded at once, and each must find its own file to move into the cache
        (the second rename wins, with the same bytes).
        """
        with self._scratch_lock:
            if self._scratch is None:
                self._scratch = self.cache.new_scratch()
        directory = Path(tempfile.mkdtemp(dir=self._scratch.path))
        staged = directory / check_digest(descriptor.digest)
        label = descriptor.title or descriptor.digest[7:19]
        shown = (
            nullcontext(progress) if progress is not None else self._show(label, descriptor.size)
        )
        with shown as reported:
            self.remote.get_blob(descriptor, staged, reported)  # verified: size and digest
        return staged

    def put_manifest(self, data: bytes, media_type: str, tag: str | None = None) -> str:
        """Refused: this store only reads (it is part of the Store protocol)."""
        raise OCIError(f"{self.name}: the client's cache view is read-only")

    def put_blob(self, descriptor: Descriptor, source: Path | bytes) -> bool:
        """Refused: this store only reads (it is part of the Store protocol)."""
        raise OCIError(f"{self.name}: the client's cache view is read-only")

    def referrers(self, digest: str) -> bytes | None:
        """The remote's referrers API answer, if it has the API (never cached: the list
        grows; what it lists is fetched by digest, through the cache)."""
        remote = self.remote
        return remote.referrers(digest) if isinstance(remote, ReferrersAPI) else None

    def list_tags(self) -> list[str]:
        """The remote's tags."""
        return self.remote.list_tags()
