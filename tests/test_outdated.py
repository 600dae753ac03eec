"""`ebpf-hub outdated` and `list`'s NEWEST column against a real hub: syscount published
signed to the registry fixture as 1.0.0, then 1.1.0, a prerelease and a yanked 2.0.0, each
state's JSON index served over HTTP as a user's hub; packages installed through the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.commands.client import EXIT_OUTDATED
from httpserver import StaticServer
from hubrepo import add_version, copy_seed, make_hub
from registry import RegistryServer
from test_completion import BIN, bash_completions
from test_install import cli, home, keys, publish, serve_copy, write_index

__all__ = ["home", "keys"]  # fixtures of test_install this module uses

Indexes = dict[str, Path]


@pytest.fixture(scope="module")
def indexes(
    registry: RegistryServer, keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Indexes:
    """syscount's index as the hub grows: "first" (1.0.0), "later" (and 1.1.0, 1.2.0-rc.1, a
    yanked 2.0.0) and "withdrawn" (1.1.0 yanked too)."""
    work = tmp_path_factory.mktemp("outdated")
    hub_root = make_hub(work / "hub")
    copy_seed(hub_root, "syscount")
    namespace = f"{registry.host}/outdated"
    ledger = work / "digests.json"
    publish(hub_root, namespace, ledger, keys["hub"])
    first = write_index(hub_root, namespace, ledger, work / "first")
    for version in ("1.1.0", "1.2.0-rc.1", "2.0.0"):
        add_version(hub_root, "syscount", version)
    package = hub_root / "index/packages/syscount.yaml"
    package.write_text(package.read_text() + "    yanked: Counts nothing on 6.x kernels\n")
    publish(hub_root, namespace, ledger, keys["hub"])
    later = write_index(hub_root, namespace, ledger, work / "later")
    package.write_text(
        package.read_text().replace(
            "changes: Version 1.1.0.\n", "changes: Version 1.1.0.\n    yanked: Wrong counts\n"
        )
    )
    withdrawn = write_index(hub_root, namespace, ledger, work / "withdrawn")
    return {"first": first, "later": later, "withdrawn": withdrawn}


@pytest.fixture
def hub(
    indexes: Indexes, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StaticServer]:
    """The first index, served as the user's hub; `serve` swaps in another."""
    with serve_copy(indexes["first"], tmp_path / "served", keys["hub"], monkeypatch) as server:
        yield server


def serve(hub: StaticServer, index: Path) -> None:
    shutil.rmtree(hub.root / "api")
    shutil.copytree(index / "api", hub.root / "api")


def table(out: str) -> list[list[str]]:
    """The rows of a table printed on stdout, cells split at runs of spaces."""
    return [line.split() for line in out.splitlines()]


def test_outdated_and_list_as_the_hub_moves_on(
    hub: StaticServer,
    indexes: Indexes,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = cli(capsys, "outdated")
    assert (code, out, err.strip()) == (0, "", "no package installed; nothing can be outdated")
    assert cli(capsys, "install", "syscount")[0] == 0

    code, out, _ = cli(capsys, "outdated")
    assert code == 0
    assert table(out) == [
        ["NAME", "INSTALLED", "NEWEST", "UPGRADE", "STATUS"],
        ["syscount", "1.0.0", "1.0.0", "-", "up", "to", "date"],
    ]

    # A new release, a prerelease and a yanked version appear: only the release counts.
    serve(hub, indexes["later"])
    requests = len(hub.log)
    code, out, err = cli(capsys, "list")
    assert code == 0 and err == ""
    assert table(out)[0][-1] == "NEWEST" and table(out)[1][-1] == "1.0.0"  # as last fetched
    assert len(hub.log) == requests  # `list` asked the hub nothing
    code, out, _ = cli(capsys, "outdated", "--json")
    assert code == EXIT_OUTDATED == 100
    assert json.loads(out) == [
        {
            "name": "syscount",
            "installed": "1.0.0",
            "line": None,
            "yanked": None,
            "newest": "1.1.0",
            "upgrade": "1.1.0",
            "outdated": True,
            "error": None,
        }
    ]
    code, out, _ = cli(capsys, "list", "--json")
    [listed] = json.loads(out)
    assert (listed["version"], listed["newest"], listed["outdated"]) == ("1.0.0", "1.1.0", True)

    # Offline, `list` still shows what the cache knows; `outdated` falls back to it, saying so.
    hub.stop()
    code, out, err = cli(capsys, "list")
    assert code == 0 and err == "" and table(out)[1][-1] == "1.1.0"
    code, out, err = cli(capsys, "outdated")
    assert code == EXIT_OUTDATED
    assert "hub unreachable (connection refused); using the cached index" in err
    assert table(out)[1] == ["syscount", "1.0.0", "1.1.0", "1.1.0", "outdated"]

    # Another hub, never fetched: `list` lists without NEWEST and says why; `outdated` fails.
    monkeypatch.setenv("EBPF_HUB_URL", "http://127.0.0.1:9/")
    code, out, err = cli(capsys, "list")
    assert code == 0 and table(out)[0][-1] == "VERIFIED"
    assert err.startswith("ebpf-hub: newest version unknown for syscount: no copy of ")
    code, out, err = cli(capsys, "outdated", "--json")
    assert code == 1 and json.loads(out)[0]["error"].startswith("cannot reach the hub at")
    assert json.loads(out)[0]["outdated"] is None
    assert err.startswith("syscount: cannot check: cannot reach the hub at")


def test_a_line_and_a_yanked_version_are_said(
    hub: StaticServer, indexes: Indexes, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(hub, indexes["later"])
    assert cli(capsys, "install", "syscount@1.0")[0] == 0
    code, out, err = cli(capsys, "outdated")
    assert code == EXIT_OUTDATED
    assert table(out)[1] == ["syscount", "1.0.0", "1.1.0", "-", "outdated"]
    assert err.strip() == (
        "syscount was installed as syscount@1.0, and `upgrade` keeps to that line; "
        "`ebpf-hub install syscount@1.1.0` moves to 1.1.0"
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    assert bash_completions(env, "ebpf-hub remove sys") == ["syscount"]

    assert cli(capsys, "install", "syscount@1.1.0")[0] == 0
    serve(hub, indexes["withdrawn"])
    code, out, err = cli(capsys, "outdated", "--json")
    assert code == 0  # nothing newer is released: 1.2.0-rc.1 and 2.0.0 do not count
    [entry] = json.loads(out)
    assert (entry["newest"], entry["yanked"], entry["outdated"]) == ("1.0.0", "Wrong counts", False)
    assert err.strip() == (
        "syscount 1.1.0 is yanked (Wrong counts); `ebpf-hub info syscount` lists the other versions"
    )
