"""One package of the JSON index as the client reads it: `api/v1/packages/<name>.json`.

`IndexPackage.from_json` takes a document `ebpf_hub.client.hubindex` has checked against
`schema/package-index.schema.json`; `to_json` gives the same JSON back (`info --json` prints
it). What the client decides on is typed: each version's semantic version, its OCI reference
split into the registry, repository and tag it names, its digest and size. The package file's
descriptive parts (maintainers, source, permissions, output) stay JSON objects until the
package-metadata model types them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import semver

from ebpf_hub.errors import HubError
from ebpf_hub.model.requires import Requires
from ebpf_hub.safetext import quote

JsonObject = Mapping[str, Any]
_REPORT = "report it to the hub"


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
class Parameter:
    """A parameter of the published object (a `const volatile` global) and its default."""

    name: str
    type: str
    default: Any  # a JSON value: the value compiled into the object

    @classmethod
    def from_json(cls, data: JsonObject) -> Parameter:
        return cls(data["name"], data["type"], data["default"])

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default}


@dataclass(frozen=True)
class Program:
    """A program the package declares, with its ELF section and the hook kind derived."""

    name: str
    section: str
    attach: str | None
    description: str

    @classmethod
    def from_json(cls, data: JsonObject) -> Program:
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
        )

    @property
    def released(self) -> bool:
        """Neither yanked nor a prerelease: what `install NAME` may choose by default."""
        return self.yanked is None and self.parsed.prerelease is None

    def to_json(self) -> dict[str, Any]:
        return {
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


@dataclass(frozen=True)
class IndexPackage:
    """A package in full, every version listed oldest first."""

    api_version: int
    name: str
    summary: str
    description: str
    license: str
    homepage: str | None
    maintainers: tuple[JsonObject, ...]
    categories: tuple[str, ...]
    keywords: tuple[str, ...] | None
    source: JsonObject
    requires: Requires
    permissions: JsonObject
    output: JsonObject | None
    latest: str | None
    programs: tuple[Program, ...]
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
            maintainers=tuple(dict(m) for m in data["maintainers"]),
            categories=tuple(data["categories"]),
            keywords=tuple(keywords) if keywords is not None else None,
            source=dict(data["source"]),
            requires=Requires.from_json(data["requires"]),
            permissions=dict(data["permissions"]),
            output=dict(data["output"]) if "output" in data else None,
            latest=data["latest"],
            programs=tuple(Program.from_json(p) for p in data["programs"]),
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
            "maintainers": [dict(m) for m in self.maintainers],
            "categories": list(self.categories),
            "source": dict(self.source),
            "requires": self.requires.to_json(),
            "permissions": dict(self.permissions),
            "latest": self.latest,
            "programs": [p.to_json() for p in self.programs],
            "versions": [v.to_json() for v in self.versions],
        }
        if self.homepage is not None:
            data["homepage"] = self.homepage
        if self.keywords is not None:
            data["keywords"] = list(self.keywords)
        if self.output is not None:
            data["output"] = dict(self.output)
        return data
