"""Offline bundles: export from a machine that reaches the hub, import where nothing does.

A real registry (tests/registry.py) gets execsnoop published signed; its index is written and
TUF-signed as the publish workflow does and served on loopback. `export` runs against them;
then the registry and the hub are stopped for good, and every test imports the bundle into a
fresh home with no network, installs, and runs it on the kernel. Attacks are bundles changed
on disk: a tampered blob, a link, a path out of the archive, an artifact the index does not pin.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.client.bundle import INDEX_TAG
from ebpf_hub.client.bundlearchive import METADATA_LIMIT, write_archive
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest
from ebpf_hub.oci.referrers import list_referrers
from ebpf_hub.oci.store import read_blob
from ebpf_hub.trust.keys import load_online_keys
from ebpf_hub.trust.lifetimes import Lifetimes
from ebpf_hub.trust.repository import sign_index
from httpserver import StaticServer
from hubrepo import copy_seed, make_hub
from registry import start_registry
from test_install import assert_nothing_installed, cli, failure

ENV = ("EBPF_HUB_URL", "EBPF_HUB_REGISTRY", "EBPF_HUB_PUBLIC_KEY", "EBPF_HUB_HOME")


@dataclass(frozen=True)
class Exported:
    """The bundle, and what an importing machine is given by hand: the hub's URL (now dead),
    its root and its signing key."""

    bundle: Path
    hub_url: str
    root: Path
    public_key: Path
    digest: str
    site: Path  # the hub's site as it was signed, and its root history and online keys
    roots: Path
    keys: Path
    root_keys: Path


def _ok(*args: str) -> None:
    assert main(list(args)) == 0, args


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """Publish, index, sign, serve, export execsnoop; then stop the registry and the hub."""
    work = tmp_path_factory.mktemp("bundle")
    registry = start_registry(work / "registry")
    hub = make_hub(work / "hub")
    copy_seed(hub, "execsnoop")
    namespace = f"{registry.host}/offline"
    _ok("keygen", str(work / "hub-key"))
    publish = ["publish", "--root", str(hub), "--registry", namespace, "--insecure", "--all"]
    _ok(*publish, "--ledger", str(work / "digests.json"), "--sign-key", str(work / "hub-key.key"))
    index = ["index", "--root", str(hub), "--out", str(work / "site"), "--registry", namespace]
    _ok(*index, "--digests", str(work / "digests.json"))
    roots = ["--roots", str(work / "roots")]
    _ok(
        "trust", "init", *roots, "--root-keys-dir", str(work / "offline"), "--keys", str(work / "k")
    )
    _ok("trust", "sign", str(work / "site/api/v1"), *roots, "--keys", str(work / "k"))
    digest = json.loads((work / "site/api/v1/packages/execsnoop.json").read_text())["versions"][-1][
        "digest"
    ]
    try:
        with StaticServer(work / "site") as server, pytest.MonkeyPatch.context() as env:
            env.setenv("EBPF_HUB_HOME", str(work / "exporter"))
            env.setenv("EBPF_HUB_URL", server.url)
            env.setenv("EBPF_HUB_PUBLIC_KEY", str(work / "hub-key.pub"))
            env.delenv("EBPF_HUB_REGISTRY", raising=False)
            _ok("trust", "install-root", str(work / "roots/1.root.json"))
            _ok("export", "execsnoop", "execsnoop@1.0.0", "--out", str(work / "execsnoop.tar"))
            url = server.url
    finally:
        registry.stop()
    yield Exported(
        work / "execsnoop.tar",
        url,
        work / "roots/1.root.json",
        work / "hub-key.pub",
        digest,
        work / "site",
        work / "roots",
        work / "k",
        work / "offline",
    )


@pytest.fixture
def importer(exported: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, offline machine: it trusts the hub's root and key, and reaches nothing."""
    for variable in ENV:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EBPF_HUB_URL", exported.hub_url)
    monkeypatch.setenv("EBPF_HUB_PUBLIC_KEY", str(exported.public_key))
    monkeypatch.setenv("EBPF_HUB_HTTP_DEADLINE", "5")
    return tmp_path / "home"


def _trust(exported: Exported) -> None:
    _ok("trust", "install-root", str(exported.root))


def test_round_trip_installs_and_runs_with_the_registry_and_hub_stopped(
    exported: Exported, importer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tarfile.open(exported.bundle) as tar:  # an OCI image layout, nothing else
        names = tar.getnames()
    assert {"oci-layout", "index.json"} <= set(names)
    assert all(n in ("oci-layout", "index.json") or n.startswith("blobs") for n in names)

    _trust(exported)
    code, out, err = cli(capsys, "import", str(exported.bundle), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["packages"] == [
        {"name": "execsnoop", "version": "1.0.0", "digest": exported.digest}
    ]
    assert "imported execsnoop 1.0.0" in err and ", verified" in err

    code, out, err = cli(capsys, "install", "execsnoop", "--json")
    assert code == 0, err
    installed = json.loads(out)
    assert (installed["digest"], installed["verified"]) == (exported.digest, True)
    assert "using the signed index verified from the cache" in err

    cache = LayoutStore(importer / "cache" / "oci")  # what points at the artifact came along
    platforms = json.loads(cache.get_manifest(exported.digest).data)["manifests"]
    with tarfile.open(exported.bundle) as tar:
        tar.extractall(importer / "bundle", filter="data")
    bundle = LayoutStore(importer / "bundle")
    subjects = (exported.digest, *(platform["digest"] for platform in platforms))
    assert all(list_referrers(bundle, subject) for subject in subjects[:2])  # index, amd64
    for subject in subjects:
        assert list_referrers(cache, subject) == list_referrers(bundle, subject)
        for referrer in list_referrers(cache, subject):
            assert cache.get_manifest(referrer.descriptor.digest)

    code, out, err = cli(capsys, "verify", "execsnoop", "--json")
    assert code == 0, err  # the whole chain, provenance included, from what the bundle brought

    code, out, err = cli(capsys, "run", "execsnoop", "--duration", "1", "--yes", "--json")
    assert code == 0, err


def test_import_needs_the_hubs_root(
    exported: Exported, importer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = failure(capsys, "import", str(exported.bundle))
    assert "no trusted root for the hub" in line and "trust install-root" in line
    assert_nothing_installed(importer)


def test_import_checks_signatures_against_the_configured_key(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trust(exported)
    _ok("keygen", str(tmp_path / "stranger"))
    line = failure(
        capsys, "import", str(exported.bundle), "--public-key", f"{tmp_path}/stranger.pub"
    )
    assert "signature" in line
    assert _cached_blobs(importer) == set()  # nothing unverified entered the cache


def _rewrite(
    bundle: Path, out: Path, change: dict[str, bytes | None], extra: list[tarfile.TarInfo]
) -> Path:
    """A copy of `bundle` with entries replaced (None: dropped) and `extra` entries added."""
    with tarfile.open(bundle) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            if member.name in change:
                data = change[member.name]
                if data is None:
                    continue
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
        for info in extra:
            target.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return out


def _blob_json(tar: tarfile.TarFile, digest: str) -> dict[str, Any]:
    handle = tar.extractfile(f"blobs/sha256/{digest[7:]}")
    assert handle is not None
    value: dict[str, Any] = json.loads(handle.read())
    return value


def _cached_blobs(home: Path) -> set[str]:
    blobs = home / "cache" / "oci" / "blobs" / "sha256"
    return {p.name for p in blobs.iterdir()} if blobs.exists() else set()


def test_a_tampered_blob_is_refused(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trust(exported)
    with tarfile.open(exported.bundle) as tar:
        index = _blob_json(tar, exported.digest)  # the version's image index
        layers = _blob_json(tar, index["manifests"][0]["digest"])["layers"]
    target = f"blobs/sha256/{layers[0]['digest'][7:]}"
    bad = _rewrite(exported.bundle, tmp_path / "bad.tar", {target: b"\x7fELF tampered"}, [])
    line = failure(capsys, "import", str(bad))
    assert layers[0]["digest"] in line or "size" in line
    assert_nothing_installed(importer)


@pytest.mark.parametrize(
    ("name", "kind", "size", "expected"),
    [
        ("blobs/sha256/" + "a" * 64, tarfile.SYMTYPE, 0, "is a link or a special file"),
        ("../escape", tarfile.REGTYPE, 10, "is not part of an OCI image layout"),
        ("/etc/cron.d/x", tarfile.REGTYPE, 10, "is not part of an OCI image layout"),
        ("blobs/sha256/" + "b" * 64, tarfile.FIFOTYPE, 0, "is a link or a special file"),
        ("index.json", tarfile.REGTYPE, 10, "appears twice"),
        ("oci-layout", tarfile.REGTYPE, METADATA_LIMIT + 1, "makes the bundle too large"),
    ],
)
def test_unsafe_archives_are_refused(
    exported: Exported,
    importer: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    kind: bytes,
    size: int,
    expected: str,
) -> None:
    _trust(exported)
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
    info.size = size
    bad = _rewrite(exported.bundle, tmp_path / "bad.tar", {}, [info])
    line = failure(capsys, "import", str(bad))
    assert expected in line
    assert not (tmp_path.parent / "escape").exists()
    assert_nothing_installed(importer)


def test_an_artifact_the_signed_index_does_not_pin_is_refused(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bundle re-pointing a tag at another manifest (here: the signature manifest) carries
    something the hub never published: refused before anything is imported."""
    _trust(exported)
    with tarfile.open(exported.bundle) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    signature = next(
        e
        for e in index["manifests"]
        if e["annotations"]["org.opencontainers.image.ref.name"].endswith(".sig")
    )
    index["manifests"].append(
        {**signature, "annotations": {"org.opencontainers.image.ref.name": "evil-1.0.0"}}
    )
    bad = _rewrite(
        exported.bundle, tmp_path / "bad.tar", {"index.json": json.dumps(index).encode()}, []
    )
    line = failure(capsys, "import", str(bad))
    assert "evil-1.0.0" in line and "no version the hub's signed index pins" in line
    assert_nothing_installed(importer)


def _with_index_files(
    bundle: Path, out: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]
) -> Path:
    """A copy of `bundle` whose signed-index manifest carries `change(files)` instead: a
    well-formed bundle (every digest right) with other index files, as an attacker makes."""
    work = out.with_suffix(".d")
    with tarfile.open(bundle) as tar:
        tar.extractall(work, filter="data")
    layout = LayoutStore(work)
    manifest = ImageManifest.parse(layout.get_manifest(INDEX_TAG).data, INDEX_TAG)
    files = {
        layer.title or "": read_blob(layout, layer, METADATA_LIMIT) for layer in manifest.layers
    }
    layers = []
    for relative, data in sorted(change(files).items()):
        layer = Descriptor("application/json", sha256_digest(data), len(data))
        layout.put_blob(layer, data)
        layers.append(
            Descriptor(layer.media_type, layer.digest, layer.size, {TITLE_ANNOTATION: relative})
        )
    forged = ImageManifest(
        manifest.config, tuple(layers), manifest.artifact_type, manifest.annotations
    )
    layout.put_manifest(forged.to_bytes(), OCI_MANIFEST, INDEX_TAG)
    write_archive(work, out)
    return out


def test_a_changed_package_file_is_refused_by_the_signed_index(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The package file, changed (a yanked flag removed, another digest): TUF refuses it."""

    def change(files: dict[str, bytes]) -> dict[str, bytes]:
        return {
            k: v.replace(b'"1.0.0"', b'"1.0.1"') if k.startswith("packages/") else v
            for k, v in files.items()
        }

    _trust(exported)
    bad = _with_index_files(exported.bundle, tmp_path / "bad.tar", change)
    line = failure(capsys, "import", str(bad))
    assert "the hub's index files in it do not verify: refused packages/" in line
    assert "execsnoop.json" in line and "tampered" in line
    assert_nothing_installed(importer)


def test_expired_index_files_are_refused(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Index files signed with the hub's real keys but expired (a bundle kept too long)."""
    site = tmp_path / "api"
    shutil.copytree(exported.site / "api/v1", site)
    expired = dataclasses.replace(Lifetimes(), timestamp=timedelta(seconds=-60))
    sign_index(site, exported.roots, load_online_keys(exported.keys), lifetimes=expired)

    def change(files: dict[str, bytes]) -> dict[str, bytes]:
        return {**files, "tuf/timestamp.json": (site / "tuf/timestamp.json").read_bytes()}

    _trust(exported)
    bad = _with_index_files(exported.bundle, tmp_path / "bad.tar", change)
    line = failure(capsys, "import", str(bad))
    assert "expired" in line
    assert_nothing_installed(importer)


def test_an_older_bundle_than_the_trusted_index_is_a_rollback(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once a newer index was imported, an older bundle cannot take the machine back."""
    site = tmp_path / "api"
    shutil.copytree(exported.site / "api/v1", site)
    sign_index(site, exported.roots, load_online_keys(exported.keys))  # newer versions

    def newer(files: dict[str, bytes]) -> dict[str, bytes]:
        kept = {k: v for k, v in files.items() if not k.startswith("tuf/") or "root" in k}
        signed = {f"tuf/{p.name}": p.read_bytes() for p in (site / "tuf").iterdir()}
        return {**kept, **{k: v for k, v in signed.items() if "root" not in k}}

    _trust(exported)
    assert (
        main(["import", str(_with_index_files(exported.bundle, tmp_path / "new.tar", newer))]) == 0
    )
    line = failure(capsys, "import", str(exported.bundle))
    assert "rollback" in line or "older" in line or "version" in line


def test_skopeo_reads_the_bundle_as_an_oci_archive(exported: Exported, tmp_path: Path) -> None:
    """Any OCI tool reads a bundle: skopeo gets the artifact and its signature by tag, byte
    for byte."""
    archive = f"oci-archive:{exported.bundle}"
    signature = f"sha256-{exported.digest[7:]}.sig"
    for tag, digest in (("execsnoop-1.0.0", exported.digest), (signature, None)):
        raw = subprocess.run(
            ["skopeo", "inspect", "--raw", f"{archive}:{tag}"],
            capture_output=True,
            check=True,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        ).stdout
        assert digest is None or sha256_digest(raw) == digest


def test_a_root_rotated_since_the_importer_trusted_it_is_followed(
    exported: Exported, importer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hub rotated its root keys after this machine installed root 1: the bundle carries
    the root history, and the importer walks from its root to the new one, each signed by the
    one before."""
    roots, root_keys, site = tmp_path / "roots", tmp_path / "offline", tmp_path / "api"
    shutil.copytree(exported.roots, roots)
    shutil.copytree(exported.root_keys, root_keys)
    shutil.copytree(exported.site / "api/v1", site)
    _ok("trust", "rotate-root", "--roots", str(roots), "--root-keys-dir", str(root_keys))
    sign_index(site, roots, load_online_keys(exported.keys))

    def rotated(files: dict[str, bytes]) -> dict[str, bytes]:
        kept = {k: v for k, v in files.items() if not k.startswith("tuf/")}
        signed = {f"tuf/{p.name}": p.read_bytes() for p in (site / "tuf").iterdir()}
        return {**kept, **{k: v for k, v in signed.items() if k != "tuf/root.json"}}

    _trust(exported)  # root version 1
    bundle = _with_index_files(exported.bundle, tmp_path / "rotated.tar", rotated)
    code, _, err = cli(capsys, "import", str(bundle))
    assert code == 0, err
    [history] = (importer / "cache" / "tuf").glob("*/metadata/root_history")
    assert sorted(p.name for p in history.iterdir()) == ["1.root.json", "2.root.json"]
    assert cli(capsys, "install", "execsnoop")[0] == 0
