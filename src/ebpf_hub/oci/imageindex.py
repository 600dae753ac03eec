"""A package version for several architectures: an OCI image index, one manifest per platform.

Each architecture's build is a package artifact of its own (`ebpf_hub.oci.artifact`); the
version's tag names an image index (`application/vnd.oci.image.index.v1+json`) listing them,
each with `platform: {os: linux, architecture: amd64|arm64}` as docker, skopeo, crane and oras
read it. The index is what the hub signs and what the JSON index pins: its digest covers the
digest of every manifest it lists, so a client that verified the index and then checks the
manifest it picks against the digest listed there trusts nothing else.

Reading is strict like `ImageManifest.parse`: a malformed entry, a platform listed twice or a
manifest of another media type is refused rather than skipped.
"""

from __future__ import annotations

import json
import platform as host
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.oci.artifact import (
    ARTIFACT_TYPE,
    BuiltArtifact,
    PushResult,
    push_blobs,
    tag_holds,
)
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.errors import ManifestError, NotFoundError
from ebpf_hub.oci.manifest import (
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    _annotations,
    canonical_json,
)
from ebpf_hub.oci.store import Store
from ebpf_hub.safetext import clip, quote

# The build's architecture names (as `uname -m` and `requires.architectures` say them) and
# the OCI platform's (Go's GOARCH, as docker and the registries say them).
OCI_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
OS = "linux"


@dataclass(frozen=True, order=True)
class Platform:
    """An OCI platform: `linux/amd64`, `linux/arm64`."""

    os: str
    architecture: str

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}"

    @classmethod
    def of_arch(cls, arch: str) -> Platform:
        """The platform of a build architecture (`x86_64`, `aarch64`)."""
        if arch not in OCI_ARCH:
            raise HubError(
                f"no OCI platform for architecture {arch!r}",
                hint=f"eBPF Hub builds for {', '.join(OCI_ARCH)}",
            )
        return cls(OS, OCI_ARCH[arch])

    @classmethod
    def host(cls) -> Platform:
        """This machine's platform."""
        return cls.of_arch(host.machine())

    @classmethod
    def parse(cls, text: str) -> Platform:
        """`--platform linux/arm64` (or `arm64`, `aarch64`: the OS is always linux)."""
        os_name, _, arch = text.rpartition("/")
        names = {**{name: name for name in OCI_ARCH.values()}, **OCI_ARCH}
        if os_name not in ("", OS) or arch not in names:
            raise HubError(
                f"--platform {quote(text)}: not a platform eBPF Hub builds for",
                hint=f"use one of {', '.join(f'{OS}/{a}' for a in OCI_ARCH.values())}",
            )
        return cls(OS, names[arch])

    def to_json(self) -> dict[str, str]:
        return {"architecture": self.architecture, "os": self.os}


@dataclass(frozen=True)
class PlatformManifest:
    """One entry of an image index: a package manifest and the platform it runs on."""

    descriptor: Descriptor
    platform: Platform

    def to_json(self) -> dict[str, Any]:
        return {
            **self.descriptor.to_json(),
            "artifactType": ARTIFACT_TYPE,
            "platform": self.platform.to_json(),
        }


@dataclass(frozen=True)
class ImageIndex:
    """The image index of one package version."""

    manifests: tuple[PlatformManifest, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The canonical serialization (entries sorted by platform); its sha256 is the digest."""
        value: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": ARTIFACT_TYPE,
            "manifests": [entry.to_json() for entry in self.by_platform],
        }
        if self.annotations:
            value["annotations"] = dict(self.annotations)
        return canonical_json(value)

    @classmethod
    def parse(cls, data: bytes, where: str) -> ImageIndex:
        """Parse index bytes, refusing anything but an OCI image index of package manifests."""
        value = _json_object(data, where)
        if value.get("schemaVersion") != 2 or value.get("mediaType") != OCI_INDEX:
            raise ManifestError(f"{where}: not an OCI image index ({OCI_INDEX})")
        entries = value.get("manifests")
        if not isinstance(entries, list) or not entries:
            raise ManifestError(f"{where}: the image index lists no manifest")
        manifests = tuple(
            _entry(item, f"{where} manifest {number}") for number, item in enumerate(entries)
        )
        platforms = [entry.platform for entry in manifests]
        if len(set(platforms)) != len(platforms):
            raise ManifestError(f"{where}: the image index lists a platform twice")
        return cls(manifests, _annotations(value.get("annotations"), where))

    @property
    def by_platform(self) -> list[PlatformManifest]:
        """The entries in the order of their platforms, as the index lists them."""
        return sorted(self.manifests, key=lambda entry: entry.platform)

    def select(self, wanted: Platform, where: str) -> PlatformManifest:
        """The entry for `wanted`, or one line naming the platforms there are."""
        for entry in self.manifests:
            if entry.platform == wanted:
                return entry
        there = ", ".join(str(entry.platform) for entry in self.by_platform)
        raise NotFoundError(
            f"{where} has no build for {wanted} (it has {clip(there)})",
            hint="the package is not built for this architecture; "
            "`ebpf-hub pull --platform` fetches another one's build",
        )


def _json_object(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{where}: manifest is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: manifest must be a JSON object")
    return value


def _entry(value: object, where: str) -> PlatformManifest:
    descriptor = Descriptor.from_json(value, where)
    if descriptor.media_type != OCI_MANIFEST:
        raise ManifestError(f"{where}: lists a {quote(descriptor.media_type)}, not {OCI_MANIFEST}")
    assert isinstance(value, dict)  # noqa: S101 - Descriptor.from_json checked it
    found = value.get("platform")
    if not isinstance(found, dict) or not all(
        isinstance(found.get(key), str) and found[key] for key in ("os", "architecture")
    ):
        raise ManifestError(f"{where}: no platform (os and architecture)")
    return PlatformManifest(descriptor, Platform(found["os"], found["architecture"]))


def is_image_index(data: bytes) -> bool:
    """True if manifest bytes declare themselves an image index (then `ImageIndex.parse`)."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(value, dict) and value.get("mediaType") == OCI_INDEX


def build_index(builds: Sequence[tuple[Platform, BuiltArtifact]]) -> ImageIndex:
    """The index of one version's artifacts; it carries their common annotations (title,
    version, source...), so tools that show an index's annotations show the package."""
    entries = []
    shared: dict[str, str] | None = None
    for wanted, artifact in builds:
        entries.append(
            PlatformManifest(
                Descriptor(OCI_MANIFEST, artifact.digest, len(artifact.manifest)), wanted
            )
        )
        annotations = dict(ImageManifest.parse(artifact.manifest, str(wanted)).annotations)
        shared = (
            annotations
            if shared is None
            else {k: v for k, v in shared.items() if annotations.get(k) == v}
        )
    return ImageIndex(tuple(entries), shared or {})


def push_index(
    store: Store, builds: Sequence[tuple[Platform, BuiltArtifact]], tag: str
) -> PushResult:
    """Push every artifact by digest, then their index under `tag` (never moved: see
    `ebpf_hub.oci.artifact.tag_holds`)."""
    data = build_index(builds).to_bytes()
    digest = sha256_digest(data)
    if tag_holds(store, tag, digest):
        return PushResult(digest, 0, manifest_pushed=False)
    uploaded = 0
    for _, artifact in builds:
        uploaded += push_blobs(store, artifact)
        store.put_manifest(artifact.manifest, OCI_MANIFEST)
    store.put_manifest(data, OCI_INDEX, tag)
    return PushResult(digest, uploaded, manifest_pushed=True)


def platform_manifest(
    store: Store, digest: str, wanted: Platform | None, where: str
) -> PlatformManifest | None:
    """The entry of the image index `digest` for `wanted` (default: this machine's platform),
    or None when `digest` names a single manifest (artifacts published before image indexes,
    or by tools that push one platform): that one is read whatever the platform."""
    fetched = store.get_manifest(digest)
    if not is_image_index(fetched.data):
        return None
    return ImageIndex.parse(fetched.data, where).select(wanted or Platform.host(), where)
