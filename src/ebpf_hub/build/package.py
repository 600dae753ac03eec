"""Building one package version: sources -> checked objects -> its artifact's files and config."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.bpfobj.inspect import ObjectInfo, inspect_object
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.declared import check_declarations
from ebpf_hub.build.describe import artifact_config
from ebpf_hub.build.licensing import license_mismatches
from ebpf_hub.build.source import checkout_sources
from ebpf_hub.build.toolchain import toolchain, toolchain_for
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file
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


def build_sources(
    source: Path,
    package: Package,
    version: Version,
    out_dir: Path,
    metadata: Path | None = None,
    *,
    arch: str | None = None,
) -> BuiltVersion:
    """Build `version` of `package` from the sources in `source` into `out_dir`.

    `build_version` checks out what a version pins first; a package directory being
    developed (`ebpf-hub build DIR`) is built as it is, and names its manifest as `metadata`
    (the file an error tells the author to edit; default: the hub's index entry). `arch` is
    the target architecture (default: the host's; `ebpf_hub.build.platforms` builds them all).
    """
    tools = toolchain() if arch is None else toolchain_for(arch)
    # Errors name a foreign architecture: its checks may fail where the host's pass.
    foreign = "" if tools.arch == toolchain().arch else f" ({tools.arch})"
    label = f"{package.name}@{version.version}{foreign}"
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = compile_objects(tools, source, out_dir, label, package.compile)
    documents = [
        shutil.copyfile(source / name, out_dir / name)
        for name in DOCUMENTS
        if (source / name).is_file()
    ]
    infos = [(path.name, inspect_object(path)) for path in objects]
    where = metadata or Path("index", "packages", f"{package.name}.yaml")
    check_declarations(package, label, infos, where)
    _check_license(package, label, source, infos, where)
    config = artifact_config(package, version, tools, infos)
    return BuiltVersion(package, version, (*objects, *documents), config)


def _check_license(
    package: Package,
    label: str,
    source: Path,
    infos: list[tuple[str, ObjectInfo]],
    metadata: Path,
) -> None:
    """Refuse a package whose SPDX license, objects and LICENSE file disagree (`licensing`)."""
    text_file = source / "LICENSE"
    text = text_file.read_text("utf-8", "replace") if is_regular_file(text_file) else None
    sections = {file: info.license for file, info in infos}
    problems = list(license_mismatches(package.license, sections, text))
    if problems:
        raise HubError(
            f"{label}: the license is not the same everywhere: {'; '.join(problems)}",
            hint=f"make `license:` in {metadata}, the license section and LICENSE agree",
        )
