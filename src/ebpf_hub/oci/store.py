"""The one interface over where artifacts live: a registry repository or an OCI layout.

Publishing, copying, signing and pulling are written once against :class:`Store`, so they work
the same on the embedded default (a layout directory, no server) and on any registry.
A store holds one repository; tags name manifests, digests name manifests and blobs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

from ebpf_hub.oci.auth import Credentials
from ebpf_hub.oci.errors import IntegrityError
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import Descriptor, FetchedManifest
from ebpf_hub.oci.reference import LayoutReference, Reference
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.progress import Progress


class Store(Protocol):
    """Manifests and blobs of one repository. Every read is verified against its digest."""

    @property
    def name(self) -> str:
        """Where the store is (``HOST/REPOSITORY`` or ``oci:DIR``), for messages."""
        ...

    def resolve(self, tag: str) -> str | None:
        """Digest of the manifest tagged ``tag``, or None if the tag does not exist."""
        ...

    def get_manifest(self, reference: str) -> FetchedManifest:
        """Manifest by tag or digest (by digest, its bytes are checked against it)."""
        ...

    def put_manifest(self, data: bytes, media_type: str, tag: str | None = None) -> str:
        """Store manifest bytes unchanged, optionally tagged; return their digest."""
        ...

    def blob_exists(self, digest: str) -> bool:
        """True if the blob is present."""
        ...

    def put_blob(self, descriptor: Descriptor, source: Path | bytes) -> bool:
        """Store a blob from a file or bytes unless present; True if it was written."""
        ...

    def get_blob(
        self, descriptor: Descriptor, dest: Path, progress: Progress | None = None
    ) -> None:
        """Write a blob to ``dest`` atomically after checking its size and digest.

        Safe to call from several threads at once (a pull fetches its layers together).
        The bytes read are reported to ``progress`` as they arrive, once per chunk; over a
        whole download they add up to the blob's size, even across a resumed transfer (a
        cache in front of a store reports only what it downloads).
        """
        ...

    def list_tags(self) -> list[str]:
        """Every tag, sorted."""
        ...


def read_blob(store: Store, descriptor: Descriptor, limit: int) -> bytes:
    """A small blob (a config, a signature payload) in memory, verified, at most ``limit`` bytes."""
    if descriptor.size > limit:
        raise IntegrityError(
            f"blob {descriptor.digest} of {store.name} declares {descriptor.size} bytes, "
            f"more than the {limit} allowed for it; refusing it"
        )
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-blob-") as scratch:
        path = Path(scratch) / "blob"
        store.get_blob(descriptor, path)
        return path.read_bytes()


def open_store(
    reference: Reference,
    *,
    insecure: bool = False,
    credentials: Credentials | None = None,
    create: bool = False,
) -> Store:
    """The store a parsed reference points at; ``create`` makes a missing layout directory."""
    if isinstance(reference, LayoutReference):
        return LayoutStore(reference.path, create=create)
    return RegistryStore(
        reference.host, reference.repository, insecure=insecure, credentials=credentials
    )
