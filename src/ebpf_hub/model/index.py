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
from ebpf_hub.model.package import Maintainer, Output, Permissions, Source
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
class Published:
    """What the registry holds for one version (the digest ledger's entry): the manifest
    digest, the artifact's size and the parameters of its objects."""

    digest: str
    size: int
    parameters: tuple[Parameter, ...]

    @classmethod
    def from_json(cls, data: JsonObject) -> Published:
        return cls(
            data["digest"],
            data["size"],
            tuple(Parameter.from_json(p) for p in data.get("parameters", ())),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "size": self.size,
            "parameters": [p.to_json() for p in self.parameters],
        }


@dataclass(frozen=True)
class IndexProgram:
    """A program the package declares, with its ELF section and the hook kind derived."""

    name: str
    section: str
    attach: str | None
    description: str

    @classmethod
    def from_json(cls, data: JsonObject) -> IndexProgram:
        return cls(data["name"], data["section"], data["attach"], data["description"])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "section": self.section,
            "attach": self.attach,
            "description": self.description,
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
        return data
