"""The evidence behind one version, as the JSON index and the package page show it.

A catalogue that says "signed" must show by what and how to check it. Each field comes from
data the publish and index steps already hold: the version's source pin (package file), its
digest, signing key and build origin (the publish ledger: recorded as publish signs, or read
back from the registry verified with the hub's key, `ebpf_hub.publish.evidence`), its kernel
matrix verdicts (the matrix ledger) and whether this index is signed with TUF (`site build
--tuf-roots`). What the ledger does not hold (an unsigned version, or one read back with no
key to verify it) stays None, shown as "not recorded", and the verify commands check it on
the artifact itself. Nothing here is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from ebpf_hub.model.index import IndexTrust, Published
from ebpf_hub.model.matrix import KernelVerdict, Matrices, Verdict
from ebpf_hub.model.package import Package, Version
from ebpf_hub.oci.hosts import is_loopback
from ebpf_hub.oci.reference import LAYOUT_PREFIX
from ebpf_hub.trust.metadata import BINS_PREFIX

# The TUF role that signs a package's JSON file: a hashed bin that `targets` delegates to.
INDEX_ROLE = f"{BINS_PREFIX} (hashed bin delegated by targets)"
# Forges whose commit pages are at REPOSITORY/commit/SHA, and GitLab's at REPOSITORY/-/commit/.
_COMMIT_PATHS = {"github.com": "commit", "codeberg.org": "commit", "gitlab.com": "-/commit"}
# The public key the client trusts (README: EBPF_HUB_PUBLIC_KEY), for the cosign command.
_KEY = '"$EBPF_HUB_PUBLIC_KEY"'


@dataclass(frozen=True)
class VersionTrust:
    """One version's evidence (`evidence`: what the JSON index carries) and what the package
    page shows beside it: the version, its digest and its source pin."""

    version: str
    digest: str | None  # the manifest digest the index pins, once published
    source_pin: str  # "commit SHA" or "tree HASH"
    evidence: IndexTrust


def version_trust(
    package: Package,
    version: Version,
    registry: str,
    published: Published | None,
    verdicts: tuple[KernelVerdict, ...] | None,
    *,
    index_signed: bool,
) -> VersionTrust:
    """The evidence for `version` of `package`, published to `registry` as `published` says."""
    tested = verdicts or ()
    digest = published.digest if published else None
    origin = published.origin if published else None
    return VersionTrust(
        version=version.version,
        digest=digest,
        source_pin=f"commit {version.commit}" if version.commit else f"tree {version.tree}",
        evidence=IndexTrust(
            signer=published.signer if published else None,
            index_role=INDEX_ROLE if index_signed else None,
            source_url=commit_url(package.source.git, version.commit),
            builder=origin.builder if origin else None,
            run=origin.run if origin else None,
            toolchain=origin.toolchain if origin else None,
            passed=tuple(v.label for v in tested if v.status is Verdict.PASS),
            failed=tuple(v.label for v in tested if v.status is not Verdict.PASS),
            verify=f"ebpf-hub verify {package.name}@{version.version}",
            cosign=_cosign(registry, package.name, version.version, digest),
        ),
    )


# A hub's evidence: package name -> version -> what backs that version (`hub_trust`).
HubTrust = Mapping[str, Mapping[str, VersionTrust]]


def hub_trust(
    packages: Iterable[Package],
    registry: str,
    digests: Mapping[str, Mapping[str, Published]],
    matrices: Matrices | None,
    *,
    index_signed: bool,
) -> dict[str, dict[str, VersionTrust]]:
    """Every version's evidence (`package_trust`), by package name: made once for a build
    whose package pages and JSON index both show it (at 10,000 packages making it twice costs
    0.2-0.3 s of CPU). `digests` is the publish ledger, `matrices` the matrix ledger's."""
    tested = matrices or {}
    return {
        p.name: package_trust(
            p, registry, digests.get(p.name, {}), tested.get(p.name), index_signed=index_signed
        )
        for p in packages
    }


def package_trust(
    package: Package,
    registry: str,
    published: Mapping[str, Published],
    verdicts: Mapping[str, tuple[KernelVerdict, ...]] | None,
    *,
    index_signed: bool,
) -> dict[str, VersionTrust]:
    """The evidence of each version of `package` (`version_trust`), by version: `published`
    are its ledger entries and `verdicts` its kernel matrix's, both by version."""
    tested = verdicts or {}
    return {
        v.version: version_trust(
            package,
            v,
            registry,
            published.get(v.version),
            tested.get(v.version),
            index_signed=index_signed,
        )
        for v in package.versions
    }


def commit_url(git: str | None, commit: str | None) -> str | None:
    """The web page of `commit` in repository `git`, for the forges whose layout is known;
    None otherwise (a link that might not exist is worse than none)."""
    if git is None or commit is None or not git.startswith("https://"):
        return None
    host = git.removeprefix("https://").partition("/")[0].lower()
    path = _COMMIT_PATHS.get(host)
    if path is None:
        return None
    return f"{git.removesuffix('/').removesuffix('.git')}/{path}/{commit}"


def _cosign(registry: str, name: str, version: str, digest: str | None) -> str | None:
    """`cosign verify` of the signature in its referrer form (site/reference/artifact.md), as
    cosign takes it: a loopback registry speaks plain HTTP; an OCI layout is no registry
    cosign can read, and an unpublished version has no digest, so neither gets a command."""
    if digest is None or registry.startswith(LAYOUT_PREFIX):
        return None
    plain = " --allow-http-registry" if _plain_http(registry) else ""
    return (
        f"cosign verify --key {_KEY} --insecure-ignore-tlog{plain} "
        f"-a package={name} -a version={version} {registry}/{name}@{digest}"
    )


@cache
def _plain_http(registry: str) -> bool:
    """Whether `registry` is on a loopback address (asked once per build, not per version)."""
    return is_loopback(registry.partition("/")[0])
