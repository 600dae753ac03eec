"""What the kernel matrix costs: the seed catalogue on every kernel of the hub's matrix.

The seed packages (index/packages) are built with `ebpf-hub build` into a scratch directory,
then each architecture's kernels boot once each with every package's objects (the way
`ebpf-hub matrix` runs them), under qemu's software emulation on this machine. Printed:

1. per kernel: the whole boot (qemu start to power-off), and the guest's time on each
   package (open, verifier, attach, detach of every program, measured in the guest);
2. per architecture: the whole catalogue on all its kernels, wall clock, guest preparation
   included. Targets on a 2-core machine: x86_64 under 10 minutes, arm64 under 20.

Each architecture's kernels get that architecture's objects, as `ebpf-hub build` writes them
(x86_64 in OUT/NAME@VERSION, arm64 in OUT/NAME@VERSION/aarch64). On both, a uprobe whose
binary the guest lacks (bash, libc) is verified, then skipped.

Kernels and the guest's packages are fetched on the first run (Debian's archive) and cached;
the figures of a second run are the matrix itself. Pass --arch to run one architecture.

    .venv/bin/python benchmarks/matrix.py [--arch x86_64|arm64]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ebpf_hub.matrix.config import load_matrix
from ebpf_hub.matrix.engine import KernelRun, MatrixPackage, run_matrix
from ebpf_hub.matrix.kernels import kernel_image

REPO = Path(__file__).resolve().parent.parent
HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
TARGETS = {"x86_64": 600.0, "arm64": 1200.0}  # seconds for the whole catalogue


def build_catalogue(out: Path) -> dict[str, list[MatrixPackage]]:
    """Every seed package's newest version, built as `ebpf-hub build NAME` builds it: its
    objects per matrix architecture (this x86_64 host's in the directory, arm64's beside),
    with its trigger when it has one."""
    packages: dict[str, list[MatrixPackage]] = {"x86_64": [], "arm64": []}
    for metadata in sorted((REPO / "index" / "packages").glob("*.yaml")):
        subprocess.run(
            [HUB, "build", metadata.stem, "--out", str(out)], cwd=REPO, check=True,
            capture_output=True,
        )  # fmt: skip
        (built,) = out.glob(f"{metadata.stem}@*")
        trigger = REPO / "sources" / metadata.stem / "trigger"  # as publish --matrix runs it
        for arch, directory in (("x86_64", built), ("arm64", built / "aarch64")):
            objects = tuple(sorted(directory.glob("*.bpf.o")))
            packages[arch].append(
                MatrixPackage(built.name, objects, trigger if trigger.is_file() else None)
            )
    return packages


def show_kernel(run: KernelRun) -> None:
    counts = dict.fromkeys(("pass", "fail", "skip"), 0)
    for result in run.results:
        counts[str(result.status)] += 1
    print(
        f"  {run.kernel.label:<12} boot {run.seconds:6.1f} s   "
        f"pass {counts['pass']:3}  fail {counts['fail']:3}  skip {counts['skip']:3}"
        + (f"   ERROR {run.error}" if run.error else "")
    )
    for package, seconds in run.package_seconds:
        print(f"      {package:<26} {seconds * 1000:8.1f} ms in the guest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", choices=sorted(TARGETS))
    args = parser.parse_args()
    matrix = load_matrix(REPO)
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as scratch:
        started = time.monotonic()
        catalogue = build_catalogue(Path(scratch))
        programs = sum(len(package.objects) for package in catalogue["x86_64"])
        print(f"seed catalogue: {len(catalogue['x86_64'])} packages, {programs} objects per "
              f"architecture, built in {time.monotonic() - started:.1f} s")  # fmt: skip
        for arch in args.arch or sorted(TARGETS, reverse=True):
            kernels = matrix.select(arches=[arch])
            started = time.monotonic()
            for kernel in kernels:
                kernel_image(kernel)  # fetched (first run only) outside the timing
            fetched = time.monotonic() - started
            started = time.monotonic()
            runs = run_matrix(catalogue[arch], kernels, matrix.guest_suite, lambda _line: None)
            total = time.monotonic() - started
            print(f"\n{arch}: {len(kernels)} kernels (fetch/check {fetched:.1f} s)")
            for run in runs:
                show_kernel(run)
            verdict = "within" if total < TARGETS[arch] else "OVER"
            print(
                f"  whole catalogue on the {arch} matrix: {total:.1f} s "
                f"({verdict} the {TARGETS[arch] / 60:.0f}-minute target)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
