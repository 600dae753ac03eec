"""Packages from Debian's signed archive, fetched by apt with a configuration of our own.

The kernels of the matrix and the guest's programs are Debian packages. apt fetches them with
its own sources list, package lists and cache under ours (nothing of the system's apt state is
read or changed), checks the suite's Release signature against Debian's keyring and each .deb
against the hash the signed lists give, which is checked here once more. The mirror is the one
this machine's apt already uses, or `$EBPF_HUB_DEBIAN_MIRROR`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import open_regular, write_atomic
from ebpf_hub.locking import file_lock
from ebpf_hub.privatedir import private_dir

MIRROR_ENV = "EBPF_HUB_DEBIAN_MIRROR"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
SYSTEM_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
APT_LOCK_TIMEOUT = 900.0  # seconds another run may hold a suite's lists (a slow update)
_MIRROR_LINE = re.compile(r"^(?:URIs:|deb(?:\s+\[[^]]*\])?)\s+(\S+/debian/?)(?:\s|$)", re.M)


def system_mirror() -> str:
    """The Debian mirror: `$EBPF_HUB_DEBIAN_MIRROR`, else the first one the system's apt names."""
    if mirror := os.environ.get(MIRROR_ENV):
        return mirror
    files = [SYSTEM_SOURCES[0], *sorted(SYSTEM_SOURCES[1].glob("*"))]
    for path in files:
        if path.is_file() and (found := _MIRROR_LINE.search(path.read_text(errors="replace"))):
            return found.group(1)
    raise HubError(
        "no Debian mirror in /etc/apt/sources.list(.d)",
        hint=f"set {MIRROR_ENV} to a Debian mirror's URL",
    )


def sha256_file(path: Path) -> str:
    """The file's SHA256; a link in its place is refused, not followed."""
    digest = hashlib.sha256()
    with open_regular(path) as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Archive:
    """One suite of Debian for one architecture, with apt's state kept in `state`."""

    state: Path
    mirror: str
    suite: str
    arch: str

    def _options(self) -> list[str]:
        return [
            *("-o", f"Dir::Etc::SourceList={self.state / 'sources.list'}"),
            *("-o", "Dir::Etc::SourceParts=-", "-o", "Dir::Etc::Preferences=/dev/null"),
            *("-o", "Dir::Etc::PreferencesParts=-"),
            *("-o", f"Dir::State::Lists={self.state / 'lists'}"),
            *("-o", f"Dir::Cache={self.state / 'cache'}"),
            # apt's binary cache of the lists, kept (container images often turn it off):
            # without it every query parses the lists again, a second or more each. The
            # source cache it is built from is not kept: as large, and rebuilt in a second.
            *("-o", "Dir::Cache::pkgcache=pkgcache.bin"),
            *("-o", "Dir::Cache::srcpkgcache="),
            *("-o", "Dir::State::Status=/dev/null", "-o", "Debug::NoLocking=1"),
            *("-o", f"APT::Architecture={self.arch}", "-o", f"APT::Architectures={self.arch}"),
            *("-o", "APT::Get::List-Cleanup=0", "-o", "Acquire::Languages=none"),
            *("-o", "APT::Sandbox::User=root"),
        ]

    def _apt(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            [tool, *self._options(), *args], capture_output=True, text=True, cwd=cwd, check=False
        )
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("E:")]
            raise _AptFailed("; ".join(errors) or done.stderr.strip()[-400:])
        return done.stdout

    def update(self) -> None:
        """Fetch the suite's signed lists (apt refuses a bad or missing signature)."""
        try:
            self._apt("apt-get", "-q", "update")
        except _AptFailed as exc:
            raise HubError(
                f"apt could not read Debian {self.suite} ({self.arch}) from {self.mirror}: {exc}",
                hint=f"check the network, or set {MIRROR_ENV}",
            ) from None

    def index_entry(self, package: str, version: str | None = None) -> tuple[str, str]:
        """(version, SHA256 of the .deb) as the suite's signed lists give them, for `version`
        or else the suite's current one; the lists are fetched first when they are missing or
        do not know the package."""
        selector = f"{package}:{self.arch}" + (f"={version}" if version else "")
        for attempt in ("cached", "updated"):
            try:
                shown = self._apt("apt-cache", "show", "--no-all-versions", selector)
            except _AptFailed:
                shown = ""
            found = (
                re.search(r"^Version: (\S+)$", shown, re.M),
                re.search(r"^SHA256: ([0-9a-f]{64})$", shown, re.M),
            )
            if found[0] and found[1]:
                return found[0].group(1), found[1].group(1)
            if attempt == "cached":
                self.update()
        raise HubError(
            f"{package} {version or ''} ({self.arch}) is not in Debian {self.suite}: Debian "
            "keeps only a suite's current packages",
            hint=f"pin the current one in index/hub.yaml (apt-cache policy {package})",
        )

    def download(self, package: str, version: str | None, into: Path) -> Path:
        """`package` at `version` (else the current one) as a .deb in `into`, checked
        against the signed lists."""
        version, expected = self.index_entry(package, version)
        before = set(into.iterdir())
        try:
            self._apt("apt-get", "-q", "download", f"{package}:{self.arch}={version}", cwd=into)
        except _AptFailed as exc:
            raise HubError(
                f"apt refused {package} {version} ({self.arch}) from Debian {self.suite}: {exc}",
                hint="a damaged download or mirror; run again, or set "
                f"{MIRROR_ENV} to another mirror",
            ) from None
        (deb,) = set(into.iterdir()) - before
        verify_sha256(deb, expected, f"{package} {version} ({self.arch})")
        return deb


class _AptFailed(Exception):
    """apt exited non-zero; the message is its error lines."""


def verify_sha256(path: Path, expected: str, what: str) -> None:
    """Refuse `path` unless its SHA256 is `expected`."""
    actual = sha256_file(path)
    if actual != expected:
        raise HubError(
            f"{what}: {path} has SHA256 {actual}, not the {expected} it was fetched as: "
            "the file is damaged or was changed",
            hint=f"delete {path} and run again to fetch it anew",
        )


@contextmanager
def open_archive(state_root: Path, suite: str, arch: str) -> Iterator[Archive]:
    """The archive of `suite` for `arch`, its apt state under `state_root`, locked for the
    block: apt's own lock is off (it would need the system's), so runs take turns here."""
    mirror = system_mirror()
    state = private_dir(state_root, f"{suite}-{arch}")
    private_dir(state, "lists", "partial")
    private_dir(state, "cache", "archives", "partial")
    with file_lock(state / "lock", APT_LOCK_TIMEOUT):
        line = f"deb [arch={arch} signed-by={KEYRING}] {mirror} {suite} main\n"
        sources = state / "sources.list"
        if not sources.is_file() or sources.read_text() != line:
            write_atomic(sources, line.encode(), durable=False)
        yield Archive(state, mirror, suite, arch)


@contextmanager
def scratch(parent: Path) -> Iterator[Path]:
    """A directory for one download under `parent`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fetch-", dir=parent) as directory:
        yield Path(directory)
