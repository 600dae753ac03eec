"""Lighthouse on the catalogue as `ebpf-hub site serve` serves it: home and a package page.

Lighthouse comes from npm (`npx lighthouse@VERSION`, npm's cache keeps it) and drives Debian's
Chromium. Each page is audited with the mobile default (a mid-range phone on a throttled
network) and the desktop preset. Targets (issue #17): accessibility at least 98 everywhere,
mobile performance at least 95; the script exits 1 when one is missed.

    .venv/bin/python benchmarks/site_lighthouse.py [--package execsnoop]

The site is built from this repository's index, with the publish and matrix ledgers of
`scripts/up` (build/digests.json, build/matrix) when they exist, as scripts/up serves it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIGHTHOUSE = "lighthouse@12.8.2"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {("mobile", "performance"): 95, ("mobile", "accessibility"): 98}
TARGETS[("desktop", "accessibility")] = 98


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    """Wait for the first build to finish and the server to answer (a build takes seconds)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"site serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within 300 s")


def audit(url: str, form: str, work: Path) -> dict[str, int]:
    """Lighthouse's category scores (0..100) for `url` as `form` (mobile or desktop)."""
    report = work / f"{form}-{abs(hash(url))}.json"
    command = [
        "npx",
        "--yes",
        LIGHTHOUSE,
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]
    if form == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(command, check=True, env=env, cwd=work)
    categories = json.loads(report.read_text())["categories"]
    return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="execsnoop", help="the package page to audit")
    parser.add_argument("--root", default=str(REPO), help="the hub checkout to serve")
    args = parser.parse_args()
    port = free_port()
    ledgers = []
    if (REPO / "build/digests.json").is_file():
        ledgers += ["--digests", str(REPO / "build/digests.json")]
    if (REPO / "build/matrix").is_dir():
        ledgers += ["--matrix", str(REPO / "build/matrix")]
    with tempfile.TemporaryDirectory(prefix="lighthouse.") as tmp:
        work = Path(tmp)
        command = [
            str(Path(sys.executable).with_name("ebpf-hub")),
            "site",
            "serve",
            "--root",
            args.root,
            "--out",
            str(work / "site"),
            "--port",
            str(port),
            *ledgers,
        ]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}/"
            wait_until_up(base, server)
            pages = {"home": base, "package": f"{base}packages/{args.package}/"}
            missed = []
            print(f"{'page':8} {'form':8} " + " ".join(f"{c:>14}" for c in CATEGORIES))
            for page, url in pages.items():
                for form in ("mobile", "desktop"):
                    scores = audit(url, form, work)
                    print(f"{page:8} {form:8} " + " ".join(f"{scores[c]:>14}" for c in CATEGORIES))
                    missed += [
                        f"{page} {form} {category} {scores[category]} < {target}"
                        for (wanted, category), target in TARGETS.items()
                        if wanted == form and scores[category] < target
                    ]
        finally:
            server.terminate()
            server.wait()
    for line in missed:
        print(f"missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
