"""Building and publishing a package directory with the hub's own builder and publisher.

Nothing here compiles or pushes by itself: the directory is the source tree that
`build_sources` compiles, and `publish_built` pushes and signs exactly as the hub's CI does.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.build.package import BuiltVersion, build_sources
from ebpf_hub.develop.gitsource import GitSource, git_source
from ebpf_hub.develop.project import Project
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import write_atomic
from ebpf_hub.run.target import ARTIFACT_CONFIG_FILE

if TYPE_CHECKING:  # publishing's imports (OCI, signing) are not needed to build
    from cryptography.hazmat.primitives.asymmetric import ec

    from ebpf_hub.publish.pipeline import Destination, Outcome


def current_pin(project: Project, remote: str = "origin") -> tuple[GitSource | None, str]:
    """The pin of a committed directory, or None with the reason it has none (yet)."""
    try:
        return git_source(project.directory, remote), ""
    except HubError as exc:
        return None, str(exc)


def build_project(project: Project, out_dir: Path, pin: GitSource | None) -> BuiltVersion:
    """Compile the directory's newest version into `out_dir` and check it against the manifest.

    `out_dir` becomes an unpacked artifact: the objects, README.md and LICENSE, and the
    artifact's config as `config.json`, which `ebpf-hub run OUT_DIR/` reads.
    """
    package, version = project.identity(pin)
    built = build_sources(project.directory, package, version, out_dir, metadata=project.manifest)
    write_atomic(
        out_dir / ARTIFACT_CONFIG_FILE,
        json.dumps(built.config.to_json(), indent=2, sort_keys=True).encode(),
    )
    return built


def publish_project(
    project: Project,
    destination: Destination,
    key: ec.EllipticCurvePrivateKey | None,
    remote: str = "origin",
) -> Outcome:
    """Build the committed directory and push it, signed, to `destination`.

    The artifact records the commit and the remote's URL, so the hub building the entry
    `submit` writes produces the very same bytes (builds are reproducible).
    """
    from ebpf_hub.publish.pipeline import publish_built

    pin = git_source(project.directory, remote)
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-build-") as scratch:
        return publish_built(build_project(project, Path(scratch), pin), destination, key)
