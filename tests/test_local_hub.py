"""The local hub as `scripts/up` makes it: its steps run through the real CLI in a small hub
(publish to an OCI layout signed for the registry `site serve --layout` then serves it as), then
used as a user would, from another directory, with the README's exports, and pulled with the
other OCI tools exactly as the site and the JSON index show it: real `skopeo` (Debian) and real
`oras` (the static binary `scripts/fetch-tools` puts in .tools/bin).
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebpf_hub.oci.artifact import BPF_OBJECT_MEDIA_TYPE
from ebpf_hub.oci.imageindex import platform_manifest
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_INDEX, TITLE_ANNOTATION, ImageManifest
from hubrepo import REPO, copy_seed, make_hub
from registry import free_port

EBPF_HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")
ORAS = REPO / ".tools" / "bin" / "oras"
NAME = "execsnoop"
NAMESPACE = "local"
SITE_INPUTS = ("mkdocs.yml", "SECURITY.md", "site", "schema")
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class LocalHub:
    root: Path
    port: int

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.port}/{NAMESPACE}"

    def env(self, home: Path) -> dict[str, str]:
        """The README's exports after `scripts/up`, a home of the test's own, nothing else of
        ebpf-hub's from the caller's environment."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
        return {
            **kept,
            "EBPF_HUB_URL": f"http://127.0.0.1:{self.port}/",
            "EBPF_HUB_PUBLIC_KEY": str(self.root / "build" / "keys" / "hub.pub"),
            "EBPF_HUB_HOME": str(home),
        }

    def request(self, method: str, path: str) -> http.client.HTTPResponse:
        """`path` sent as written: no client-side normalisation of `..` or escapes."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def object_digest(self) -> str:
        """The digest of the package's eBPF object, read from the layout itself."""
        store = LayoutStore(self.root / "build" / "oci" / NAME)
        digest = store.get_manifest("1.0.0").digest
        chosen = platform_manifest(store, digest, None, NAME)  # this machine's, of an index
        digest = digest if chosen is None else chosen.descriptor.digest
        manifest = ImageManifest.parse(store.get_manifest(digest).data, NAME)
        (layer,) = (
            d
            for d in manifest.layers
            if d.media_type == BPF_OBJECT_MEDIA_TYPE
            and d.annotations.get(TITLE_ANNOTATION) == f"{NAME}.bpf.o"
        )
        return layer.digest


def run(*command: str, cwd: Path | str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, f"{shlex.join(command)}: {result.stderr}{result.stdout}"
    return result.stdout + result.stderr


def wait_until_serving(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"site serve exited {process.returncode}: {process.communicate()[1]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/v2/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    pytest.fail(f"site serve did not answer on port {port} within {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="module")
def local_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """scripts/up's steps, in a hub of one package with everything the site build reads."""
    root = make_hub(tmp_path_factory.mktemp("up") / "hub")
    copy_seed(root, NAME)
    for name in SITE_INPUTS:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, root / name)
    hub = LocalHub(root, free_port())
    run(EBPF_HUB, "validate", cwd=root)
    run(EBPF_HUB, "keygen", "build/keys/hub", cwd=root)
    publish = ["publish", "--all", "--registry", "oci:build/oci", "--sign-as", hub.registry]
    run(EBPF_HUB, *publish, "--sign-key", "build/keys/hub.key", cwd=root)
    site = ["--out", "build/site", "--digests", "build/digests.json", "--registry", hub.registry]
    serve = ["site", "serve", *site, "--layout", "build/oci", "--port", str(hub.port)]
    process = subprocess.Popen(
        [EBPF_HUB, *serve], cwd=root, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until_serving(process, hub.port)
        yield hub
    finally:
        process.terminate()
        process.wait(timeout=10)


def oras() -> str:
    if not os.access(ORAS, os.X_OK):
        pytest.fail(f"{ORAS}: no oras binary; run scripts/fetch-tools (scripts/test does)")
    return str(ORAS)


def sha256_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_scripts_up_runs_the_steps_this_test_runs() -> None:
    """The fixture above mirrors scripts/up; this keeps the two from drifting apart."""
    text = (REPO / "scripts" / "up").read_text()
    assert f"registry=127.0.0.1:$port/{NAMESPACE}" in text
    assert '--registry oci:build/oci --sign-as "$registry"' in text
    assert "--layout build/oci" in text


def test_install_from_another_directory(local_hub: LocalHub, tmp_path: Path) -> None:
    out = run(EBPF_HUB, "install", NAME, cwd="/", env=local_hub.env(tmp_path / "home"))
    assert f"installed {NAME} 1.0.0" in out


def test_the_site_and_json_show_references_every_tool_pulls(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    expected = local_hub.object_digest()
    entry = json.loads(
        (local_hub.root / "build" / "site" / "api" / "v1" / "packages" / f"{NAME}.json").read_text()
    )["versions"][0]
    assert entry["ref"] == f"{local_hub.registry}/{NAME}:1.0.0"
    assert entry["pinned"] == f"{local_hub.registry}/{NAME}@{entry['digest']}"

    page = (local_hub.root / "build" / "site" / "packages" / NAME / "index.html").read_text()
    (shown,) = {html.unescape(m) for m in re.findall(r"oras pull [^<\"]+", page)}
    assert shown == f"oras pull --platform linux/amd64 --plain-http {entry['pinned']}"
    pulled = tmp_path / "oras"
    pulled.mkdir()
    run(oras(), *shlex.split(shown)[1:], cwd=pulled)
    assert sha256_file(pulled / f"{NAME}.bpf.o") == expected
    by_tag = tmp_path / "oras-tag"
    by_tag.mkdir()
    run(oras(), "pull", "--platform", "linux/amd64", "--plain-http", entry["ref"], cwd=by_tag)
    assert sha256_file(by_tag / f"{NAME}.bpf.o") == expected

    copied = tmp_path / "skopeo"
    run(
        "skopeo",
        "copy",
        f"docker://{entry['ref']}",
        f"dir:{copied}",
        "--src-tls-verify=false",
        cwd="/",
    )
    assert sha256_file(copied / expected.removeprefix("sha256:")) == expected

    ours = tmp_path / "ebpf-hub"
    env = local_hub.env(tmp_path / "home")
    run(EBPF_HUB, "pull", entry["pinned"], "--out", str(ours), cwd="/", env=env)
    assert sha256_file(ours / f"{NAME}.bpf.o") == expected


def test_manifests_answer_as_a_registry_does(local_hub: LocalHub) -> None:
    by_tag = local_hub.request("HEAD", f"/v2/{NAMESPACE}/{NAME}/manifests/1.0.0")
    assert by_tag.status == 200
    assert by_tag.getheader("Content-Type") == OCI_INDEX  # one manifest per architecture
    digest = by_tag.getheader("Docker-Content-Digest")
    by_digest = local_hub.request("GET", f"/v2/{NAMESPACE}/{NAME}/manifests/{digest}")
    assert (by_digest.status, by_digest.getheader("Docker-Content-Digest")) == (200, digest)
    missing = local_hub.request("GET", f"/v2/{NAMESPACE}/{NAME}/manifests/9.9.9")
    assert missing.status == 404
    assert missing.getheader("Content-Type") == "application/json"


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_the_registry_is_read_only(local_hub: LocalHub, method: str) -> None:
    for path in (
        f"/v2/{NAMESPACE}/{NAME}/manifests/1.0.0",
        f"/v2/{NAMESPACE}/{NAME}/blobs/uploads/",
    ):
        assert local_hub.request(method, path).status == 405


def test_no_request_reaches_outside_the_layouts(local_hub: LocalHub) -> None:
    link = local_hub.root / "build" / "oci" / "etc"
    link.symlink_to("/etc")
    try:
        for path in (
            f"/v2/{NAMESPACE}/../../../../etc/passwd/manifests/1.0.0",
            f"/v2/{NAMESPACE}/%2e%2e/tags/list",
            f"/v2/{NAMESPACE}/etc/tags/list",  # a link in the layouts is not followed
            f"/v2/{NAMESPACE}/{NAME}/blobs/sha256:..%2f..%2f..%2findex.json",
        ):
            response = local_hub.request("GET", path)
            assert response.status == 404, path
    finally:
        link.unlink()
