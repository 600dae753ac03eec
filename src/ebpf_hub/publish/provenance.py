"""The provenance the publisher records for each artifact it pushes (`ebpf_hub.oci.provenance`).

Most of it is the artifact config's `source` and `build`; the rest is read where the build ran:
the builder is the GitHub Actions workflow and run when the standard ``GITHUB_*`` variables say
so (`.github/workflows/publish.yml`), else this machine; the toolchain versions come from the
tools themselves (libbpf's from pkg-config, its headers being what objects compile against).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache

from ebpf_hub.build.package import BuiltVersion
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.fsutil import is_regular_file
from ebpf_hub.oci.provenance import LOCAL_BUILDER, VMLINUX_H, Provenance

UNKNOWN = "unknown"


def _first_line(*command: str) -> str:
    """The first line a tool prints, or `UNKNOWN` when it is missing or fails."""
    if shutil.which(command[0]) is None:
        return UNKNOWN
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else UNKNOWN


@cache
def toolchain_versions(compiler: str) -> Mapping[str, str]:
    """clang (as the artifact records it), libbpf and bpftool versions of this machine."""
    return {
        "clang": compiler,
        "libbpf": _first_line("pkg-config", "--modversion", "libbpf"),
        "bpftool": _first_line("bpftool", "version"),
    }


def builder(env: Mapping[str, str]) -> tuple[str, str | None, dict[str, str]]:
    """The builder's id, the run's URL and the hub repository's commit, from GitHub Actions'
    variables when they are all there; else this machine, no run, no commit."""
    server, repository = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
    workflow, run = env.get("GITHUB_WORKFLOW_REF"), env.get("GITHUB_RUN_ID")
    if not (server and repository and workflow and run):
        return LOCAL_BUILDER, None, {}
    attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
    invocation = f"{server}/{repository}/actions/runs/{run}/attempts/{attempt}"
    extra = {"hubCommit": env["GITHUB_SHA"]} if env.get("GITHUB_SHA") else {}
    return f"{server}/{workflow}", invocation, extra


@cache
def _vmlinux_h_digest(btf_sha256: str) -> str | None:
    """The digest of the vmlinux.h this machine generated from that BTF, if it did."""
    tools = toolchain()
    header = tools.vmlinux_dir / VMLINUX_H
    if tools.vmlinux_btf_sha256 != btf_sha256 or not is_regular_file(header):
        return None
    return hashlib.sha256(header.read_bytes()).hexdigest()


def provenance_of(built: BuiltVersion, env: Mapping[str, str] | None = None) -> Provenance:
    """The provenance of a version just built here."""
    config = built.config
    builder_id, invocation, extra = builder(os.environ if env is None else env)
    return Provenance(
        package=config.name,
        version=config.version,
        source={k: str(v) for k, v in config.source.to_json().items()},
        compiler=config.build.compiler,
        flags=config.build.flags,
        arch=config.build.arch,
        vmlinux_btf_sha256=config.build.vmlinux_btf_sha256,
        builder_id=builder_id,
        toolchain=toolchain_versions(config.build.compiler),
        invocation=invocation,
        vmlinux_h_sha256=_vmlinux_h_digest(config.build.vmlinux_btf_sha256),
        extra=extra,
    )
