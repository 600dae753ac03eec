"""The digest ledger: what is published, so the JSON index can pin every version by digest.

A JSON file `{name: {version: {"digest": "sha256:…", "size": N, "parameters": [...]}}}`. The
registry is the truth it is derived from: publish records what it pushed (merged, rewritten
atomically, so a failed run still records what it did push), and `from_registry` reads back
whatever a ledger lacks, so a version pushed by a run whose ledger was lost is still pinned.
The parameters come from the built object (the artifact config), so the index and the site
can list them; a signed version's entry adds its signer and build origin
(`ebpf_hub.publish.evidence`), read back only when the hub's public key verifies them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic
from ebpf_hub.index.jsonindex import Digests, digests_json, load_digests, to_json_bytes
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.index import Published
from ebpf_hub.model.package import Package
from ebpf_hub.oci.artifact import ARTIFACT_CONFIG_MEDIA_TYPE, ARTIFACT_TYPE, CONFIG_LIMIT
from ebpf_hub.oci.errors import NotFoundError, UnsafeArtifactError
from ebpf_hub.oci.imageindex import ImageIndex, is_image_index
from ebpf_hub.oci.manifest import ImageManifest
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.store import Store, open_store, read_blob
from ebpf_hub.parallel import MAX_WORKERS, run_concurrently
from ebpf_hub.publish.evidence import read_evidence
from ebpf_hub.publish.pipeline import Destination, Outcome

Ledger = dict[str, dict[str, Published]]  # a mutable `Digests`
T = TypeVar("T")


def record(path: Path, outcomes: Iterable[Outcome]) -> None:
    """Merge what `outcomes` pushed (or found already pushed) into the ledger at `path`."""
    merged = _copy(load_digests(path))
    for outcome in outcomes:
        merged.setdefault(outcome.target.package.name, {})[outcome.target.version.version] = (
            Published(
                outcome.digest, outcome.size, outcome.parameters, outcome.signer, outcome.origin
            )
        )
    write_atomic(path, to_json_bytes(digests_json(merged)))


def from_registry(
    packages: Iterable[Package],
    destination: Destination,
    known: Digests,
    public_key: ec.EllipticCurvePublicKey | None = None,
    *,
    jobs: int = MAX_WORKERS,
) -> Ledger:
    """`known` completed with every version of `packages` it lacks that `destination` holds.

    Two requests per missing version (its manifest by tag, then its config), one package per
    thread; a version whose tag does not exist is not published and stays out. With the hub's
    `public_key`, its signature and provenance too (a few more requests each).
    """
    ledger = _copy(known)
    lacking = {
        package.name: [
            v.version for v in package.versions if v.version not in ledger.get(package.name, {})
        ]
        for package in packages
    }
    read = partial(published_entry, public_key=public_key)
    for name, found in read_per_package(destination, lacking, read, jobs=jobs).items():
        ledger.setdefault(name, {}).update(found)
    return ledger


def read_per_package(
    destination: Destination,
    versions: Mapping[str, Sequence[str]],
    read: Callable[[Store, str, str], T | None],
    *,
    jobs: int = MAX_WORKERS,
) -> dict[str, dict[str, T]]:
    """What `read(store, name, version)` finds in `destination` for each of `versions`
    (name -> versions), None left out: one package per thread, at most `jobs` threads, so
    a catalogue's round trips overlap without one thread per version. The digest fill and
    the kernel-matrix fill (`matrixledger.from_registry`) both read the registry this way."""
    found: dict[str, dict[str, T]] = {}

    def fill(name: str, wanted: Sequence[str]) -> None:
        store = _open(destination, name)
        if store is None:
            return
        mine = {}
        for version in wanted:
            entry = read(store, name, version)
            if entry is not None:
                mine[version] = entry
        if mine:
            found[name] = mine  # one thread per name

    calls = [partial(fill, name, wanted) for name, wanted in versions.items() if wanted]
    run_concurrently(calls, workers=jobs)
    return found


def published_entry(
    store: Store,
    name: str,
    version: str,
    *,
    public_key: ec.EllipticCurvePublicKey | None = None,
) -> Published | None:
    """The ledger entry of `name:version` as `store` holds it, or None if the tag is absent;
    its signer and build origin only as far as they verify with `public_key`.

    The manifest is checked against the digest the registry announces, and it must be an eBPF
    Hub package whose config names this package and version: a tag holding anything else is
    an error to fix in the registry, never a digest to pin in the index.
    """
    where = f"{store.name}:{version}"
    try:
        fetched = store.get_manifest(version)
    except NotFoundError:
        return None
    if not is_image_index(fetched.data):
        size, config = _package_manifest(store, fetched.data, where, name, version)
        total, parameters, first = len(fetched.data) + size, config.parameters, fetched.digest
    else:
        # One manifest per architecture (`publish_platforms`): each must be the package, the
        # size is every byte published for the version, and the parameters and provenance
        # are the first platform's, as publish records them.
        total, parameters, first = len(fetched.data), (), ""
        for entry in ImageIndex.parse(fetched.data, where).manifests:
            child = f"{where} ({entry.platform})"
            data = store.get_manifest(entry.descriptor.digest).data
            size, config = _package_manifest(store, data, child, name, version)
            total += len(data) + size
            if not first:
                parameters, first = config.parameters, entry.descriptor.digest
    signer, origin = read_evidence(
        store, name, version, fetched.digest, manifest=first, public_key=public_key
    )
    return Published(fetched.digest, total, parameters, signer, origin)


def _package_manifest(
    store: Store, data: bytes, where: str, name: str, version: str
) -> tuple[int, ArtifactConfig]:
    """The size of the blobs of package manifest `data` and its config, which must describe
    `name` `version`."""
    manifest = ImageManifest.parse(data, where)
    if (
        manifest.artifact_type != ARTIFACT_TYPE
        or manifest.config.media_type != ARTIFACT_CONFIG_MEDIA_TYPE
    ):
        raise UnsafeArtifactError(f"{where} is not an eBPF Hub package; remove that tag")
    try:
        config = ArtifactConfig.read(
            json.loads(read_blob(store, manifest.config, CONFIG_LIMIT)), f"{where} config"
        )
    except (ValueError, HubError):  # not the config `ebpf-hub build` writes
        config = None
    if config is None or (config.name, config.version) != (name, version):
        raise UnsafeArtifactError(
            f"{where}: its config does not describe {name} {version}; remove that tag"
        )
    return sum(blob.size for blob in manifest.blobs()), config


def _open(destination: Destination, name: str) -> Store | None:
    """The repository of package `name`, or None for a layout never pushed to."""
    reference = parse_reference(destination.repository(name))
    try:
        return open_store(reference, insecure=destination.insecure)
    except NotFoundError:
        return None


def _copy(digests: Digests) -> Ledger:
    return {name: dict(versions) for name, versions in digests.items()}
