"""`ebpf-hub publish`: the seed catalogue into a real registry, checked by skopeo; merges."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.index.document import load_document
from ebpf_hub.model.package import Package
from ebpf_hub.oci.keys import load_public_key
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.signing import verify
from ebpf_hub.oci.store import open_store
from hubrepo import REPO, add_version, copy_seed, git, make_hub
from registry import RegistryServer

SEEDS = sorted(p.stem for p in (REPO / "index" / "packages").glob("*.yaml"))
# Every version of every seed, (name, version): `publish --all` pushes each.
RELEASES = sorted(
    (name, version.version)
    for name in SEEDS
    for path in [REPO / "index" / "packages" / f"{name}.yaml"]
    for version in Package.from_json(load_document(path, path.name).data).versions
)


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("keys") / "hub"
    assert main(["keygen", str(prefix)]) == 0
    return prefix


def publish(root: Path, registry: str, ledger: Path, *extra: str) -> int:
    return main(
        [
            "publish",
            "--root",
            str(root),
            "--registry",
            registry,
            "--insecure",
            "--ledger",
            str(ledger),
            *extra,
        ]
    )


def skopeo_raw(reference: str) -> bytes:
    return subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
        capture_output=True,
        check=True,
    ).stdout


def test_seed_catalogue_is_published_signed_and_readable_by_skopeo(
    registry: RegistryServer, signing_key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = f"{registry.host}/seed"
    ledger = tmp_path / "digests.json"
    assert (
        publish(REPO, namespace, ledger, "--all", "--sign-key", f"{signing_key}.key", "--json") == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert sorted((p["package"], p["version"]) for p in report["published"]) == RELEASES
    assert all(p["pushed"] for p in report["published"]) and report["failed"] == []
    recorded = json.loads(ledger.read_text())
    public = load_public_key(Path(f"{signing_key}.pub"))
    for name, version in RELEASES:
        entry = recorded[name][version]
        raw = skopeo_raw(f"{namespace}/{name}:{version}")
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == entry["digest"]
        manifest = json.loads(raw)
        assert manifest["artifactType"] == "application/vnd.ebpf-hub.package.v1"
        assert manifest["annotations"]["org.opencontainers.image.version"] == version
        # An image index: one manifest per architecture the package is built for.
        assert manifest["mediaType"] == "application/vnd.oci.image.index.v1+json"
        assert [m["platform"]["architecture"] for m in manifest["manifests"]] == ["amd64", "arm64"]
        assert entry["size"] > sum(child["size"] for child in manifest["manifests"])
        reference = parse_reference(f"{namespace}/{name}:{version}")
        verify(open_store(reference, insecure=True), reference.name, entry["digest"], public)

    # The index lists the digests the ledger recorded.
    assert (
        main(
            [
                "index",
                "--root",
                str(REPO),
                "--out",
                str(tmp_path / "site"),
                "--digests",
                str(ledger),
                "--registry",
                namespace,
            ]
        )
        == 0
    )
    entry = json.loads((tmp_path / "site/api/v1/packages/execsnoop.json").read_text())
    assert entry["versions"][-1]["digest"] == recorded["execsnoop"]["1.0.1"]["digest"]

    # A second run pushes nothing.
    assert publish(REPO, namespace, ledger, "--all", "--sign-key", f"{signing_key}.key") == 0
    assert f"publish: 0 pushed, {len(RELEASES)} unchanged, 0 failed" in capsys.readouterr().err


def test_publish_to_an_authenticated_registry(
    auth_registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conftest import AUTH_PASSWORD

    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "syscount")
    namespace = f"{auth_registry.host}/auth"
    assert publish(hub, namespace, tmp_path / "l.json", "--all", "--no-sign") == 1
    assert "authentication required" in capsys.readouterr().err
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", "hub")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", AUTH_PASSWORD)
    assert publish(hub, namespace, tmp_path / "l.json", "--all", "--no-sign") == 0
    assert f"pushed {namespace}/syscount:1.0.0" in capsys.readouterr().err


def test_publish_to_an_oci_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "xdpcount")
    layout = tmp_path / "oci"
    assert (
        main(
            [
                "publish",
                "--root",
                str(hub),
                "--registry",
                f"oci:{layout}",
                "--all",
                "--no-sign",
                "--ledger",
                str(tmp_path / "l.json"),
            ]
        )
        == 0
    )
    digest = json.loads((tmp_path / "l.json").read_text())["xdpcount"]["1.0.0"]["digest"]
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{layout}/xdpcount:1.0.0"],
        capture_output=True,
        check=True,
    ).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest


class TestMerge:
    """A merge simulated in a temporary git repository, published over BASE..HEAD."""

    @pytest.fixture
    def repo(self, tmp_path: Path, fresh_registry: RegistryServer) -> tuple[Path, str, Path]:
        hub = make_hub(tmp_path / "hub")
        copy_seed(hub, "execsnoop", "sample")
        copy_seed(hub, "syscount")
        git(hub, "init", "-q", "-b", "main")
        git(hub, "add", "-A")
        git(hub, "commit", "-q", "-m", "base")
        namespace = f"{fresh_registry.host}/merge"
        ledger = tmp_path / "digests.json"
        assert publish(hub, namespace, ledger, "--all", "--no-sign") == 0
        return hub, namespace, ledger

    def test_only_the_new_version_is_pushed_then_nothing(
        self, repo: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        hub, namespace, ledger = repo
        base = git(hub, "rev-parse", "HEAD").strip()
        source = hub / "sources/sample/execsnoop.bpf.c"
        source.write_text(
            source.read_text().replace(
                "e->uid = (__u32)bpf_get_current_uid_gid();",
                "e->uid = bpf_get_current_uid_gid() >> 32;",
            )
        )
        add_version(hub, "sample", "1.1.0")
        git(hub, "commit", "-q", "-am", "sample 1.1.0")
        capsys.readouterr()
        assert (
            publish(hub, namespace, ledger, f"--changed={base}..HEAD", "--no-sign", "--json") == 0
        )
        report = json.loads(capsys.readouterr().out)
        assert [(p["package"], p["version"], p["pushed"]) for p in report["published"]] == [
            ("sample", "1.1.0", True)
        ]
        assert publish(hub, namespace, ledger, f"--changed={base}..HEAD", "--no-sign") == 0
        assert "publish: 0 pushed, 1 unchanged, 0 failed" in capsys.readouterr().err
        assert set(json.loads(ledger.read_text())["sample"]) == {"1.0.0", "1.1.0"}

    def test_changing_a_published_version_is_refused(
        self, repo: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        hub, namespace, ledger = repo
        base = git(hub, "rev-parse", "HEAD").strip()
        before = skopeo_raw(f"{namespace}/sample:1.0.0")
        source = hub / "sources/sample/execsnoop.bpf.c"
        source.write_text(
            source.read_text().replace("e->uid = (__u32)bpf_get_current_uid_gid();", "e->uid = 0;")
        )
        from test_build import copy_pin

        copy_pin(hub)  # re-pin 1.0.0 to the new content, as a careless (or hostile) edit would
        git(hub, "commit", "-q", "-am", "rewrite 1.0.0")
        capsys.readouterr()
        assert publish(hub, namespace, ledger, f"--changed={base}..HEAD", "--no-sign") == 1
        err = capsys.readouterr().err
        assert "published versions are immutable" in err
        assert "1 version(s) failed to publish: sample@1.0.0" in err
        assert skopeo_raw(f"{namespace}/sample:1.0.0") == before

    def test_first_push_publishes_what_is_missing(
        self, repo: tuple[Path, str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        hub, namespace, ledger = repo
        capsys.readouterr()
        assert publish(hub, namespace, ledger, f"--changed={'0' * 40}..HEAD", "--no-sign") == 0
        assert "publish: 0 pushed, 2 unchanged, 0 failed" in capsys.readouterr().err
