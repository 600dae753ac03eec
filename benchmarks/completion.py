"""What a TAB costs: the process bash's completion script starts, beside `ebpf-hub --version`.

Each figure is one whole `ebpf-hub` process run as the script runs it (`_ARGCOMPLETE` set,
answers on fd 8), with the hub's index fetched once into the cache and the hub then stopped:
1. the command name (`ebpf-hub ins<TAB>`): every group's parsers are built;
2. an option (`ebpf-hub install --j<TAB>`): only the client group's;
3. package names (`ebpf-hub install pkg-0<TAB>`) from a cached index of the seed catalogue
   (10 packages) and of N synthetic ones (default 10,000): the cached index is read,
   its hash checked, and validated against the schema at each TAB.
Target: a TAB on a 10-package hub within 3x of `--version`; people notice about 100 ms.

    .venv/bin/python benchmarks/completion.py [--runs N] [--packages N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from ebpf_hub.cli import main as hub_main  # noqa: E402
from httpserver import StaticServer  # noqa: E402
from index_scale import generate  # noqa: E402
from install import HUB, python_env  # noqa: E402

WORDBREAKS = " \t\n\"'><=;|&(:@"  # bash's COMP_WORDBREAKS


def cached_hub(root: Path, work: Path, home: Path) -> str:
    """The index of the hub checkout at `root`, fetched into `home`'s cache; its URL."""
    site = work / f"site-{root.name}"
    assert hub_main(["index", "--root", str(root), "--out", str(site)]) == 0
    os.environ["EBPF_HUB_HOME"] = str(home)
    with StaticServer(site) as server, redirect_stdout(io.StringIO()):
        assert hub_main(["search", "--hub", server.url]) == 0
        return server.url


def tab(env: dict[str, str], line: str, answers: Path) -> tuple[float, list[str]]:
    """Seconds for one TAB at the end of `line`, and the answers (argcomplete writes them to
    the file `_ARGCOMPLETE_STDOUT_FILENAME` names instead of fd 8, as the script can ask)."""
    variables = {
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_SHELL": "bash",
        "_ARGCOMPLETE_COMP_WORDBREAKS": WORDBREAKS,
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answers),
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "COMP_TYPE": "9",
    }
    start = time.perf_counter()
    subprocess.run([HUB], env={**env, **variables}, capture_output=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, answers.read_text().split("\x0b")


def measure(label: str, runs: int, action: Callable[[], float]) -> float:
    """Median and best of `runs` timings, printed, after one run that warms the caches."""
    action()
    times = [action() for _ in range(runs)]
    median = statistics.median(times)
    print(f"  {label:<46} median {median * 1000:6.0f} ms, best {min(times) * 1000:6.0f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--packages", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-bench-") as scratch:
        work = Path(scratch)
        home = work / "home"
        big = work / "big"
        generate(big, args.packages)
        seed_url, big_url = cached_hub(REPO, work, home), cached_hub(big, work, home)
        env = python_env(work, EBPF_HUB_HOME=str(home), EBPF_HUB_URL=seed_url)

        def version() -> float:
            start = time.perf_counter()
            subprocess.run([HUB, "--version"], env=env, capture_output=True, check=True)
            return time.perf_counter() - start

        def completing(line: str, url: str, expect: int) -> float:
            seconds, answers = tab({**env, "EBPF_HUB_URL": url}, line, work / "answers")
            assert len(answers) == expect, answers[:3]
            return seconds

        base = measure("ebpf-hub --version", args.runs, version)
        results = {
            "command name (all groups' parsers)": ("ebpf-hub ins", seed_url, 1),
            "option (one group's parsers)": ("ebpf-hub install --j", seed_url, 1),
            "package names, 10 cached": ("ebpf-hub install ", seed_url, 10),
            f"package names, {args.packages:,} cached": (
                "ebpf-hub install pkg-0",
                big_url,
                min(args.packages, 10_000),
            ),
        }
        for label, (line, url, expect) in results.items():
            median = measure(f"TAB: {label}", args.runs, partial(completing, line, url, expect))
            print(f"    {median / base:.1f}x --version")


if __name__ == "__main__":
    main()
