"""What pins a package directory's sources: the git commit it is at, and where the hub fetches it.

A manifest cannot name the commit that contains it, so the pin is read from git when it is
needed: `publish` records it in the artifact, `submit` writes it into the index entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.gitutil import git_text

# git@host:owner/repo(.git) and ssh://[user@]host[:port]/path, the forms `git clone` accepts
# besides https; the hub fetches over https, so both are rewritten to it.
_SCP_URL = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?!//)(?P<path>[^\s]+)$")
_SSH_URL = re.compile(r"^ssh://(?:[\w.-]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>[^\s]+)$")


@dataclass(frozen=True)
class GitSource:
    """A committed package directory: the hub's `source` (`git`, `subdir`) and the pinned commit."""

    url: str
    subdir: str  # "" when the package is the repository's root
    commit: str

    def source(self) -> dict[str, str]:
        """The `source` field of the index entry."""
        return {"git": self.url, **({"subdir": self.subdir} if self.subdir else {})}


def https_url(url: str) -> str:
    """The https form of a remote URL (scp-like and ssh:// URLs rewritten); refuses others."""
    if url.startswith("https://"):
        return url
    match = _SSH_URL.match(url) or _SCP_URL.match(url)
    if match is None:
        raise HubError(
            f"remote URL {url!r} is not https or ssh; the hub fetches sources over https, "
            "so push the package to a hosted repository (e.g. GitHub) and add it as a remote"
        )
    return f"https://{match['host']}/{match['path']}"


def git_source(directory: Path, remote: str = "origin") -> GitSource:
    """The commit `directory` is at, its remote's https URL and its place in the repository.

    Refuses a directory with uncommitted or untracked changes: they would not be in the commit.
    """
    directory = directory.resolve()
    try:
        top = Path(git_text(directory, "rev-parse", "--show-toplevel")).resolve()
    except HubError:
        raise HubError(
            f"{directory} is not in a git repository; run: git init && git add . && git commit"
        ) from None
    changes = git_text(directory, "status", "--porcelain", "--", ".")
    if changes:
        first = changes.splitlines()[0][3:]
        raise HubError(
            f"{directory} has uncommitted changes ({first}, ...); commit them first, "
            "a published version records the commit it was built from"
        )
    commit = git_text(directory, "rev-parse", "--verify", "HEAD^{commit}")
    try:
        url = git_text(directory, "remote", "get-url", remote)
    except HubError:
        raise HubError(
            f"{top} has no remote {remote!r}; add the repository the hub will fetch from: "
            f"git remote add {remote} https://github.com/OWNER/REPO"
        ) from None
    subdir = directory.relative_to(top).as_posix()
    return GitSource(https_url(url), "" if subdir == "." else subdir, commit)


def is_pushed(directory: Path, commit: str, remote: str = "origin") -> bool:
    """Whether a branch of `remote` (as last fetched) contains `commit`, so the hub can fetch it."""
    branches = git_text(directory, "branch", "--remotes", "--contains", commit).split()
    return any(branch.startswith(f"{remote}/") for branch in branches)
