"""Offline bundles: packages carried to a machine with no network, and verified there.

A bundle is an OCI image layout in one tar file (`ebpf_hub.client.bundlearchive`), so any OCI
tool can read it (`skopeo copy oci-archive:FILE:TAG ...`). It holds, for each exported version:

- the artifact manifest and its blobs, tagged `NAME-VERSION`;
- everything that points at the artifact: its cosign signature (tag `sha256-HEX.sig`), and
  its OCI 1.1 referrers (cosign 3's signatures, provenance) with their blobs and the index of
  them the referrers tag schema keeps (tag `sha256-HEX`), as the registry had them;
- once, tagged `ebpf-hub.tuf`: the hub's signed index files those versions need, as the hub
  serves them (`tuf/N.root.json`, `tuf/timestamp.json`, `tuf/V.snapshot.json`, the top-level
  targets and the hashed bins, `packages/SHA256.NAME.json`), each a layer titled by its path.

`export` writes only what this machine verified (the TUF-verified index, signed artifacts).
`import` trusts nothing in the file: the index files are verified by python-tuf against the
root installed on the importing machine (expiry, rollback, thresholds) into its index cache;
each artifact must be a version the verified index pins by digest, and is then fetched from
the bundle exactly as `install` fetches from a registry (signature against the configured key,
every digest) into the blob cache. `install NAME` and `run NAME` then need no network: the
index serves from its verified cache (until it expires) and the blobs from the blob cache.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebpf_hub.client.blobcache import BlobCache
from ebpf_hub.client.console import warn
from ebpf_hub.client.fetch import cached_view
from ebpf_hub.client.hubindex import HubIndex
from ebpf_hub.client.install import fetch_version, hub_source
from ebpf_hub.client.resolve import parse_spec, resolve
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from ebpf_hub.model.index import IndexPackage, IndexVersion
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.errors import NotFoundError
from ebpf_hub.oci.imageindex import ImageIndex
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import (
    OCI_INDEX,
    OCI_MANIFEST,
    TITLE_ANNOTATION,
    Descriptor,
    ImageManifest,
)
from ebpf_hub.oci.reference import LayoutReference
from ebpf_hub.oci.referrers import list_referrers, referrers_tag
from ebpf_hub.oci.signing import signature_tag
from ebpf_hub.oci.store import Store, read_blob
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir
from ebpf_hub.safetext import quote

from .bundlearchive import METADATA_LIMIT, extract_archive, write_archive

INDEX_TAG = "ebpf-hub.tuf"
INDEX_ARTIFACT_TYPE = "application/vnd.ebpf-hub.tuf.v1"
HUB_ANNOTATION = "dev.ebpf-hub.hub"  # the hub the index files were verified from
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
_EMPTY = b"{}"
# The index files a bundle may carry, by path: nothing else is written to the mirror.
_INDEX_PATH = re.compile(
    r"tuf/(timestamp|[0-9]{1,12}\.(root|snapshot|targets|bins-[0-9a-f]{1,8}))\.json"
    r"|packages/[0-9a-f]{64}\.[a-z0-9-]{1,64}\.json"
)
_HINT = "ask for a bundle `ebpf-hub export` wrote"


@dataclass(frozen=True)
class BundledVersion:
    """One package version in a bundle."""

    name: str
    version: str
    digest: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "digest": self.digest}


@dataclass(frozen=True)
class Bundle:
    """What `export` wrote or `import` made available: the versions, the hub whose signed
    index covers them, and when that index expires (the earliest expiry of its files: the
    imported packages install offline until then)."""

    path: Path
    hub: str
    versions: tuple[BundledVersion, ...]
    expires: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "hub": self.hub,
            "expires": self.expires,
            "packages": [version.to_json() for version in self.versions],
        }


def export_bundle(settings: Settings, specs: Sequence[str], out: Path) -> Bundle:
    """Write the versions `specs` name (`NAME[@VERSION]`, resolved as `install` does) with
    everything that verifies them into the bundle `out`."""
    with HubIndex(settings) as hub, _workdir("export-") as work:
        trusted = hub.trusted()  # refused unless the hub's index is signed
        layout = LayoutStore(work / "layout", create=True, durable=False)
        exported = {}
        for spec in specs:
            version = _export_version(settings, hub, spec, layout, work)
            exported[version.digest] = version  # a version named twice is carried once
        versions = list(exported.values())
        relatives = sorted({f"packages/{v.name}.json" for v in versions})
        files = trusted.mirror_files(relatives)
        _put_index_files(layout, files, trusted.hub)
        write_archive(layout.root, out)
    return Bundle(out, trusted.hub, tuple(versions), _earliest_expiry(files))


def import_bundle(settings: Settings, archive: Path) -> Bundle:
    """Verify the bundle `archive` and make its versions installable offline (see above)."""
    with _workdir("import-") as work:
        extract_archive(archive, work / "layout")
        layout = LayoutStore(work / "layout")
        files, hub_url = _index_files(layout, archive)
        mirror = work / "hub"
        for relative, data in files.items():
            (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
            (mirror / relative).write_bytes(data)
        names = sorted({p.rsplit(".", 2)[-2] for p in files if p.startswith("packages/")})
        with HubIndex(settings, mirror=mirror) as hub:
            where = hub.trusted().hub  # refused when no root is installed for the hub
            packages = _verified_packages(hub, names, archive, mirror)
        artifacts = _artifacts(layout)
        pinned = {v.digest: (p, v) for p in packages for v in p.versions if v.digest in artifacts}
        stray = sorted(set(artifacts) - set(pinned))
        if stray:
            raise HubError(
                f"{archive}: {quote(artifacts[stray[0]])} ({stray[0]}) is no version the hub's "
                "signed index pins; refusing the bundle",
                hint=_HINT,
            )
        location = LayoutReference(layout.root)
        versions = []
        for digest, (package, entry) in sorted(pinned.items(), key=lambda i: artifacts[i[0]]):
            _import_version(settings, package, entry, location, work / digest[7:])
            versions.append(BundledVersion(package.name, entry.version, digest))
            _copy_version(layout, BlobCache().layout, digest, None)  # every platform too
    if hub_url != where:
        warn(f"{archive} was exported from the hub at {quote(hub_url)}; imported for {where}")
    return Bundle(archive, where, tuple(versions), _earliest_expiry(files))


def _verified_packages(
    hub: HubIndex, names: list[str], archive: Path, mirror: Path
) -> list[IndexPackage]:
    """The package files the bundle carries, verified by TUF against the installed root; a
    refusal names the file as the bundle holds it."""
    try:
        return [hub.package(name) for name in names]
    except HubError as exc:
        message = exc.message.replace(mirror.absolute().as_uri() + "/", "")
        raise HubError(
            f"{archive}: the hub's index files in it do not verify: {message}",
            hint="do not use this bundle; ask for a new one exported from the hub",
        ) from None


def _export_version(
    settings: Settings, hub: HubIndex, spec: str, layout: LayoutStore, work: Path
) -> BundledVersion:
    """Fetch one version verified (into the blob cache), and copy it with what points at
    it from the cache into the bundle's layout."""
    name, version_spec = parse_spec(spec)
    resolution = resolve(hub.package(name), version_spec)
    if resolution.warning:
        warn(resolution.warning)
    entry = resolution.version
    out = Path(tempfile.mkdtemp(dir=work)) / "files"
    fetched = fetch_version(settings, name, entry, out, False)
    if not fetched.verified or entry.digest is None:
        raise HubError(
            f"{name} {entry.version} did not verify against the configured key; only verified "
            "packages are exported",
            hint="configure the hub's public key (--public-key / EBPF_HUB_PUBLIC_KEY)",
        )
    source = hub_source(settings, name, entry)
    with cached_view(source, settings) as view:  # the registry for blobs verifying never read
        view.trust()  # fetch_version verified the signature just now
        _copy_version(view, layout, entry.digest, f"{name}-{entry.version}".replace("+", "_"))
    return BundledVersion(name, entry.version, entry.digest)


def _import_version(
    settings: Settings,
    package: IndexPackage,
    entry: IndexVersion,
    location: LayoutReference,
    out: Path,
) -> None:
    """Fetch the version from the bundle as `install` would from the registry: afterwards
    the blob cache holds it, verified, and `install` needs no network."""
    fetched = fetch_version(settings, package.name, entry, out, False, location=location)
    if not fetched.verified:
        raise HubError(
            f"{package.name} {entry.version} in the bundle did not verify against the "
            "configured key; refusing it",
            hint="configure the hub's public key (--public-key / EBPF_HUB_PUBLIC_KEY)",
        )


def _copy_manifest(source: Store, target: Store, digest: str, tag: str | None) -> None:
    """Copy the manifest `digest` and its blobs, verified, from `source` to `target`; an
    image index with the manifest of every platform it lists, and what points at those."""
    fetched = source.get_manifest(digest)
    where = f"{source.name}@{digest}"
    if json.loads(fetched.data).get("mediaType") == OCI_INDEX:
        for entry in ImageIndex.parse(fetched.data, where).manifests:
            _copy_manifest(source, target, entry.descriptor.digest, None)
            _copy_attached(source, target, entry.descriptor.digest)  # its provenance
        target.put_manifest(fetched.data, OCI_INDEX, tag)
        return
    manifest = ImageManifest.parse(fetched.data, where)
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-copy-") as scratch:
        for blob in manifest.blobs():
            if not target.blob_exists(blob.digest):
                path = Path(scratch) / blob.digest[7:]
                source.get_blob(blob, path)
                target.put_blob(blob, path)
    target.put_manifest(fetched.data, fetched.media_type or OCI_MANIFEST, tag)


def _copy_version(source: Store, target: Store, digest: str, tag: str | None) -> None:
    """Copy the version `digest` (tagged `tag` in `target`) and what points at it."""
    _copy_manifest(source, target, digest, tag)
    _copy_attached(source, target, digest)


def _copy_attached(source: Store, target: Store, digest: str) -> None:
    """Copy what points at the artifact `digest`: its cosign signature (tag `sha256-HEX.sig`)
    and its OCI 1.1 referrers (signatures in cosign 3's form, provenance) with the index of
    them that the referrers tag schema keeps (tag `sha256-HEX`), whichever exist. Into the
    cache on import: readers check each referrer's subject and signature, as from a registry."""
    for tag in (signature_tag(digest), referrers_tag(digest)):
        try:
            fetched = source.get_manifest(tag)
        except NotFoundError:
            continue
        if tag == referrers_tag(digest):
            for referrer in list_referrers(source, digest):
                _copy_manifest(source, target, referrer.descriptor.digest, None)
            target.put_manifest(fetched.data, OCI_INDEX, tag)
        else:
            _copy_manifest(source, target, fetched.digest, tag)


def _put_index_files(layout: LayoutStore, files: dict[str, bytes], hub: str) -> None:
    """The hub's index files as one manifest, a layer per file titled by its path."""
    layers = []
    for relative, data in sorted(files.items()):
        layer = Descriptor("application/json", sha256_digest(data), len(data))
        layout.put_blob(layer, data)
        layers.append(
            Descriptor(layer.media_type, layer.digest, layer.size, {TITLE_ANNOTATION: relative})
        )
    config = Descriptor(EMPTY_MEDIA_TYPE, sha256_digest(_EMPTY), len(_EMPTY))
    layout.put_blob(config, _EMPTY)
    manifest = ImageManifest(config, tuple(layers), INDEX_ARTIFACT_TYPE, {HUB_ANNOTATION: hub})
    layout.put_manifest(manifest.to_bytes(), OCI_MANIFEST, INDEX_TAG)


def _index_files(layout: LayoutStore, archive: Path) -> tuple[dict[str, bytes], str]:
    """The hub's index files the bundle carries (by path, each checked to be one of the
    paths a hub serves), and the hub they came from."""
    if layout.resolve(INDEX_TAG) is None:
        raise HubError(f"{archive} carries no signed index ({INDEX_TAG})", hint=_HINT)
    fetched = layout.get_manifest(INDEX_TAG)
    manifest = ImageManifest.parse(fetched.data, f"{archive}:{INDEX_TAG}")
    files = {}
    for layer in manifest.layers:
        relative = layer.title or ""
        if not _INDEX_PATH.fullmatch(relative) or relative in files:
            raise HubError(
                f"{archive}: {quote(relative)} is no file of a hub's signed index", hint=_HINT
            )
        files[relative] = read_blob(layout, layer, METADATA_LIMIT)
    return files, manifest.annotations.get(HUB_ANNOTATION, "an unnamed hub")


def _artifacts(layout: LayoutStore) -> dict[str, str]:
    """The artifacts of the bundle: digest to tag (every tagged manifest but the signatures
    and the index files)."""
    found = {}
    for tag in layout.list_tags():
        if tag != INDEX_TAG and not tag.startswith("sha256-"):
            digest = layout.resolve(tag)
            assert digest is not None  # noqa: S101 - listed just now
            found[digest] = tag
    return found


def _earliest_expiry(files: dict[str, bytes]) -> str:
    """The earliest `expires` of the metadata among `files` (ISO 8601, UTC)."""
    stamps = [
        str(json.loads(data)["signed"]["expires"])
        for relative, data in files.items()
        if relative.startswith("tuf/")
    ]
    return min(stamps)


@contextmanager
def _workdir(prefix: str) -> Iterator[Path]:
    """A private scratch directory under the cache (on its filesystem), removed afterwards."""
    parent = private_dir(cache_dir(), "bundles")
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as work:
        yield Path(work)
