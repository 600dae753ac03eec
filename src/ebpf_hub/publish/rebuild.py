"""`ebpf-hub verify --rebuild`: build a published version again from its pinned source, here,
and compare the artifact's digest with the one the provenance is about.

Builds are reproducible (tests/test_build.py): the same source, compiler, flags and kernel BTF
give the same bytes, hence the same manifest digest. So a different digest means either a
different toolchain here (said first, tool by tool, as it is the usual reason) or an artifact
that was not built from what its provenance says.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.build.package import build_sources
from ebpf_hub.build.source import checkout_sources
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HubConfig
from ebpf_hub.model.artifact import BuildInfo
from ebpf_hub.oci.provenance import Provenance
from ebpf_hub.publish.pipeline import artifact_of
from ebpf_hub.publish.provenance import toolchain_versions
from ebpf_hub.publish.select import package_targets


@dataclass(frozen=True)
class Rebuilt:
    """The digest this machine built, and how its toolchain differs from the recorded one."""

    digest: str
    differences: tuple[str, ...]


def toolchain_differences(local: BuildInfo, recorded: Provenance) -> tuple[str, ...]:
    """Each way this machine's build differs from the recorded one, as `what: here vs. then`."""
    here = toolchain_versions(local.compiler)
    pairs = [
        ("clang", local.compiler, recorded.compiler),
        *((tool, here[tool], recorded.toolchain.get(tool, "?")) for tool in ("libbpf", "bpftool")),
        ("kernel BTF (vmlinux.h)", local.vmlinux_btf_sha256, recorded.vmlinux_btf_sha256),
        ("flags", " ".join(local.flags), " ".join(recorded.flags)),
    ]
    return tuple(
        f"{what}: {mine} here, {theirs} recorded" for what, mine, theirs in pairs if mine != theirs
    )


def _pin_problem(pin: dict[str, str | None], recorded: Provenance) -> str | None:
    for field, value in pin.items():
        if value and recorded.source.get(field) != value:
            return f"the checkout pins {field} {value}, the provenance {recorded.source.get(field)}"
    return None


def rebuild(config: HubConfig, recorded: Provenance) -> Rebuilt:
    """Build ``recorded``'s version from the hub checkout ``config`` for the recorded
    architecture; the checkout must pin the same source as the provenance."""
    label = f"{recorded.package} {recorded.version}"
    targets = [
        target
        for target in package_targets(config, recorded.package)
        if target.version.version == recorded.version
    ]
    if not targets:
        raise HubError(
            f"cannot rebuild {label}: {config.root} has no such version",
            hint="pass --root with a checkout of the hub that has it",
        )
    package, version = targets[0].package, targets[0].version
    problem = _pin_problem({"commit": version.commit, "tree": version.tree}, recorded)
    if problem is not None:
        raise HubError(
            f"cannot rebuild {label} from {config.root}: {problem}",
            hint="check out the hub's commit the provenance names (hubCommit)",
        )
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-rebuild-") as scratch:
        source = checkout_sources(config.root, package, version, Path(scratch))
        built = build_sources(source, package, version, Path(scratch) / "out", arch=recorded.arch)
        digest = artifact_of(built).digest
    return Rebuilt(digest, toolchain_differences(built.config.build, recorded))
