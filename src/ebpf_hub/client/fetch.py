"""Fetching one artifact by digest, verified, into a directory: what `install` and `pull` share.

In order: the manifest (its bytes must hash to the digest the index pins), the signature
(either of cosign's forms, against the configured public key, naming the repository the
publisher signed and, for a hub package, no other package or version), the manifest's
media types, file names and total size, every blob's digest and size, and last, for a hub
package, that the artifact says it is the package and version the hub said. Nothing large is
downloaded before the signature checked out.
Everything goes through the blob cache, so whatever was verified once is reused offline;
only what a verified signature covers enters it (`CachingStore.trust`), so a tampered or
unsigned artifact leaves nothing behind for the next install to find.
Nothing reaches the output directory unless all of it checked out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.client.blobcache import BlobCache, CachingStore
from ebpf_hub.client.console import warn
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.oci.artifact import PulledArtifact, read_artifact
from ebpf_hub.oci.errors import IntegrityError, NotFoundError, SignatureError
from ebpf_hub.oci.hosts import plain_http_allowed
from ebpf_hub.oci.imageindex import Platform, platform_manifest
from ebpf_hub.oci.keychain import Keychain
from ebpf_hub.oci.keyenv import PUBLIC_KEY_ENV
from ebpf_hub.oci.keys import load_public_key
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.reference import LayoutReference, Reference
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import Claims, VerifiedSignature, verify
from ebpf_hub.oci.store import Store

MIB = 1024 * 1024
MAX_ARTIFACT_SIZE = 256 * MIB  # eBPF objects are kilobytes; this only stops the absurd


@dataclass(frozen=True)
class Source:
    """Where to pull an artifact from, and which repository its signature must name.

    They differ when pulling from a mirror (`--registry`): the bytes come from the mirror,
    the signature still names the repository the hub published to.
    """

    location: Reference
    identity: str

    def pinned(self, digest: str) -> str:
        """`REPOSITORY@DIGEST`, for messages and records."""
        return f"{self.location.name}@{digest}"


@dataclass(frozen=True)
class Fetched:
    """A verified artifact on disk; `verified` is False when let through unsigned."""

    artifact: PulledArtifact
    config: ArtifactConfig  # the artifact's config, checked
    verified: bool
    signature: VerifiedSignature | None = None  # the signature that verified
    manifest: str | None = None  # the package manifest read: the index's entry, or the digest


def fetch(
    settings: Settings,
    source: Source,
    digest: str,
    out_dir: Path,
    *,
    allow_unsigned: bool,
    expect: tuple[str, str] | None = None,
    max_size: int = MAX_ARTIFACT_SIZE,
    platform: Platform | None = None,
) -> Fetched:
    """Verify the artifact `digest` of `source` and write its files into `out_dir`.

    `expect` is the (name, version) the artifact's config must carry. `out_dir` must not
    exist or be empty; it receives every file at once, or nothing. When `digest` is an image
    index (one manifest per architecture), the manifest of `platform` (default: this
    machine's) is read, by the digest the verified index lists for it.
    """
    where = source.pinned(digest)
    with cached_view(source, settings) as view:
        view.get_manifest(digest)  # first, so that a digest the registry lacks says so plainly
        signature = _check_signature(
            view,
            identity=source.identity,
            digest=digest,
            where=where,
            settings=settings,
            allow_unsigned=allow_unsigned,
            expect=None if expect is None else Claims(*expect),
        )
        if signature is not None:
            view.trust()
        chosen = platform_manifest(view, digest, platform, where)
        manifest = digest if chosen is None else chosen.descriptor.digest
        # The artifact is known by the digest pinned and signed (the index's, if it is one).
        artifact = replace(read_artifact(view, where, manifest, out_dir, max_size), digest=digest)
    try:
        config = ArtifactConfig.read(artifact.config, f"{where} config")
        if chosen is not None:
            _check_platform(config, chosen.platform, where)
    except HubError:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    if expect is not None:
        found = (config.name, config.version)
        if found != expect:
            shutil.rmtree(out_dir, ignore_errors=True)
            raise IntegrityError(
                f"{where} is {found[0]} {found[1]}, not {expect[0]} {expect[1]} as the hub "
                "says; the hub index and the registry disagree, do not use it (report it to "
                "the hub)"
            )
    return Fetched(artifact, config, signature is not None, signature, manifest)


def _check_platform(config: ArtifactConfig, listed: Platform, where: str) -> None:
    """Refuse a manifest listed for one platform whose objects were built for another."""
    built = Platform.of_arch(config.build.arch)
    if built != listed:
        raise IntegrityError(
            f"{where} lists a {built} build as its {listed} one; do not use it "
            "(report it to the publisher)"
        )


def resolve_tag(settings: Settings, source: Source, tag: str) -> str:
    """The digest `tag` names in `source` now (always asked of the registry: tags move)."""
    digest = open_remote(source, settings).resolve(tag)
    if digest is None:
        raise NotFoundError(
            f"{source.location.name}:{tag} not found; check the tag, or pull by digest"
        )
    return digest


def cached_view(source: Source, settings: Settings) -> CachingStore:
    """`source` through the blob cache: what the cache holds (an earlier pull, an `import`) is
    read there, and the registry is opened on the first miss only."""
    return CachingStore(BlobCache(), source.location.name, partial(open_remote, source, settings))


def open_remote(source: Source, settings: Settings) -> Store:
    """The store `source` points at, with the settings' HTTP client and credentials.

    Plain HTTP only to `localhost` itself, loopback IP literals and the hosts the user
    declared insecure (`ebpf_hub.oci.hosts`): a local registry rarely has a certificate, and
    its traffic never leaves the machine. The environment's credentials go only to the
    configured registry (`Settings.credential_host`), never to a host the index names.
    Downloads land in the blob cache, which verifies what it reads, so they are not synced
    one by one (`ebpf_hub.client.installed` syncs the installed files once, before the record
    that commits them).
    """
    location = source.location
    if isinstance(location, LayoutReference):
        return LayoutStore(location.path, durable=False)
    return RegistryStore(
        location.host,
        location.repository,
        insecure=plain_http_allowed(location.host, settings.insecure_registries),
        keychain=Keychain(configured=settings.credential_host),
        durable=False,
        client=settings.http_client(),
    )


def _check_signature(
    view: CachingStore,
    *,
    identity: str,
    digest: str,
    where: str,
    settings: Settings,
    allow_unsigned: bool,
    expect: Claims | None,
) -> VerifiedSignature | None:
    """The signature that verifies; None if the trust policy lets it through without one."""
    if settings.public_key is None:
        if not allow_unsigned:
            raise HubError(
                f"cannot verify {where}: no public key is configured",
                hint=f"set {PUBLIC_KEY_ENV} or pass --public-key FILE (the hub's signing key), "
                "or --allow-unsigned to skip verification",
            )
        warn(f"{where} is not verified: no public key is configured (--allow-unsigned)")
        return None
    key = load_public_key(settings.public_key)
    try:
        return _verify(view, identity, digest, key, expect)
    except SignatureError as exc:
        if allow_unsigned or not settings.require_signatures:
            warn(f"{exc}; using it unverified, as --allow-unsigned (or require_signatures) allows")
            return None
        raise SignatureError(
            f"{exc}; refusing it: check --public-key / {PUBLIC_KEY_ENV} (the hub's key), or "
            "pass --allow-unsigned to accept it anyway"
        ) from None


def _verify(
    view: CachingStore,
    identity: str,
    digest: str,
    key: ec.EllipticCurvePublicKey,
    expect: Claims | None,
) -> VerifiedSignature:
    """`verify`, asked again of the registry if a cached signature did not verify.

    The cached signature manifest may predate a re-signing with a new key.
    """
    try:
        return verify(view, identity, digest, key, expect)
    except SignatureError:
        if not view.refresh_tags():
            raise
        return verify(view, identity, digest, key, expect)
