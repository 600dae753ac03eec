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

from ebpf_hub.build.package import BuiltVersion, build_version
from ebpf_hub.errors import HubError
from ebpf_hub.model.artifact import Parameter
from ebpf_hub.oci.artifact import build_artifact, push_artifact
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.signing import sign
from ebpf_hub.oci.store import open_store
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


def publish_one(
    root: Path, target: Target, destination: Destination, key: ec.EllipticCurvePrivateKey | None
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-build-") as scratch:
        built = build_version(root, target.package, target.version, Path(scratch))
        return publish_built(built, destination, key)


def publish_built(
    built: BuiltVersion, destination: Destination, key: ec.EllipticCurvePrivateKey | None
) -> Outcome:
    """Push a built version (its files must still exist) as an artifact and sign it.

    The hub's publish builds from pinned sources first (`publish_one`); an author's
    `ebpf-hub publish DIR` builds the package directory and pushes it here the same way.
    """
    package, version = built.package, built.version
    reference = parse_reference(destination.reference(package.name, version.version))
    artifact = build_artifact(
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
    store = open_store(reference, insecure=destination.insecure, create=True)
    result = push_artifact(store, artifact, version.version)
    if key is not None:
        sign(store, destination.signed_repository(package.name), result.digest, key)
    size = len(artifact.manifest) + len(artifact.config) + sum(d.size for d, _ in artifact.layers)
    return Outcome(
        Target(package, version),
        str(reference),
        result.digest,
        size,
        result.manifest_pushed,
        built.config.parameters,
    )


def publish_all(
    root: Path,
    targets: Sequence[Target],
    destination: Destination,
    key: ec.EllipticCurvePrivateKey | None,
    *,
    jobs: int = 4,
    on_done: Callable[[Outcome | None, Target, HubError | None], None] | None = None,
) -> tuple[list[Outcome], list[tuple[Target, HubError]]]:
    """Publish `targets` in parallel; every failure is collected, successes are kept."""
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

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(run, targets))
    outcomes.sort(key=lambda o: o.target.label)
    failures.sort(key=lambda f: f[0].label)
    return outcomes, failures
