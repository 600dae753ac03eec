"""Publishing versions: build each, push it as an OCI artifact, sign it, record its digest.

Idempotent: a version whose tag already holds the same digest is skipped; one whose tag holds
another digest is refused (versions are immutable), and the registry is left as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.build.package import BuiltVersion
from ebpf_hub.build.platforms import build_platforms
from ebpf_hub.errors import HubError
from ebpf_hub.model.artifact import Parameter
from ebpf_hub.model.index import BuildOrigin
from ebpf_hub.oci.artifact import BuiltArtifact, PushResult, build_artifact, push_artifact
from ebpf_hub.oci.imageindex import Platform, build_index, push_index
from ebpf_hub.oci.manifest import OCI_MANIFEST, Descriptor
from ebpf_hub.oci.provenance import Provenance, attach_provenance
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.signing import Claims, attach_signature, sign
from ebpf_hub.oci.store import Store, open_store
from ebpf_hub.publish.evidence import origin_of, signer_of
from ebpf_hub.publish.provenance import provenance_of
from ebpf_hub.publish.select import Target


@dataclass(frozen=True)
class Destination:
    """Where artifacts go: `HOST[:PORT]/NAMESPACE` or `oci:DIR`, with how to reach it."""

    registry: str
    insecure: bool = False
    sign_as: str | None = None  # the registry a server will serve these artifacts as

    def signed_repository(self, name: str) -> str:
        """The repository a signature names: where clients pull from, which is `sign_as`
        when a layout is published for a server to serve (scripts/up), else the destination."""
        return parse_reference(f"{(self.sign_as or self.registry).rstrip('/')}/{name}").name

    def repository(self, name: str) -> str:
        """Where every version of package `name` is tagged."""
        return f"{self.registry.rstrip('/')}/{name}"

    def reference(self, name: str, version: str) -> str:
        return f"{self.repository(name)}:{version}"


@dataclass(frozen=True)
class Outcome:
    target: Target
    reference: str
    digest: str
    size: int
    pushed: bool
    parameters: tuple[Parameter, ...] = ()
    signer: str | None = None  # the signing key's fingerprint (`publish.evidence`)
    origin: BuildOrigin | None = None  # the first platform's provenance; None: unsigned


def publish_one(
    root: Path, target: Target, destination: Destination, key: ec.EllipticCurvePrivateKey | None
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-build-") as scratch:
        builds = build_platforms(root, target.package, target.version, Path(scratch))
        return publish_platforms(builds, destination, key)


def publish_built(
    built: BuiltVersion, destination: Destination, key: ec.EllipticCurvePrivateKey | None
) -> Outcome:
    """Push a built version (its files must still exist) as an artifact and sign it.

    The hub's publish builds from pinned sources first (`publish_one`); an author's
    `ebpf-hub publish DIR` builds the package directory and pushes it here the same way.
    """
    package, version = built.package, built.version
    reference = parse_reference(destination.reference(package.name, version.version))
    artifact = artifact_of(built)
    store = open_store(reference, insecure=destination.insecure, create=True)
    result = push_artifact(store, artifact, version.version)
    provenance = None
    if key is not None:
        repository = destination.signed_repository(package.name)
        provenance = _sign_and_attest(store, repository, artifact.digest, [(built, artifact)], key)
    size = _artifact_size(artifact)
    return _outcome(built, str(reference), result, size, key=key, provenance=provenance)


def artifact_of(built: BuiltVersion) -> BuiltArtifact:
    """The OCI artifact of one build (one architecture) of a version."""
    package, version = built.package, built.version
    return build_artifact(
        list(built.files),
        built.config.to_json(),
        title=package.name,
        version=version.version,
        description=package.summary,
        licenses=package.license,
        source=package.source.git or package.homepage,
        revision=version.commit or version.tree,
        created=version.created,
    )


def _artifact_size(artifact: BuiltArtifact) -> int:
    return len(artifact.manifest) + len(artifact.config) + sum(d.size for d, _ in artifact.layers)


def publish_platforms(
    builds: Sequence[BuiltVersion],
    destination: Destination,
    key: ec.EllipticCurvePrivateKey | None,
) -> Outcome:
    """Push the builds of one version (one per architecture, `build_platforms`) as an OCI
    image index under the version's tag, and sign the index: it is what the JSON index pins.
    Each platform's manifest gets its own provenance. The size recorded is every byte
    published for the version, an upper bound of what one platform's install downloads."""
    package, version = builds[0].package, builds[0].version
    reference = parse_reference(destination.reference(package.name, version.version))
    artifacts = [(Platform.of_arch(b.config.build.arch), artifact_of(b)) for b in builds]
    store = open_store(reference, insecure=destination.insecure, create=True)
    result = push_index(store, artifacts, version.version)
    provenance = None
    if key is not None:
        repository = destination.signed_repository(package.name)
        pairs = [(built, artifact) for built, (_, artifact) in zip(builds, artifacts)]
        provenance = _sign_and_attest(store, repository, result.digest, pairs, key)
    index_size = len(build_index(artifacts).to_bytes())
    size = index_size + sum(_artifact_size(artifact) for _, artifact in artifacts)
    return _outcome(builds[0], str(reference), result, size, key=key, provenance=provenance)


def _outcome(
    built: BuiltVersion,
    reference: str,
    result: PushResult,
    size: int,
    *,
    key: ec.EllipticCurvePrivateKey | None,
    provenance: Provenance | None,
) -> Outcome:
    """What the ledger records of one pushed version; `built`: its (first platform's) build,
    `provenance`: the one attached to that build's manifest, if signed."""
    return Outcome(
        Target(built.package, built.version),
        reference,
        result.digest,
        size,
        result.manifest_pushed,
        built.config.parameters,
        signer_of(key.public_key()) if key is not None else None,
        origin_of(provenance) if provenance is not None else None,
    )


def _sign_and_attest(
    store: Store,
    repository: str,
    digest: str,
    builds: Sequence[tuple[BuiltVersion, BuiltArtifact]],
    key: ec.EllipticCurvePrivateKey,
) -> Provenance:
    """Sign `digest` (what the JSON index pins: the single manifest, or the image index of
    `builds`) in both of cosign's forms, naming its package and version, and attach each
    build's signed provenance to its own manifest (each step does nothing when already done).
    Returns the first build's provenance, which the ledger records."""
    first = builds[0][0]
    claims = Claims(first.package.name, first.version.version)
    sign(store, repository, digest, key, claims)
    attach_signature(store, digest, key, claims)
    provenances = [provenance_of(built) for built, _ in builds]
    for provenance, (_, artifact) in zip(provenances, builds):
        subject = Descriptor(OCI_MANIFEST, artifact.digest, len(artifact.manifest))
        attach_provenance(store, subject, provenance, key)
    return provenances[0]


def publish_all(
    root: Path,
    targets: Sequence[Target],
    destination: Destination,
    key: ec.EllipticCurvePrivateKey | None,
    *,
    jobs: int = 4,
    on_done: Callable[[Outcome | None, Target, HubError | None], None] | None = None,
) -> tuple[list[Outcome], list[tuple[Target, HubError]]]:
    """Publish `targets` in parallel; every failure is collected, successes are kept.

    The versions of one package go one after the other: they share blobs and often whole
    per-platform manifests (a version that only adds a trigger script), and a registry
    (distribution 2.8) answers two concurrent uploads of one manifest with DIGEST_INVALID."""
    outcomes: list[Outcome] = []
    failures: list[tuple[Target, HubError]] = []

    def run(target: Target) -> None:
        try:
            outcome = publish_one(root, target, destination, key)
        except HubError as exc:
            failures.append((target, exc))
            if on_done:
                on_done(None, target, exc)
            return
        outcomes.append(outcome)
        if on_done:
            on_done(outcome, target, None)

    by_package: dict[str, list[Target]] = {}
    for target in targets:
        by_package.setdefault(target.package.name, []).append(target)

    def run_versions(versions: list[Target]) -> None:
        for target in versions:
            run(target)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(run_versions, by_package.values()))
    outcomes.sort(key=lambda o: o.target.label)
    failures.sort(key=lambda f: f[0].label)
    return outcomes, failures
