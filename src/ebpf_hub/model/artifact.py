"""The artifact config: what a published version is, as `ebpf-hub build` writes it.

It is the config blob of the OCI artifact (so part of its digest: the JSON form is
deterministic), the `config.json` beside an unpacked artifact, and the `config` of an install
record. The client shows it before installing, the runner reads its declarations (requires,
permissions, output) and the index lists its parameters.

`ArtifactConfig.read` takes a config that may come from a registry: it is checked against
`schema/artifact-config.schema.json` first, and a config that does not fit is refused with one
line; `from_json` takes one that was checked already (an install record's). The description
of each object (`ObjectEntry.description`) is kept as written: nothing decides on it, since the
client reads the objects themselves (`ebpf_hub.bpfobj`), never what a config says of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ebpf_hub.errors import HubError
from ebpf_hub.model.modes import (
    Choices,
    filters_from_json,
    filters_to_json,
    modes_from_json,
    modes_to_json,
)
from ebpf_hub.model.package import Output, Package, Permissions, Source, Version
from ebpf_hub.model.paramdecl import ParameterDecl, declarations_from_json, declarations_to_json
from ebpf_hub.model.paramvalues import render
from ebpf_hub.model.requires import Requires
from ebpf_hub.schemas import first_error

CONFIG_VERSION = 1
SCHEMA = "artifact-config.schema.json"


@dataclass(frozen=True)
class Parameter:
    """A parameter of the published object (a `const volatile` global) and its default;
    when the package declares it, also its description, declared type (`kind`: signal-set,
    duration...), unit and the default in that type's form (`default_text`: `KILL`, `10ms`)."""

    name: str
    type: str
    default: Any  # a JSON value: the value compiled into the object
    description: str | None = None
    kind: str | None = None
    unit: str | None = None
    default_text: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parameter:
        return cls(
            data["name"],
            data["type"],
            data["default"],
            data.get("description"),
            data.get("kind"),
            data.get("unit"),
            data.get("defaultText"),
        )

    def declared(self, decl: ParameterDecl | None) -> Parameter:
        """This parameter with what `decl` says of it."""
        if decl is None:
            return self
        return replace(
            self,
            description=decl.description,
            kind=decl.type,
            unit=decl.unit,
            default_text=render(decl, self.default),
        )

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "type": self.type, "default": self.default}
        optional = {
            "description": self.description,
            "kind": self.kind,
            "unit": self.unit,
            "defaultText": self.default_text,
        }
        data.update((key, value) for key, value in optional.items() if value is not None)
        return data


@dataclass(frozen=True)
class BuildInfo:
    """How the objects were compiled: what `verify --rebuild` needs to do it again."""

    compiler: str
    flags: tuple[str, ...]
    arch: str
    vmlinux_btf_sha256: str
    # The pinned kernel that BTF came from (`debian:SUITE/PACKAGE=VERSION`); None when it was
    # the build host's running kernel (objects of the host's own architecture).
    vmlinux_source: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildInfo:
        return cls(
            data["compiler"],
            tuple(data["flags"]),
            data["arch"],
            data["vmlinuxBtfSha256"],
            data.get("vmlinuxSource"),
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "compiler": self.compiler,
            "flags": list(self.flags),
            "arch": self.arch,
            "vmlinuxBtfSha256": self.vmlinux_btf_sha256,
        }
        if self.vmlinux_source is not None:
            data["vmlinuxSource"] = self.vmlinux_source
        return data


@dataclass(frozen=True)
class ObjectEntry:
    """One compiled object: its file name and its description (`ObjectInfo.to_json()`)."""

    file: str
    description: Mapping[str, Any]

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The object's `const volatile` globals, their C qualifiers dropped."""
        return tuple(
            Parameter(p["name"], _unqualified(p["type"]["type"]), p["default"])
            for p in self.description.get("parameters", ())
        )

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, **self.description}


def _unqualified(c_type: str) -> str:
    for qualifier in ("const ", "volatile ", "const "):
        c_type = c_type.removeprefix(qualifier)
    return c_type


@dataclass(frozen=True)
class ArtifactConfig:
    name: str
    version: str
    summary: str
    license: str
    created: str
    source: Source
    requires: Requires
    permissions: Permissions
    output: Output
    objects: tuple[ObjectEntry, ...]
    build: BuildInfo
    config_version: int = CONFIG_VERSION
    # The package's typed declarations of its parameters (top-level `parameters`).
    parameter_decls: tuple[ParameterDecl, ...] = ()
    # Its modes, optional programs and filters (top-level `modes`, `optionalPrograms`, `filters`).
    choices: Choices = field(default_factory=Choices)

    @classmethod
    def describe(
        cls, package: Package, version: Version, objects: tuple[ObjectEntry, ...], build: BuildInfo
    ) -> ArtifactConfig:
        """The config of `version` of `package` built into `objects`."""
        return cls(
            name=package.name,
            version=version.version,
            summary=package.summary,
            license=package.license,
            created=version.created,
            source=package.source.pinned(version),
            requires=package.requires,
            permissions=package.permissions,
            output=package.output or Output(),
            objects=objects,
            build=build,
            parameter_decls=package.parameter_decls,
            choices=package.choices,
        )

    @classmethod
    def read(cls, data: object, where: str) -> ArtifactConfig:
        """A config read from `where` (a registry, a file), checked before it is used."""
        check_artifact_config(data, where)
        assert isinstance(data, Mapping)  # noqa: S101 - the schema says so
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArtifactConfig:
        """From a config already checked (`read`), e.g. the one an install record keeps."""
        return cls(
            name=data["name"],
            version=data["version"],
            summary=data["summary"],
            license=data["license"],
            created=data["created"],
            source=Source.from_json(data["source"]),
            requires=Requires.from_json(data["requires"]),
            permissions=Permissions.from_json(data["permissions"]),
            output=Output.from_json(data["output"]),
            objects=tuple(
                ObjectEntry(o["file"], {k: v for k, v in o.items() if k != "file"})
                for o in data["objects"]
            ),
            build=BuildInfo.from_json(data["build"]),
            config_version=data["configVersion"],
            parameter_decls=declarations_from_json(data.get("parameters")) or (),
            choices=Choices(
                modes_from_json(data.get("modes")),
                frozenset(data.get("optionalPrograms", ())),
                filters_from_json(data.get("filters")),
            ),
        )

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Every object's parameters, by name (as the index lists them), with what the
        package declares of them."""
        found = {p.name: p for entry in self.objects for p in entry.parameters}
        declared = {d.name: d for d in self.parameter_decls}
        return tuple(found[name].declared(declared.get(name)) for name in sorted(found))

    def to_json(self) -> dict[str, Any]:
        return {
            "configVersion": self.config_version,
            "name": self.name,
            "version": self.version,
            "summary": self.summary,
            "license": self.license,
            "created": self.created,
            "source": self.source.to_json(),
            "requires": self.requires.to_json(),
            "permissions": self.permissions.to_json(),
            "output": self.output.to_json(),
            "objects": [o.to_json() for o in self.objects],
            "build": self.build.to_json(),
            **(
                {"parameters": declarations_to_json(self.parameter_decls)}
                if self.parameter_decls
                else {}
            ),
            **_choices_json(self.choices),
        }


def _choices_json(choices: Choices) -> dict[str, Any]:
    """The config's `modes`, `optionalPrograms` and `filters`, each absent when empty."""
    data: dict[str, Any] = {}
    if choices.modes:
        data["modes"] = modes_to_json(choices.modes)
    if choices.optional:
        data["optionalPrograms"] = sorted(choices.optional)
    if choices.filters:
        data["filters"] = filters_to_json(choices.filters)
    return data


def check_artifact_config(data: object, where: str) -> None:
    """Refuse, in one line, a config that is not what `ebpf-hub build` writes."""
    error = first_error(SCHEMA, data)
    if error is not None:
        raise HubError(
            f"{where}: not an eBPF Hub artifact config ({error})",
            hint="rebuild it with `ebpf-hub build`, or report it to whoever published it",
        )
