"""What the signed index costs on a hub of 10,000 packages: signing it, and resolving one
package with full TUF verification beside today's unverified resolve.

1. Signing: `trust sign` of the whole api/v1 (every file hashed, 256 bins signed), then the
   incremental re-sign after one package changed (one bin re-signed).
2. Resolving one package with a cold cache, in-process, each run with a fresh cache and a
   fresh HTTP client: the TUF client (timestamp, snapshot, targets, one bin, the file, each
   verified) beside `HubIndex.package` (today's resolve: one GET, schema-checked) and a bare
   GET of the same file. Bytes are what the server sent. Target: TUF bytes <= 2% of
   index.json. The five requests depend each on the one before, so in-process the TUF time
   cannot go below five bare GETs: its ratio is printed beside that floor.
3. The same as whole commands, as a user runs them: `ebpf-hub info NAME --json` with the
   hub's root installed (every read verified through TUF) beside the same without a root.
   Target: TUF time <= 1.5x today's, for what the user waits for.
4. A warm resolve: another package with the metadata cached (a new timestamp only).

    .venv/bin/python benchmarks/tuf_scale.py [--packages N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from socketserver import StreamRequestHandler
from typing import cast

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from ebpf_hub.client.hubindex import HubIndex  # noqa: E402
from ebpf_hub.client.settings import Settings  # noqa: E402
from ebpf_hub.httpclient import Client  # noqa: E402
from ebpf_hub.index.config import load_config  # noqa: E402
from ebpf_hub.index.jsonindex import build_index, write_index  # noqa: E402
from ebpf_hub.index.validate import validate  # noqa: E402
from ebpf_hub.trust.ceremony import init_root  # noqa: E402
from ebpf_hub.trust.client import TrustedIndex  # noqa: E402
from ebpf_hub.trust.keys import load_online_keys  # noqa: E402
from ebpf_hub.trust.repository import sign_index  # noqa: E402
from httpserver import StaticServer  # noqa: E402
from index_scale import generate  # noqa: E402

HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def served_bytes(server: StaticServer, since: int) -> tuple[int, int]:
    """(bytes, requests) the server answered with 200 since log entry `since`."""
    entries = [(p, s) for p, s in server.log[since:] if s == 200]
    size = sum((server.root / p.lstrip("/")).stat().st_size for p, _ in entries)
    return size, len(entries)


class Measure:
    """Runs of one way to resolve: wall times, and the bytes and requests of the last run."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.times: list[float] = []
        self.bytes = 0
        self.requests = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def show(self) -> None:
        print(
            f"  {self.label:<34} median {self.median * 1000:7.2f} ms, best "
            f"{min(self.times) * 1000:7.2f} ms; {self.bytes:>9,} bytes in {self.requests} GET(s)"
        )


def build_hub(work: Path, packages: int) -> Path:
    root = work / "hub"
    generate(root, packages)
    config = load_config(root)
    write_index(build_index(validate(config).packages, config.registry, {}), work / "site")
    return work / "site" / "api" / "v1"


def in_process(
    work: Path, server: StaticServer, root: bytes, name: str, runs: int
) -> dict[str, Measure]:
    path = f"packages/{name}.json"
    measures = {
        key: Measure(label)
        for key, label in (
            ("tuf", "TUF verified (TrustedIndex.fetch)"),
            ("today", "today's resolve (HubIndex.package)"),
            ("bare", "bare GET of packages/NAME.json"),
        )
    }

    def tuf(client: Client) -> None:
        data = TrustedIndex(server.url, client, root=root).fetch(path)
        assert data is not None and json.loads(data)["name"] == name

    def today(client: Client) -> None:
        assert HubIndex(Settings(hub_url=server.url), client).package(name).name == name

    def bare(client: Client) -> None:
        with client.request("GET", f"{server.url}api/v1/{path}") as response:
            assert json.loads(response.read(1 << 22))["name"] == name

    actions = {"tuf": tuf, "today": today, "bare": bare}
    for run in range(runs + 1):  # the first run of each warms imports and is not counted
        for key, action in actions.items():
            os.environ["EBPF_HUB_HOME"] = str(work / "homes" / f"{key}-{run}")
            since = len(server.log)
            with Client() as client:
                start = time.perf_counter()
                action(client)
                seconds = time.perf_counter() - start
            if run:
                measures[key].times.append(seconds)
                measures[key].bytes, measures[key].requests = served_bytes(server, since)
    return measures


def processes(work: Path, server: StaticServer, roots: Path, name: str, runs: int) -> None:
    """`ebpf-hub info NAME --json` as a user runs it, twice: with the hub's root installed (every
    file verified through TUF) and without one (today's unsigned read); fresh homes each run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    trusting = {"info --json, root installed (TUF)": True, "info --json, no root (unsigned)": False}
    results: dict[str, list[float]] = {label: [] for label in trusting}
    for run in range(runs + 1):
        for number, (label, trusted) in enumerate(trusting.items()):
            home = work / "process-homes" / f"{number}-{run}"
            run_env = {**env, "EBPF_HUB_HOME": str(home), "EBPF_HUB_URL": server.url}
            if trusted:
                install = [HUB, "trust", "install-root", str(roots / "1.root.json")]
                subprocess.run(install, env=run_env, check=True, capture_output=True)
            start = time.perf_counter()
            info = [HUB, "info", name, "--json"]
            subprocess.run(info, env=run_env, check=True, capture_output=True)
            if run:
                results[label].append(time.perf_counter() - start)
    for label, times in results.items():
        print(f"  {label:<36} median {statistics.median(times) * 1000:7.1f} ms")
    tuf, today = (statistics.median(t) for t in results.values())
    print(f"  ratio TUF / unsigned (whole command): {tuf / today:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ebpf-hub-tuf-bench-"))
    try:
        api = build_hub(work, args.packages)
        init_root(work / "roots", work / "root-keys", work / "keys")
        keys = load_online_keys(work / "keys")
        print(f"hub of {args.packages} packages")
        full = timed(lambda: sign_index(api, work / "roots", keys))
        name = f"pkg-{args.packages // 2:05d}"
        changed = api / "packages" / f"{name}.json"
        changed.write_bytes(changed.read_bytes().replace(b'"summary":"', b'"summary":"New! ', 1))
        report = None

        def again() -> None:
            nonlocal report
            report = sign_index(api, work / "roots", keys)

        incremental = timed(again)
        assert report is not None
        print(f"  trust sign, whole hub:            {full:7.2f} s")
        print(
            f"  trust sign, one package changed:  {incremental:7.2f} s "
            f"({report.bins_signed} bin re-signed, {report.bins_kept} kept)"
        )
        root = (work / "roots" / "1.root.json").read_bytes()
        index_size = (api / "index.json").stat().st_size
        with StaticServer(work / "site") as server:
            # Python's http.server writes the headers and the body in two sends; with Nagle's
            # algorithm on, the second waits for the client's delayed ACK (40 ms) on every
            # request but the first of a kept-alive connection. Static hosts send both at
            # once, so this server does too: else the figures measure that stall.
            handler = cast(type[StreamRequestHandler], server._httpd.RequestHandlerClass)
            handler.disable_nagle_algorithm = True
            print(f"resolving {name} with a cold cache ({args.runs} runs each)")
            measures = in_process(work, server, root, name, args.runs)
            for measure in measures.values():
                measure.show()
            tuf, today, bare = measures["tuf"], measures["today"], measures["bare"]
            print(f"  full index.json: {index_size:,} bytes")
            print(f"  ratio TUF bytes / index.json: {tuf.bytes / index_size:.2%} (target <= 2%)")
            # A cold TUF resolve is five requests in a row (timestamp, snapshot, targets, the
            # bin, the file), each needing the one before: in-process, over loopback, its floor
            # is five bare GETs. The target is for what a user waits for: the whole command.
            print(
                f"  ratio TUF time / today's resolve: {tuf.median / today.median:.2f}x "
                f"(floor of {tuf.requests} sequential GETs: "
                f"{tuf.requests * bare.median / today.median:.2f}x); "
                f"/ bare GET: {tuf.median / bare.median:.2f}x"
            )
            os.environ["EBPF_HUB_HOME"] = str(work / "homes" / "tuf-1")
            since = len(server.log)
            with Client() as client:
                other = f"packages/pkg-{args.packages // 3:05d}.json"
                warm = timed(lambda: TrustedIndex(server.url, client, root=root).fetch(other))
            size, count = served_bytes(server, since)
            print(
                f"warm: another package, metadata cached: {warm * 1000:.2f} ms, "
                f"{size:,} bytes in {count} GET(s)"
            )
            print(f"whole processes, cold cache ({min(args.runs, 7)} runs each)")
            processes(work, server, work / "roots", name, min(args.runs, 7))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
