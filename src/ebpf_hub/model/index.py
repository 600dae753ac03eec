"""One package of the JSON index as the client reads it: `api/v1/packages/<name>.json`.

`IndexPackage.from_json` takes a document `ebpf_hub.client.hubindex` has checked against
`schema/package-index.schema.json`; `to_json` gives the same JSON back (`info --json` prints
it). What the client decides on is typed: each version's semantic version, its OCI reference
split into the registry, repository and tag it names, its digest and size; the package file's
parts are those of `ebpf_hub.model.package`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import semver

from ebpf_hub.errors import HubError
from ebpf_hub.model.artifact import Parameter
from ebpf_hub.model.matrix import KernelVerdict
from ebpf_hub.model.modes import (
    Filter,
    Mode,
    filters_from_json,
    filters_to_json,
    modes_from_json,
    modes_to_json,
)
from ebpf_hub.model.package import Maintainer, Output, Permissions, Source
from ebpf_hub.model.paramdecl import ParameterDecl, declarations_from_json, declarations_to_json
from ebpf_hub.model.requires import Requires
from ebpf_hub.safetext import quote

JsonObject = Mapping[str, Any]
_REPORT = "report it to the hub"


class SummaryVersion(NamedTuple):
    """A version as `index.json` lists it: enough to pick one."""

    version: str
    created: str
    yanked: bool


class IndexSummary(NamedTuple):
    """A package as `index.json` lists it, to search and list.

    A named tuple rather than a dataclass: a hub of 10,000 packages builds 10,000 of them on
    every search.
    """

    name: str
    summary: str
    license: str
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    latest: str | None
    updated: str
    versions: tuple[SummaryVersion, ...]

    @classmethod
    def from_json(cls, data: JsonObject) -> IndexSummary:
        """From an entry of a checked `index.json`."""
        return cls(
            data["name"],
            data["summary"],
            data["license"],
            tuple(data["categories"]),
            tuple(data["keywords"]),
            data["latest"],
            data["updated"],
            tuple(
                SummaryVersion(v["version"], v["created"], v["yanked"]) for v in data["versions"]
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "license": self.license,
            "categories": list(self.categories),
            "keywords": list(self.keywords),
            "latest": self.latest,
            "updated": self.updated,
            "versions": [v._asdict() for v in self.versions],
        }


@dataclass(frozen=True)
class IndexReference:
    """A version's `ref`, `REGISTRY/REPOSITORY:TAG`, as the index writes it.

    `registry` is what the index (and the client's `--registry`) calls a registry: a host with
    an optional port and namespace (`ghcr.io/ebpf-hub/packages`, `localhost:5000/a/b`) or an
    OCI layout directory (`oci:build/oci`); `repository` is the package's repository in it,
    `tag` its version.
    """

    registry: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> IndexReference:
        """`text` split at its last '/' and the ':' after it, or one clear error."""
        registry, slash, rest = text.rpartition("/")
        repository, colon, tag = rest.partition(":")
        if not (slash and colon and registry and repository and tag) or "@" in text:
            raise HubError(
                f"the hub lists the reference {quote(text)}, which is not REGISTRY/NAME:VERSION",
                hint=_REPORT,
            )
        return cls(registry, repository, tag)

    @property
    def location(self) -> str:
        """`REGISTRY/REPOSITORY`: where the artifact is, without its tag."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        return f"{self.location}:{self.tag}"


@dataclass(frozen=True)
class BuildOrigin:
    """Who built a version and with what, as its signed SLSA provenance says: the trust
    panel shows it without the reader fetching the provenance."""

    builder: str  # the provenance's builder id (the CI workflow, or the local builder)
    run: str | None  # the CI run's URL; None for a build outside CI
    toolchain: Mapping[str, str]  # tool -> version: clang, libbpf, bpftool

    @classmethod
    def from_json(cls, data: JsonObject) -> BuildOrigin:
        return cls(
            data["id"], data.get("run"), {str(k): str(v) for k, v in data["toolchain"].items()}
        )

    def to_json(self) -> dict[str, Any]:
        return {"id": self.builder, "run": self.run, "toolchain": dict(self.toolchain)}


@dataclass(frozen=True)
class Published:
    """What the registry holds for one version (the digest ledger's entry): the manifest
    digest, the artifact's size and the parameters of its objects; and, when the hub's key
    signed it, that key's fingerprint and the build origin its provenance records (None:
    unsigned, or read back with no key to verify them; ledgers older than these fields)."""

    digest: str
    size: int
    parameters: tuple[Parameter, ...]
    signer: str | None = None  # `sha256:` + cosign's key hint, as `ebpf-hub verify` names it
    origin: BuildOrigin | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Published:
        origin = data.get("builder")
        return cls(
            data["digest"],
            data["size"],
            tuple(Parameter.from_json(p) for p in data.get("parameters", ())),
            data.get("signer"),
            BuildOrigin.from_json(origin) if origin is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The ledger entry; the signed evidence only when there is some, so an unsigned
        publish writes the entry older ledgers hold."""
        data: dict[str, Any] = {
            "digest": self.digest,
            "size": self.size,
            "parameters": [p.to_json() for p in self.parameters],
        }
        if self.signer is not None:
            data["signer"] = self.signer
        if self.origin is not None:
            data["builder"] = self.origin.to_json()
        return data


@dataclass(frozen=True)
class IndexProgram:
    """A program the package declares, with its ELF section and the hook kind derived."""

    name: str
    section: str
    attach: str | None
    description: str
    optional: bool = False  # skipped with a note where its hook is missing

    @classmethod
    def from_json(cls, data: JsonObject) -> IndexProgram:
        return cls(
            data["name"],
            data["section"],
            data["attach"],
            data["description"],
            data.get("optional", False),
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "section": self.section,
            "attach": self.attach,
            "description": self.description,
        }
        return {**data, "optional": True} if self.optional else data


@dataclass(frozen=True)
class IndexTrust:
    """A version's `trust` object: the evidence behind it, as the catalogue shows it
    (`ebpf_hub.index.trust` derives it from the ledgers); None where the hub's data does not
    say. The client reads it back unchanged; what it checks, it checks on the artifact."""

    signer: str | None  # the fingerprint of the hub key that signed the artifact
    index_role: str | None  # the TUF role signing this version's index entry, if signed
    source_url: str | None  # the commit's page at a known forge
    builder: str | None  # the provenance's builder id
    run: str | None  # the provenance's CI run (a URL)
    toolchain: Mapping[str, str] | None  # tool -> version (clang, libbpf, bpftool)
    passed: tuple[str, ...]  # kernels (arch/name) the version loaded and attached on
    failed: tuple[str, ...]  # kernels it failed or only partly attached on
    verify: str  # the `ebpf-hub verify` command
    cosign: str | None  # the `cosign verify` command, for a version in a registry

    @classmethod
    def from_json(cls, data: JsonObject) -> IndexTrust:
        toolchain = data["toolchain"]
        return cls(
            signer=data["signer"],
            index_role=data["index_role"],
            source_url=data["source_url"],
            builder=data["builder"],
            run=data["run"],
            toolchain=None if toolchain is None else {str(k): str(v) for k, v in toolchain.items()},
            passed=tuple(data["kernels_passed"]),
            failed=tuple(data["kernels_failed"]),
            verify=data["verify"],
            cosign=data["cosign"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "signer": self.signer,
            "index_role": self.index_role,
            "source_url": self.source_url,
            "builder": self.builder,
            "run": self.run,
            "toolchain": dict(self.toolchain) if self.toolchain is not None else None,
            "kernels_passed": list(self.passed),
            "kernels_failed": list(self.failed),
            "verify": self.verify,
            "cosign": self.cosign,
        }


@dataclass(frozen=True)
class IndexVersion:
    """One version of a package: its source pin, OCI reference and, once published, digest."""

    version: str
    parsed: semver.Version = field(compare=False, repr=False)  # `version`, parsed
    created: str
    changes: str
    commit: str | None
    tree: str | None
    yanked: str | None
    reference: IndexReference
    digest: str | None
    size: int | None
    pinned: str | None
    parameters: tuple[Parameter, ...] | None
    matrix: tuple[KernelVerdict, ...] | None = None  # the kernel matrix's verdicts, if tested
    trust: IndexTrust | None = None  # the evidence behind it (indexes since the trust panel)

    @classmethod
    def from_json(cls, data: JsonObject, package: str) -> IndexVersion:
        """From a checked version entry of `package`; a version that is no semantic version
        or a reference of another form is the hub's fault, and said so."""
        version: str = data["version"]
        try:
            parsed = semver.Version.parse(version)
        except ValueError:
            raise HubError(
                f"{package}: the hub lists version {quote(version)}, which is not a semantic "
                "version",
                hint=_REPORT,
            ) from None
        parameters = data["parameters"]
        matrix = data.get("matrix")
        trust = data.get("trust")
        return cls(
            version=version,
            parsed=parsed,
            created=data["created"],
            changes=data["changes"],
            commit=data["commit"],
            tree=data["tree"],
            yanked=data["yanked"],
            reference=IndexReference.parse(data["ref"]),
            digest=data["digest"],
            size=data["size"],
            pinned=data["pinned"],
            parameters=(
                tuple(Parameter.from_json(p) for p in parameters)
                if parameters is not None
                else None
            ),
            matrix=(
                tuple(KernelVerdict.from_json(k) for k in matrix) if matrix is not None else None
            ),
            trust=IndexTrust.from_json(trust) if trust is not None else None,
        )

    @property
    def released(self) -> bool:
        """Neither yanked nor a prerelease: what `install NAME` may choose by default."""
        return self.yanked is None and self.parsed.prerelease is None

    def is_newer_than(self, installed: str) -> bool:
        """Whether this version is newer than the `installed` one (a version that is no
        semantic version, from a damaged record, is older than any: `upgrade` replaces it)."""
        try:
            return self.parsed > semver.Version.parse(installed)
        except ValueError:
            return True

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "created": self.created,
            "changes": self.changes,
            "commit": self.commit,
            "tree": self.tree,
            "yanked": self.yanked,
            "ref": str(self.reference),
            "digest": self.digest,
            "size": self.size,
            "pinned": self.pinned,
            "parameters": (
                [p.to_json() for p in self.parameters] if self.parameters is not None else None
            ),
        }
        if self.trust is not None:
            data["trust"] = self.trust.to_json()
        if self.matrix is not None:
            data["matrix"] = [k.to_json() for k in self.matrix]
        return data


@dataclass(frozen=True)
class IndexPackage:
    """A package in full, every version listed oldest first."""

    api_version: int
    name: str
    summary: str
    description: str
    license: str
    homepage: str | None
    maintainers: tuple[Maintainer, ...]
    categories: tuple[str, ...]
    keywords: tuple[str, ...] | None
    source: Source
    requires: Requires
    permissions: Permissions
    output: Output | None
    latest: str | None
    programs: tuple[IndexProgram, ...]
    versions: tuple[IndexVersion, ...]
    modes: tuple[Mode, ...] = ()  # ebpf_hub.model.modes
    filters: tuple[Filter, ...] = ()
    parameter_decls: tuple[ParameterDecl, ...] = ()  # ebpf_hub.model.paramdecl

    @classmethod
    def from_json(cls, data: JsonObject) -> IndexPackage:
        """From a checked `packages/<name>.json` document."""
        name: str = data["name"]
        keywords = data.get("keywords")
        return cls(
            api_version=data["api_version"],
            name=name,
            summary=data["summary"],
            description=data["description"],
            license=data["license"],
            homepage=data.get("homepage"),
            maintainers=tuple(Maintainer.from_json(m) for m in data["maintainers"]),
            categories=tuple(data["categories"]),
            keywords=tuple(keywords) if keywords is not None else None,
            source=Source.from_json(data["source"]),
            requires=Requires.from_json(data["requires"]),
            permissions=Permissions.from_json(data["permissions"]),
            output=Output.from_json(data["output"]) if "output" in data else None,
            latest=data["latest"],
            programs=tuple(IndexProgram.from_json(p) for p in data["programs"]),
            versions=tuple(IndexVersion.from_json(v, name) for v in data["versions"]),
            modes=modes_from_json(data.get("modes")),
            filters=filters_from_json(data.get("filters")),
            parameter_decls=declarations_from_json(data.get("parameters")) or (),
        )

    def to_json(self) -> dict[str, Any]:
        """The document as it was read (optional fields it lacked stay absent)."""
        data: dict[str, Any] = {
            "api_version": self.api_version,
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "license": self.license,
            "maintainers": [m.to_json() for m in self.maintainers],
            "categories": list(self.categories),
            "source": self.source.to_json(),
            "requires": self.requires.to_json(),
            "permissions": self.permissions.to_json(),
            "latest": self.latest,
            "programs": [p.to_json() for p in self.programs],
            "versions": [v.to_json() for v in self.versions],
        }
        if self.homepage is not None:
            data["homepage"] = self.homepage
        if self.keywords is not None:
            data["keywords"] = list(self.keywords)
        if self.output is not None:
            data["output"] = self.output.to_json()
        if self.modes:
            data["modes"] = modes_to_json(self.modes)
        if self.filters:
            data["filters"] = filters_to_json(self.filters)
        if self.parameter_decls:
            data["parameters"] = declarations_to_json(self.parameter_decls)
        return data
