"""ebpf_hub.oci against a real registry (docker-registry), skopeo, and OCI layouts on disk."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import oras.provider
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from artifactconfig import artifact_config
from ebpf_hub.oci.artifact import (
    ARTIFACT_CONFIG_MEDIA_TYPE,
    ARTIFACT_TYPE,
    BPF_OBJECT_MEDIA_TYPE,
    BuiltArtifact,
    build_artifact,
    push_artifact,
    read_artifact,
)
from ebpf_hub.oci.copy import copy_tag
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.errors import (
    AuthenticationError,
    IntegrityError,
    InvalidReferenceError,
    OCIError,
    RegistryUnavailableError,
    SignatureError,
    SigningKeyError,
    TagConflictError,
    UnsafeArtifactError,
)
from ebpf_hub.oci.keys import generate_key_pair, load_private_key, load_public_key
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest
from ebpf_hub.oci.reference import LayoutReference, RegistryReference, parse_reference
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.oci.signing import sign, signature_tag, verify
from ebpf_hub.oci.store import Store, open_store
from registry import RegistryServer

MiB = 1024 * 1024
CONFIG = artifact_config("hello", "1.0.0", ("hello.bpf.o",))
BPF_SOURCE = """\
#define SEC(name) __attribute__((section(name), used))
SEC("tracepoint/syscalls/sys_enter_execve") int hello(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def package_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A real package file set: a clang-compiled BPF object, README.md and LICENSE."""
    directory = tmp_path_factory.mktemp("package")
    (directory / "hello.bpf.c").write_text(BPF_SOURCE)
    subprocess.run(
        ["clang", "-target", "bpf", "-O2", "-g", "-c", "hello.bpf.c", "-o", "hello.bpf.o"],
        cwd=directory,
        check=True,
    )
    (directory / "README.md").write_text("# hello\n\nSays hello on every exec.\n")
    (directory / "LICENSE").write_text("GPL-2.0-only\n")
    return [directory / "hello.bpf.o", directory / "README.md", directory / "LICENSE"]


def build(files: list[Path], **changes: object) -> BuiltArtifact:
    """The test package with standard annotations; ``changes`` override config keys."""
    return build_artifact(
        files,
        {**CONFIG, **changes},
        title="hello",
        version="1.0.0",
        description="Says hello on every exec",
        licenses="GPL-2.0-only",
        source="https://example.org/hello.git",
        revision="0123456789abcdef0123456789abcdef01234567",
        created="2024-01-01T00:00:00Z",
    )


def new_repository() -> str:
    """A repository of the test's own on the shared registry."""
    return f"hub/t{uuid.uuid4().hex[:12]}"


def store_for(server: RegistryServer | Proxy, repository: str, retries: int = 3) -> RegistryStore:
    """A plain-HTTP store for ``repository`` on a test registry (or a proxy in front of one)."""
    return RegistryStore(server.host, repository, insecure=True, retries=retries)


def skopeo(*args: str) -> bytes:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True).stdout


def leftovers(directory: Path) -> list[str]:
    """Names in ``directory`` (temporary files or directories left behind show up here)."""
    return sorted(path.name for path in directory.iterdir())


def one_line(error: pytest.ExceptionInfo[OCIError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


@dataclass
class Proxy:
    """A TCP proxy in front of a registry: records requests, can fail or cut them.

    Real sockets, real registry: it only adds what a flaky network does. ``fail`` maps an HTTP
    method to how many of its first requests get a 502; ``cut_after`` closes the connection
    that carries the response byte number ``cut_after`` (once), calling ``on_cut`` first;
    ``strip_range`` removes ``Range`` headers, like a registry that does not serve ranges.
    """

    upstream: str
    fail: dict[str, int] = field(default_factory=dict)
    cut_after: int | None = None
    strip_range: bool = False
    on_cut: Callable[[], None] | None = None
    requests: list[str] = field(default_factory=list)
    failed: int = 0

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._server.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def methods(self) -> list[str]:
        return [line.split()[0] for line in self.requests]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        host, port = self.upstream.split(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._responses, args=(upstream, client), daemon=True).start()
        try:
            self._requests(client, upstream)
        except OSError:
            pass
        finally:
            upstream.close()
            client.close()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = client.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            text = head.decode("latin-1")
            length_match = re.search(r"(?im)^content-length:\s*(\d+)", text)
            length = int(length_match.group(1)) if length_match else 0
            method = text.split(" ", 1)[0]
            with self._lock:
                self.requests.append(text)
                failing = self.fail.get(method, 0) > 0
                if failing:
                    self.fail[method] -= 1
                    self.failed += 1
            if self.strip_range:
                head = re.sub(rb"(?i)\r\nrange:[^\r\n]*", b"", head)
            if not failing:
                upstream.sendall(head + b"\r\n\r\n")
            while length:
                if not buffer:
                    buffer = client.recv(65536)
                    if not buffer:
                        return
                part, buffer = buffer[:length], buffer[length:]
                length -= len(part)
                if not failing:
                    upstream.sendall(part)
            if failing:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def _responses(self, upstream: socket.socket, client: socket.socket) -> None:
        sent = 0
        try:
            while chunk := upstream.recv(65536):
                sent += len(chunk)
                with self._lock:
                    cut = self.cut_after is not None and sent > self.cut_after
                    if cut:
                        self.cut_after = None
                if cut:
                    if self.on_cut is not None:
                        self.on_cut()
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            client.close()


@pytest.fixture
def proxy_factory() -> Iterator[Callable[..., Proxy]]:
    proxies: list[Proxy] = []

    def make(upstream: str, **options: Any) -> Proxy:
        proxies.append(Proxy(upstream, **options))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


# --- references and digests ----------------------------------------------------------------


def test_parse_registry_references() -> None:
    digest = "sha256:" + "ab" * 32
    assert parse_reference("127.0.0.1:5000/hub/opensnoop:1.2.0") == RegistryReference(
        "127.0.0.1:5000", "hub/opensnoop", "1.2.0"
    )
    assert parse_reference(f"ghcr.io/ebpf-hub/packages/exec-snoop@{digest}") == RegistryReference(
        "ghcr.io", "ebpf-hub/packages/exec-snoop", None, digest
    )
    both = parse_reference(f"localhost/a/b:v1@{digest}")
    assert both == RegistryReference("localhost", "a/b", "v1", digest)
    assert str(both) == f"localhost/a/b:v1@{digest}"
    assert both.name == "localhost/a/b"


def test_parse_layout_references() -> None:
    digest = "sha256:" + "0f" * 32
    assert parse_reference("oci:build/oci/hello") == LayoutReference(Path("build/oci/hello"))
    assert parse_reference("oci:build/oci/hello:1.0.0") == LayoutReference(
        Path("build/oci/hello"), "1.0.0"
    )
    assert parse_reference(f"oci:/srv/layout@{digest}") == LayoutReference(
        Path("/srv/layout"), None, digest
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hub/opensnoop:1.0", "registry host"),
        ("127.0.0.1:5000/Hub/Opensnoop:1.0", "bad repository"),
        ("127.0.0.1:5000/hub/x:-bad", "bad tag"),
        ("127.0.0.1:5000/hub/x@sha256:ABC", "bad digest"),
        ("127.0.0.1:5000/hub/x@sha256:../../etc/passwd", "bad digest"),
        ("oci:", "layout directory is empty"),
        ("oci:dir:a/b", "bad tag"),
    ],
)
def test_invalid_references_are_refused_with_the_expected_forms(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError) as error:
        parse_reference(text)
    message = one_line(error)
    assert reason in message
    assert repr(text) in message
    assert "HOST[:PORT]/NAMESPACE/NAME:TAG" in message


@pytest.mark.parametrize(
    "digest",
    ["sha256:../../../../etc/passwd", "sha256:" + "AB" * 32, "sha512:" + "ab" * 64, "ab" * 32],
)
def test_layout_refuses_digests_that_are_not_plain_sha256(tmp_path: Path, digest: str) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(InvalidReferenceError):
        store.put_blob(Descriptor("text/plain", digest, 1), b"x")
    with pytest.raises(InvalidReferenceError):
        store.get_blob(Descriptor("text/plain", digest, 1), tmp_path / "out")
    with pytest.raises(InvalidReferenceError):
        store.blob_exists(digest)
    assert sorted(tmp_path.rglob("*")) == before


# --- the artifact --------------------------------------------------------------------------


def test_artifact_manifest_is_canonical_and_deterministic(package_files: list[Path]) -> None:
    first = build(package_files)
    again = build(list(reversed(package_files)))
    assert again.manifest == first.manifest
    assert first.digest == sha256_digest(first.manifest)
    assert build(package_files, version="1.0.1").digest != first.digest
    value = json.loads(first.manifest)
    assert first.manifest == json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    assert value["mediaType"] == OCI_MANIFEST
    assert value["schemaVersion"] == 2
    assert value["artifactType"] == ARTIFACT_TYPE
    assert value["config"]["mediaType"] == ARTIFACT_CONFIG_MEDIA_TYPE
    assert first.config == json.dumps(CONFIG, sort_keys=True, separators=(",", ":")).encode()
    assert first.config.startswith(b'{"build":{"arch":"x86_64",')  # sorted, compact
    layers = {layer["annotations"][TITLE_ANNOTATION]: layer for layer in value["layers"]}
    assert {name: layer["mediaType"] for name, layer in layers.items()} == {
        "LICENSE": "text/plain",
        "README.md": "text/markdown",
        "hello.bpf.o": BPF_OBJECT_MEDIA_TYPE,
    }
    object_bytes = package_files[0].read_bytes()
    assert layers["hello.bpf.o"]["digest"] == sha256_digest(object_bytes)
    assert layers["hello.bpf.o"]["size"] == len(object_bytes)
    assert value["annotations"] == {
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "org.opencontainers.image.description": "Says hello on every exec",
        "org.opencontainers.image.licenses": "GPL-2.0-only",
        "org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
        "org.opencontainers.image.source": "https://example.org/hello.git",
        "org.opencontainers.image.title": "hello",
        "org.opencontainers.image.version": "1.0.0",
    }


def test_artifact_refuses_files_a_package_cannot_hold(
    tmp_path: Path, package_files: list[Path]
) -> None:
    script = tmp_path / "install.sh"
    script.write_text("rm -rf /\n")
    with pytest.raises(UnsafeArtifactError, match=r"install\.sh.*only \*\.bpf\.o, README\.md"):
        build([*package_files, script])
    twin = tmp_path / "README.md"
    twin.write_text("again\n")
    with pytest.raises(UnsafeArtifactError, match=r"two files are named 'README\.md'"):
        build([*package_files, twin])


# --- the registry, checked with skopeo -----------------------------------------------------


def test_push_serves_our_exact_bytes_to_skopeo(
    registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    repository = new_repository()
    artifact = build(package_files)
    result = push_artifact(store_for(registry, repository), artifact, "1.0.0")
    assert (result.digest, result.blobs_uploaded, result.manifest_pushed) == (
        artifact.digest,
        4,
        True,
    )
    reference = f"docker://{registry.host}/{repository}:1.0.0"
    assert skopeo("inspect", "--raw", "--tls-verify=false", reference) == artifact.manifest
    # skopeo 1.9 refuses a non-raw inspect of artifacts, so let it digest the raw bytes
    raw = tmp_path / "manifest.json"
    raw.write_bytes(skopeo("inspect", "--raw", "--tls-verify=false", reference))
    assert skopeo("manifest-digest", str(raw)).decode().strip() == artifact.digest
    config = skopeo("inspect", "--raw", "--config", "--tls-verify=false", reference)
    assert config == artifact.config

    layout = tmp_path / "from-skopeo"
    skopeo("copy", "--src-tls-verify=false", reference, f"oci:{layout}:1.0.0")
    copied = open_store(parse_reference(f"oci:{layout}:1.0.0"))
    assert copied.resolve("1.0.0") == artifact.digest
    assert copied.get_manifest("1.0.0").data == artifact.manifest
    pulled = read_artifact(copied, f"oci:{layout}:1.0.0", artifact.digest, tmp_path / "out", MiB)
    assert [path.read_bytes() for path in pulled.files] == [
        path.read_bytes() for _, path in artifact.layers
    ]


def test_oras_py_pulls_our_artifact(
    registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    repository = new_repository()
    push_artifact(store_for(registry, repository), build(package_files), "1.0.0")
    client = oras.provider.Registry(insecure=True)
    pulled = client.pull(target=f"{registry.host}/{repository}:1.0.0", outdir=str(tmp_path))
    assert sorted(Path(path).name for path in pulled) == ["LICENSE", "README.md", "hello.bpf.o"]
    assert (tmp_path / "hello.bpf.o").read_bytes() == package_files[0].read_bytes()


def test_pull_verifies_and_writes_the_files(
    registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    repository = new_repository()
    artifact = build(package_files)
    store = store_for(registry, repository)
    push_artifact(store, artifact, "1.0.0")
    out = tmp_path / "install" / "hello"
    pulled = read_artifact(store, f"{repository}:1.0.0", artifact.digest, out, MiB)
    assert pulled.digest == artifact.digest
    assert pulled.config == CONFIG
    assert pulled.annotations["org.opencontainers.image.version"] == "1.0.0"
    assert sorted(path.name for path in pulled.files) == ["LICENSE", "README.md", "hello.bpf.o"]
    for source in package_files:
        assert (out / source.name).read_bytes() == source.read_bytes()
    assert leftovers(out.parent) == ["hello"]
    assert store.list_tags() == ["1.0.0"]


def test_repush_uploads_nothing_and_versions_are_immutable(
    registry: RegistryServer,
    package_files: list[Path],
    proxy_factory: Callable[..., Proxy],
) -> None:
    repository = new_repository()
    artifact = build(package_files)
    push_artifact(store_for(registry, repository), artifact, "1.0.0")

    proxy = proxy_factory(registry.host)
    again = push_artifact(store_for(proxy, repository), artifact, "1.0.0")
    assert (again.blobs_uploaded, again.manifest_pushed) == (0, False)
    assert proxy.methods() == ["HEAD"]

    proxy.requests.clear()
    retag = push_artifact(store_for(proxy, repository), artifact, "latest")
    assert (retag.blobs_uploaded, retag.manifest_pushed) == (0, True)
    assert proxy.methods() == ["HEAD"] * 5 + ["PUT"]  # tag, config, 3 layers; the manifest

    with pytest.raises(TagConflictError) as error:
        push_artifact(store_for(registry, repository), build(package_files, x=1), "1.0.0")
    assert f"already holds {artifact.digest}" in one_line(error)
    assert store_for(registry, repository).resolve("1.0.0") == artifact.digest


def test_transient_failures_are_retried(
    registry: RegistryServer,
    package_files: list[Path],
    proxy_factory: Callable[..., Proxy],
    tmp_path: Path,
) -> None:
    repository = new_repository()
    artifact = build(package_files)
    proxy = proxy_factory(registry.host, fail={"HEAD": 2, "PUT": 1, "GET": 2})
    store = store_for(proxy, repository)
    push_artifact(store, artifact, "1.0.0")
    read_artifact(store, repository, artifact.digest, tmp_path / "out", MiB)
    assert proxy.failed == 5
    assert store_for(registry, repository).resolve("1.0.0") == artifact.digest


# --- layouts -------------------------------------------------------------------------------


def test_layout_push_then_copy_to_registry(
    registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    layout_dir = tmp_path / "oci" / "hello"
    layout = open_store(parse_reference(f"oci:{layout_dir}"), create=True)
    artifact = build(package_files)
    assert push_artifact(layout, artifact, "1.0.0").blobs_uploaded == 4
    assert push_artifact(layout, artifact, "stable").blobs_uploaded == 0
    index = json.loads((layout_dir / "index.json").read_bytes())
    names = [
        entry["annotations"]["org.opencontainers.image.ref.name"] for entry in index["manifests"]
    ]
    assert names == ["1.0.0", "stable"]
    assert layout.list_tags() == ["1.0.0", "stable"]
    assert not [path for path in layout_dir.rglob("*") if path.name.endswith(".tmp")]
    assert skopeo("inspect", "--raw", f"oci:{layout_dir}:stable") == artifact.manifest

    repository = new_repository()
    remote = store_for(registry, repository)
    assert copy_tag(layout, remote, "1.0.0") == artifact.digest
    reference = f"docker://{registry.host}/{repository}:1.0.0"
    assert skopeo("inspect", "--raw", "--tls-verify=false", reference) == artifact.manifest
    pulled = read_artifact(remote, repository, artifact.digest, tmp_path / "out", MiB)
    assert pulled.config == CONFIG


def test_layout_keeps_one_entry_per_tag_under_concurrent_writers(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    LayoutStore(root, create=True)
    manifests = [
        ImageManifest(Descriptor("text/plain", sha256_digest(b""), 0), (), "x/y", {"n": str(n)})
        for n in range(40)
    ]

    def put(n: int) -> str:
        return LayoutStore(root).put_manifest(manifests[n].to_bytes(), OCI_MANIFEST, f"t{n % 20}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, range(40)))
    store = LayoutStore(root)
    assert store.list_tags() == sorted(f"t{n}" for n in range(20))
    for n in range(20):
        assert store.resolve(f"t{n}") in {
            sha256_digest(manifests[n].to_bytes()),
            sha256_digest(manifests[n + 20].to_bytes()),
        }


def test_layout_refuses_a_tampered_blob(tmp_path: Path, package_files: list[Path]) -> None:
    layout = LayoutStore(tmp_path / "layout", create=True)
    artifact = build(package_files)
    push_artifact(layout, artifact, "1.0.0")
    descriptor, _ = artifact.layers[0]
    blob = tmp_path / "layout" / "blobs" / "sha256" / descriptor.digest.removeprefix("sha256:")
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    with pytest.raises(IntegrityError, match="corrupted or tampered"):
        layout.get_blob(descriptor, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    assert leftovers(tmp_path) == ["layout"]


# --- refusing bad content ------------------------------------------------------------------


def test_pull_refuses_a_blob_altered_on_the_registry_disk(
    fresh_registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    store = store_for(fresh_registry, "hub/hello")
    artifact = build(package_files)
    push_artifact(store, artifact, "1.0.0")
    descriptor = next(d for d, _ in artifact.layers if d.media_type == BPF_OBJECT_MEDIA_TYPE)
    data = fresh_registry.blob_path(descriptor.digest)
    original = data.read_bytes()
    data.write_bytes(original[:100] + bytes([original[100] ^ 0xFF]) + original[101:])
    out = tmp_path / "out"
    with pytest.raises(IntegrityError) as error:
        read_artifact(store, "hub/hello:1.0.0", artifact.digest, out, MiB)
    assert descriptor.digest in one_line(error)
    assert leftovers(tmp_path) == []


def test_pull_refuses_a_manifest_whose_digest_differs(
    fresh_registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    store = store_for(fresh_registry, "hub/hello")
    artifact = build(package_files)
    push_artifact(store, artifact, "1.0.0")
    stored = fresh_registry.blob_path(artifact.digest)
    stored.write_bytes(stored.read_bytes().replace(b"Says hello", b"Says bye!!"))
    with pytest.raises(IntegrityError) as error:
        read_artifact(store, "hub/hello:1.0.0", artifact.digest, tmp_path / "out", MiB)
    assert f"expected {artifact.digest}" in one_line(error)
    assert leftovers(tmp_path) == []


def _push_raw(store: Store, layers: list[tuple[str, str, bytes]], **kwargs: str | None) -> str:
    """Push a hand-made manifest: (title, media type, content) layers."""
    config = b"{}"
    config_descriptor = Descriptor(ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(config), len(config))
    store.put_blob(config_descriptor, config)
    descriptors = []
    for title, media_type, content in layers:
        descriptor = Descriptor(
            media_type, sha256_digest(content), len(content), {TITLE_ANNOTATION: title}
        )
        store.put_blob(descriptor, content)
        descriptors.append(descriptor)
    artifact_type = kwargs.get("artifact_type", ARTIFACT_TYPE)
    manifest = ImageManifest(config_descriptor, tuple(descriptors), artifact_type).to_bytes()
    return store.put_manifest(manifest, OCI_MANIFEST, "evil")


@pytest.mark.parametrize(
    ("title", "media_type"),
    [
        ("../../etc/x", "text/plain"),
        ("/etc/passwd", "text/plain"),
        ("sub/dir.bpf.o", BPF_OBJECT_MEDIA_TYPE),
        ("nul\0.bpf.o", BPF_OBJECT_MEDIA_TYPE),
        ("..", "text/plain"),
        ("README.md", BPF_OBJECT_MEDIA_TYPE),
        ("run.sh", "application/x-sh"),
    ],
)
def test_pull_refuses_unsafe_layers(
    registry: RegistryServer, tmp_path: Path, title: str, media_type: str
) -> None:
    store = store_for(registry, new_repository())
    digest = _push_raw(
        store, [("ok.bpf.o", BPF_OBJECT_MEDIA_TYPE, b"x"), (title, media_type, b"y")]
    )
    with pytest.raises(UnsafeArtifactError) as error:
        read_artifact(store, "evil", digest, tmp_path / "out", MiB)
    assert "refusing" in one_line(error)
    assert leftovers(tmp_path) == []


def test_pull_refuses_other_artifact_types_oversize_and_busy_targets(
    registry: RegistryServer, package_files: list[Path], tmp_path: Path
) -> None:
    store = store_for(registry, new_repository())
    foreign = _push_raw(store, [("a.bpf.o", BPF_OBJECT_MEDIA_TYPE, b"x")], artifact_type="x/y")
    with pytest.raises(UnsafeArtifactError, match="not an eBPF Hub package"):
        read_artifact(store, "evil", foreign, tmp_path / "out", MiB)
    artifact = build(package_files)
    push_artifact(store, artifact, "1.0.0")
    with pytest.raises(IntegrityError, match="more than the 1000 allowed"):
        read_artifact(store, "1.0.0", artifact.digest, tmp_path / "out", 1000)
    assert leftovers(tmp_path) == []
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine").write_text("keep me")
    with pytest.raises(OCIError, match="not an empty directory"):
        read_artifact(store, "1.0.0", artifact.digest, busy, MiB)
    assert leftovers(busy) == ["mine"]


# --- interrupted transfers -----------------------------------------------------------------


def _big_artifact(directory: Path, size: int) -> BuiltArtifact:
    """A package whose one object is ``size`` bytes of random data."""
    directory.mkdir()
    big = directory / "big.bpf.o"
    with big.open("wb") as handle:
        for _ in range(size // MiB):
            handle.write(os.urandom(MiB))
    return build_artifact([big], CONFIG, title="big", version="1.0.0")


@pytest.mark.parametrize("strip_range", [False, True], ids=["resume", "restart"])
def test_broken_download_resumes_with_a_range_request(
    registry: RegistryServer,
    proxy_factory: Callable[..., Proxy],
    tmp_path: Path,
    strip_range: bool,
) -> None:
    """A registry that serves ranges resumes; one that ignores them (200) restarts."""
    repository = new_repository()
    artifact = _big_artifact(tmp_path / "src", 8 * MiB)
    push_artifact(store_for(registry, repository), artifact, "1.0.0")
    proxy = proxy_factory(registry.host, cut_after=3 * MiB, strip_range=strip_range)
    out = tmp_path / "out"
    read_artifact(store_for(proxy, repository), repository, artifact.digest, out, 16 * MiB)
    assert (out / "big.bpf.o").read_bytes() == artifact.layers[0][1].read_bytes()
    ranges = [line for line in proxy.requests if re.search(r"(?im)^range: bytes=[1-9]", line)]
    assert len(ranges) == 1


def test_registry_stopped_mid_pull_leaves_nothing(
    fresh_registry: RegistryServer, proxy_factory: Callable[..., Proxy], tmp_path: Path
) -> None:
    artifact = _big_artifact(tmp_path / "src", 8 * MiB)
    push_artifact(store_for(fresh_registry, "hub/big"), artifact, "1.0.0")
    proxy = proxy_factory(fresh_registry.host, cut_after=2 * MiB, on_cut=fresh_registry.stop)
    target = tmp_path / "target"
    target.mkdir()
    store = store_for(proxy, "hub/big", retries=1)
    with pytest.raises(RegistryUnavailableError) as error:
        read_artifact(store, "hub/big:1.0.0", artifact.digest, target / "big", 16 * MiB)
    assert "hub/big" in one_line(error)
    assert leftovers(target) == []


def test_large_blob_streams_in_constant_memory(
    registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = _big_artifact(tmp_path / "src", 50 * MiB)
    store = store_for(registry, new_repository())
    tracemalloc.start()
    try:
        started = time.monotonic()
        push_artifact(store, artifact, "1.0.0")
        pushed = time.monotonic()
        read_artifact(store, "big", artifact.digest, tmp_path / "out", 64 * MiB)
        pulled = time.monotonic()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert hashlib.sha256((tmp_path / "out" / "big.bpf.o").read_bytes()).hexdigest() == (
        artifact.layers[0][0].digest.removeprefix("sha256:")
    )
    assert peak < 16 * MiB
    with capsys.disabled():
        print(
            f"\n50 MiB blob: push {50 / (pushed - started):.0f} MiB/s, "
            f"pull {50 / (pulled - pushed):.0f} MiB/s, peak Python memory {peak / MiB:.1f} MiB"
        )


# --- authentication ------------------------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials in the environment; an empty docker config directory (returned)."""
    monkeypatch.delenv("EBPF_HUB_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("EBPF_HUB_REGISTRY_PASSWORD", raising=False)
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    return config_dir


def test_auth_registry_requires_credentials(
    auth_registry: RegistryServer, package_files: list[Path], no_credentials: Path
) -> None:
    with pytest.raises(AuthenticationError) as error:
        push_artifact(store_for(auth_registry, "hub/hello"), build(package_files), "1.0.0")
    message = one_line(error)
    assert message.startswith(f"authentication required: {auth_registry.host} asks")
    assert "EBPF_HUB_REGISTRY_USERNAME" in message


def test_auth_registry_rejects_a_wrong_password(
    auth_registry: RegistryServer,
    package_files: list[Path],
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", "hub")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", "wrong horse")
    with pytest.raises(AuthenticationError, match="rejected the credentials of user 'hub'"):
        push_artifact(store_for(auth_registry, "hub/hello"), build(package_files), "1.0.0")


def test_auth_registry_with_credentials_from_env_and_docker_config(
    auth_registry: RegistryServer,
    package_files: list[Path],
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    repository = new_repository()
    artifact = build(package_files)
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", auth_registry.username or "")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", auth_registry.password or "")
    assert push_artifact(store_for(auth_registry, repository), artifact, "1.0.0").manifest_pushed

    monkeypatch.delenv("EBPF_HUB_REGISTRY_USERNAME")
    monkeypatch.delenv("EBPF_HUB_REGISTRY_PASSWORD")
    auth = base64.b64encode(f"{auth_registry.username}:{auth_registry.password}".encode())
    config = {"auths": {f"http://{auth_registry.host}": {"auth": auth.decode()}}}
    (no_credentials / "config.json").write_text(json.dumps(config))
    store = store_for(auth_registry, repository)
    pulled = read_artifact(store, repository, artifact.digest, tmp_path / "out", MiB)
    assert pulled.config == CONFIG


# --- signatures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return load_private_key(
        None, env={"EBPF_HUB_SIGNING_KEY": generate_key_pair().private_pem.decode()}
    )


def _public(key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePublicKey:
    return key.public_key()


def _signed(
    registry: RegistryServer, files: list[Path], key: ec.EllipticCurvePrivateKey
) -> tuple[RegistryStore, str, str]:
    repository = new_repository()
    store = store_for(registry, repository)
    digest = push_artifact(store, build(files), "1.0.0").digest
    repo = f"{registry.host}/{repository}"
    sign(store, repo, digest, key)
    return store, repo, digest


def test_sign_writes_a_cosign_signature_that_verifies(
    registry: RegistryServer,
    package_files: list[Path],
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    store, repo, digest = _signed(registry, package_files, signing_key)
    verify(store, repo, digest, _public(signing_key))

    tag = signature_tag(digest)
    assert tag == f"sha256-{digest.removeprefix('sha256:')}.sig"
    manifest = json.loads(store.get_manifest(tag).data)
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    payload = (
        f'{{"critical":{{"identity":{{"docker-reference":"{repo}"}},"image":{{'
        f'"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},'
        '"optional":null}'
    ).encode()
    assert layer["digest"] == sha256_digest(payload)
    signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    signing_key.public_key().verify(signature, payload, ec.ECDSA(hashes.SHA256()))

    assert sign(store, repo, digest, signing_key) == store.resolve(tag)  # idempotent
    assert len(json.loads(store.get_manifest(tag).data)["layers"]) == 1


def test_a_second_signer_adds_a_layer(
    registry: RegistryServer,
    package_files: list[Path],
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    store, repo, digest = _signed(registry, package_files, signing_key)
    other = ec.generate_private_key(ec.SECP256R1())
    sign(store, repo, digest, other)
    assert len(json.loads(store.get_manifest(signature_tag(digest)).data)["layers"]) == 2
    verify(store, repo, digest, _public(signing_key))
    verify(store, repo, digest, _public(other))


def test_tampered_signature_and_wrong_key_fail(
    registry: RegistryServer,
    package_files: list[Path],
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    store, repo, digest = _signed(registry, package_files, signing_key)
    with pytest.raises(SignatureError, match="does not verify with the given public key"):
        verify(store, repo, digest, ec.generate_private_key(ec.SECP256R1()).public_key())

    tag = signature_tag(digest)
    manifest = json.loads(store.get_manifest(tag).data)
    annotations = manifest["layers"][0]["annotations"]
    raw = bytearray(base64.b64decode(annotations["dev.cosignproject.cosign/signature"]))
    raw[-1] ^= 0x01
    annotations["dev.cosignproject.cosign/signature"] = base64.b64encode(raw).decode()
    store.put_manifest(json.dumps(manifest).encode(), OCI_MANIFEST, tag)
    with pytest.raises(SignatureError) as error:
        verify(store, repo, digest, _public(signing_key))
    assert f"{repo}@{digest}: no valid signature" in one_line(error)


def test_signature_names_exactly_one_repository_and_digest(
    registry: RegistryServer,
    package_files: list[Path],
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    store, repo, digest = _signed(registry, package_files, signing_key)
    mirror_repository = new_repository()
    mirror = store_for(registry, mirror_repository)
    copy_tag(store, mirror, "1.0.0")
    copy_tag(store, mirror, signature_tag(digest))
    mirror_repo = f"{registry.host}/{mirror_repository}"
    with pytest.raises(SignatureError, match=f"for repository '{repo}', not '{mirror_repo}'"):
        verify(mirror, mirror_repo, digest, _public(signing_key))
    verify(mirror, repo, digest, _public(signing_key))  # the original identity still holds

    other = push_artifact(store, build(package_files, x=2), "2.0.0").digest
    with pytest.raises(SignatureError, match="is not signed"):
        verify(store, repo, other, _public(signing_key))


def test_sign_and_verify_in_a_layout(
    tmp_path: Path, package_files: list[Path], signing_key: ec.EllipticCurvePrivateKey
) -> None:
    layout = LayoutStore(tmp_path / "layout", create=True)
    digest = push_artifact(layout, build(package_files), "1.0.0").digest
    sign(layout, "ebpf-hub/hello", digest, signing_key)
    verify(layout, "ebpf-hub/hello", digest, _public(signing_key))
    assert layout.list_tags() == ["1.0.0", signature_tag(digest)]


def test_keys_round_trip_encrypted_and_refuse_wrong_passwords(tmp_path: Path) -> None:
    pair = generate_key_pair(b"s3cret")
    assert pair.private_pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    key_file = tmp_path / "hub.key"
    key_file.write_bytes(pair.private_pem)
    key = load_private_key(key_file, b"s3cret", env={})
    public = load_public_key(pair.public_pem)
    assert public.public_numbers() == key.public_key().public_numbers()
    from_env = load_private_key(
        None,
        env={
            "EBPF_HUB_SIGNING_KEY": pair.private_pem.decode(),
            "EBPF_HUB_SIGNING_KEY_PASSWORD": "s3cret",
        },
    )
    assert from_env.private_numbers() == key.private_numbers()
    with pytest.raises(SigningKeyError, match="wrong or missing password"):
        load_private_key(key_file, b"guess", env={})
    with pytest.raises(SigningKeyError, match="no signing key"):
        load_private_key(None, env={})
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(SigningKeyError, match="not an ECDSA P-256 key"):
        load_public_key(pem)


def test_token_registry_bearer_flow(
    token_registry: RegistryServer,
    package_files: list[Path],
    no_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    artifact = build(package_files)
    with pytest.raises(AuthenticationError, match="refused access to repository:hub/tok:pull"):
        push_artifact(store_for(token_registry, "hub/tok"), artifact, "1.0.0")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", token_registry.username or "")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", token_registry.password or "")
    with pytest.raises(AuthenticationError, match="token server is on another host"):
        push_artifact(store_for(token_registry, "hub/tok"), artifact, "1.0.0")
    # The realm is on another origin: it gets only what docker's config holds for its host.
    auth = base64.b64encode(f"{token_registry.username}:{token_registry.password}".encode())
    realm_host = urlsplit(token_registry.token_realm or "").netloc
    config = {"auths": {realm_host: {"auth": auth.decode()}}}
    (no_credentials / "config.json").write_text(json.dumps(config))
    store = store_for(token_registry, "hub/tok")
    push_artifact(store, artifact, "1.0.0")
    pulled = read_artifact(store, "hub/tok:1.0.0", artifact.digest, tmp_path / "out", MiB)
    assert pulled.config == CONFIG
