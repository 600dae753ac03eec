"""What installing costs, beside `skopeo copy` of the same artifact from the same registry.

1. Cold install (empty cache, fresh home) of a seed package, as a whole `ebpf-hub install`
   process (hub lookup, signature, every blob verified, atomic install), beside `skopeo copy
   docker://... dir:OUT`. Target: under 5x (start-up decides; see the import profile).
2. The same for a 50 MB artifact (one object holding 50 MB of random bytes, signed and
   indexed). Target: under 1.5x (streaming and hashing decide).
3. Warm re-install from the cache, with the registry stopped: it must succeed, so the
   registry was not needed; the hub's requests are counted (conditional GETs).
4. Bytes a client downloads to resolve one package of a hub of 10,000 packages (its
   `packages/<name>.json`), beside the size of the full `index.json`.

Processes run with byte-compiled modules (a private PYTHONPYCACHEPREFIX), as after a pip
install: with PYTHONDONTWRITEBYTECODE set, every run would recompile the package's sources.

    .venv/bin/python benchmarks/install.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from artifactconfig import artifact_config  # noqa: E402
from ebpf_hub.cli import main as hub_main  # noqa: E402
from httpserver import StaticServer  # noqa: E402
from registry import RegistryServer, start_registry  # noqa: E402

HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
NAMESPACE = "bench"
SEED = "execsnoop"
BIG = "bigpkg"
BIG_SIZE = 50 * 1024 * 1024


def python_env(work: Path, **variables: str) -> dict[str, str]:
    """The environment of measured processes: bytecode cached (under `work`), as installed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(work / "pycache"), **variables}


class Timing(NamedTuple):
    """One process: wall-clock seconds, and the CPU seconds (user + system) it used."""

    wall: float
    cpu: float


def run(command: list[str], env: dict[str, str] | None = None) -> Timing:
    """How long one whole process takes; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.decode()}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Timing(wall, cpu)


def report(label: str, ours: list[Timing], theirs: list[Timing], target: float) -> None:
    """Median and best wall time, median CPU time, and their ratios (ours / skopeo's)."""
    rows = {"ebpf-hub install": ours, "skopeo copy": theirs}
    figures = {
        name: (
            statistics.median(t.wall for t in runs),
            min(t.wall for t in runs),
            statistics.median(t.cpu for t in runs),
        )
        for name, runs in rows.items()
    }
    for name, (median, best, cpu) in figures.items():
        print(
            f"  {name:<17} wall median {median * 1000:6.0f} ms, best {best * 1000:6.0f} ms;"
            f" CPU median {cpu * 1000:6.0f} ms"
        )
    mine, skopeo = figures["ebpf-hub install"], figures["skopeo copy"]
    print(
        f"  ratio ({label}, target < {target}x): wall median {mine[0] / skopeo[0]:.2f}x, "
        f"best {mine[1] / skopeo[1]:.2f}x; CPU {mine[2] / skopeo[2]:.2f}x"
    )


def user_env(work: Path, home: Path, hub: StaticServer) -> dict[str, str]:
    return python_env(
        work,
        EBPF_HUB_HOME=str(home),
        EBPF_HUB_URL=hub.url,
        EBPF_HUB_PUBLIC_KEY=str(work / "hub.pub"),
    )


def publish_seed(work: Path, registry: RegistryServer) -> Path:
    """The seed catalogue, signed, and its JSON index with digests; returns the site."""
    namespace = f"{registry.host}/{NAMESPACE}"
    ledger = work / "digests.json"
    quiet = ["--ledger", str(ledger)]
    assert hub_main(["keygen", str(work / "hub")]) == 0
    command = ["publish", "--root", str(REPO), "--registry", namespace, "--insecure", "--all"]
    assert hub_main([*command, *quiet, "--sign-key", str(work / "hub.key")]) == 0
    site = work / "site"
    command = ["index", "--root", str(REPO), "--out", str(site), "--registry", namespace]
    assert hub_main([*command, "--digests", str(ledger)]) == 0
    return site


def big_object(path: Path) -> None:
    """A real BPF object carrying 50 MB of random bytes in a section no loader reads: install
    reads what every verified object can do from its bytes, so the payload must be an ELF."""
    source, plain, payload = (path.with_suffix(suffix) for suffix in (".c", ".plain", ".data"))
    source.write_text(
        '__attribute__((section("tracepoint/syscalls/sys_enter_getpid"), used))\n'
        "int probe(void *ctx) { return 0; }\n"
        'char LICENSE[] __attribute__((section("license"), used)) = "GPL";\n'
    )
    subprocess.run(["clang", "-target", "bpf", "-O2", "-g", "-c", source, "-o", plain], check=True)
    with payload.open("wb") as handle:
        for _ in range(BIG_SIZE // (1 << 20)):
            handle.write(os.urandom(1 << 20))
    subprocess.run(["llvm-objcopy", f"--add-section=.bench={payload}", plain, path], check=True)
    for scratch in (source, plain, payload):
        scratch.unlink()


def publish_big(work: Path, registry: RegistryServer, site: Path) -> None:
    """A package whose one object holds 50 MB of random bytes: pushed, signed and indexed."""
    from ebpf_hub.oci.artifact import build_artifact, push_artifact
    from ebpf_hub.oci.keys import load_private_key
    from ebpf_hub.oci.registry import RegistryStore
    from ebpf_hub.oci.signing import sign

    files = work / "big"
    files.mkdir()
    big_object(files / f"{BIG}.bpf.o")
    config = artifact_config(BIG, "1.0.0", (f"{BIG}.bpf.o",))
    artifact = build_artifact([files / f"{BIG}.bpf.o"], config, title=BIG, version="1.0.0")
    store = RegistryStore(registry.host, f"{NAMESPACE}/{BIG}", insecure=True)
    push_artifact(store, artifact, "1.0.0")
    repository = f"{registry.host}/{NAMESPACE}/{BIG}"
    sign(store, repository, artifact.digest, load_private_key(work / "hub.key"))
    size = len(artifact.manifest) + len(artifact.config) + sum(d.size for d, _ in artifact.layers)
    entry = json.loads((site / f"api/v1/packages/{SEED}.json").read_text())
    [version] = entry["versions"]
    version.update(
        ref=f"{repository}:1.0.0",
        digest=artifact.digest,
        pinned=f"{repository}@{artifact.digest}",
        size=size,
    )
    entry["name"] = BIG
    (site / f"api/v1/packages/{BIG}.json").write_text(json.dumps(entry))


def cold(work: Path, hub: StaticServer, registry: RegistryServer, name: str, runs: int) -> None:
    def install(attempt: int) -> Timing:
        home = work / f"cold-{name}-{attempt}"
        try:
            return run([HUB, "install", name], user_env(work, home, hub))
        finally:
            shutil.rmtree(home)

    def skopeo(attempt: int) -> Timing:
        out = work / f"skopeo-{name}-{attempt}"
        source = f"docker://{registry.host}/{NAMESPACE}/{name}:1.0.0"
        try:
            return run(["skopeo", "copy", "-q", "--src-tls-verify=false", source, f"dir:{out}"])
        finally:
            shutil.rmtree(out)

    install(runs)  # warm the page cache and the registry, for both alike
    skopeo(runs)
    ours, theirs = [], []
    for attempt in range(runs):  # interleaved, so both see the same machine
        ours.append(install(attempt))
        theirs.append(skopeo(attempt))
    report(name, ours, theirs, 5.0 if name == SEED else 1.5)


def import_profile(work: Path, hub: StaticServer) -> None:
    """Where the start-up time of `install` goes (python -X importtime, cumulative µs)."""
    home = work / "import-profile"
    env = user_env(work, home, hub)
    command = [sys.executable, "-X", "importtime", "-m", "ebpf_hub.cli", "install", SEED]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    shutil.rmtree(home)
    top: dict[str, int] = {}
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if not name.startswith("  "):  # top level: imported by our code directly
                top[name.strip()] = int(parts[1])
    total = sum(top.values())
    print(f"  imports of `install` {total / 1000:.0f} ms; the largest:")
    for name, micros in sorted(top.items(), key=lambda item: -item[1])[:6]:
        print(f"    {micros / 1000:6.0f} ms  {name}")
    env = python_env(work)
    for label, command in (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import http.client'", [sys.executable, "-c", "import http.client"]),
        ("python -c 'import requests' (not used)", [sys.executable, "-c", "import requests"]),
        ("ebpf-hub --version (every command group)", [HUB, "--version"]),
    ):
        seconds = statistics.median([run(command, env).wall for _ in range(5)])
        print(f"    {seconds * 1000:6.0f} ms  {label}")


def warm(work: Path, hub: StaticServer, registry: RegistryServer, runs: int) -> None:
    home = work / "warm"
    env = user_env(work, home, hub)
    for name in (SEED, BIG):
        run([HUB, "install", name], env)
    registry.stop()
    for name in (SEED, BIG):
        hub.log.clear()
        times = []
        for _ in range(runs):
            run([HUB, "remove", name], env)
            times.append(run([HUB, "install", name], env).wall)
        statuses = sorted({status for _, status in hub.log})
        print(
            f"  {name}: median {statistics.median(times) * 1000:.0f} ms with the registry "
            f"stopped (0 registry requests); hub: {len(hub.log) // runs} request(s) per "
            f"install, HTTP {statuses}"
        )


def resolve_bytes(work: Path, packages: int) -> None:
    from ebpf_hub.client.hubindex import HubIndex
    from ebpf_hub.client.resolve import resolve
    from ebpf_hub.client.settings import Settings
    from ebpf_hub.index.config import load_config
    from ebpf_hub.index.jsonindex import build_index, write_index
    from ebpf_hub.index.validate import validate
    from index_scale import generate

    root = work / "hub-10k"
    generate(root, packages)
    config = load_config(root)
    write_index(build_index(validate(config).packages, config.registry, {}), work / "site-10k")
    name = f"pkg-{packages // 2:05d}"
    os.environ["EBPF_HUB_HOME"] = str(work / "resolve-home")
    with StaticServer(work / "site-10k") as server:
        with HubIndex(Settings(hub_url=server.url)) as index:
            version = resolve(index.package(name), None).version.version
        fetched = sum(
            (server.root / path.lstrip("/")).stat().st_size
            for path, status in server.log
            if status == 200
        )
    whole = (work / "site-10k/api/v1/index.json").stat().st_size
    print(f"  resolving {name} -> {version}: {fetched:,} bytes in {len(server.log)} request(s)")
    print(f"  the full index.json: {whole:,} bytes ({whole / fetched:.0f}x more)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--packages", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ebpf-hub-bench-install-"))
    registry = start_registry(work / "registry")
    try:
        site = publish_seed(work, registry)
        publish_big(work, registry, site)
        with StaticServer(site) as hub:
            print(f"1. cold install of {SEED} (whole processes, {args.runs} runs each)")
            cold(work, hub, registry, SEED, args.runs)
            import_profile(work, hub)
            print(f"2. cold install of a {BIG_SIZE >> 20} MB artifact")
            cold(work, hub, registry, BIG, max(3, args.runs // 2))
            print("3. warm re-install from the cache (remove, then install)")
            warm(work, hub, registry, max(3, args.runs // 2))
        print(f"4. resolving one package of a hub of {args.packages:,} packages")
        resolve_bytes(work, args.packages)
    finally:
        registry.stop()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
