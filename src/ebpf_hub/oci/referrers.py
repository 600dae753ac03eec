"""OCI 1.1 referrers: manifests that say what they are about with a ``subject``.

Signatures in cosign 3's bundle format and provenance statements are attached this way
(cosign's specs/BUNDLE_SPEC.md): a manifest with an ``artifactType``, the empty config, one
layer holding the attached document, and the artifact it describes as ``subject``.

Finding them: a registry with the referrers API lists them itself (``GET
/v2/NAME/referrers/DIGEST``), but Debian's docker-registry (distribution 2.8), the embedded OCI
layout and many mirrors have none. So every attachment also updates the *referrers tag schema*
of the distribution spec: an image index tagged ``sha256-HEX`` that lists the referrers of
``sha256:HEX``. Readers use that tag, which every store serves, and is what cosign itself writes
and reads on such registries; without the tag, they ask the referrers API. The index is a
hint only: each referrer manifest found through it is fetched by digest and must itself name
the subject and the artifact type the reader wants.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ebpf_hub.oci.digest import check_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError, ManifestError, NotFoundError
from ebpf_hub.oci.manifest import OCI_INDEX, OCI_MANIFEST, Descriptor, ImageManifest, canonical_json
from ebpf_hub.oci.store import Store

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
EMPTY_DESCRIPTOR = Descriptor(EMPTY_MEDIA_TYPE, sha256_digest(EMPTY_CONFIG), len(EMPTY_CONFIG))
MAX_REFERRERS = 256  # a subject has a handful (signatures, a provenance); stop an endless list


def referrers_tag(digest: str) -> str:
    """``sha256-HEX``: the tag of the referrers index of ``digest`` (the tag schema)."""
    return f"sha256-{check_digest(digest)}"


@dataclass(frozen=True)
class Referrer:
    """One entry of a referrers index: a manifest said to refer to the subject."""

    descriptor: Descriptor
    artifact_type: str | None

    def to_json(self) -> dict[str, Any]:
        value = self.descriptor.to_json()
        if self.artifact_type:
            value["artifactType"] = self.artifact_type
        return value


@dataclass(frozen=True)
class Attached:
    """A referrer manifest read back and checked: it names the subject asked about."""

    digest: str
    manifest: ImageManifest


def _parse_index(data: bytes, where: str) -> tuple[Referrer, ...]:
    """The entries of a referrers index; anything but an OCI image index is refused."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{where}: the referrers index is not JSON ({exc})") from None
    if not isinstance(value, dict) or value.get("mediaType") != OCI_INDEX:
        raise ManifestError(f"{where}: the referrers index is not an OCI image index")
    entries = value.get("manifests")
    if not isinstance(entries, list):
        raise ManifestError(f"{where}: the referrers index has no manifests list")
    if len(entries) > MAX_REFERRERS:
        raise ManifestError(f"{where}: more than {MAX_REFERRERS} referrers; refusing the list")
    found = []
    for number, entry in enumerate(entries):
        descriptor = Descriptor.from_json(entry, f"{where} entry {number}")
        kind = entry.get("artifactType")
        found.append(Referrer(descriptor, kind if isinstance(kind, str) else None))
    return tuple(found)


def _index_bytes(entries: tuple[Referrer, ...]) -> bytes:
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [entry.to_json() for entry in entries],
        }
    )


@runtime_checkable
class ReferrersAPI(Protocol):
    """A store that may answer the referrers API (a registry, or the client's cache in front
    of one)."""

    def referrers(self, digest: str) -> bytes | None:
        """The image index of the referrers of ``digest``; None without the API."""
        ...


def list_referrers(store: Store, digest: str) -> tuple[Referrer, ...]:
    """What the referrers index of ``digest`` lists (nothing when there is none).

    The tag schema's index first: the publisher always writes it, so it costs one request
    and is cached for offline use; the referrers API only when there is no such tag (what
    cosign 3 wrote to a registry that has the API).
    """
    tag = referrers_tag(digest)
    try:
        fetched = store.get_manifest(tag)
    except NotFoundError:
        listed = store.referrers(digest) if isinstance(store, ReferrersAPI) else None
        if listed is None:
            return ()
        return _parse_index(listed, f"{store.name} referrers of {digest}")
    return _parse_index(fetched.data, f"{store.name}:{tag}")


def attach(
    store: Store,
    subject: Descriptor,
    artifact_type: str,
    document: tuple[str, bytes],
    annotations: Mapping[str, str],
    *,
    title: str | None = None,
) -> str:
    """Push ``document`` (media type, bytes) as a referrer of ``subject``; return its digest.

    Idempotent: the same document attached again gives the same manifest, listed once.
    """
    media_type, content = document
    layer_annotations = {"org.opencontainers.image.title": title} if title else {}
    layer = Descriptor(media_type, sha256_digest(content), len(content), layer_annotations)
    manifest = ImageManifest(
        EMPTY_DESCRIPTOR, (layer,), artifact_type, dict(annotations), subject
    ).to_bytes()
    store.put_blob(EMPTY_DESCRIPTOR, EMPTY_CONFIG)
    store.put_blob(layer, content)
    digest = store.put_manifest(manifest, OCI_MANIFEST)
    entry = Referrer(Descriptor(OCI_MANIFEST, digest, len(manifest), annotations), artifact_type)
    existing = list_referrers(store, subject.digest)
    if all(known.descriptor.digest != digest for known in existing):
        store.put_manifest(
            _index_bytes((*existing, entry)), OCI_INDEX, referrers_tag(subject.digest)
        )
    return digest


def find_attached(store: Store, digest: str, artifact_type: str) -> tuple[Attached, ...]:
    """Every referrer of ``digest`` of ``artifact_type``, each fetched and checked.

    The index's artifact types are not trusted (cosign lists its own signatures under the
    empty type): every listed manifest is read, and kept when the manifest itself has the
    type and names ``digest`` as its subject. A listed manifest that is missing or unreadable
    is passed over: another entry may still be the one wanted.
    """
    found = []
    for entry in list_referrers(store, digest):
        if entry.descriptor.media_type != OCI_MANIFEST:
            continue
        try:
            fetched = store.get_manifest(entry.descriptor.digest)
            manifest = ImageManifest.parse(fetched.data, f"{store.name}@{entry.descriptor.digest}")
        except (NotFoundError, ManifestError, IntegrityError):
            continue
        subject = manifest.subject
        if manifest.artifact_type != artifact_type or subject is None or subject.digest != digest:
            continue
        found.append(Attached(entry.descriptor.digest, manifest))
    return tuple(found)
