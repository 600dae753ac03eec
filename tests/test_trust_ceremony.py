"""The hub's side of the signed index: the ceremony commands, incremental signing, the
client's root installation, and the CLI around them."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.errors import HubError
from ebpf_hub.trust.ceremony import init_root, revoke_key, rotate_root
from ebpf_hub.trust.client import install_root
from ebpf_hub.trust.keys import ONLINE_ROLES, key_env, load_online_keys
from ebpf_hub.trust.lifetimes import parse_duration
from ebpf_hub.trust.repository import sign_index
from routedserver import one_error_line, run_cli
from trusthub import PACKAGES, SignedHub, package_json


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignedHub]:
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    signed = SignedHub(tmp_path / "hub")
    try:
        yield signed
    finally:
        signed.stop()


def signed_json(path: Path) -> dict[str, object]:
    signed: dict[str, object] = json.loads(path.read_bytes())["signed"]
    return signed


def test_init_writes_root_one_and_private_keys_only_their_owner_reads(tmp_path: Path) -> None:
    result = init_root(
        tmp_path / "roots", tmp_path / "offline", tmp_path / "online", root_keys=3, threshold=2
    )
    root = signed_json(result.root_file)
    assert root["version"] == 1 and root["consistent_snapshot"] is True
    assert root["roles"]["root"]["threshold"] == 2  # type: ignore[index]
    assert len(root["roles"]["root"]["keyids"]) == 3  # type: ignore[index]
    files = [path for _, path in result.keys]
    assert sorted(p.name for p in (tmp_path / "online").iterdir()) == sorted(
        f"{role}.key" for role in ONLINE_ROLES
    )
    assert len(list((tmp_path / "offline").glob("root-*.key"))) == 3
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "offline").stat().st_mode) == 0o700
    with pytest.raises(HubError, match="already holds a root; rotate it"):
        init_root(tmp_path / "roots", tmp_path / "o2", tmp_path / "k2")
    with pytest.raises(HubError, match="a threshold of 3 needs between 1 and 2 key"):
        init_root(tmp_path / "r3", tmp_path / "o3", tmp_path / "k3", root_keys=2, threshold=3)


def test_signing_is_incremental_and_versions_only_go_up(hub: SignedHub) -> None:
    signed_at = int(time.time())
    first = hub.sign()
    assert (first.target_count, first.bins_signed) == (5, 256)
    # A first version is the time of signing: a publish that lost its previous metadata
    # still goes up from what clients saw.
    assert signed_at <= first.snapshot_version <= int(time.time())
    tuf = hub.metadata()
    published = {p.name for p in tuf.iterdir()}
    assert (tuf / "1.root.json").is_file() and (tuf / "timestamp.json").is_file()
    copies = sorted(p.name.split(".", 1)[1] for p in hub.api.glob("packages/*.*.json"))
    assert copies == sorted(f"{name}.json" for name in PACKAGES)

    again = hub.sign()  # nothing changed: only a new timestamp
    assert (again.snapshot_version, again.bins_signed) == (first.snapshot_version, 0)
    assert again.timestamp_version > first.timestamp_version

    hub.write_package("execsnoop", "1.1.0")
    changed = hub.sign()
    assert changed.snapshot_version > first.snapshot_version
    assert changed.timestamp_version > again.timestamp_version
    assert (changed.bins_signed, changed.bins_kept) == (1, 255)
    assert changed.targets_version == first.targets_version  # the delegation did not change
    [bin_file] = [p for p in tuf.glob("*.bins-*.json") if p.name not in published]
    assert "packages/execsnoop.json" in signed_json(bin_file)["targets"]  # type: ignore[operator]
    # The old hashed copy is gone, the new one is there.
    assert len(list(hub.api.glob("packages/*.execsnoop.json"))) == 1


def test_sign_refuses_links_and_keys_the_root_does_not_name(hub: SignedHub, tmp_path: Path) -> None:
    (hub.api / "packages" / "evil.json").symlink_to("/etc/passwd")
    with pytest.raises(HubError, match=r"evil.json is a symbolic link; the index must hold"):
        hub.sign()
    (hub.api / "packages" / "evil.json").unlink()
    init_root(tmp_path / "other-roots", tmp_path / "other-offline", tmp_path / "other-keys")
    with pytest.raises(HubError, match=r"the targets key \(\w+\) is not one of the targets keys"):
        sign_index(hub.api, hub.roots, load_online_keys(tmp_path / "other-keys"))


def test_rotation_needs_the_threshold_of_old_root_keys(tmp_path: Path) -> None:
    roots, offline = tmp_path / "roots", tmp_path / "offline"
    init_root(roots, offline, tmp_path / "online", root_keys=2, threshold=2)
    kept = sorted(offline.glob("root-*.key"))
    aside = tmp_path / "aside"
    aside.mkdir()
    kept[0].rename(aside / kept[0].name)
    with pytest.raises(HubError, match=r"holds 1 of the 2 root key\(s\) that root version 1"):
        rotate_root(roots, offline)
    (aside / kept[0].name).rename(kept[0])
    result = rotate_root(roots, offline, root_keys=1, threshold=1)
    assert result.version == 2 and len(result.revoked) == 2
    root = signed_json(result.root_file)
    assert root["roles"]["root"]["threshold"] == 1  # type: ignore[index]
    assert len(json.loads(result.root_file.read_bytes())["signatures"]) == 3  # 2 old + 1 new


def test_revoke_replaces_an_online_key_and_refuses_root_keys(hub: SignedHub) -> None:
    root = signed_json(hub.roots / "1.root.json")
    roles = root["roles"]
    snapshot_key = roles["snapshot"]["keyids"][0]  # type: ignore[index]
    root_key = roles["root"]["keyids"][0]  # type: ignore[index]
    with pytest.raises(HubError, match="is a root key; replace root keys with"):
        revoke_key(hub.roots, hub.root_keys, hub.keys_dir, root_key[:10])
    with pytest.raises(HubError, match="names no single key of root version 1; give 8 or more"):
        revoke_key(hub.roots, hub.root_keys, hub.keys_dir, "abc")
    result = revoke_key(hub.roots, hub.root_keys, hub.keys_dir, snapshot_key[:8])
    assert result.version == 2 and result.revoked == (snapshot_key,)
    new = signed_json(result.root_file)["roles"]["snapshot"]["keyids"]  # type: ignore[index]
    assert snapshot_key not in new
    assert load_online_keys(hub.keys_dir).snapshot.public_key.keyid in new
    assert hub.sign().root_version == 2


def test_install_root_checks_the_file_and_keeps_the_first_root(
    hub: SignedHub, tmp_path: Path
) -> None:
    info = install_root(hub.roots / "1.root.json", hub.url)
    assert (info.version, info.threshold, info.keys) == (1, 1, 1)
    assert info.path.read_bytes() == hub.root_bytes()
    other = tmp_path / "other"
    init_root(other / "roots", other / "offline", other / "online")
    with pytest.raises(HubError, match="a different root is already trusted for"):
        install_root(other / "roots" / "1.root.json", hub.url)
    assert install_root(other / "roots" / "1.root.json", hub.url, replace=True).version == 1
    tampered = json.loads(hub.root_bytes())
    tampered["signed"]["expires"] = "2099-01-01T00:00:00Z"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    with pytest.raises(HubError, match="is not signed by its own root keys"):
        install_root(tmp_path / "tampered.json", hub.url, replace=True)
    (tmp_path / "targets.json").write_bytes(next(hub.keys_dir.iterdir()).read_bytes())
    with pytest.raises(HubError, match="is not TUF metadata"):
        install_root(tmp_path / "targets.json", hub.url)


def test_durations() -> None:
    assert parse_duration("12h", "--x").total_seconds() == 43200
    with pytest.raises(HubError, match="--timestamp-expiry: '1 week' is not a duration"):
        parse_duration("1 week", "--timestamp-expiry")


def test_the_cli_signs_from_the_environment_and_fetches_verified_files(
    hub: SignedHub,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for role in ONLINE_ROLES:
        monkeypatch.setenv(key_env(role), (hub.keys_dir / f"{role}.key").read_text())
    assert main(["trust", "sign", str(hub.api), "--roots", str(hub.roots), "--json"]) == 0
    report = json.loads(capsysbinary.readouterr().out)
    assert report["targets"] == 5 and report["timestamp_version"] > 1
    assert main(["trust", "install-root", str(hub.roots / "1.root.json"), "--hub", hub.url]) == 0
    capsysbinary.readouterr()
    assert main(["trust", "fetch", "packages/opensnoop.json", "--hub", hub.url]) == 0
    assert capsysbinary.readouterr().out == package_json("opensnoop")

    # The same client, as a process of its own, against a tampered file: one line, exit 1.
    [copy] = hub.api.glob("packages/*.tcpconnect.json")
    copy.unlink()
    copy.write_bytes(b"{}")
    home = Path(os.environ["EBPF_HUB_HOME"])
    code, stderr = run_cli(
        home,
        "trust",
        "fetch",
        "packages/opensnoop.json",
        "--hub",
        hub.url,
        env={"EBPF_HUB_HOME": str(tmp_path / "fresh")},
    )
    assert "no trusted root for the hub at" in one_error_line(code, stderr)
    code, stderr = run_cli(home, "trust", "fetch", "packages/tcpconnect.json", "--hub", hub.url)
    line = one_error_line(code, stderr)
    assert "its length or SHA-256 is not the one the signed index names" in line, line


def test_ceremony_commands_write_keys_and_report_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = ["--roots", str(tmp_path / "roots"), "--root-keys-dir", str(tmp_path / "offline")]
    online = ["--keys", str(tmp_path / "online")]
    assert main(["trust", "init", *dirs, *online, "--root-keys", "2", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["version"] == 1 and len(made["keys"]) == 6
    assert main(["trust", "rotate-root", *dirs, "--json"]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["version"] == 2 and len(rotated["revoked"]) == 2
    timestamp = signed_json(tmp_path / "roots" / "2.root.json")["roles"]["timestamp"]  # type: ignore[index]
    assert main(["trust", "revoke", timestamp["keyids"][0][:12], *dirs, *online]) == 0
    assert "trust revoke: wrote" in capsys.readouterr().err
    assert main(["trust", "rotate-root", *dirs, "--root-expiry", "soon", "--json"]) == 1
    error = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert error == {
        "error": "--root-expiry: 'soon' is not a duration",
        "hint": "write a whole number and a unit: 30s, 15m, 12h or 7d",
    }
