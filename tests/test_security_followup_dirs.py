"""The config file and the build's caches under another user's control (`sudo -E`).

The config file names the registry, plain-HTTP registries and the key signatures are checked
against; the build compiles every object against the cached vmlinux.h. Each test has another
user (`nobody`, through `runuser`) own or plant them, as root run with that user's HOME would
meet them, and checks that root refuses them until told to trust that user.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.bpfobj.btf import VMLINUX_BTF
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from hubrepo import make_hub
from test_security_kfuncs import add_package, source, tracepoint

ATTACKER = "nobody"
EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
OWNED = "is owned by nobody (uid 65534), not by root (uid 0)"
SAFE_DIRECTORY_ENV = "EBPF_HUB_SAFE_DIRECTORY"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="another user's files need root")


def as_attacker(*command: str) -> None:
    subprocess.run(["runuser", "-u", ATTACKER, "--", *command], check=True)


def attacker_dir(path: Path) -> Path:
    """A directory `nobody` owns, made by root where `nobody` may not write."""
    path.mkdir()
    shutil.chown(path, ATTACKER)
    return path


def write_as_attacker(path: Path, text: str) -> None:
    as_attacker("mkdir", "-p", str(path.parent))
    command = ["runuser", "-u", ATTACKER, "--", "sh", "-c", f"cat > '{path}'"]
    subprocess.run(command, input=text, text=True, check=True)


@pytest.fixture
def shared_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """EBPF_HUB_HOME in a directory another user can reach, with none of the user's settings."""
    base = Path(tempfile.mkdtemp(prefix="ebpf-hub-followup-"))
    base.chmod(0o755)
    for variable in [v for v in os.environ if v.startswith("EBPF_HUB_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("EBPF_HUB_HOME", str(base / "home"))
    try:
        yield base / "home"
    finally:
        shutil.rmtree(base)


EVIL = 'registry = "registry.evil.example/ns"\ninsecure_registries = ["registry.evil.example"]\n'


def test_a_config_file_of_another_user_is_refused_until_declared_safe(
    shared_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attacker_dir(shared_home)
    config = shared_home / "config"
    write_as_attacker(config / "config.toml", EVIL)
    with pytest.raises(HubError, match=re.escape(f"{shared_home} {OWNED}")):
        Settings.load()

    monkeypatch.setenv(SAFE_DIRECTORY_ENV, str(config))
    assert Settings.load().registry == "registry.evil.example/ns"


def test_a_key_file_in_a_directory_of_another_user_is_refused(shared_home: Path) -> None:
    keys = attacker_dir(shared_home.parent / "keys")
    write_as_attacker(keys / "hub.pub", "-----BEGIN PUBLIC KEY-----\n")
    config = shared_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'public_key = "{keys}/hub.pub"\n')
    with pytest.raises(HubError, match=re.escape(f"{keys} {OWNED}")):
        Settings.load()


def build(hub: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`ebpf-hub build watcher` in a process of its own (the toolchain is cached per process)."""
    command = [EBPF_HUB, "build", "watcher", "--root", str(hub), "--out", str(hub / "out")]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_the_build_refuses_a_vmlinux_cache_of_another_user_and_a_planted_link(
    shared_home: Path,
) -> None:
    hub = make_hub(shared_home.parent / "hub")
    add_package(hub, "watcher", source(tracepoint("\treturn 0;"), extern=""))
    cache = attacker_dir(shared_home) / "cache"
    planted = shared_home / "planted"
    write_as_attacker(planted / "vmlinux.h", '#error "compiled against a planted vmlinux.h"\n')
    as_attacker("mkdir", "-p", str(cache / "vmlinux"))
    btf = hashlib.sha256(VMLINUX_BTF.read_bytes()).hexdigest()[:16]
    link = cache / "vmlinux" / btf
    as_attacker("ln", "-s", str(planted), str(link))

    env = dict(os.environ)
    result = build(hub, env)
    assert result.returncode == 1
    assert f"{shared_home} {OWNED}" in result.stderr
    assert "planted" not in result.stderr

    env[SAFE_DIRECTORY_ENV] = str(cache)
    result = build(hub, env)
    assert result.returncode == 1
    assert f"{link} is a symbolic link" in result.stderr

    as_attacker("rm", str(link))
    assert build(hub, env).returncode == 0
