"""How `validate` and `index` scale: 10,000 synthetic package files against a bare YAML load.

The baseline reads and parses every file with PyYAML's C loader and nothing else: the least
any validator must do. Target: validating within 3x of it.

    .venv/bin/python benchmarks/index_scale.py [--packages N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from ebpf_hub.index.config import load_config  # noqa: E402
from ebpf_hub.index.jsonindex import build_index, write_index  # noqa: E402
from ebpf_hub.index.validate import validate  # noqa: E402
from hubrepo import SAMPLE, make_hub  # noqa: E402


def generate(root: Path, count: int) -> None:
    """`count` valid packages with three versions each, names pkg-00000 ... (git sources)."""
    make_hub(root)
    extra = "".join(
        f"  - version: 1.{minor}.0\n    commit: {'c' * 39}{minor}\n"
        f'    created: "2026-03-0{minor}"\n    changes: Release {minor}\n'
        for minor in (2, 3)
    )
    for i in range(count):
        name = f"pkg-{i:05d}"
        text = SAMPLE.replace("name: sample", f"name: {name}") + extra
        text = text.replace("keywords: [sample, test]", f"keywords: [k{i % 97}, test]")
        (root / "index" / "packages" / f"{name}.yaml").write_text(text)


def timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.3f} s")
    return seconds


def bare_load(root: Path) -> None:
    for path in sorted((root / "index" / "packages").glob("*.yaml")):
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ebpf-hub-bench-"))
    try:
        root = work / "hub"
        generate(root, args.packages)
        config = load_config(root)
        print(f"index of {args.packages} packages ({sum(1 for _ in root.rglob('*.yaml'))} files)")
        bare_load(root)  # warm the page cache so every run reads from memory
        baseline = timed("baseline: read + yaml.CSafeLoader", lambda: bare_load(root))
        report = validate(config)
        assert report.ok, report.problems[:3]
        checked = timed("ebpf-hub validate (schema + semantic)", lambda: validate(config))
        written = timed(
            "ebpf-hub index (validate + write api/v1)",
            lambda: write_index(
                build_index(validate(config).packages, config.registry, {}), work / "site"
            ),
        )
        print(f"  ratio validate / baseline: {checked / baseline:.2f}x (target <= 3x)")
        print(f"  ratio index / baseline:    {written / baseline:.2f}x")
        size = (work / "site" / "api/v1/index.json").stat().st_size
        print(
            f"  index.json: {size / 1024:.0f} KiB; one package file: "
            f"{(work / 'site/api/v1/packages/pkg-00000.json').stat().st_size} bytes"
        )
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
