"""An upgrade that gains a dangerous call is shown as one, and `info --json` carries what the
installed objects can do.

A package published first as a watcher, then as 1.1.0 that kills what it watches (declared,
so the build lets it through): real C, built and signed by the hub's own publish, pushed to a
real registry, served by a real HTTP server. A script reading `info --json` and a user running
`upgrade` must both learn it from the objects.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import test_install
from ebpf_hub.client.installed import installed_package
from hubrepo import add_version, git, make_hub
from registry import RegistryServer
from test_install import cli, publish, serve_copy, write_index
from test_security_kfuncs import KILL, SIGNALS, add_package, source, tracepoint

keys = test_install.keys
home = test_install.home  # autouse

KILLS = {"name": "bpf_send_signal_task", "kind": "kfunc", "effect": SIGNALS}


@pytest.fixture(scope="module")
def growing(
    registry: RegistryServer, keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """`grower` 1.0.0 (watches), then 1.1.0 (kills, as declared all along): the indexes before and after."""
    work = tmp_path_factory.mktemp("growing")
    root = make_hub(work / "hub")
    # declared from the start, so that the build lets 1.1.0 through and 1.0.0 stays the same
    declared = "  kfuncs: [bpf_send_signal_task]"
    add_package(root, "grower", source(tracepoint("\treturn 0;"), extern=""), declared=declared)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "1.0.0")
    namespace, ledger = f"{registry.host}/growing", work / "digests.json"
    publish(root, namespace, ledger, keys["hub"])
    before = write_index(root, namespace, ledger, work / "before")

    (root / "sources/grower/grower.bpf.c").write_text(source(tracepoint(f"\t{KILL};\n\treturn 0;")))
    add_version(root, "grower", "1.1.0")
    git(root, "commit", "-q", "-am", "1.1.0")
    publish(root, namespace, ledger, keys["hub"])
    return before, write_index(root, namespace, ledger, work / "after")


@pytest.fixture
def served(
    growing: tuple[Path, Path],
    keys: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """The index before 1.1.0, served; yields its directory, for the test to swap in the next."""
    with serve_copy(growing[0], tmp_path / "served", keys["hub"], monkeypatch) as server:
        yield server.root


def test_upgrade_and_info_json_show_a_newly_gained_dangerous_call(
    served: Path, growing: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "install", "grower")[0] == 0
    code, out, _ = cli(capsys, "info", "grower", "--json")
    assert code == 0
    assert json.loads(out)["capabilities"] == {
        "hooks": [],
        "calls": [],
        "reads_user_memory": False,
        "kernel_variables": [],
    }

    shutil.rmtree(served / "api")
    shutil.copytree(growing[1] / "api", served / "api")
    code, out, _ = cli(capsys, "upgrade", "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "would upgrade grower 1.0.0 -> 1.1.0",
        f"grower 1.1.0 can newly call bpf_send_signal_task, which {SIGNALS}",
    ]
    assert installed_package("grower").version == "1.0.0"

    code, out, err = cli(capsys, "upgrade", "--json")
    assert code == 0
    assert f"grower 1.1.0 can newly call bpf_send_signal_task, which {SIGNALS}" in err
    [report] = json.loads(out)
    assert report["upgraded"] and report["gained"] == [KILLS]
    code, out, _ = cli(capsys, "info", "grower", "--json")
    assert json.loads(out)["capabilities"]["calls"] == [KILLS]
