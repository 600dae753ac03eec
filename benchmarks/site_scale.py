"""How the site build scales: synthetic indexes of 1,000 and 10,000 packages against a floor.

The floor is a bare `mkdocs build` with the same mkdocs.yml (theme, plugins, extensions, nav)
and hand-written pages, plus as many minimal Markdown pages (a title and one line) as there
are packages: what any Material site of that size costs. The hub's build gets a publish
ledger and a kernel matrix for every version, so its pages are as full as a real hub's. Each
build runs in its own child process, so its peak memory (ru_maxrss from wait4) is its own,
and its CPU time counts the processes it forks (the hub's build checks a large index and writes
its JSON index on a second core). Targets: at most 1.5x the floor's time (wall: what a person
or a CI job waits for) at 10,000 packages; 10x the packages, at most 11x time. The CPU ratio
is printed beside it: the work the hub does that a bare MkDocs does not, wherever it runs.

    .venv/bin/python benchmarks/site_scale.py [--packages 1000 10000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index_scale import REPO, generate

if TYPE_CHECKING:
    from ebpf_hub.index.jsonindex import Digests
    from ebpf_hub.model.matrix import Matrices

PYTHON = sys.executable
MKDOCS = str(Path(PYTHON).with_name("mkdocs"))


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_mib: float
    size_mib: float
    files: int


def measure(command: list[str], out: Path) -> Run:
    """Run `command` as a child; wall time, the child's own peak RSS, and what it wrote.

    `out` is removed first, untimed: each build writes a fresh directory of its own, so neither
    pays for deleting what the other (or its own last run) wrote."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    child = subprocess.Popen(command, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0, f"{command} failed"
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, size / 2**20, len(files))


def copy_site_sources(root: Path) -> None:
    """What a site build reads besides the index: mkdocs.yml, site/ and the schemas."""
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copy(REPO / "SECURITY.md", root / "SECURITY.md")
    shutil.copytree(REPO / "site", root / "site")
    shutil.copytree(REPO / "schema", root / "schema")


def floor_site(root: Path, count: int) -> None:
    """The same site configuration with `count` minimal pages where the packages go."""
    root.mkdir()
    copy_site_sources(root)
    # The build stages the threat model as the Security page the navigation names.
    shutil.copy(root / "SECURITY.md", root / "site" / "security.md")
    pages = root / "site" / "packages"
    pages.mkdir()
    # The list of all packages is in the navigation: a minimal page stands for it too.
    (pages / "index.md").write_text("# All packages\n\nEvery package.\n")
    for i in range(count):
        (pages / f"pkg-{i:05d}.md").write_text(f"# pkg-{i:05d}\n\nA package.\n")


def child_build(root: Path, out: Path) -> None:
    """In the child: what `ebpf-hub site` does, with validation timed apart."""
    from ebpf_hub.cli import build_parser
    from ebpf_hub.index.config import load_config
    from ebpf_hub.index.validate import validate
    from ebpf_hub.site import build_site

    config = load_config(root)
    start = time.perf_counter()
    report = validate(config)
    assert report.ok, report.problems[:3]
    validated = time.perf_counter()
    digests, matrices = published_and_tested(report.packages)
    build_site(
        config,
        out,
        packages=report.packages,
        command_line=build_parser(),
        digests=digests,
        matrices=matrices,
    )
    print(
        f"    (in the child: validate {validated - start:.1f} s, then build_site "
        f"{time.perf_counter() - validated:.1f} s)",
        flush=True,
    )


def published_and_tested(packages: list[Any]) -> tuple[Digests, Matrices]:
    """A publish ledger and a kernel matrix for every version, as a hub that publishes with
    `--matrix` has: the pages then carry their full versions table, trust panel and matrix."""
    from ebpf_hub.model.index import Published
    from ebpf_hub.model.matrix import KernelVerdict, Verdict

    verdicts = (
        KernelVerdict("6.1", "x86_64", "6.1.0-50-cloud-amd64", Verdict.PASS, ""),
        KernelVerdict("6.12", "x86_64", "6.12.117+deb13-cloud-amd64", Verdict.PASS, ""),
        KernelVerdict("5.10", "x86_64", "5.10.0-32-cloud-amd64", Verdict.FAIL, "-EINVAL"),
    )
    digests, matrices = {}, {}
    for package in packages:
        digests[package.name] = {
            v.version: Published("sha256:" + f"{i:064x}", 20480 + i, ())
            for i, v in enumerate(package.versions)
        }
        matrices[package.name] = {v.version: verdicts for v in package.versions}
    return digests, matrices


def row(label: str, run: Run) -> None:
    print(
        f"  {label:<34} {run.seconds:7.1f} s wall {run.cpu_seconds:7.1f} s CPU "
        f"{run.peak_mib:6.0f} MiB peak {run.size_mib:7.1f} MiB out {run.files:6d} files",
        flush=True,
    )


def bench(work: Path, count: int, repeat: int) -> tuple[Run, Run]:
    hub = work / f"hub-{count}"
    generate(hub, count)
    copy_site_sources(hub)
    floor = work / f"floor-{count}"
    floor_site(floor, count)
    print(f"{count} packages", flush=True)
    site_out, floor_out = work / "out-site", work / "out-floor"
    site_command = [PYTHON, __file__, "--child", str(hub), str(site_out)]
    floor_command = [MKDOCS, "build", "-q", "-f", str(floor / "mkdocs.yml"), "-d", str(floor_out)]
    runs: dict[str, list[Run]] = {"site": [], "floor": []}
    # Alternate the two, so both see the same load on a shared machine; keep each one's best
    # run, as other load only ever slows a run down.
    for _ in range(repeat):
        runs["site"].append(measure(site_command, site_out))
        runs["floor"].append(measure(floor_command, floor_out))
    site, bare = (min(runs[kind], key=lambda run: run.seconds) for kind in ("site", "floor"))
    row("ebpf-hub site (validate + build)", site)
    row("floor: bare mkdocs build", bare)
    print(
        f"  ratio to the floor: wall {site.seconds / bare.seconds:.2f}x (target <= 1.5x at "
        f"10,000), CPU {site.cpu_seconds / bare.cpu_seconds:.2f}x, "
        f"memory {site.peak_mib / bare.peak_mib:.2f}x",
        flush=True,
    )
    return site, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each build (best kept)")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_build(Path(args.child[0]), Path(args.child[1]))
        return
    work = Path(tempfile.mkdtemp(prefix="ebpf-hub-site-bench-"))
    try:
        runs = {count: bench(work, count, args.repeat) for count in args.packages}
    finally:
        shutil.rmtree(work)
    counts = sorted(runs)
    for small, large in itertools.pairwise(counts):
        site = runs[large][0].cpu_seconds / runs[small][0].cpu_seconds
        floor = runs[large][1].cpu_seconds / runs[small][1].cpu_seconds
        print(
            f"{large / small:.0f}x the packages ({small} -> {large}): site {site:.1f}x CPU time, "
            f"floor {floor:.1f}x (target <= 11x for 10x)"
        )


if __name__ == "__main__":
    main()
