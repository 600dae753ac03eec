"""Running git: one place that turns a failed git command into a one-line HubError."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ebpf_hub.errors import HubError


def git(cwd: Path, *args: str) -> bytes:
    """The output of `git -C cwd ARGS`, or a HubError carrying git's last line of complaint."""
    try:
        result = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise HubError("git is not installed; install it (scripts/bootstrap does)") from None
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise HubError(f"git {args[0]} in {cwd}: {reason[-1] if reason else 'failed'}")
    return result.stdout


def git_text(cwd: Path, *args: str) -> str:
    """`git` for commands whose output is one piece of text (a hash, a URL, a status)."""
    return git(cwd, *args).decode(errors="replace").strip()


def commit_of(cwd: Path, ref: str) -> str | None:
    """The full hash of the commit `ref` names in the repository at `cwd`, or None if none."""
    try:
        return git_text(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except HubError:
        return None
