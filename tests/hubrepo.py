"""A small hub checkout in a temporary directory, for tests of the index commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from ebpf_hub.develop.scaffold import PLACEHOLDER_AUTHOR

REPO = Path(__file__).resolve().parent.parent

SAMPLE = """\
name: sample
summary: Count sample events per process for testing
description: |
  A package the tests use; it traces exec() calls.
license: GPL-2.0-only
homepage: https://example.org/sample
maintainers:
  - name: Test Maintainer
    email: test@example.org
    github: tester
categories: [observability]
keywords: [sample, test]
source:
  git: https://example.org/sample.git
requires:
  kernel: "5.8"
  btf: true
  architectures: [x86_64]
  capabilities: [CAP_BPF, CAP_PERFMON]
programs:
  - name: handle_exec
    section: tracepoint/syscalls/sys_enter_execve
permissions:
  attach: [tracepoint]
output:
  events: true
versions:
  - version: 1.0.0
    commit: 0123456789abcdef0123456789abcdef01234567
    created: "2026-01-10"
    changes: First release
  - version: 1.1.0
    commit: 89abcdef0123456789abcdef0123456789abcdef
    created: "2026-02-01"
    changes: Adds the uid
"""


def make_hub(root: Path) -> Path:
    """A hub checkout at `root` with the real hub.yaml and schema, and no packages yet."""
    (root / "index" / "packages").mkdir(parents=True)
    shutil.copy(REPO / "index" / "hub.yaml", root / "index" / "hub.yaml")
    return root


def write_package(root: Path, name: str, text: str) -> Path:
    path = root / "index" / "packages" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def in_repo_package(root: Path, name: str, tree: str, source: str = "int x;\n") -> Path:
    """A package whose sources live in sources/NAME, pinned by `tree` (see ebpf_hub.index.srchash)."""
    src = root / "sources" / name
    src.mkdir(parents=True, exist_ok=True)
    (src / f"{name}.bpf.c").write_text(source)
    text = SAMPLE.replace("name: sample", f"name: {name}").replace(
        "  git: https://example.org/sample.git", f"  path: sources/{name}"
    )
    text = text.replace(
        "    commit: 0123456789abcdef0123456789abcdef01234567\n", f"    tree: {tree}\n"
    )
    text = text.replace(
        "    commit: 89abcdef0123456789abcdef0123456789abcdef\n", f"    tree: {tree}\n"
    )
    return write_package(root, name, text)


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def copy_seed(root: Path, seed: str, name: str | None = None) -> Path:
    """Copy a seed package of this repository into the hub at `root` (as `name`), re-pinned,
    with its first version only (versions are the file's last field): tests add the versions
    they need, dated after it."""
    from ebpf_hub.index.srchash import tree_hash

    name = name or seed
    target = root / "sources" / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / "sources" / seed, target)
    text = (REPO / "index" / "packages" / f"{seed}.yaml").read_text()
    text = text.replace(f"name: {seed}\n", f"name: {name}\n").replace(
        f"path: sources/{seed}\n", f"path: sources/{name}\n"
    )
    lines = [
        f"    tree: {tree_hash(target)}" if line.startswith("    tree: ") else line
        for line in text.splitlines()
    ]
    later = [i for i, line in enumerate(lines) if line.startswith("  - version: ")][1:]
    kept = lines[: later[0]] if later else lines
    return write_package(root, name, "\n".join(kept) + "\n")


def add_version(root: Path, name: str, version: str, created: str = "2026-11-28") -> None:
    """Append a version pinning the current content of sources/NAME."""
    from ebpf_hub.index.srchash import tree_hash

    path = root / "index" / "packages" / f"{name}.yaml"
    tree = tree_hash(root / "sources" / name)
    path.write_text(
        path.read_text() + f"  - version: {version}\n    tree: {tree}\n"
        f'    created: "{created}"\n    changes: Version {version}.\n'
    )


def describe_package(directory: Path, summary: str) -> None:
    """What an author does before submitting: say what the package is, in their own words
    (`submit` refuses the summary, description and README a template or `init --from` wrote,
    and the placeholder maintainer they write where git knows no user.name)."""
    manifest = directory / "ebpf-hub.yaml"
    text = re.sub(r"(?m)^summary: .*$", f"summary: {json.dumps(summary)}", manifest.read_text())
    text = text.replace(PLACEHOLDER_AUTHOR, "A. Author")
    description = f"Shows {summary.lower()}, one line each, as the libbpf-tools tool does."
    text = re.sub(
        r"(?ms)^description: .*?(?=^\S)", f"description: {json.dumps(description)}\n", text
    )
    manifest.write_text(text)
    (directory / "README.md").write_text(f"# {directory.name}\n\n{summary}.\n")
