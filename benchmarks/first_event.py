"""Warm time from starting `ebpf-hub run opensnoop` to its first printed event, against
Debian's libbpf-tools `/usr/sbin/opensnoop` on the same trigger (root).

The trigger is a process opening /dev/null every millisecond; both tracers filter on its
process id and print columns to a terminal (a pty, so neither buffers its output), as a
person watching would see them. The clock runs from just before the tracer's process starts
to the arrival of the first line naming /dev/null. The hub runs the opensnoop seed package
as a user has it: published (signed) to an OCI layout, indexed, and installed into a private
EBPF_HUB_HOME, then `ebpf-hub run opensnoop` (its declared formats on). One run of each warms
the caches first (the page cache, and Python's bytecode cache, kept in a temporary
directory, as an install has it even where PYTHONDONTWRITEBYTECODE is set); then --repeat
runs of each, alternated; medians, and the ratio. The issue's target: at most 3x
opensnoop's time. For the floor of any Python client, the median start of the same
interpreter doing nothing (`python -c pass`) is printed too: opensnoop's time plus that is
what a client with no start-up work of its own would take.

    sudo .venv/bin/python benchmarks/first_event.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_throughput import EBPF_HUB, OPENSNOOP, ROOT

TRIGGER = (
    "import os, time\n"
    "while True:\n"
    "    os.close(os.open('/dev/null', os.O_RDONLY))\n"
    "    time.sleep(0.001)\n"
)
TIMEOUT = 60.0


def first_event(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `command` to its first line naming /dev/null on its terminal."""
    control, terminal = pty.openpty()
    start = time.monotonic()
    tracer = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=terminal, stderr=subprocess.DEVNULL, env=env
    )
    os.close(terminal)
    seen = b""
    try:
        while b"/dev/null" not in seen:
            ready, _, _ = select.select([control], [], [], TIMEOUT)
            if not ready or tracer.poll() is not None:
                raise SystemExit(f"{command[0]} printed no event: {seen[-500:]!r}")
            seen += os.read(control, 65536)
        return time.monotonic() - start
    finally:
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
        os.close(control)


def install_opensnoop(work: Path, env: dict[str, str]) -> dict[str, str]:
    """The opensnoop seed package published, indexed and installed as a user has it; the
    environment that user runs with. Only its own metadata, newest version only (an older
    one's sources are in the git history alone), and sources are copied into a one-package
    hub: another package in the index may be half-edited."""
    from ebpf_hub.index.document import load_document

    root = work / "hub"
    (root / "index" / "packages").mkdir(parents=True)
    shutil.copyfile(ROOT / "index" / "hub.yaml", root / "index" / "hub.yaml")
    shutil.copytree(ROOT / "sources" / "opensnoop", root / "sources" / "opensnoop")
    metadata = "index/packages/opensnoop.yaml"
    package = load_document(ROOT / metadata, metadata).data
    package["versions"] = package["versions"][-1:]
    (root / metadata).write_text(json.dumps(package))  # JSON is YAML
    layout, ledger = f"oci:{work / 'oci'}", str(work / "digests.json")
    user = {
        **env,
        "EBPF_HUB_HOME": str(work / "home"),
        "EBPF_HUB_URL": f"file://{work / 'site'}",
        "EBPF_HUB_PUBLIC_KEY": str(work / "key.pub"),
    }
    publish = ["publish", "--root", str(root), "--registry", layout, "--all", "--ledger", ledger]
    index = ["index", "--root", str(root), "--out", str(work / "site"), "--registry", layout]
    for command in (
        ["keygen", str(work / "key")],
        [*publish, "--sign-key", str(work / "key.key")],
        [*index, "--digests", ledger],
        ["install", "opensnoop"],
    ):
        done = subprocess.run(
            [str(EBPF_HUB), *command], env=user, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"ebpf-hub {command[0]} failed: {done.stderr.strip()}")
    return user


def interpreter_start(env: dict[str, str], runs: int) -> float:
    """Median seconds of `python -c pass`: the part of the floor no client code can cut."""
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of each tracer; medians")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: both tracers load eBPF programs")
    if not OPENSNOOP.exists():
        raise SystemExit(f"{OPENSNOOP} not found: apt-get install libbpf-tools")
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-bench-") as tmp:
        # Bytecode cached as in an install (pip compiles it), outside the source tree.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env = {k: v for k, v in env.items() if not k.startswith("EBPF_HUB_")}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        user = install_opensnoop(Path(tmp), env)
        trigger = subprocess.Popen([sys.executable, "-c", TRIGGER])
        try:
            pid = str(trigger.pid)
            hub = [str(EBPF_HUB), "run", "opensnoop", "--yes", "-p", f"target_pid={pid}"]
            commands = {"opensnoop": ([str(OPENSNOOP), "-p", pid], env), "ebpf-hub": (hub, user)}
            for command, command_env in commands.values():  # warm: page cache, imports, BTF
                first_event(command, command_env)
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, (command, command_env) in commands.items():
                    times[name].append(first_event(command, command_env))
            python = interpreter_start(env, args.repeat)
        finally:
            trigger.kill()
            trigger.wait()
    medians = {name: statistics.median(runs) for name, runs in times.items()}
    print(f"warm time to the first printed event; medians of {args.repeat} runs")
    for name, runs in times.items():
        spread = f"min {min(runs) * 1000:.0f} ms, max {max(runs) * 1000:.0f} ms"
        print(f"{name:<10} {medians[name] * 1000:8.0f} ms  ({spread})")
    ratio = medians["ebpf-hub"] / medians["opensnoop"]
    verdict = "ok" if ratio <= 3 else "OVER"
    print(f"ratio ebpf-hub/opensnoop: {ratio:.2f} (target: at most 3): {verdict}")
    floor = python + medians["opensnoop"]
    print(
        f"floor of a Python client: python -c pass {python * 1000:.0f} ms + opensnoop "
        f"= {floor * 1000:.0f} ms ({floor / medians['opensnoop']:.2f}x opensnoop)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
