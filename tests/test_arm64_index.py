"""A version built for x86_64 and arm64, published as one OCI image index in a real registry:
read by skopeo, oras and crane; pulled and installed by the client, which verifies the index
it pins, then the manifest of its platform as the index lists it. Old single-manifest
artifacts still install.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.build.package import BuiltVersion
from ebpf_hub.build.platforms import build_platforms
from ebpf_hub.cli import main
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.imageindex import Platform, push_index
from ebpf_hub.oci.keys import load_private_key
from ebpf_hub.oci.manifest import OCI_INDEX, OCI_MANIFEST
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.signing import Claims, sign
from ebpf_hub.oci.store import open_store
from ebpf_hub.publish.ledger import published_entry, record
from ebpf_hub.publish.pipeline import Destination, artifact_of, publish_built, publish_platforms
from hubrepo import REPO, copy_seed, make_hub
from registry import RegistryServer

CRANE = REPO / ".tools" / "bin" / "crane"  # scripts/fetch-tools
ORAS = REPO / ".tools" / "bin" / "oras"
AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty client home per test, none of the user's hub settings."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for variable in ("EBPF_HUB_URL", "EBPF_HUB_REGISTRY", "EBPF_HUB_PUBLIC_KEY"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("keys") / "hub"
    assert main(["keygen", str(prefix)]) == 0
    return prefix


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bashreadline as the seed declares it (x86_64 and aarch64), and a copy of it built for
    x86_64 only."""
    root = make_hub(tmp_path_factory.mktemp("hub"))
    copy_seed(root, "bashreadline")
    only = copy_seed(root, "bashreadline", "x86only")
    only.write_text(only.read_text().replace("[x86_64, aarch64]", "[x86_64]"))
    return root


@pytest.fixture(scope="module")
def published(
    registry: RegistryServer, key: Path, hub: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Any]]:
    """The hub published, signed, as `ebpf-hub publish` does: (namespace, its ledger)."""
    namespace = f"{registry.host}/multiarch"
    ledger = tmp_path_factory.mktemp("ledger") / "digests.json"
    command = ["publish", "--root", str(hub), "--registry", namespace, "--insecure", "--all"]
    assert main([*command, "--ledger", str(ledger), "--sign-key", f"{key}.key"]) == 0
    return namespace, json.loads(ledger.read_text())


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltVersion, ...]:
    """bashreadline's two builds of its first version (the one `hub` holds), for the tests
    that publish by hand."""
    config = load_config(REPO)
    [package] = validate(config, [config.packages_dir / "bashreadline.yaml"]).packages
    return build_platforms(REPO, package, package.versions[0], tmp_path_factory.mktemp("b"))


def tool(*command: str | Path) -> bytes:
    done = subprocess.run([str(part) for part in command], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def skopeo_raw(reference: str) -> bytes:
    return tool("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def children(namespace: str) -> dict[str, bytes]:
    """bashreadline:1.0.0's manifests by platform architecture, as skopeo reads them."""
    index = json.loads(skopeo_raw(f"{namespace}/bashreadline:1.0.0"))
    return {
        entry["platform"]["architecture"]: skopeo_raw(f"{namespace}/bashreadline@{entry['digest']}")
        for entry in index["manifests"]
    }


def pull(capsys: pytest.CaptureFixture[str], key: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["pull", *args, "--public-key", f"{key}.pub", "--json"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_version_tag_names_an_index_with_a_manifest_per_platform(
    published: tuple[str, dict[str, Any]],
) -> None:
    namespace, ledger = published
    raw = skopeo_raw(f"{namespace}/bashreadline:1.0.0")
    entry = ledger["bashreadline"]["1.0.0"]
    assert digest_of(raw) == entry["digest"]  # the index is what the JSON index pins
    index = json.loads(raw)
    assert (index["mediaType"], index["artifactType"]) == (
        OCI_INDEX,
        "application/vnd.ebpf-hub.package.v1",
    )
    assert index["annotations"]["org.opencontainers.image.version"] == "1.0.0"
    assert [e["platform"] for e in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    manifests = children(namespace)
    sizes = 0
    for listed in index["manifests"]:
        data = manifests[listed["platform"]["architecture"]]
        assert (digest_of(data), len(data), listed["mediaType"]) == (
            listed["digest"],
            listed["size"],
            OCI_MANIFEST,
        )
        manifest = json.loads(data)
        sizes += len(data) + manifest["config"]["size"]
        sizes += sum(layer["size"] for layer in manifest["layers"])
    assert entry["size"] == len(raw) + sizes
    # The registry is the truth: the ledger entry read back from it is the same.
    reference = parse_reference(f"{namespace}/bashreadline")
    found = published_entry(open_store(reference, insecure=True), "bashreadline", "1.0.0")
    assert found is not None and (found.digest, found.size) == (entry["digest"], entry["size"])
    # The x86_64-only copy is an index of one.
    only = json.loads(skopeo_raw(f"{namespace}/x86only:1.0.0"))
    assert [e["platform"]["architecture"] for e in only["manifests"]] == ["amd64"]


def test_skopeo_oras_and_crane_pick_the_arm64_build(
    published: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    namespace = published[0]
    arm = children(namespace)["arm64"]
    [layer] = [
        layer
        for layer in json.loads(arm)["layers"]
        if layer["annotations"]["org.opencontainers.image.title"] == "bashreadline.bpf.o"
    ]
    source = f"{namespace}/bashreadline:1.0.0"
    tool(
        *("skopeo", "copy", "--src-tls-verify=false", "--override-arch", "arm64"),
        *(f"docker://{source}", f"dir:{tmp_path / 'skopeo'}"),
    )
    assert (tmp_path / "skopeo" / "manifest.json").read_bytes() == arm
    oras = (ORAS, "pull", "--plain-http", "--platform", "linux/arm64", "-o", tmp_path / "oras")
    tool(*oras, source)
    assert digest_of((tmp_path / "oras" / "bashreadline.bpf.o").read_bytes()) == layer["digest"]
    assert tool(CRANE, "manifest", "--insecure", "--platform", "linux/arm64", source) == arm


def test_the_client_pulls_its_own_platform_or_the_one_asked_for(
    published: tuple[str, dict[str, Any]],
    key: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace, ledger = published
    reference = f"{namespace}/bashreadline:1.0.0"
    pinned = ledger["bashreadline"]["1.0.0"]["digest"]
    pulled = {}
    for platform, out in ((None, "host"), ("linux/arm64", "arm"), ("amd64", "amd")):
        extra = ("--platform", platform) if platform else ()
        code, text, err = pull(capsys, key, reference, "--out", str(tmp_path / out), *extra)
        assert code == 0, err
        report = json.loads(text)
        assert (report["digest"], report["verified"]) == (pinned, True)
        pulled[out] = report["arch"], (tmp_path / out / "bashreadline.bpf.o").read_bytes()
    assert pulled["host"] == pulled["amd"]  # this machine is x86_64
    assert pulled["host"][0] == "x86_64" and pulled["arm"][0] == "aarch64"
    arm = json.loads(children(namespace)["arm64"])
    assert digest_of(pulled["arm"][1]) in {layer["digest"] for layer in arm["layers"]}


def test_a_package_without_a_build_for_the_platform_is_refused(
    published: tuple[str, dict[str, Any]],
    key: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = f"{published[0]}/x86only:1.0.0"
    out = tmp_path / "out"
    code, _, err = pull(capsys, key, reference, "--out", str(out), "--platform", "linux/arm64")
    assert code == 1
    [line] = [line for line in err.splitlines() if line.startswith("ebpf-hub: error: ")]
    assert "has no build for linux/arm64 (it has linux/amd64)" in line
    assert not out.exists() or not any(out.iterdir())
    code, _, err = pull(capsys, key, reference, "--out", str(out), "--platform", "windows/arm64")
    assert code == 1 and "--platform 'windows/arm64': not a platform" in err


def test_a_manifest_other_than_the_one_the_index_lists_is_refused(
    fresh_registry: RegistryServer,
    builds: tuple[BuiltVersion, ...],
    key: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace = f"{fresh_registry.host}/tampered"
    publish_platforms(
        builds, Destination(namespace, insecure=True), load_private_key(Path(f"{key}.key"))
    )
    manifests = children(namespace)
    # The registry now serves the amd64 manifest's bytes where the index lists the arm64 one.
    arm_blob = fresh_registry.blob_path(digest_of(manifests["arm64"]))
    arm_blob.write_bytes(manifests["amd64"])
    reference = f"{namespace}/bashreadline:1.0.0"
    out = tmp_path / "out"
    code, _, err = pull(capsys, key, reference, "--out", str(out), "--platform", "linux/arm64")
    assert code == 1
    amd, arm = (digest_of(manifests[arch]) for arch in ("amd64", "arm64"))
    assert f"content has digest {amd}, expected {arm}" in err
    assert not out.exists() or not any(out.iterdir())


def test_a_signed_index_that_mislabels_a_platform_is_refused(
    fresh_registry: RegistryServer,
    builds: tuple[BuiltVersion, ...],
    key: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = parse_reference(f"{fresh_registry.host}/mislabel/bashreadline:1.0.0")
    store = open_store(reference, insecure=True)
    artifacts = {built.config.build.arch: artifact_of(built) for built in builds}
    arm, x86 = artifacts["aarch64"], artifacts["x86_64"]
    pushed = push_index(store, [(ARM64, x86), (AMD64, arm)], "1.0.0")
    claims = Claims("bashreadline", "1.0.0")
    sign(store, reference.name, pushed.digest, load_private_key(Path(f"{key}.key")), claims)
    out = tmp_path / "out"
    code, _, err = pull(capsys, key, str(reference), "--out", str(out), "--platform", "arm64")
    assert code == 1
    assert "lists a linux/amd64 build as its linux/arm64 one" in err
    assert not out.exists()


def test_an_old_single_manifest_artifact_still_installs(
    fresh_registry: RegistryServer,
    builds: tuple[BuiltVersion, ...],
    hub: Path,
    key: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    namespace = f"{fresh_registry.host}/old"
    host = next(built for built in builds if built.config.build.arch == "x86_64")
    outcome = publish_built(
        host, Destination(namespace, insecure=True), load_private_key(Path(f"{key}.key"))
    )
    assert json.loads(skopeo_raw(f"{namespace}/bashreadline:1.0.0"))["mediaType"] == OCI_MANIFEST
    ledger = tmp_path / "digests.json"
    record(ledger, [outcome])
    site = tmp_path / "site"
    index = ["index", "--root", str(hub), "--out", str(site), "--registry", namespace]
    assert main([*index, "--digests", str(ledger)]) == 0
    monkeypatch.setenv("EBPF_HUB_URL", str(site))
    monkeypatch.setenv("EBPF_HUB_PUBLIC_KEY", f"{key}.pub")
    capsys.readouterr()
    assert main(["install", "bashreadline"]) == 0, capsys.readouterr().err
    assert "installed bashreadline 1.0.0" in capsys.readouterr().err


def test_an_index_copies_between_stores_byte_for_byte(
    fresh_registry: RegistryServer, builds: tuple[BuiltVersion, ...], tmp_path: Path
) -> None:
    layout = f"oci:{tmp_path / 'oci'}"
    outcome = publish_platforms(builds, Destination(layout), None)
    source = open_store(parse_reference(f"{layout}/bashreadline"))
    target = open_store(
        parse_reference(f"{fresh_registry.host}/copied/bashreadline"), insecure=True
    )
    assert copy_tag(source, target, "1.0.0") == outcome.digest
    raw = skopeo_raw(f"{fresh_registry.host}/copied/bashreadline:1.0.0")
    assert digest_of(raw) == outcome.digest
    assert sorted(children(f"{fresh_registry.host}/copied")) == ["amd64", "arm64"]
