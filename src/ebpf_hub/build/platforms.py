"""Building one package version for every architecture it declares (`requires.architectures`).

The sources are checked out once; each architecture is a full build of its own (objects,
README.md, LICENSE, its config), with the declared-vs-actual and license checks run on that
architecture's objects: an arm64 object is held to the same declarations as the x86_64 one.
The build host's architecture goes into `out_dir` itself, where `ebpf-hub build` has always
put it (and `run`, `test` and `matrix` take it from), every other one into `out_dir/<arch>`.
The hub publishes the builds as one OCI image index with a manifest per platform
(`ebpf_hub.oci.imageindex`).
"""

from __future__ import annotations

import platform
import tempfile
from pathlib import Path

from ebpf_hub.build.package import BuiltVersion, build_sources
from ebpf_hub.build.source import checkout_sources
from ebpf_hub.model.package import Package, Version


def build_platforms(
    root: Path, package: Package, version: Version, out_dir: Path
) -> tuple[BuiltVersion, ...]:
    """Build `version` of `package` for each of its architectures: the host's first (its
    errors are the ones an author can also see with `ebpf-hub run`), then the others."""
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-src-") as scratch:
        source = checkout_sources(root, package, version, Path(scratch))
        return tuple(
            build_sources(source, package, version, _directory(out_dir, arch), arch=arch)
            for arch in sorted(package.requires.architectures, key=_host_first)
        )


def _host_first(arch: str) -> tuple[bool, str]:
    return arch != platform.machine(), arch


def _directory(out_dir: Path, arch: str) -> Path:
    return out_dir if arch == platform.machine() else out_dir / arch
