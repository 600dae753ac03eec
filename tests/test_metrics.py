"""`ebpf-hub run --metrics ADDR:PORT`: a real Prometheus (scripts/fetch-tools puts Debian's in
.tools/bin) scrapes a run of the runqlat seed on loopback, and what it stored is checked
against the map as the same run prints it at the end; opensnoop's event count and counter map
are scraped as a user's curl would; the exposition of hostile key fields (a command name or a
path is whatever the traced process chose) is checked by parsing it back."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest as text_exposition
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_exposition
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.registry import Collector

from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.errors import HubError
from ebpf_hub.run.mapview import OutputMap, OutputSpec
from ebpf_hub.run.metrics import Address, map_families
from hubrepo import REPO
from registry import free_port
from test_run import EBPF_HUB, Runner

PROMETHEUS = REPO / ".tools" / "bin" / "prometheus"
LABELS_SOURCE = REPO / "tests" / "data" / "run" / "metrics"
HIST = "ebpf_hub_runqlat_hist_usecs"
SLOTS = 27  # EBPF_HUB_HIST_SLOTS

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A user's environment with a home of its own (the build caches of runs from sources)."""
    home = tmp_path_factory.mktemp("home")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    return environment | {"EBPF_HUB_HOME": str(home)}


def metrics_url(run: Runner) -> str:
    """Where the runner serves, as it says on stderr (it asked for any free port)."""
    [line] = [line for line in run.err if " metrics at " in line]
    return line.rsplit(" ", 1)[1].strip()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback http
        return bytes(answer.read())


class Prometheus:
    """A Prometheus server on loopback scraping one target every second."""

    def __init__(self, port: int) -> None:
        self.api = f"http://127.0.0.1:{port}/api/v1/"

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = json.loads(get(self.api + "query?" + urllib.parse.urlencode({"query": promql})))
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def samples_after(self, metric: str, moment: float, timeout: float = 30) -> dict[float, float]:
        """The newest sample of each `le` series of `metric`, once every one was scraped after
        `moment` (a Unix time)."""
        deadline = time.monotonic() + timeout
        while True:
            series = self.query(f"{metric}[1m]")
            if series and all(float(s["values"][-1][0]) > moment for s in series):
                return {float(s["metric"]["le"]): float(s["values"][-1][1]) for s in series}
            assert time.monotonic() < deadline, f"no scrape of {metric} after the freeze: {series}"
            time.sleep(0.2)


@contextmanager
def prometheus(workdir: Path, target: str) -> Iterator[Prometheus]:
    """Debian's Prometheus scraping `target` (HOST:PORT), stopped when the block ends."""
    if not os.access(PROMETHEUS, os.X_OK):
        pytest.fail(f"{PROMETHEUS}: no prometheus binary; run scripts/fetch-tools")
    config = workdir / "prometheus.yml"
    config.write_text(
        json.dumps(  # YAML reads JSON
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [
                    {"job_name": "ebpf-hub", "static_configs": [{"targets": [target]}]}
                ],
            }
        )
    )
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"http://127.0.0.1:{port}/-/ready")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"prometheus did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield Prometheus(port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@needs_root
def test_prometheus_scrapes_the_runqlat_histogram_as_the_map_holds_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    """More busy loops than CPUs wait their turns; once they are killed the histogram (of the
    first one's waits) holds still, and the scrape after that must hold what the run prints
    at its end, bucket by bucket."""
    spin = ["sh", "-c", "read _; while :; do :; done"]
    loops = [
        subprocess.Popen(spin, stdin=subprocess.PIPE) for _ in range((os.cpu_count() or 1) + 1)
    ]
    args = [str(REPO / "sources" / "runqlat"), "--json", "--yes", "--metrics", "127.0.0.1:0"]
    try:
        with Runner([*args, "--param", f"target_pid={loops[0].pid}"], env) as run:
            target = urllib.parse.urlsplit(metrics_url(run)).netloc
            with prometheus(tmp_path, target) as server:
                for loop in loops:
                    assert loop.stdin
                    loop.stdin.write(b"go\n")
                    loop.stdin.flush()
                time.sleep(1)
                for loop in loops:
                    loop.kill()
                    loop.wait()
                frozen = time.time()
                scraped = server.samples_after(f"{HIST}_bucket", frozen)
                [total_series] = server.query(f'{HIST}_bucket{{le="+Inf"}}')
                [median] = server.query(f"histogram_quantile(0.5, {HIST}_bucket)")
            run.stop()
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    [hist] = run.maps("hist")
    [entry] = hist["entries"]
    counts = [b["count"] for b in entry["buckets"]]
    counts += [0] * (SLOTS - len(counts))
    total = sum(counts)
    assert total > 0, "the busy loop waited"
    expected = {float((1 << i) - 1): float(sum(counts[: i + 1])) for i in range(SLOTS - 1)}
    assert scraped == expected | {float("inf"): float(total)}
    assert total_series["metric"] == {
        "__name__": f"{HIST}_bucket",
        "key": "0",
        "le": "+Inf",
        "job": "ebpf-hub",
        "instance": target,
    }
    assert 0 <= float(median["value"][1]) <= 1 << (SLOTS - 2), "a histogram to Prometheus"


CHILD = (
    "import os, sys\n"
    "sys.stdin.readline()\n"
    "for _ in range(5): os.close(os.open(sys.argv[1], os.O_RDONLY))\n"
    "sys.stdin.readline()\n"
)


@needs_root
def test_event_counts_and_counter_maps_are_served(env: dict[str, str], tmp_path: Path) -> None:
    """opensnoop, told to watch a child that opens a file five times: the scrape counts the
    five events the run printed, and its `lost` counter map as a counter."""
    path = tmp_path / "opened"
    path.write_text("x")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdin=subprocess.PIPE, text=True
    )
    assert child.stdin
    args = [str(REPO / "sources" / "opensnoop"), "--json", "--yes", "--metrics", "127.0.0.1:0"]
    try:
        with Runner([*args, "--", "--target-pid", str(child.pid)], env) as run:
            child.stdin.write("go\n")
            child.stdin.flush()
            run.wait_until(lambda: len(run.events()) >= 5, 15, "five opens")
            scraped = {f.name: f for f in parse_text(get(metrics_url(run)).decode())}
            child.stdin.write("done\n")
            child.stdin.flush()
            assert child.wait(timeout=10) == 0
            run.stop(signal.SIGTERM)
    finally:
        child.kill()
        child.wait()
    assert [e["filename"] for e in run.events()] == [str(path)] * 5
    events = scraped["ebpf_hub_events"]
    assert events.type == "counter"
    [sent] = events.samples
    assert sent.name == "ebpf_hub_events_total" and sent.value == 5
    assert sent.labels == {"package": "opensnoop", "object": "opensnoop", "type": "struct event"}
    [lost] = scraped["ebpf_hub_events_lost"].samples
    assert lost.value == 0
    lost_map = scraped["ebpf_hub_opensnoop_lost"]
    assert lost_map.type == "counter"
    assert [(s.name, s.labels, s.value) for s in lost_map.samples] == [
        ("ebpf_hub_opensnoop_lost_total", {"key": "0"}, 0.0)
    ]


@needs_root
def test_a_port_in_use_is_one_line_before_anything_loads(env: dict[str, str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        holder.listen()
        command = [EBPF_HUB, "run", str(REPO / "sources" / "runqlat"), "--yes"]
        done = subprocess.run(
            [*command, "--metrics", f"127.0.0.1:{port}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert " attached " not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"ebpf-hub: error: --metrics '127.0.0.1:{port}': cannot serve there (Address already "
        "in use); choose a free port on an address of this host"
    )


def test_prometheus_client_is_imported_only_for_metrics() -> None:
    """The CLI's start-up time is benchmarked: the runner imports prometheus-client only
    when --metrics asks for it."""
    code = (
        "import sys\n"
        "from ebpf_hub.cli import main\n"
        "from ebpf_hub.run import session\n"
        "try:\n"
        "    main(['run', '--help'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0\n"
        "print('prometheus_client' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--metrics ADDR:PORT" in done.stdout, done.stderr
    assert done.stderr.strip() == "False"


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "127.0.0.1:http", ":9435", "[::1]:70000", "[::1]", "host:\u0663", ""]
)
def test_a_bad_address_is_one_clear_line(text: str) -> None:
    with pytest.raises(HubError) as caught:
        Address.parse(text)
    assert caught.value.message.startswith("--metrics '")
    assert caught.value.hint and "127.0.0.1:9435" in caught.value.hint


def test_addresses_of_both_families_parse() -> None:
    assert Address.parse("127.0.0.1:0") == Address("127.0.0.1", 0)
    assert Address.parse("[::1]:9435") == Address("::1", 9435)
    assert Address.parse("localhost:9435") == Address("localhost", 9435)


# --- the exposition of what the kernel and traced processes chose ---


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OutputMap]:
    """The maps of tests/data/run/metrics, keyed by a command name, a path and a field
    named `le`, as a package declares them: a counter, a histogram, a table."""
    out = tmp_path_factory.mktemp("labels")
    [obj] = compile_objects(toolchain(), LABELS_SOURCE, out, "labels")
    info = inspect_object(obj)
    declared = {m.name: m for m in info.maps}
    specs = [
        OutputSpec("counts", "counter", "Calls", "value"),
        OutputSpec("latency", "histogram", "Latency\x1b[2J", "usecs"),
        OutputSpec("rows", "table", "Rows", "value"),
    ]
    return {s.map: OutputMap(s, declared[s.map], info.btf) for s in specs}


INJECTION = 'x"} 1\nebpf_hub_injected 1\n# '
HOSTILE_KEYS = [
    {"comm": 'quote"back\\slash', "le": 1, "path": "/tmp/a"},
    {"comm": "\x1b[31mred\u202e", "le": 2, "path": INJECTION},
    {"comm": "long", "le": 3, "path": "/" + "a" * 199},
    {"comm": "long", "le": 3, "path": "/" + "a" * 198 + "b"},  # the same once cut
]
# As a label reads: control and bidi characters made visible as the CLI shows them, a long
# value cut at 128 characters with its length said; `"` and `\` are the exposition's to
# escape, and come back from its parser as they were.
EXPECTED_LABELS = [
    {"comm": 'quote"back\\slash', "key_le": "1", "path": "/tmp/a"},
    {"comm": "\\x1b[31mred\\u202e", "key_le": "2", "path": 'x"} 1\\x0aebpf_hub_injected 1\\x0a# '},
    {"comm": "long", "key_le": "3", "path": "/" + "a" * 127 + "… (200 characters)"},
]


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def _expositions(families: list[Metric]) -> list[list[Metric]]:
    """`families` as Prometheus reads them, in the classic text format and in OpenMetrics
    (what Prometheus asks for first), parsed back; neither text holds a raw control
    character nor a line that is not ours."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    parsed = []
    for expose, parse in (
        (text_exposition, parse_text),
        (openmetrics_exposition, parse_openmetrics),
    ):
        text = expose(registry).decode()
        lines = text.splitlines()
        assert all(line.startswith(("ebpf_hub_", "# ")) for line in lines), text
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text.replace("\n", ""))
        assert "\u202e" not in text
        parsed.append(list(parse(text)))
    return parsed


def test_hostile_key_fields_stay_inside_their_labels(views: dict[str, OutputMap]) -> None:
    counts = [(key, value) for key, value in zip(HOSTILE_KEYS, [1, 2, 3, 4], strict=True)]
    for families in _expositions(map_families("labels", views["counts"], counts)):
        [family] = families
        assert family.name == "ebpf_hub_labels_counts" and family.type == "counter"
        assert [(s.name, s.labels, s.value) for s in family.samples] == [
            ("ebpf_hub_labels_counts_total", labels, value)
            for labels, value in zip(EXPECTED_LABELS, [1, 2, 3 + 4], strict=True)
        ]


def test_histograms_have_a_bucket_per_log2_slot(views: dict[str, OutputMap]) -> None:
    slots = [0] * SLOTS
    slots[0], slots[3], slots[SLOTS - 1] = 2, 5, 1  # 0; 4..7; 2^25 and above
    entries = [(key, {"slots": slots}) for key in HOSTILE_KEYS]
    for families in _expositions(map_families("labels", views["latency"], entries)):
        [family] = families
        assert family.name == "ebpf_hub_labels_latency_usecs" and family.type == "histogram"
        assert family.documentation == "Latency\\x1b[2J"
        for labels, times in zip(EXPECTED_LABELS, [1, 1, 2], strict=True):
            mine = [s for s in family.samples if {k: s.labels[k] for k in labels} == labels]
            buckets = {s.labels["le"]: s.value for s in mine if s.name.endswith("_bucket")}
            assert len(buckets) == SLOTS
            assert buckets["0.0"] == 2 * times and buckets["3.0"] == 2 * times
            assert buckets["7.0"] == buckets["33554431.0"] == 7 * times
            assert buckets["+Inf"] == 8 * times
            assert len(mine) == SLOTS, "no _sum (a log2 map has none), so no _count"


def test_tables_are_gauges_of_their_numeric_fields(views: dict[str, OutputMap]) -> None:
    entries = [(HOSTILE_KEYS[0], {"calls": 7, "last": "open"})]
    for families in _expositions(map_families("labels", views["rows"], entries)):
        [family] = families  # `last` is text: no metric
        assert family.name == "ebpf_hub_labels_rows_calls" and family.type == "gauge"
        assert [(s.labels, s.value) for s in family.samples] == [(EXPECTED_LABELS[0], 7.0)]
