"""The artifact config: what a version is, read from its metadata and its compiled objects.

The client shows it before installing, the runner uses it (parameters, event layout, output
maps), and the site renders it. It is part of the artifact, so it must be deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.build.toolchain import BASE_FLAGS, TARGET_ARCH, Toolchain
from ebpf_hub.index.model import Package, Version

CONFIG_VERSION = 1


def artifact_config(
    package: Package, version: Version, tools: Toolchain, objects: Sequence[tuple[str, ObjectInfo]]
) -> dict[str, Any]:
    raw = package.raw
    source = dict(package.source)
    source.update({"tree": version.tree} if version.tree else {"commit": version.commit or ""})
    return {
        "configVersion": CONFIG_VERSION,
        "name": package.name,
        "version": version.version,
        "summary": package.summary,
        "license": package.license,
        "created": version.created,
        "source": source,
        "requires": raw["requires"],
        "permissions": raw["permissions"],
        "output": raw.get("output", {}),
        "objects": [{"file": file, **info.to_json()} for file, info in objects],
        "build": {
            "compiler": tools.clang_version,
            "flags": [*BASE_FLAGS, f"-D__TARGET_ARCH_{TARGET_ARCH[tools.arch]}"],
            "arch": tools.arch,
            "vmlinuxBtfSha256": tools.vmlinux_btf_sha256,
        },
    }
