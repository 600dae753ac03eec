"""A package's metadata: `index/packages/<name>.yaml` (or a package directory's `ebpf-hub.yaml`).

`Package.from_json` takes a document that passed `schema/package.schema.json`; `to_json` gives
the same document back (optional fields it lacked stay absent), which is what the JSON index
and the artifact config copy. The parts (`Source`, `Permissions`, `Output`, ...) are shared by
those two contracts, so each is read in one place and each schema default is written once,
here or in `ebpf_hub.model.requires`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ebpf_hub.model.modes import (
    Choices,
    Filter,
    Mode,
    filters_from_json,
    filters_to_json,
    modes_from_json,
    modes_to_json,
)
from ebpf_hub.model.outputformat import (
    FieldFormat,
    UnionChoice,
    fields_from_json,
    fields_to_json,
    unions_from_json,
    unions_to_json,
)
from ebpf_hub.model.paramdecl import ParameterDecl, declarations_from_json, declarations_to_json
from ebpf_hub.model.requires import Requires

JsonObject = Mapping[str, Any]

DEFAULT_READS_USER_MEMORY = False  # schema: permissions.reads_user_memory.default
DEFAULT_DROPS_PACKETS = False  # schema: permissions.drops_packets.default
DEFAULT_WERROR = True  # schema: compile.werror.default


def _optional(data: dict[str, Any], **fields: object) -> dict[str, Any]:
    """`data` with each field that is not None added: what a `to_json` writes for optionals."""
    data.update((key, value) for key, value in fields.items() if value is not None)
    return data


def _strings(value: Any) -> tuple[str, ...] | None:
    return tuple(value) if value is not None else None


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return list(value) if value is not None else None


def attach_kind(section: str) -> str | None:
    """The kind of hook (``permissions.attach``) a program in `section` attaches to, or None
    when no package may ship such a section; one table decides (`ebpf_hub.bpfobj.kinds`, read
    only when a section is asked about: the client reads the model at start-up)."""
    from ebpf_hub.bpfobj.kinds import hook_kind

    kind = hook_kind(section)
    return kind.name if kind else None


@dataclass(frozen=True)
class Maintainer:
    name: str
    email: str | None = None
    github: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Maintainer:
        return cls(data["name"], data.get("email"), data.get("github"))

    def to_json(self) -> dict[str, Any]:
        return _optional({"name": self.name}, email=self.email, github=self.github)


@dataclass(frozen=True)
class Source:
    """Where the C sources live: `path` in the hub's repository or a `git` repository (with a
    `subdir`); in an artifact config also the `commit` or `tree` the version was built from."""

    path: str | None = None
    git: str | None = None
    subdir: str | None = None
    commit: str | None = None
    tree: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Source:
        return cls(
            data.get("path"),
            data.get("git"),
            data.get("subdir"),
            data.get("commit"),
            data.get("tree"),
        )

    def pinned(self, version: Version) -> Source:
        """The source as `version` pins it: a tree hash, else a git commit."""
        if version.tree:
            return replace(self, tree=version.tree)
        return replace(self, commit=version.commit or "")

    def to_json(self) -> dict[str, Any]:
        return _optional(
            {}, path=self.path, git=self.git, subdir=self.subdir, commit=self.commit, tree=self.tree
        )


@dataclass(frozen=True)
class Permissions:
    """What the programs may do: the hook kinds they attach to and the dangerous calls and
    effects they declare. Fields ending in `_field` keep whether the document named them;
    their properties answer with the schema's default."""

    attach: tuple[str, ...]
    helpers_field: tuple[str, ...] | None = None
    kfuncs_field: tuple[str, ...] | None = None
    reads_user_memory_field: bool | None = None
    drops_packets_field: bool | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Permissions:
        return cls(
            attach=tuple(data.get("attach", ())),
            helpers_field=_strings(data.get("helpers")),
            kfuncs_field=_strings(data.get("kfuncs")),
            reads_user_memory_field=data.get("reads_user_memory"),
            drops_packets_field=data.get("drops_packets"),
        )

    @property
    def helpers(self) -> tuple[str, ...]:
        return self.helpers_field or ()

    @property
    def kfuncs(self) -> tuple[str, ...]:
        return self.kfuncs_field or ()

    @property
    def reads_user_memory(self) -> bool:
        field = self.reads_user_memory_field
        return DEFAULT_READS_USER_MEMORY if field is None else field

    @property
    def drops_packets(self) -> bool:
        field = self.drops_packets_field
        return DEFAULT_DROPS_PACKETS if field is None else field

    def to_json(self) -> dict[str, Any]:
        return _optional(
            {"attach": list(self.attach)},
            helpers=_list(self.helpers_field),
            kfuncs=_list(self.kfuncs_field),
            reads_user_memory=self.reads_user_memory_field,
            drops_packets=self.drops_packets_field,
        )


@dataclass(frozen=True)
class OutputMap:
    """A map `ebpf-hub run` prints on an interval, and how; `fields` are the formats of its
    key and value fields (`key`/`value` when scalar), as events' `output.fields`."""

    map: str
    kind: str  # counter, histogram or table
    unit: str | None = None
    title: str | None = None
    fields: tuple[tuple[str, FieldFormat], ...] | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> OutputMap:
        fields = fields_from_json(data.get("fields"))
        return cls(data["map"], data["kind"], data.get("unit"), data.get("title"), fields)

    def to_json(self) -> dict[str, Any]:
        return _optional(
            {"map": self.map, "kind": self.kind},
            unit=self.unit,
            title=self.title,
            fields=fields_to_json(self.fields),
        )


@dataclass(frozen=True)
class Output:
    """What `ebpf-hub run` prints: events of the `events` ring buffer, and maps; how the
    event fields print (ebpf_hub.model.outputformat)."""

    events: bool | None = None
    maps: tuple[OutputMap, ...] | None = None
    columns: tuple[str, ...] | None = None
    fields: tuple[tuple[str, FieldFormat], ...] | None = None
    unions: tuple[UnionChoice, ...] | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Output:
        maps = data.get("maps")
        return cls(
            data.get("events"),
            tuple(OutputMap.from_json(m) for m in maps) if maps is not None else None,
            _strings(data.get("columns")),
            fields_from_json(data.get("fields")),
            unions_from_json(data.get("unions")),
        )

    @property
    def output_maps(self) -> tuple[OutputMap, ...]:
        return self.maps or ()

    def to_json(self) -> dict[str, Any]:
        maps = [m.to_json() for m in self.maps] if self.maps is not None else None
        return _optional(
            {},
            events=self.events,
            maps=maps,
            columns=_list(self.columns),
            fields=fields_to_json(self.fields),
            unions=unions_to_json(self.unions),
        )


@dataclass(frozen=True)
class CompileSettings:
    """The bounded build settings of a package: macros and include directories of its source
    (the schema bounds their spelling; the builder checks the directories are inside it).
    Fields ending in `_field` keep whether the document named them."""

    defines_field: tuple[tuple[str, str], ...] | None = None
    include_field: tuple[str, ...] | None = None
    werror_field: bool | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> CompileSettings:
        defines = data.get("defines")
        return cls(
            tuple(defines.items()) if defines is not None else None,
            _strings(data.get("include")),
            data.get("werror"),
        )

    @property
    def defines(self) -> tuple[tuple[str, str], ...]:
        return self.defines_field or ()

    @property
    def include(self) -> tuple[str, ...]:
        return self.include_field or ()

    @property
    def werror(self) -> bool:
        return DEFAULT_WERROR if self.werror_field is None else self.werror_field

    def to_json(self) -> dict[str, Any]:
        defines = dict(self.defines_field) if self.defines_field is not None else None
        return _optional(
            {}, defines=defines, include=_list(self.include_field), werror=self.werror_field
        )


@dataclass(frozen=True)
class Program:
    name: str
    section: str
    description: str | None = None
    optional: bool | None = None  # skipped with a note when its hook is missing here

    @classmethod
    def from_json(cls, data: JsonObject) -> Program:
        return cls(data["name"], data["section"], data.get("description"), data.get("optional"))

    @property
    def attach(self) -> str | None:
        return attach_kind(self.section)

    def to_json(self) -> dict[str, Any]:
        return _optional(
            {"name": self.name, "section": self.section},
            description=self.description,
            optional=self.optional,
        )


@dataclass(frozen=True)
class Version:
    version: str
    created: str
    changes: str
    commit: str | None = None
    tree: str | None = None
    yanked: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Version:
        return cls(
            data["version"],
            data["created"],
            data["changes"],
            data.get("commit"),
            data.get("tree"),
            data.get("yanked"),
        )

    @property
    def pin(self) -> str | None:
        """What fixes this version's source: a git commit or a directory hash."""
        return self.commit or self.tree

    def to_json(self) -> dict[str, Any]:
        return _optional(
            {"version": self.version, "created": self.created, "changes": self.changes},
            commit=self.commit,
            tree=self.tree,
            yanked=self.yanked,
        )


@dataclass(frozen=True)
class Package:
    """A package's metadata, every version listed oldest first."""

    name: str
    summary: str
    description: str
    license: str
    maintainers: tuple[Maintainer, ...]
    categories: tuple[str, ...]
    source: Source
    requires: Requires
    programs: tuple[Program, ...]
    permissions: Permissions
    versions: tuple[Version, ...]
    homepage: str | None = None
    keywords_field: tuple[str, ...] | None = None
    output: Output | None = None
    compile_field: CompileSettings | None = None
    parameters_field: tuple[ParameterDecl, ...] | None = None
    modes_field: tuple[Mode, ...] | None = None
    filters_field: tuple[Filter, ...] | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Package:
        """From a document that passed the package schema."""
        output = data.get("output")
        settings = data.get("compile")
        return cls(
            name=data["name"],
            summary=data["summary"],
            description=data["description"],
            license=data["license"],
            maintainers=tuple(Maintainer.from_json(m) for m in data["maintainers"]),
            categories=tuple(data["categories"]),
            source=Source.from_json(data["source"]),
            requires=Requires.from_json(data["requires"]),
            programs=tuple(Program.from_json(p) for p in data["programs"]),
            permissions=Permissions.from_json(data["permissions"]),
            versions=tuple(Version.from_json(v) for v in data["versions"]),
            homepage=data.get("homepage"),
            keywords_field=_strings(data.get("keywords")),
            output=Output.from_json(output) if output is not None else None,
            compile_field=CompileSettings.from_json(settings) if settings is not None else None,
            parameters_field=declarations_from_json(data.get("parameters")),
            modes_field=modes_from_json(data["modes"]) if "modes" in data else None,
            filters_field=filters_from_json(data["filters"]) if "filters" in data else None,
        )

    @property
    def choices(self) -> Choices:
        """Its modes, optional programs and filters (ebpf_hub.model.modes)."""
        return Choices(
            self.modes_field or (),
            frozenset(p.name for p in self.programs if p.optional),
            self.filters_field or (),
        )

    @property
    def compile(self) -> CompileSettings:
        return self.compile_field or CompileSettings()

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.keywords_field or ()

    @property
    def parameter_decls(self) -> tuple[ParameterDecl, ...]:
        """The typed declarations of the object's parameters (`parameters:`)."""
        return self.parameters_field or ()

    @property
    def latest(self) -> Version | None:
        """The newest version that is not yanked (what `install NAME` picks)."""
        for version in reversed(self.versions):
            if version.yanked is None:
                return version
        return None

    def to_json(self) -> dict[str, Any]:
        """The document as it was read."""
        return _optional(
            {
                "name": self.name,
                "summary": self.summary,
                "description": self.description,
                "license": self.license,
                "maintainers": [m.to_json() for m in self.maintainers],
                "categories": list(self.categories),
                "source": self.source.to_json(),
                "requires": self.requires.to_json(),
                "programs": [p.to_json() for p in self.programs],
                "permissions": self.permissions.to_json(),
                "versions": [v.to_json() for v in self.versions],
            },
            homepage=self.homepage,
            keywords=_list(self.keywords_field),
            output=self.output.to_json() if self.output is not None else None,
            compile=self.compile_field.to_json() if self.compile_field is not None else None,
            parameters=(
                declarations_to_json(self.parameters_field)
                if self.parameters_field is not None
                else None
            ),
            modes=modes_to_json(self.modes_field) if self.modes_field is not None else None,
            filters=filters_to_json(self.filters_field) if self.filters_field is not None else None,
        )
