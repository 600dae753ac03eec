"""Getting the exact sources a version pins, whatever the working tree holds now.

In-repo sources: the directory if its content hash matches the version's `tree`, else the
commit in git history where it did (an older version is rebuilt as it was published). Git
sources: the pinned commit, fetched into a cache and exported.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import is_regular_file
from ebpf_hub.gitutil import commit_of, git
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.model.package import Package, Version
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir


def _extract(archive: bytes, prefix: str, into: Path) -> Path:
    """Unpack the `prefix/` part of a `git archive` tar into `into`, refusing links and escapes."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.issym() or member.islnk():
                raise HubError(f"{member.name}: links are not allowed in package sources")
            if not member.isfile():
                continue
            if prefix and not member.name.startswith(prefix + "/"):
                continue
            relative = member.name[len(prefix) + 1 :] if prefix else member.name
            if relative:
                target = into / relative
                if not target.resolve().is_relative_to(into.resolve()):
                    raise HubError(f"{member.name}: path leaves the source directory")
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                if extracted is not None:
                    target.write_bytes(extracted.read())
    return into


def checkout_sources(root: Path, package: Package, version: Version, work: Path) -> Path:
    """A directory holding exactly the sources `version` pins (in `work` unless in place)."""
    label = f"{package.name}@{version.version}"
    source = package.source
    if version.tree is not None and source.path is not None:
        return _in_repo(root, source.path, version.tree, work, label)
    if version.commit is not None and source.git is not None:
        return _fromgit(source.git, source.subdir or "", version.commit, work, label)
    raise HubError(f"{label}: the version pins no source of its kind (tree or commit)")


def _in_repo(root: Path, relative: str, tree: str, work: Path, label: str) -> Path:
    directory = root / relative
    if directory.is_dir() and tree_hash(directory) == tree:
        return directory
    log = git(root, "log", "--format=%H", "--", relative).decode().split()
    for commit in log:
        candidate = work / f"{commit[:12]}"
        _extract(git(root, "archive", "--format=tar", commit, relative), relative, candidate)
        if tree_hash(candidate) == tree:
            return candidate
    raise HubError(
        f"{label}: no commit of {relative} matches the pinned {tree}; "
        "was the version's tree hash edited by hand?"
    )


def _fromgit(url: str, subdir: str, commit: str, work: Path, label: str) -> Path:
    # git runs in the mirror, so it is held to the client's rule (`ebpf_hub.privatedir`)
    mirror = private_dir(cache_dir(), "git", hashlib.sha256(url.encode()).hexdigest()[:16])
    if not is_regular_file(mirror / "HEAD"):
        git(mirror, "init", "-q", "--bare")
    if commit_of(mirror, commit) is None:
        try:
            git(mirror, "fetch", "-q", "--depth", "1", url, commit)
        except HubError as exc:
            raise HubError(f"{label}: cannot fetch commit {commit} from {url} ({exc})") from None
    prefix = subdir.strip("/")
    archive = git(mirror, "archive", "--format=tar", commit, *([prefix] if prefix else []))
    return _extract(archive, prefix, work / commit[:12])
