"""Publishing cost: it must grow with the change, not with the hub; and pushing speed vs skopeo.

1. Publish one changed package (`publish --changed BASE..HEAD`) from a hub of 1,000 packages
   beside the same from a hub of 1 package. Target: ratio under 1.5.
2. Push the whole seed catalogue from a local OCI layout to an empty registry (our copy code,
   run as a process) beside `skopeo copy` of the same artifacts. Both are whole processes.

    .venv/bin/python benchmarks/publish_scale.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hubrepo import SAMPLE, add_version, copy_seed, git, make_hub  # noqa: E402
from registry import start_registry  # noqa: E402

HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
PYTHON = str(REPO / ".venv" / "bin" / "python")


def hub_with(root: Path, packages: int) -> str:
    """A git hub of `packages` packages, one in-repo (syscount) that then gains a version."""
    make_hub(root)
    copy_seed(root, "syscount")
    for i in range(packages - 1):
        name = f"pkg-{i:05d}"
        (root / "index/packages" / f"{name}.yaml").write_text(
            SAMPLE.replace("name: sample", f"name: {name}")
        )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD").strip()
    source = root / "sources/syscount/syscount.bpf.c"
    source.write_text(source.read_text() + "\n/* 1.1.0 */\n")
    add_version(root, "syscount", "1.1.0")
    git(root, "commit", "-q", "-am", "syscount 1.1.0")
    return base


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def publish_one_changed(work: Path, packages: int) -> float:
    root = work / f"hub-{packages}"
    base = hub_with(root, packages)
    layout = work / f"oci-{packages}"
    best = float("inf")
    for attempt in range(3):
        shutil.rmtree(layout, ignore_errors=True)
        best = min(
            best,
            timed(
                [
                    HUB,
                    "publish",
                    "--root",
                    str(root),
                    f"--changed={base}..HEAD",
                    "--registry",
                    f"oci:{layout}",
                    "--no-sign",
                    "--ledger",
                    str(work / f"ledger-{packages}-{attempt}.json"),
                ]
            ),
        )
    return best


COPY_SCRIPT = """
import sys
from pathlib import Path
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.registry import RegistryStore
layout, host, namespace = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
for repo in sorted(p for p in layout.iterdir() if p.is_dir()):
    source = LayoutStore(repo)
    target = RegistryStore(host, f"{namespace}/{repo.name}", insecure=True)
    for tag in source.list_tags():
        copy_tag(source, target, tag)
"""


def push_catalogue(work: Path) -> tuple[float, float]:
    layout = work / "seed-oci"
    subprocess.run(
        [
            HUB,
            "publish",
            "--root",
            str(REPO),
            "--all",
            "--registry",
            f"oci:{layout}",
            "--no-sign",
            "--ledger",
            str(work / "seed.json"),
        ],
        check=True,
        capture_output=True,
    )
    ours, theirs = [], []
    for attempt in range(3):
        server = start_registry(work / f"registry-{attempt}")
        try:
            ours.append(timed([PYTHON, "-c", COPY_SCRIPT, str(layout), server.host, "ours"]))
            start = time.perf_counter()
            for repo in sorted(p for p in layout.iterdir() if p.is_dir()):
                subprocess.run(
                    [
                        "skopeo",
                        "copy",
                        "--dest-tls-verify=false",
                        f"oci:{repo}:1.0.0",
                        f"docker://{server.host}/skopeo/{repo.name}:1.0.0",
                    ],
                    check=True,
                    capture_output=True,
                )
            theirs.append(time.perf_counter() - start)
        finally:
            server.stop()
    return min(ours), min(theirs)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ebpf-hub-bench-publish-"))
    try:
        small = publish_one_changed(work, 1)
        large = publish_one_changed(work, 1000)
        print("publish one changed package (best of 3, whole process, build included)")
        print(f"  hub of 1 package:      {small:7.3f} s")
        print(f"  hub of 1,000 packages: {large:7.3f} s")
        print(f"  ratio 1,000 / 1: {large / small:.2f}x (target < 1.5x)")
        ours, skopeo = push_catalogue(work)
        count = len(list((REPO / "index/packages").glob("*.yaml")))
        print(
            f"push the seed catalogue ({count} artifacts) from an OCI layout to an empty registry"
        )
        print(f"  ebpf-hub (one process):         {ours:7.3f} s")
        print(f"  skopeo copy (one per artifact): {skopeo:7.3f} s")
        print(f"  ratio ebpf-hub / skopeo: {ours / skopeo:.2f}x")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
