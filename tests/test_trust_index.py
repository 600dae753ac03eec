"""Every command that reads the index reads it through TUF once the hub's root is installed.

The site is built and signed as the publish workflow does it (`site build --tuf-roots`), served
over HTTP on loopback, and the user's commands (`search`, `info`, `install`) run against it;
attacks are files changed on the server's disk. Without an installed root the index is read
as before: unsigned, over the connection.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.paths import config_dir
from httpserver import StaticServer
from siteserver import copy_site_inputs
from test_install import assert_nothing_installed, cli, failure

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def signed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed hub's site, its api/v1 signed by a fresh root (work dir: site, roots, keys)."""
    work = tmp_path_factory.mktemp("signed")
    hub = work / "hub"
    shutil.copytree(REPO / "index", hub / "index")
    shutil.copytree(REPO / "sources", hub / "sources")
    copy_site_inputs(hub)
    ceremony = ["trust", "init", "--roots", str(work / "roots")]
    assert (
        main([*ceremony, "--root-keys-dir", str(work / "offline"), "--keys", str(work / "keys")])
        == 0
    )
    build = ["site", "build", "--root", str(hub), "--out", str(work / "site")]
    assert main([*build, "--tuf-roots", str(work / "roots"), "--tuf-keys", str(work / "keys")]) == 0
    return work


@pytest.fixture
def hub(
    signed_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StaticServer]:
    """This test's copy of the signed site, served as the user's hub (an empty home)."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    shutil.copytree(signed_site / "site", tmp_path / "site")
    with StaticServer(tmp_path / "site") as server:
        monkeypatch.setenv("EBPF_HUB_URL", server.url)
        yield server


def trust_root(signed_site: Path, hub: StaticServer) -> None:
    assert main(["trust", "install-root", str(signed_site / "roots/1.root.json")]) == 0


def requested(hub: StaticServer) -> list[str]:
    return [path.removeprefix("/api/v1/") for path, _ in hub.log]


def test_with_the_root_installed_every_read_is_verified(
    signed_site: Path, hub: StaticServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "info", "execsnoop", "--json")
    assert code == 0 and json.loads(out)["name"] == "execsnoop"
    assert not any(path.startswith("tuf/") for path in requested(hub))  # no root: unsigned

    trust_root(signed_site, hub)
    hub.log.clear()
    code, out, _ = cli(capsys, "search", "exec", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "execsnoop"
    code, out, _ = cli(capsys, "info", "execsnoop", "--json")
    assert code == 0 and json.loads(out)["name"] == "execsnoop"
    paths = requested(hub)
    assert "tuf/timestamp.json" in paths
    assert any(p.startswith("tuf/") and ".bins-" in p for p in paths)
    # The files themselves are fetched by their signed hash, never by their plain name.
    assert "packages/execsnoop.json" not in paths and "index.json" not in paths
    assert any(p.startswith("packages/") and p.endswith(".execsnoop.json") for p in paths)


def test_a_tampered_index_stops_info_and_install(
    signed_site: Path, hub: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust_root(signed_site, hub)
    served = tmp_path / "site/api/v1/packages"
    for copy in served.glob("*execsnoop.json"):
        entry = json.loads(copy.read_bytes())
        entry["summary"] = "Traces exec() calls, now with a friendlier summary"
        copy.unlink()  # hash-named copies are hard links of the plain file
        copy.write_text(json.dumps(entry))
    for command in (["info", "execsnoop"], ["install", "execsnoop"]):
        line = failure(capsys, *command)
        assert "execsnoop.json" in line and "the signed index" in line, line
    assert_nothing_installed(tmp_path / "home")


def test_an_older_signed_index_is_refused_as_a_rollback(
    signed_site: Path, hub: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trust_root(signed_site, hub)
    metadata = tmp_path / "site/api/v1/tuf"
    old = shutil.copytree(metadata, tmp_path / "publication-1")
    sign = ["trust", "sign", str(tmp_path / "site/api/v1"), "--roots", str(signed_site / "roots")]
    assert main([*sign, "--keys", str(signed_site / "keys")]) == 0
    assert cli(capsys, "info", "execsnoop")[0] == 0  # the client has seen the newer one

    shutil.rmtree(metadata)
    shutil.copytree(old, metadata)
    line = failure(capsys, "search", "exec")
    assert "rollback" in line, line


def test_reading_the_signed_index_loads_no_second_http_stack() -> None:
    """python-tuf's default fetcher (urllib3) is neither loaded nor usable: every read goes
    through the client's own HTTP stack, with its limits, deadlines and proxies."""
    probe = (
        "import sys, ebpf_hub.trust.client\n"
        "from tuf.ngclient import Urllib3Fetcher\n"
        "assert 'urllib3' not in sys.modules, 'urllib3 loaded'\n"
        "try:\n"
        "    Urllib3Fetcher()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "trust.fetcher.HubFetcher" in done.stdout


def test_a_client_shipped_with_the_hubs_root_verifies_from_its_first_command(
    signed_site: Path, hub: StaticServer, tmp_path: Path
) -> None:
    """A release carries the hub's root (scripts/build-dist, from index/trust): with nothing
    installed by the user, its first command reads the index through TUF, and a changed file
    is refused."""
    dist = subprocess.run(
        [
            str(REPO / "scripts" / "build-dist"),
            "--out",
            str(tmp_path / "dist"),
            "--trust-root",
            str(signed_site / "roots" / "1.root.json"),
            "--hub",
            hub.url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert dist.returncode == 0, dist.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "client")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "client")}

    def client(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from ebpf_hub.cli import entry; entry()", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    where = client("--version")  # the released client, not this checkout's
    assert where.returncode == 0, where.stderr
    shown = client("info", "execsnoop", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "execsnoop"
    assert "tuf/timestamp.json" in requested(hub)
    assert not list(config_dir().rglob("root.json")), "the user installed no root"

    for copy in (tmp_path / "site/api/v1/packages").glob("*killsnoop.json"):
        entry = json.loads(copy.read_bytes())
        entry["summary"] = "Changed on the server"
        copy.unlink()  # hash-named copies are hard links of the plain file
        copy.write_text(json.dumps(entry))
    refused = client("info", "killsnoop")
    assert refused.returncode != 0 and "the signed index" in refused.stderr, refused.stderr
