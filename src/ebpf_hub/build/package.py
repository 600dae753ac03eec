"""Building one package version: sources -> checked objects -> its artifact's files and config."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.declared import check_declarations
from ebpf_hub.build.describe import artifact_config
from ebpf_hub.build.source import checkout_sources
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.package import Package, Version

# Files of the source directory that travel in the artifact beside the objects.
DOCUMENTS = ("README.md", "LICENSE")


@dataclass(frozen=True)
class BuiltVersion:
    """The files of one version's artifact, and its config."""

    package: Package
    version: Version
    files: tuple[Path, ...]
    config: ArtifactConfig


def build_version(root: Path, package: Package, version: Version, out_dir: Path) -> BuiltVersion:
    """Build `version` of `package` into `out_dir` (objects, README.md, LICENSE)."""
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-src-") as scratch:
        source = checkout_sources(root, package, version, Path(scratch))
        return build_sources(source, package, version, out_dir)


def build_sources(source: Path, package: Package, version: Version, out_dir: Path) -> BuiltVersion:
    """Build `version` of `package` from the sources in `source` into `out_dir`.

    `build_version` checks out what a version pins first; a package directory being
    developed (`ebpf-hub build DIR`) is built as it is.
    """
    label = f"{package.name}@{version.version}"
    tools = toolchain()
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = compile_objects(tools, source, out_dir, label)
    documents = [
        shutil.copyfile(source / name, out_dir / name)
        for name in DOCUMENTS
        if (source / name).is_file()
    ]
    infos = [(path.name, inspect_object(path)) for path in objects]
    check_declarations(package, label, infos)
    config = artifact_config(package, version, tools, infos)
    return BuiltVersion(package, version, (*objects, *documents), config)
