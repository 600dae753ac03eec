"""The client's own directories under attack (issue #11): links planted where the client keeps
its files, directories of another user, abandoned downloads, unverified content in the cache.

Each test performs the attack as an attacker would (a real symbolic link, another user via
`runuser`, a signature forged with another key) against the published seed catalogue that
`test_install` serves, and checks the error is one clear line and nothing was followed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import test_install
from ebpf_hub.client.installed import installed_package
from ebpf_hub.errors import HubError
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.keys import load_private_key
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import sign
from httpserver import StaticServer
from registry import RegistryServer
from test_install import cli, failure, layer_digest, served_entry

ATTACKER = "nobody"

# The published catalogue, its served index and a fresh home per test, as test_install has them.
keys = test_install.keys
catalogue = test_install.catalogue
hub = test_install.hub
home = test_install.home  # autouse


def victim(directory: Path) -> Path:
    """A directory of someone else's files, which no command here may touch."""
    directory.mkdir()
    (directory / "precious.txt").write_text("keep me\n")
    return directory


def untouched(directory: Path) -> bool:
    return [p.name for p in directory.iterdir()] == ["precious.txt"]


def as_attacker(*command: str) -> None:
    subprocess.run(["runuser", "-u", ATTACKER, "--", *command], check=True)


@pytest.fixture
def shared_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home another user can reach (pytest's tmp_path is root's alone), as EBPF_HUB_HOME."""
    base = Path(tempfile.mkdtemp(prefix="ebpf-hub-shared-"))
    base.chmod(0o755)
    monkeypatch.setenv("EBPF_HUB_HOME", str(base / "home"))
    try:
        yield base / "home"
    finally:
        shutil.rmtree(base)


def test_a_linked_package_directory_is_neither_emptied_nor_installed_into(
    hub: StaticServer, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = victim(tmp_path / "victim")
    link = home / "data/packages/execsnoop"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    refused = f"{link} is a symbolic link, and ebpf-hub never follows links inside its own"
    assert refused in failure(capsys, "install", "execsnoop")
    assert refused in failure(capsys, "remove", "execsnoop")
    assert untouched(target) and link.is_symlink()
    assert cli(capsys, "list", "--json")[1].strip() == "[]"


def test_a_dangling_lock_link_creates_nothing_at_its_target(
    hub: StaticServer, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = tmp_path / "planted"
    lock = home / "data/locks/execsnoop.lock"
    lock.parent.mkdir(parents=True)
    lock.symlink_to(planted)
    assert f"{lock} is a symbolic link" in failure(capsys, "install", "execsnoop")
    assert not planted.exists()


def test_a_linked_record_or_version_directory_is_not_followed(
    hub: StaticServer, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "install", "execsnoop")[0] == 0
    installed = installed_package("execsnoop")
    record = installed.path.parent / "installed.json"
    elsewhere = tmp_path / "elsewhere"
    shutil.move(installed.path, elsewhere)
    installed.path.symlink_to(elsewhere)  # objects the runner would load, from elsewhere
    with pytest.raises(HubError, match="is damaged"):
        installed_package("execsnoop")

    forged = tmp_path / "installed.json"
    forged.write_bytes(record.read_bytes())
    record.unlink()
    record.symlink_to(forged)
    with pytest.raises(HubError, match="is a symbolic link"):
        installed_package("execsnoop")


def test_a_linked_blob_in_the_cache_is_not_followed(
    hub: StaticServer,
    registry: RegistryServer,
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(capsys, "install", "execsnoop")[0] == 0
    assert cli(capsys, "remove", "execsnoop")[0] == 0
    cached = home / "cache/oci/blobs/sha256" / layer_digest(hub, registry, "execsnoop.bpf.o")[7:]
    outside = tmp_path / "outside.bpf.o"  # same bytes: only following the link would tell
    shutil.copyfile(cached, outside)
    cached.unlink()
    cached.symlink_to(outside)
    assert cli(capsys, "install", "execsnoop")[0] == 0
    [obj] = installed_package("execsnoop").objects
    assert not obj.samefile(outside)  # no hard link to the link's target
    assert not cached.is_symlink() and obj.samefile(cached)  # the link was replaced


def test_a_cache_owned_by_another_user_is_refused_until_declared_safe(
    hub: StaticServer,
    shared_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Root with another user's home (`sudo -E`): that user plants a link in its data dir."""
    target = victim(shared_home.parent / "victim")
    shared_home.mkdir()
    shutil.chown(shared_home, ATTACKER)
    as_attacker("mkdir", "-p", f"{shared_home}/cache", f"{shared_home}/data/packages")
    link = shared_home / "data/packages/execsnoop"
    as_attacker("ln", "-s", str(target), str(link))

    error = failure(capsys, "install", "execsnoop")
    assert f"{shared_home} is owned by nobody (uid 65534), not by root (uid 0)" in error
    assert f"EBPF_HUB_SAFE_DIRECTORY={shared_home}/cache" in error
    assert untouched(target)

    monkeypatch.setenv("EBPF_HUB_SAFE_DIRECTORY", f"{shared_home}/cache:{shared_home}/data")
    assert f"{link} is a symbolic link" in failure(capsys, "install", "execsnoop")
    assert untouched(target)
    as_attacker("rm", str(link))
    assert cli(capsys, "install", "execsnoop")[0] == 0


def test_a_directory_writable_by_every_user_is_refused(
    hub: StaticServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blobs = home / "cache/oci/blobs/sha256"
    blobs.mkdir(parents=True)
    blobs.chmod(0o777)
    error = failure(capsys, "install", "execsnoop")
    assert f"{blobs} is writable by every user" in error and f"chmod o-w {blobs}" in error


def test_pull_does_not_write_through_a_planted_link(
    hub: StaticServer,
    catalogue: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "victim"
    target.mkdir()
    out = tmp_path / "out"
    out.symlink_to(target)
    error = failure(capsys, "pull", f"{catalogue[0]}/execsnoop:1.0.0", "--out", str(out))
    assert f"{out}: it is a symbolic link" in error
    assert list(target.iterdir()) == [] and out.is_symlink()


def test_abandoned_downloads_are_removed_and_live_ones_kept(
    hub: StaticServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incoming = home / "cache/oci/incoming"
    abandoned, live = incoming / "tmp-dead", incoming / "tmp-alive"
    (abandoned / "one").mkdir(parents=True)
    (abandoned / "one" / "partial").write_bytes(b"half a blob")
    live.mkdir()
    hour_ago = time.time() - 2 * 3600
    for path in (abandoned, live):
        os.utime(path, (hour_ago, hour_ago))
    held = os.open(live, os.O_RDONLY | os.O_DIRECTORY)  # a reader still downloading
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert cli(capsys, "install", "execsnoop")[0] == 0
    finally:
        os.close(held)
    assert [p.name for p in incoming.iterdir()] == ["tmp-alive"]


def test_a_forged_signature_leaves_nothing_in_the_blob_cache(
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    keys: dict[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    newest = served_entry(hub)["versions"][-1]
    digest = newest["digest"]
    source = RegistryStore(registry.host, "install/execsnoop", insecure=True)
    forged = RegistryStore(fresh_registry.host, "forged/execsnoop", insecure=True)
    copy_tag(source, forged, newest["version"])
    stranger = load_private_key(Path(f"{keys['stranger']}.key"))
    sign(forged, f"{catalogue[0]}/execsnoop", digest, stranger)
    mirror = f"{fresh_registry.host}/forged"
    assert "no valid signature" in failure(capsys, "install", "execsnoop", "--registry", mirror)
    layout = home / "cache/oci"
    assert list((layout / "blobs/sha256").iterdir()) == []
    assert json.loads((layout / "index.json").read_bytes())["manifests"] == []
