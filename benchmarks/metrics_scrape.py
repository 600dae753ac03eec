"""What one Prometheus scrape of `ebpf-hub run --metrics` costs in Python, beside printing the
same map with `--json`.

A scrape runs on the exporter's thread while the runner's loop delivers events, so its cost
is taken from the loop. The maps of tests/data/run/metrics (keys: a command name, a number
and a 200-byte path) are compiled, and N decoded entries (default 1,000 and 10,240, the
largest map of the seeds) are turned into the exposition text (what the scrape's thread does
after reading the map) and into the `--json` line of the same map; the map's reading itself,
two system calls per key, is the same for both and left out.

    .venv/bin/python benchmarks/metrics_scrape.py [--entries 1000 10240] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector

from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.run.mapview import OutputMap, OutputSpec
from ebpf_hub.run.metrics import map_families

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "data" / "run" / "metrics"
SLOTS = 27
EXPOSITIONS: tuple[Callable[[CollectorRegistry], bytes], ...] = (
    generate_latest,  # the classic text format
    openmetrics_latest,  # what Prometheus asks for first
)


class _Scrape(Collector):
    """The families of one map, built anew on each collect as the exporter builds them."""

    def __init__(self, view: OutputMap, entries: list[tuple[Any, Any]]) -> None:
        self.view = view
        self.entries = entries

    def collect(self) -> list[Metric]:
        return map_families("bench", self.view, self.entries)


def _best(action: Callable[[], object], repeat: int) -> float:
    """The median of `repeat` timings of `action`, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[1000, 10240])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        [obj] = compile_objects(toolchain(), SOURCE, Path(out), "labels")
        info = inspect_object(obj)
    declared = {m.name: m for m in info.maps}
    views = {
        "counter": OutputMap(
            OutputSpec("counts", "counter", "Calls", "value"), declared["counts"], info.btf
        ),
        "histogram": OutputMap(
            OutputSpec("latency", "histogram", "Latency", "usecs"), declared["latency"], info.btf
        ),
    }
    print(f"{'map':<10} {'entries':>8} {'text ms':>9} {'openmetrics ms':>15} {'--json ms':>10}")
    for kind, view in views.items():
        for count in args.entries:
            keys = [
                {"comm": f"proc-{i % 500}", "le": i, "path": f"/var/lib/app/{i:08d}/data"}
                for i in range(count)
            ]
            values: list[Any] = (
                list(range(count))
                if kind == "counter"
                else [{"slots": [i % 7] * SLOTS} for i in range(count)]
            )
            entries = list(zip(keys, values, strict=True))
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Scrape(view, entries))
            text, openmetrics = (_best(partial(f, registry), args.repeat) for f in EXPOSITIONS)
            printed = _best(partial(view.json, entries), args.repeat)
            print(f"{kind:<10} {count:>8} {text:>9.1f} {openmetrics:>15.1f} {printed:>10.1f}")


if __name__ == "__main__":
    main()
