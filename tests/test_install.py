"""The package manager as a user drives it: the seed catalogue published (signed) to a real
registry, its JSON index served by a real HTTP server, and `ebpf-hub search|info|install|list|
upgrade|remove|pull` run through the CLI. Fault tests tamper with a registry's storage, the
served index or the network, and check that the error is one clear line and nothing is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.client.install import ensure_installed
from ebpf_hub.client.installed import installed_package
from ebpf_hub.client.settings import Settings
from ebpf_hub.oci.artifact import ARTIFACT_CONFIG_MEDIA_TYPE, ARTIFACT_TYPE, BPF_OBJECT_MEDIA_TYPE
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.imageindex import Platform
from ebpf_hub.oci.keys import load_private_key
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import sign, signature_tag
from httpserver import StaticServer
from hubrepo import REPO, add_version, copy_seed, make_hub
from ptyrun import stderr_on_terminal
from registry import RegistryServer

ENV_VARIABLES = (
    "EBPF_HUB_URL",
    "EBPF_HUB_REGISTRY",
    "EBPF_HUB_PUBLIC_KEY",
    "EBPF_HUB_REGISTRY_USERNAME",
    "EBPF_HUB_REGISTRY_PASSWORD",
)
PACKAGE_JSON = "/api/v1/packages/execsnoop.json"
NEWEST = "1.0.1"  # execsnoop's newest release: what `install execsnoop` picks


# Fixtures: keys, the published seed catalogue, its index, a user's home.


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hub's key pair and a stranger's (prefixes: PREFIX.key and PREFIX.pub)."""
    directory = tmp_path_factory.mktemp("keys")
    for name in ("hub", "stranger"):
        assert main(["keygen", str(directory / name)]) == 0
    return {"hub": directory / "hub", "stranger": directory / "stranger"}


def publish(root: Path, namespace: str, ledger: Path, key: Path) -> None:
    command = ["publish", "--root", str(root), "--registry", namespace, "--insecure", "--all"]
    assert main([*command, "--ledger", str(ledger), "--sign-key", f"{key}.key"]) == 0


def write_index(root: Path, namespace: str, ledger: Path, out: Path) -> Path:
    command = ["index", "--root", str(root), "--out", str(out), "--registry", namespace]
    assert main([*command, "--digests", str(ledger)]) == 0
    return out


@pytest.fixture(scope="module")
def catalogue(
    registry: RegistryServer, keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """The seed catalogue published signed to REGISTRY/install; (namespace, site directory)."""
    work = tmp_path_factory.mktemp("catalogue")
    namespace = f"{registry.host}/install"
    publish(REPO, namespace, work / "digests.json", keys["hub"])
    return namespace, write_index(REPO, namespace, work / "digests.json", work / "site")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home per test, and none of the user's settings or credentials."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for variable in ENV_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "home"


@pytest.fixture
def hub(
    catalogue: tuple[str, Path],
    keys: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StaticServer]:
    """This test's own copy of the index, served; the user trusts the hub's key."""
    with serve_copy(catalogue[1], tmp_path / "served", keys["hub"], monkeypatch) as server:
        yield server


@contextmanager
def serve_copy(
    site: Path, root: Path, key: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StaticServer]:
    """Serve a copy of `site` at `root` as the user's hub, trusting `key`'s public half."""
    shutil.copytree(site, root)
    with StaticServer(root) as server:
        monkeypatch.setenv("EBPF_HUB_URL", server.url)
        monkeypatch.setenv("EBPF_HUB_PUBLIC_KEY", f"{key}.pub")
        yield server


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `ebpf-hub ARGS` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def failure(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The error line of a command that must fail: exactly one line, exit status 1."""
    code, _, err = cli(capsys, *args)
    errors = [line for line in err.splitlines() if line.startswith("ebpf-hub: error: ")]
    assert code == 1, err
    assert len(errors) == 1, err
    return errors[0]


def assert_nothing_installed(home: Path) -> None:
    """No package, no half-written directory, no download left in progress."""
    packages = home / "data" / "packages"
    assert not packages.exists() or list(packages.iterdir()) == []
    incoming = home / "cache" / "oci" / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def served_entry(hub: StaticServer, name: str = "execsnoop") -> dict[str, Any]:
    entry: dict[str, Any] = json.loads((hub.root / f"api/v1/packages/{name}.json").read_text())
    return entry


def serve_entry(hub: StaticServer, entry: dict[str, Any]) -> None:
    """Replace a package file of the served index, as a tampered or broken hub would."""
    (hub.root / f"api/v1/packages/{entry['name']}.json").write_text(json.dumps(entry))


def mirror(registry: RegistryServer, namespace: str, target: RegistryServer, digest: str) -> str:
    """Copy execsnoop NEWEST and its signature to `target`; return the mirror's namespace."""
    source = RegistryStore(registry.host, f"{namespace.split('/', 1)[1]}/execsnoop", insecure=True)
    copy = RegistryStore(target.host, "mirror/execsnoop", insecure=True)
    copy_tag(source, copy, NEWEST)
    copy_tag(source, copy, signature_tag(digest))
    return f"{target.host}/mirror"


def host_manifest(blob: Callable[[str], Path], digest: str) -> Any:
    """The manifest this machine installs from the version pinned as `digest`: of an image
    index (one manifest per architecture), the one of this machine's platform."""
    value = json.loads(blob(digest).read_bytes())
    for entry in value.get("manifests", ()):
        if entry["platform"] == Platform.host().to_json():
            return json.loads(blob(entry["digest"]).read_bytes())
    return value


def layer_digest(hub: StaticServer, registry: RegistryServer, title: str) -> str:
    """The digest of the layer titled `title` of the served execsnoop version."""
    manifest = host_manifest(registry.blob_path, served_entry(hub)["versions"][-1]["digest"])
    [layer] = [x for x in manifest["layers"] if x["annotations"][TITLE_ANNOTATION] == title]
    digest: str = layer["digest"]
    return digest


# Using it.


def test_search_info_install_list_remove_as_a_user_would(
    hub: StaticServer, registry: RegistryServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "search", "snoop", "--category", "process", "--json")
    assert code == 0
    assert [m["name"] for m in json.loads(out)] == [
        "execsnoop", "exitsnoop", "killsnoop", "sigsnoop",
    ]  # fmt: skip
    code, out, _ = cli(capsys, "search", "exec")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["execsnoop", NEWEST]

    code, out, _ = cli(capsys, "info", "execsnoop")
    entry = served_entry(hub)["versions"][-1]
    assert code == 0
    for expected in (
        "GPL-2.0-only",
        "Linux >= 5.8; kernel BTF; x86_64/aarch64; capabilities CAP_BPF, CAP_PERFMON",
        "attaches to tracepoint; reads process memory; dangerous calls the package declares "
        "(install it to read its objects): none",
        "trace_execve_enter       tracepoint     tracepoint/syscalls/sys_enter_execve",
        f"digest       {entry['digest']}",
        "installed    no",
    ):
        assert expected in out
    code, out, _ = cli(capsys, "info", "execsnoop@1", "--json")
    assert json.loads(out)["selected"] == NEWEST

    code, _, err = cli(capsys, "install", "execsnoop")
    assert code == 0
    assert f"installed execsnoop {NEWEST} ({entry['digest'][:19]}…)" in err
    assert "%|" not in err  # no progress bar when stderr is not a terminal
    installed = installed_package("execsnoop")
    assert (installed.version, installed.digest, installed.verified) == (
        NEWEST,
        entry["digest"],
        True,
    )
    assert installed.config.name == "execsnoop"
    assert [p.name for p in installed.objects] == ["execsnoop.bpf.o"]
    manifest = host_manifest(registry.blob_path, entry["digest"])
    for layer in manifest["layers"]:
        installed_file = installed.path / layer["annotations"][TITLE_ANNOTATION]
        assert sha256_digest(installed_file.read_bytes()) == layer["digest"]

    code, out, _ = cli(capsys, "list")
    assert out.splitlines()[1].split()[:3] == ["execsnoop", NEWEST, entry["digest"][:19] + "…"]
    code, out, _ = cli(capsys, "list", "--json")
    [listed] = json.loads(out)
    assert listed["objects"] == [str(installed.objects[0])] and listed["verified"] is True
    assert f"installed    {NEWEST}" in cli(capsys, "info", "execsnoop")[1]

    code, _, err = cli(capsys, "install", f"execsnoop@{NEWEST}")
    assert code == 0 and "is already installed" in err

    code, _, err = cli(capsys, "remove", "execsnoop")
    assert code == 0 and f"removed execsnoop {NEWEST}" in err
    assert_nothing_installed(home)
    assert cli(capsys, "list", "--json")[1].strip() == "[]"
    assert failure(capsys, "remove", "execsnoop") == (
        "ebpf-hub: error: execsnoop is not installed; `ebpf-hub list` shows what is"
    )


def test_reinstall_from_the_cache_needs_no_network(
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    digest = served_entry(hub)["versions"][-1]["digest"]
    mirrored = mirror(registry, catalogue[0], fresh_registry, digest)
    assert cli(capsys, "install", "execsnoop", "--registry", mirrored)[0] == 0
    assert cli(capsys, "remove", "execsnoop")[0] == 0
    fresh_registry.stop()
    hub.stop()
    code, _, err = cli(capsys, "install", "execsnoop", "--registry", mirrored)
    assert code == 0, err
    assert "hub unreachable (connection refused); using the cached index" in err
    assert installed_package("execsnoop").digest == digest


def test_a_damaged_cache_blob_is_fetched_again(
    hub: StaticServer, registry: RegistryServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "install", "execsnoop")[0] == 0
    assert cli(capsys, "remove", "execsnoop")[0] == 0
    digest = layer_digest(hub, registry, "execsnoop.bpf.o")
    cached = home / "cache/oci/blobs/sha256" / digest[7:]
    cached.chmod(0o644)
    cached.write_bytes(b"damaged")
    assert cli(capsys, "install", "execsnoop")[0] == 0
    [obj] = installed_package("execsnoop").objects
    assert sha256_digest(obj.read_bytes()) == digest == sha256_digest(cached.read_bytes())


def test_ensure_installed_installs_once_then_works_offline(
    hub: StaticServer, keys: dict[str, Path]
) -> None:
    settings = Settings.load(hub_url=hub.url, public_key=f"{keys['hub']}.pub")
    first = ensure_installed(settings, "execsnoop@1")
    hub.stop()
    again = ensure_installed(settings, "execsnoop")
    assert again == first == installed_package("execsnoop")
    assert [p.name for p in again.objects] == ["execsnoop.bpf.o"]


def test_pull_by_tag_by_digest_and_by_name(
    hub: StaticServer,
    catalogue: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    digest = served_entry(hub)["versions"][-1]["digest"]
    by_tag = f"{catalogue[0]}/execsnoop:{NEWEST}"
    code, out, _ = cli(capsys, "pull", by_tag, "--out", str(tmp_path / "tag"), "--json")
    assert code == 0 and json.loads(out)["digest"] == digest and json.loads(out)["verified"]
    by_digest = f"{catalogue[0]}/execsnoop@{digest}"
    assert cli(capsys, "pull", by_digest, "--out", str(tmp_path / "digest"))[0] == 0
    assert cli(capsys, "pull", f"execsnoop@{NEWEST}", "--out", str(tmp_path / "name"))[0] == 0
    listings = [sorted(p.name for p in (tmp_path / d).iterdir()) for d in ("tag", "digest", "name")]
    assert listings == [["LICENSE", "README.md", "execsnoop.bpf.o"]] * 3
    assert "is not an empty directory" in failure(
        capsys, "pull", by_tag, "--out", str(tmp_path / "tag")
    )


def test_progress_bars_on_a_terminal(hub: StaticServer, home: Path) -> None:
    code, text = stderr_on_terminal(
        [sys.executable, "-m", "ebpf_hub.cli", "install", "execsnoop"], os.environ, columns=100
    )
    assert code == 0
    assert "execsnoop.bpf.o: 100%|" in text
    assert f"installed execsnoop {NEWEST}" in text


def test_the_embedded_default_an_oci_layout_and_a_local_hub(
    keys: dict[str, Path], tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server at all: packages in an OCI layout, the index in a directory; signatures
    made by `publish` for `oci:DIR/NAME` verify when installing from it."""
    hub_root = make_hub(tmp_path / "hub")
    copy_seed(hub_root, "xdpcount")
    layout = f"oci:{tmp_path / 'oci'}"
    ledger = tmp_path / "digests.json"
    command = ["publish", "--root", str(hub_root), "--registry", layout, "--all"]
    assert main([*command, "--ledger", str(ledger), "--sign-key", f"{keys['hub']}.key"]) == 0
    site = write_index(hub_root, layout, ledger, tmp_path / "site")
    trust = ["--hub", str(site), "--public-key", f"{keys['hub']}.pub"]
    code, _, err = cli(capsys, "install", "xdpcount", *trust)
    assert code == 0, err
    installed = installed_package("xdpcount")
    assert installed.verified and installed.reference.startswith(f"{layout}/xdpcount@sha256:")
    out = tmp_path / "pulled"
    code, _, err = cli(capsys, "pull", f"{layout}/xdpcount:1.0.0", "--out", str(out), *trust[2:])
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in installed.files)


# Upgrading: a second version published in a hub of our own.


@pytest.fixture(scope="module")
def two_versions(
    registry: RegistryServer, keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """syscount published as 1.0.0, then 1.1.0: (index before, index after, namespace)."""
    work = tmp_path_factory.mktemp("upgrade")
    hub_root = make_hub(work / "hub")
    copy_seed(hub_root, "syscount")
    namespace = f"{registry.host}/upgrade"
    ledger = work / "digests.json"
    publish(hub_root, namespace, ledger, keys["hub"])
    before = write_index(hub_root, namespace, ledger, work / "before")
    add_version(hub_root, "syscount", "1.1.0")
    publish(hub_root, namespace, ledger, keys["hub"])
    return before, write_index(hub_root, namespace, ledger, work / "after"), namespace


@pytest.fixture
def upgrade_hub(
    two_versions: tuple[Path, Path, str],
    keys: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StaticServer]:
    """The index before 1.1.0, served; the test swaps in the one after."""
    with serve_copy(two_versions[0], tmp_path / "served", keys["hub"], monkeypatch) as server:
        yield server


def test_upgrade_to_a_new_version(
    upgrade_hub: StaticServer,
    two_versions: tuple[Path, Path, str],
    keys: dict[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(capsys, "install", "syscount")[0] == 0
    old = installed_package("syscount")
    assert cli(capsys, "upgrade")[2].strip() == "syscount 1.0.0 is up to date"

    shutil.rmtree(upgrade_hub.root / "api")
    shutil.copytree(two_versions[1] / "api", upgrade_hub.root / "api")
    code, out, _ = cli(capsys, "upgrade", "--dry-run")
    assert (code, out.strip()) == (0, "would upgrade syscount 1.0.0 -> 1.1.0")
    assert installed_package("syscount") == old

    # A failed upgrade leaves the installed version as it was.
    code, _, err = cli(capsys, "upgrade", "--public-key", f"{keys['stranger']}.pub")
    assert code == 1 and "syscount: cannot upgrade: " in err and "no valid signature" in err
    assert installed_package("syscount") == old
    assert sorted(p.name for p in (home / "data/packages/syscount").iterdir()) == sorted(
        [old.path.name, "installed.json"]
    )

    code, out, err = cli(capsys, "upgrade", "syscount", "--json")
    assert code == 0 and "upgraded syscount 1.0.0 -> 1.1.0" in err
    assert json.loads(out) == [
        {
            "name": "syscount",
            "from": "1.0.0",
            "to": "1.1.0",
            "upgraded": True,
            "error": None,
            "gained": [],
        }
    ]
    new = installed_package("syscount")
    assert new.version == new.config.version == "1.1.0"
    assert not old.path.exists()
    assert sorted(p.name for p in (home / "data/packages/syscount").iterdir()) == sorted(
        [new.path.name, "installed.json"]
    )
    assert cli(capsys, "upgrade")[2].strip() == "syscount 1.1.0 is up to date"

    # A line stays a line: syscount@1.0 is not upgraded out of 1.0.x.
    assert cli(capsys, "install", "syscount@1.0")[0] == 0
    assert installed_package("syscount").version == "1.0.0"
    assert cli(capsys, "upgrade")[2].strip() == "syscount 1.0.0 is up to date"


def test_an_index_entry_pointing_at_another_version_is_refused(
    upgrade_hub: StaticServer,
    two_versions: tuple[Path, Path, str],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """1.0.0 pinned to the (validly signed) digest of 1.1.0: a substitution the hub must not do.
    The signature names the version it was made for; without signatures checked, the
    artifact's config still names its own."""
    shutil.rmtree(upgrade_hub.root / "api")
    shutil.copytree(two_versions[1] / "api", upgrade_hub.root / "api")
    entry = served_entry(upgrade_hub, "syscount")
    entry["versions"][0]["digest"] = entry["versions"][1]["digest"]
    serve_entry(upgrade_hub, entry)
    error = failure(capsys, "install", "syscount@1.0.0")
    assert "a signature is for syscount 1.1.0, not syscount 1.0.0" in error
    error = failure(capsys, "install", "syscount@1.0.0", "--allow-unsigned")
    assert "is syscount 1.1.0, not syscount 1.0.0 as the hub says" in error
    assert_nothing_installed(home)


# Faults: each one a clear line, and nothing installed.


def test_a_blob_altered_in_the_registry_is_refused(
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    digest = served_entry(hub)["versions"][-1]["digest"]
    mirrored = mirror(registry, catalogue[0], fresh_registry, digest)
    blob = fresh_registry.blob_path(layer_digest(hub, registry, "execsnoop.bpf.o"))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    error = failure(capsys, "install", "execsnoop", "--registry", mirrored)
    assert "has digest sha256:" in error and "do not use it" in error
    assert_nothing_installed(home)
    assert not list(
        (home / "cache/oci/blobs/sha256").glob(layer_digest(hub, registry, "execsnoop.bpf.o")[7:])
    )


@pytest.mark.parametrize("tamper", ["index", "registry"])
def test_a_manifest_whose_digest_differs_from_the_index_is_refused(
    tamper: str,
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = served_entry(hub)
    digest = entry["versions"][-1]["digest"]
    mirrored = mirror(registry, catalogue[0], fresh_registry, digest)
    if tamper == "index":  # the hub pins a digest the registry does not hold
        entry["versions"][-1]["digest"] = "sha256:" + hashlib.sha256(b"other").hexdigest()
        serve_entry(hub, entry)
        expected = "not found on"
    else:  # the registry serves other bytes under the pinned digest
        stored = fresh_registry.blob_path(digest)
        stored.write_bytes(stored.read_bytes().replace(NEWEST.encode(), b"9.9.9"))
        expected = f"expected {digest}"
    error = failure(capsys, "install", "execsnoop", "--registry", mirrored)
    assert expected in error and "manifest" in error
    assert_nothing_installed(home)


def test_signatures_are_required_and_checked(
    hub: StaticServer,
    keys: dict[str, Path],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stranger = f"{keys['stranger']}.pub"
    error = failure(capsys, "install", "execsnoop", "--public-key", stranger)
    assert "no valid signature (a signature does not verify with the given public key)" in error
    assert "check --public-key / EBPF_HUB_PUBLIC_KEY" in error and "--allow-unsigned" in error
    assert_nothing_installed(home)

    monkeypatch.delenv("EBPF_HUB_PUBLIC_KEY")
    error = failure(capsys, "install", "execsnoop")
    assert "no public key is configured; set EBPF_HUB_PUBLIC_KEY or pass --public-key FILE" in error
    assert_nothing_installed(home)

    code, _, err = cli(capsys, "install", "execsnoop", "--allow-unsigned")
    assert code == 0 and "warning: " in err and "is not verified" in err
    header, row = cli(capsys, "list")[1].splitlines()[:2]
    assert row[header.index("VERIFIED") :].split()[0] == "NO"


def test_an_unsigned_artifact_is_refused(
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = RegistryStore(registry.host, "install/execsnoop", insecure=True)
    copy_tag(source, RegistryStore(fresh_registry.host, "bare/execsnoop", insecure=True), NEWEST)
    bare = f"{fresh_registry.host}/bare"
    error = failure(capsys, "install", "execsnoop", "--registry", bare)
    assert "is not signed" in error and "--allow-unsigned" in error
    assert_nothing_installed(home)


def test_a_layer_that_climbs_out_is_refused(
    hub: StaticServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    keys: dict[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An artifact titled `../../etc/x`, validly signed, pinned by a (hostile) index."""
    store = RegistryStore(fresh_registry.host, "evil/execsnoop", insecure=True)
    config = json.dumps({"name": "execsnoop", "version": NEWEST}).encode()
    payload = b"not an object, and not going to /etc either\n"
    config_descriptor = Descriptor(ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(config), len(config))
    layer = Descriptor(
        BPF_OBJECT_MEDIA_TYPE,
        sha256_digest(payload),
        len(payload),
        {TITLE_ANNOTATION: "../../etc/x"},
    )
    store.put_blob(config_descriptor, config)
    store.put_blob(layer, payload)
    manifest = ImageManifest(config_descriptor, (layer,), artifact_type=ARTIFACT_TYPE).to_bytes()
    digest = store.put_manifest(manifest, OCI_MANIFEST, NEWEST)
    sign(store, f"{catalogue[0]}/execsnoop", digest, load_private_key(Path(f"{keys['hub']}.key")))
    entry = served_entry(hub)
    entry["versions"][-1]["digest"] = digest
    serve_entry(hub, entry)
    error = failure(capsys, "install", "execsnoop", "--registry", f"{fresh_registry.host}/evil")
    assert "has unsafe file name '../../etc/x'; refusing the artifact" in error
    assert_nothing_installed(home)
    assert not list(home.parent.rglob("x"))


class StoppingProxy:
    """A TCP relay to a registry that stops the registry when a client asks for one blob:
    the registry goes away in the middle of a pull, after the manifest and signature."""

    def __init__(self, registry: RegistryServer, digest: str) -> None:
        self.registry = registry
        self.trigger = f"/blobs/{digest}".encode()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        host, port = self.registry.host.split(":")
        with client:
            try:
                upstream = socket.create_connection((host, int(port)))
            except OSError:
                return
            with upstream:
                threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
                while data := client.recv(65536):
                    if self.trigger in data:
                        self.registry.stop()
                        return
                    upstream.sendall(data)

    def close(self) -> None:
        self.listener.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        return


def test_the_registry_stopped_mid_pull(
    hub: StaticServer,
    registry: RegistryServer,
    fresh_registry: RegistryServer,
    catalogue: tuple[str, Path],
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    digest = served_entry(hub)["versions"][-1]["digest"]
    mirror(registry, catalogue[0], fresh_registry, digest)
    proxy = StoppingProxy(fresh_registry, layer_digest(hub, registry, "execsnoop.bpf.o"))
    try:
        error = failure(capsys, "install", "execsnoop", "--registry", f"{proxy.host}/mirror")
    finally:
        proxy.close()
    assert f"cannot reach {proxy.host}" in error and "execsnoop" in error
    assert fresh_registry.process.poll() is not None
    assert_nothing_installed(home)


def test_server_errors_are_retried(hub: StaticServer, capsys: pytest.CaptureFixture[str]) -> None:
    hub.fail(PACKAGE_JSON, 500, times=2)
    assert cli(capsys, "install", "execsnoop")[0] == 0
    assert hub.statuses(PACKAGE_JSON) == [500, 500, 200]
    assert installed_package("execsnoop").version == NEWEST


def test_registry_authentication(
    hub: StaticServer,
    registry: RegistryServer,
    auth_registry: RegistryServer,
    catalogue: tuple[str, Path],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conftest import AUTH_PASSWORD
    from ebpf_hub.oci.auth import Credentials

    digest = served_entry(hub)["versions"][-1]["digest"]
    source = RegistryStore(registry.host, "install/execsnoop", insecure=True)
    private = RegistryStore(
        auth_registry.host,
        "private/execsnoop",
        insecure=True,
        credentials=Credentials("hub", AUTH_PASSWORD),
    )
    for tag in (NEWEST, signature_tag(digest)):
        copy_tag(source, private, tag)
    location = f"{auth_registry.host}/private"
    error = failure(capsys, "install", "execsnoop", "--registry", location)
    assert f"authentication required: {auth_registry.host} asks for credentials" in error
    assert "EBPF_HUB_REGISTRY_USERNAME" in error
    assert_nothing_installed(home)
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", "hub")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", AUTH_PASSWORD)
    assert cli(capsys, "install", "execsnoop", "--registry", location)[0] == 0


def test_resolution_errors_are_clear(
    hub: StaticServer, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert failure(capsys, "install", "execsnop").endswith(
        "did you mean: execsnoop, exitsnoop, connectsnoop?"
    )
    assert failure(capsys, "install", "execsnoop@2").endswith(
        f"execsnoop has no release matching 2; available: {NEWEST}, 1.0.0"
    )
    entry = served_entry(hub)
    entry["versions"][-1].update(digest=None, pinned=None, size=None)
    serve_entry(hub, entry)
    assert f"execsnoop {NEWEST} is not published yet" in failure(capsys, "install", "execsnoop")
    hub.stop()
    assert "cannot reach the hub" in failure(capsys, "install", "opensnoop")
    assert_nothing_installed(home)


def test_concurrent_installs_leave_one_consistent_result(hub: StaticServer, home: Path) -> None:
    command = [sys.executable, "-m", "ebpf_hub.cli", "install", "execsnoop"]
    processes = [
        subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        for _ in range(8)
    ]
    outputs = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 8, outputs
    assert (
        sum(f"installed execsnoop {NEWEST}" in err and "already" not in err for err in outputs) == 1
    )
    assert sum("is already installed" in err for err in outputs) == 7
    installed = installed_package("execsnoop")
    assert sorted(p.name for p in (home / "data/packages/execsnoop").iterdir()) == sorted(
        [installed.path.name, "installed.json"]
    )
    manifest = host_manifest(lambda d: home / "cache/oci/blobs/sha256" / d[7:], installed.digest)
    for layer in manifest["layers"]:
        data = (installed.path / layer["annotations"][TITLE_ANNOTATION]).read_bytes()
        assert sha256_digest(data) == layer["digest"]
    assert list((home / "cache/oci/incoming").iterdir()) == []
    assert not [p for p in home.rglob("*") if p.name.endswith(".tmp")]
