"""OCI descriptors and image manifests: canonical serialization and strict parsing.

Building and reading manifests in one place keeps every writer canonical (sorted keys, compact
separators, UTF-8: the same input gives the same bytes, hence the same digest) and every reader
equally strict about what it accepts from a store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ebpf_hub.oci.digest import check_digest
from ebpf_hub.oci.errors import InvalidReferenceError, ManifestError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
TITLE_ANNOTATION = "org.opencontainers.image.title"
MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # the limit distribution registries enforce


def canonical_json(value: object) -> bytes:
    """Serialize ``value`` deterministically: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _annotations(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise ManifestError(f"{where}: annotations must map strings to strings")
    return dict(value)


@dataclass(frozen=True)
class Descriptor:
    """A pointer to content: media type, digest, size and optional annotations."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str | None:
        """The ``org.opencontainers.image.title`` annotation: a layer's file name."""
        return self.annotations.get(TITLE_ANNOTATION)

    def to_json(self) -> dict[str, Any]:
        """The descriptor as a JSON object (annotations only when present)."""
        value: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.annotations:
            value["annotations"] = dict(self.annotations)
        return value

    @classmethod
    def from_json(cls, value: object, where: str) -> Descriptor:
        """Parse and check a descriptor object; ``where`` names it in errors."""
        if not isinstance(value, dict):
            raise ManifestError(f"{where}: a descriptor must be a JSON object")
        media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
        if not isinstance(media_type, str) or not media_type:
            raise ManifestError(f"{where}: descriptor has no mediaType")
        if not isinstance(digest, str):
            raise ManifestError(f"{where}: descriptor has no digest")
        try:
            check_digest(digest)
        except InvalidReferenceError as exc:
            raise ManifestError(f"{where}: {exc}") from None
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ManifestError(f"{where}: descriptor size must be a non-negative integer")
        return cls(media_type, digest, size, _annotations(value.get("annotations"), where))


@dataclass(frozen=True)
class ImageManifest:
    """An OCI image manifest, possibly an OCI 1.1 artifact (``artifactType``)."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None  # what a referrer (a signature, a provenance) is about

    def to_bytes(self) -> bytes:
        """The canonical serialization; its sha256 is the manifest digest."""
        value: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }
        if self.artifact_type:
            value["artifactType"] = self.artifact_type
        if self.annotations:
            value["annotations"] = dict(self.annotations)
        if self.subject is not None:
            value["subject"] = self.subject.to_json()
        return canonical_json(value)

    @classmethod
    def parse(cls, data: bytes, where: str) -> ImageManifest:
        """Parse manifest bytes, refusing anything but a schema 2 OCI image manifest."""
        try:
            value = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{where}: manifest is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ManifestError(f"{where}: manifest must be a JSON object")
        if value.get("schemaVersion") != 2 or value.get("mediaType") != OCI_MANIFEST:
            raise ManifestError(
                f"{where}: not an OCI image manifest (mediaType {value.get('mediaType')!r}, "
                f"schemaVersion {value.get('schemaVersion')!r}); only {OCI_MANIFEST} is supported"
            )
        layers = value.get("layers")
        if not isinstance(layers, list):
            raise ManifestError(f"{where}: manifest has no layers list")
        artifact_type = value.get("artifactType")
        if artifact_type is not None and not isinstance(artifact_type, str):
            raise ManifestError(f"{where}: artifactType must be a string")
        subject = value.get("subject")
        return cls(
            config=Descriptor.from_json(value.get("config"), f"{where} config"),
            layers=tuple(
                Descriptor.from_json(layer, f"{where} layer {index}")
                for index, layer in enumerate(layers)
            ),
            artifact_type=artifact_type,
            annotations=_annotations(value.get("annotations"), where),
            subject=None if subject is None else Descriptor.from_json(subject, f"{where} subject"),
        )

    def blobs(self) -> tuple[Descriptor, ...]:
        """Every blob the manifest references: the config, then the layers."""
        return (self.config, *self.layers)


@dataclass(frozen=True)
class FetchedManifest:
    """Manifest bytes as a store served them, with their media type and computed digest."""

    data: bytes
    media_type: str
    digest: str
