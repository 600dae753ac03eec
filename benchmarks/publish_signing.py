"""What signatures and provenance add to publishing the seed catalogue.

Publishes every seed package (build, push) to an empty registry, each run a whole
`ebpf-hub publish --all` process: unsigned (`--no-sign`), then signed (both of cosign's
signature forms and the SLSA provenance of every manifest), then signed again (everything
present: what a re-run costs). Target: signed at most 1.3x unsigned.

    .venv/bin/python benchmarks/publish_signing.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from registry import start_registry  # noqa: E402

HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
ROUNDS = 3


def publish(work: Path, host: str, namespace: str, *signing: str) -> float:
    command = [HUB, "publish", "--root", str(REPO), "--all", "--registry", f"{host}/{namespace}"]
    ledger = str(work / f"{namespace}.json")
    started = time.perf_counter()
    subprocess.run([*command, "--insecure", "--ledger", ledger, *signing], check=True)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-bench-") as scratch:
        work = Path(scratch)
        subprocess.run([HUB, "keygen", str(work / "hub")], check=True, capture_output=True)
        registry = start_registry(work / "registry")
        try:
            key = str(work / "hub.key")
            publish(work, registry.host, "warm", "--no-sign")  # caches: vmlinux.h, git
            # Interleaved, each the best of its rounds: the machine is shared.
            rounds = range(ROUNDS)
            unsigned = min(publish(work, registry.host, f"u{n}", "--no-sign") for n in rounds)
            signed = min(publish(work, registry.host, f"s{n}", "--sign-key", key) for n in rounds)
            again = publish(work, registry.host, "s0", "--sign-key", key)
        finally:
            registry.stop()
    print(f"publish --all, unsigned:                 {unsigned:6.2f} s")
    print(f"publish --all, signed + provenance:      {signed:6.2f} s  ({signed / unsigned:.2f}x)")
    print(f"publish --all again (all present):       {again:6.2f} s")
    print(f"target: signed <= 1.3x unsigned: {'met' if signed <= 1.3 * unsigned else 'MISSED'}")


if __name__ == "__main__":
    main()
