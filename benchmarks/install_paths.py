"""What the install paths cost: building them, and starting the single-file executable beside
the same client run by a Python that has it installed (this venv's `ebpf-hub`).

1. `scripts/build-dist --executable`: wall time and the CPU time of all it ran (a tools venv,
   the sdist and wheel, the wheel installed, PyInstaller's one-file build), and the sizes;
2. `ebpf-hub --version`, as a whole process: the executable unpacks its bundle into a temporary
   directory at each start, which the venv's console script does not need.
Target: the build within two minutes on CI's two cores, so that the tests can make it once per
run; people notice a start above about 100 ms more than the console script's.

    .venv/bin/python benchmarks/install_paths.py [--runs N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_HUB = Path(sys.executable).with_name("ebpf-hub")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_up(command: Path, runs: int) -> tuple[float, float]:
    """Median and best seconds of `command --version`, after one run that warms the caches."""
    subprocess.run([str(command), "--version"], check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(command), "--version"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        cpu, start = children_cpu(), time.perf_counter()
        subprocess.run(
            [str(REPO / "scripts" / "build-dist"), "--executable", "--out", str(out)],
            check=True,
            capture_output=True,
        )
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
        print(f"scripts/build-dist --executable: {wall:.0f} s wall, {cpu:.0f} s CPU")
        for path in sorted(out.iterdir()):
            print(f"  {path.name:<36} {path.stat().st_size / 1e6:6.1f} MB")
        print(f"ebpf-hub --version, {args.runs} runs:")
        for label, command in (("single-file executable", out / "ebpf-hub"), ("venv", VENV_HUB)):
            median, best = start_up(command, args.runs)
            print(f"  {label:<24} median {median * 1000:5.0f} ms, best {best * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
