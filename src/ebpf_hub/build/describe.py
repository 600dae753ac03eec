"""The artifact config of a build: the package's declarations, its objects and the toolchain.

The client shows it before installing, the runner uses it (parameters, event layout, output
maps), and the site renders it. It is part of the artifact, so it must be deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.build.toolchain import Toolchain, recorded_flags
from ebpf_hub.model.artifact import ArtifactConfig, BuildInfo, ObjectEntry
from ebpf_hub.model.package import Package, Version


def artifact_config(
    package: Package, version: Version, tools: Toolchain, objects: Sequence[tuple[str, ObjectInfo]]
) -> ArtifactConfig:
    build = BuildInfo(
        compiler=tools.clang_version,
        flags=recorded_flags(tools.arch, package.compile),
        arch=tools.arch,
        vmlinux_btf_sha256=tools.vmlinux_btf_sha256,
        vmlinux_source=tools.vmlinux_source,
    )
    entries = tuple(ObjectEntry(file, info.to_json()) for file, info in objects)
    return ArtifactConfig.describe(package, version, entries, build)
