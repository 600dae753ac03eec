"""Policy files: each rule enforced by `install` and `run`, explained by `policy check`.

execsnoop (a tracepoint: nothing dangerous) and xdpcount (an XDP hook: it can drop packets)
are published signed to the session's registry and their index served on loopback. Each test
writes a system policy (in a directory of its own standing in for /etc/ebpf-hub) and a user
policy (in the test's config directory) and runs the CLI as a user would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.client import policy
from httpserver import StaticServer
from hubrepo import copy_seed, make_hub
from registry import RegistryServer
from test_install import assert_nothing_installed, cli, failure

NOBODY = 65534


@pytest.fixture(scope="module")
def published(registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """execsnoop and xdpcount, published signed; the work dir (site/, hub.pub, stranger.pub)."""
    work = tmp_path_factory.mktemp("policy")
    hub = make_hub(work / "hub")
    for name in ("execsnoop", "xdpcount"):
        copy_seed(hub, name)
    namespace = f"{registry.host}/policy"
    for key in ("hub", "stranger"):
        assert main(["keygen", str(work / key)]) == 0
    ledger = ["--ledger", str(work / "digests.json")]
    publish = ["publish", "--root", str(hub), "--registry", namespace, "--insecure", "--all"]
    assert main([*publish, *ledger, "--sign-key", str(work / "hub.key")]) == 0
    index = ["index", "--root", str(hub), "--out", str(work / "site"), "--registry", namespace]
    assert main([*index, "--digests", str(work / "digests.json")]) == 0
    return work


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The directory standing in for /etc/ebpf-hub."""
    directory = tmp_path / "etc-ebpf-hub"
    directory.mkdir()
    monkeypatch.setattr(policy, "SYSTEM_POLICY_DIR", directory)
    return directory


@pytest.fixture
def home(
    published: Path, system: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A user's empty home, trusting the hub's key, its hub served."""
    for variable in ("EBPF_HUB_REGISTRY", "EBPF_HUB_INSECURE_REGISTRIES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EBPF_HUB_PUBLIC_KEY", str(published / "hub.pub"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with StaticServer(published / "site") as server:
        monkeypatch.setenv("EBPF_HUB_URL", server.url)
        yield tmp_path / "home"


def write(directory: Path, text: str, name: str = "policy.toml", mode: int = 0o644) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    path.chmod(mode)
    return path


def user_dir(home: Path) -> Path:
    return home / "config"


def digest_of(published: Path, name: str) -> str:
    entry = json.loads((published / f"site/api/v1/packages/{name}.json").read_text())
    digest: str = entry["versions"][-1]["digest"]
    return digest


def check(capsys: pytest.CaptureFixture[str], name: str) -> tuple[int, dict[str, object]]:
    code, out, _ = cli(capsys, "policy", "check", name, "--json")
    decision: dict[str, object] = json.loads(out)
    return code, decision


# Each rule.


def test_without_a_policy_file_nothing_is_restricted(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "policy", "check", "xdpcount")
    assert code == 0
    assert "no policy file" in out and "decision: allowed" in out
    assert cli(capsys, "install", "xdpcount")[0] == 0


def test_packages_rule(home: Path, system: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(system, 'packages = ["exec*"]\n')
    line = failure(capsys, "install", "xdpcount")
    assert (
        f"policy refuses xdpcount 1.0.0: xdpcount is not a package it allows (packages in {path})"
        in line
    )
    assert_nothing_installed(home)
    assert cli(capsys, "install", "execsnoop")[0] == 0
    code, decision = check(capsys, "xdpcount")
    assert code == 1 and decision["allowed"] is False
    assert decision["findings"][0] == {  # type: ignore[index]
        "rule": "packages",
        "file": str(path),
        "allowed": False,
        "reason": "xdpcount is not a package it allows",
    }


def test_registries_rule(
    home: Path, system: Path, registry: RegistryServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(system, 'registries = ["127.0.0.1:1/elsewhere"]\n')
    line = failure(capsys, "install", "execsnoop")
    assert f"{registry.host}/policy/execsnoop" in line and f"(registries in {path})" in line
    assert_nothing_installed(home)
    write(system, f'registries = ["{registry.host}/policy"]\n')
    assert cli(capsys, "install", "execsnoop")[0] == 0


def test_digests_rule(
    home: Path, system: Path, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(system, f'digests = ["{digest_of(published, "execsnoop")}"]\n')
    line = failure(capsys, "install", "xdpcount")
    assert f"is not a digest it allows (digests in {path})" in line
    assert cli(capsys, "install", "execsnoop")[0] == 0


def test_signatures_are_required_by_default(
    home: Path, system: Path, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a policy file, `--allow-unsigned` no longer lets an unverified artifact in."""
    stranger = ["--public-key", str(published / "stranger.pub"), "--allow-unsigned"]
    path = write(system, "# signatures: the default\n")
    line = failure(capsys, "install", "execsnoop", *stranger)
    assert f"its signature is missing or did not verify (require_signatures in {path})" in line
    assert_nothing_installed(home)
    write(system, "require_signatures = false\n")
    code, out, _ = cli(capsys, "install", "execsnoop", *stranger, "--json")
    assert code == 0 and json.loads(out)["verified"] is False


def test_capabilities_rule_reads_the_objects(
    home: Path, system: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(system, '[capabilities]\n"*" = []\n')
    line = failure(capsys, "install", "xdpcount")
    assert "it can attach to xdp, which" in line and "(its objects have it)" in line
    assert f"(capabilities in {path})" in line
    assert_nothing_installed(home)
    assert cli(capsys, "install", "execsnoop")[0] == 0  # nothing dangerous: allowed

    code, decision = check(capsys, "xdpcount")  # not installed: what the package declares
    assert code == 1
    assert "(the package declares it)" in str(decision["findings"])

    write(system, '[capabilities]\n"*" = []\n"xdp*" = ["xdp"]\n')
    assert cli(capsys, "install", "xdpcount")[0] == 0
    code, decision = check(capsys, "xdpcount")  # installed: what its objects can do
    assert code == 0
    assert decision["findings"][-1]["reason"] == (  # type: ignore[index]
        "every dangerous capability its objects have is allowed: xdp"
    )


def test_run_enforces_the_policy_in_force_now(
    home: Path, system: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Installed before the policy forbade it: `run` refuses it before loading anything."""
    assert cli(capsys, "install", "xdpcount")[0] == 0
    path = write(system, 'packages = ["execsnoop"]\n')
    line = failure(capsys, "run", "xdpcount", "--duration", "1", "--yes")
    assert (
        f"policy refuses xdpcount 1.0.0: xdpcount is not a package it allows (packages in {path})"
        in line
    )
    code, _, err = cli(capsys, "run", "execsnoop", "--duration", "1", "--yes", "--json")
    assert code == 0, err


# The user's file narrows; it never widens.


def test_a_hostile_user_policy_cannot_widen_the_system_one(
    home: Path, system: Path, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system_file = write(system, 'packages = ["execsnoop"]\n[capabilities]\n"*" = []\n')
    write(
        user_dir(home),
        'packages = ["*"]\nrequire_signatures = false\n[capabilities]\n"*" = ["*"]\n',
    )
    line = failure(capsys, "install", "xdpcount")
    assert f"(packages in {system_file})" in line
    stranger = ["--public-key", str(published / "stranger.pub"), "--allow-unsigned"]
    line = failure(capsys, "install", "execsnoop", *stranger)
    assert f"(require_signatures in {system_file})" in line
    assert_nothing_installed(home)
    code, decision = check(capsys, "xdpcount")
    refused = [f for f in decision["findings"] if not f["allowed"]]  # type: ignore[attr-defined]
    assert code == 1 and {f["file"] for f in refused} == {str(system_file)}


def test_a_user_policy_narrows(
    home: Path, system: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(system, 'packages = ["*"]\n')
    user_file = write(user_dir(home), "packages:\n  - xdpcount\n", name="policy.yaml")
    line = failure(capsys, "install", "execsnoop")
    assert f"(packages in {user_file})" in line
    assert cli(capsys, "install", "xdpcount")[0] == 0


# Who may write a policy file.


@pytest.mark.parametrize(
    ("mode", "owner", "expected"),
    [
        (0o666, None, "is writable by every user"),
        (0o664, None, "is writable by other users, so it is not trusted; run `chmod go-w"),
        (0o644, NOBODY, "is owned by"),
    ],
)
def test_a_user_policy_others_could_write_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str], mode: int, owner: int | None, expected: str
) -> None:
    path = write(user_dir(home), 'packages = ["*"]\n', mode=mode)
    if owner is not None:
        os.chown(path, owner, owner)
    line = failure(capsys, "install", "execsnoop")
    assert str(path) in line and expected in line
    assert_nothing_installed(home)


def test_a_system_policy_not_owned_by_root_is_refused(
    home: Path, system: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(system, 'packages = ["*"]\n')
    os.chown(system, NOBODY, NOBODY)
    line = failure(capsys, "install", "execsnoop")
    assert str(system) in line and "is owned by" in line
    os.chown(system, 0, 0)
    os.chown(path, 0, NOBODY)
    path.chmod(0o640)
    assert cli(capsys, "install", "execsnoop")[0] == 0  # root's, group-readable: fine


def test_a_linked_policy_file_is_refused(
    home: Path, system: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = write(tmp_path / "elsewhere", 'packages = ["*"]\n')
    (system / "policy.toml").symlink_to(target)
    line = failure(capsys, "install", "execsnoop")
    assert "symbolic link" in line and str(system / "policy.toml") in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('package = ["x"]\n', "unknown key 'package'"),
        ("require_signatures = 1\n", "require_signatures is not valid; require_signatures must be"),
        ('digests = ["md5:abc"]\n', "digests is not valid"),
        ("[capabilities]\nxdp = 'xdp'\n", "capabilities is not valid"),
        ("packages = [\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_one_clear_line(
    home: Path, system: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = write(system, text)
    line = failure(capsys, "install", "execsnoop")
    assert line.startswith(f"ebpf-hub: error: {path}: ") and expected in line
