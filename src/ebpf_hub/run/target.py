"""What `ebpf-hub run` runs: a package's config and its objects, wherever they come from.

- `NAME[@VERSION]`: an installed package (installed first if needed, by ebpf_hub.client);
- `PATH` to a `.bpf.o` file, or to a directory of objects (`ebpf-hub build`'s output);
- `PATH` to a package's source directory (`*.bpf.c`), compiled with the hub's toolchain.

For a path, the declarations (requires, permissions, output) are the artifact config's in
`config.json` beside the objects (an unpacked artifact), else the package metadata's in the hub
checkout around the path, else none: the runner then derives permissions from the objects and
prints events only, as no map is declared an output.

A word is a path when it contains a `/` (`./mypkg`, `build/objects/x`), a name otherwise,
as with container images.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.errors import HubError
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.modes import Choices
from ebpf_hub.model.package import Output, Package, Permissions
from ebpf_hub.model.paramdecl import ParameterDecl
from ebpf_hub.model.requires import Requires

if TYPE_CHECKING:
    from ebpf_hub.client.settings import Settings

# The artifact config as a file beside the objects of an unpacked artifact (`ebpf-hub build DIR`).
ARTIFACT_CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Declarations:
    """What a package says of itself, from its artifact config or its metadata; an object
    with neither has none (`NONE`): its requirements and permissions then come from the
    objects alone, and it prints events only."""

    summary: str | None = None
    requires: Requires | None = None
    permissions: Permissions | None = None
    output: Output = field(default_factory=Output)
    parameters: tuple[ParameterDecl, ...] = ()  # what the parameters mean (`-p KILL,TERM`)
    choices: Choices = field(default_factory=Choices)  # modes, optional programs, filters

    @classmethod
    def of(cls, described: ArtifactConfig | Package) -> Declarations:
        return cls(
            described.summary,
            described.requires,
            described.permissions,
            described.output or Output(),
            described.parameter_decls,
            described.choices,
        )


NONE = Declarations()


@dataclass(frozen=True)
class RunTarget:
    """A runnable package: its objects and what it declares."""

    label: str
    declared: Declarations
    objects: tuple[Path, ...]


def is_path(spec: str) -> bool:
    return "/" in spec or spec in (".", "..")


@contextmanager
def open_target(
    spec: str,
    settings: Callable[[], Settings],
    allow_unsigned: bool = False,
    ignore_matrix: bool = False,
) -> Iterator[RunTarget]:
    """The target `spec` names; a compiled source directory lives as long as the block.
    `settings` is called only to install a package name (a path or an installed package
    needs no hub); a name is refused on a kernel where the hub's matrix saw it fail unless
    `ignore_matrix`."""
    if not is_path(spec):
        yield installed_target(spec, settings, allow_unsigned, ignore_matrix)
        return
    path = Path(spec)
    if path.is_file():
        yield RunTarget(str(path), _metadata(path.parent, object_stem(path.name)), (path,))
    elif not path.is_dir():
        raise HubError(f"{spec}: no such file or directory")
    elif objects := tuple(sorted(path.glob("*.bpf.o"))):
        yield RunTarget(str(path), _metadata(path, path.resolve().name), objects)
    elif sorted(path.glob("*.bpf.c")):
        import tempfile  # only a source directory needs one

        with tempfile.TemporaryDirectory(prefix="ebpf-hub-run-") as out:
            config = _metadata(path, path.resolve().name)
            yield RunTarget(str(path), config, _compile(path, Path(out)))
    else:
        raise HubError(f"{spec}: no *.bpf.o or *.bpf.c file here: nothing to run")


def object_stem(name: str) -> str:
    """`runqlat` of `runqlat.bpf.o`: the name an object file gives its package."""
    return name.removesuffix(".o").removesuffix(".bpf")


def _metadata(directory: Path, name: str) -> Declarations:
    """The artifact config beside the objects, else the package's metadata in the hub
    checkout around `directory` (`build/objects/NAME@VERSION`, `sources/NAME`), else a
    name."""
    config_file = directory / ARTIFACT_CONFIG_FILE
    if config_file.is_file():
        return Declarations.of(_read_config(config_file))
    # The YAML reader is imported only here: an installed package starts without it.
    from ebpf_hub.index.config import HUB_CONFIG_PATH, PACKAGES_DIR
    from ebpf_hub.index.document import DocumentError, load_document

    name = name.partition("@")[0]
    for root in directory.resolve().parents:
        metadata = root / PACKAGES_DIR / f"{name}.yaml"
        if (root / HUB_CONFIG_PATH).is_file() and metadata.is_file():
            try:
                document = load_document(metadata, str(PACKAGES_DIR / metadata.name))
            except DocumentError as exc:
                raise HubError(str(exc)) from None
            return Declarations.of(_package(document.data, metadata))
    return NONE


def _package(data: object, path: Path) -> Package:
    """The metadata in `path`, checked against the package schema first."""
    from ebpf_hub.schemas import first_error

    error = first_error("package.schema.json", data)
    if error is not None:
        raise HubError(f"{path}: {error}", hint=f"`ebpf-hub validate {path}` says more")
    assert isinstance(data, dict)  # noqa: S101 - the schema says so
    return Package.from_json(data)


def _read_config(config_file: Path) -> ArtifactConfig:
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HubError(f"{config_file}: not a readable artifact config ({exc})") from None
    return ArtifactConfig.read(config, str(config_file))


def _compile(source: Path, out: Path) -> tuple[Path, ...]:
    from ebpf_hub.build.compile import compile_objects
    from ebpf_hub.build.toolchain import toolchain

    return tuple(compile_objects(toolchain(), source, out, str(source)))


def installed_target(
    spec: str, settings: Callable[[], Settings], allow_unsigned: bool, ignore_matrix: bool = False
) -> RunTarget:
    """NAME[@VERSION] from the local install, pulled and verified first if needed, and
    allowed by the policy now (it may have changed since the install). The settings and the
    network stack (HTTP, OCI, signatures) are loaded only to install: a warm run reads the
    record alone."""
    from ebpf_hub.client.installed import installed_matching
    from ebpf_hub.client.policy import Candidate, enforce

    installed = installed_matching(spec, ignore_matrix)
    if installed is None:
        from ebpf_hub.client.install import ensure_installed

        installed = ensure_installed(settings(), spec, allow_unsigned, ignore_matrix)
    enforce(Candidate.installed(installed), installed.objects)
    label = f"{installed.name}@{installed.version}"
    return RunTarget(label, Declarations.of(installed.config), tuple(installed.objects))
