"""One retry policy, applied at one level: hostile servers on 127.0.0.1 count what they get.

A registry (or hub) stuck on 503 must receive `retries + 1` GETs, not their square, as it
did when the HTTP client and the blob download both repeated the same 503. What the client
cannot see, a body that breaks after it returned the answer, is still repeated once by the
download; and a write is never repeated by the client, only as a whole upload. The CLI runs
as a real process with `retries = 2` in its config file and must end with one error line
naming the host and the status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ebpf_hub.httpclient import Client, RetryPolicy
from ebpf_hub.oci.artifact import ARTIFACT_CONFIG_MEDIA_TYPE, ARTIFACT_TYPE, BPF_OBJECT_MEDIA_TYPE
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.errors import RegistryUnavailableError
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest
from ebpf_hub.oci.registry import RegistryStore

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
REPOSITORY = "ns/pkg"
RETRIES = 2
UNAVAILABLE = 503

Route = Callable[["Handler"], None]


class CountingServer(ThreadingHTTPServer):
    """Answers each path as `routes` says (404 otherwise); logs `METHOD PATH` of each request."""

    daemon_threads = True

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = routes
        self.requests: list[str] = []
        self.host = f"127.0.0.1:{self.server_address[1]}"
        self.url = f"http://{self.host}/"
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def count(self, method: str, path: str) -> int:
        """How many `method` requests `path` received."""
        return self.requests.count(f"{method} {path}")

    def stop(self) -> None:
        self.shutdown()
        self._thread.join()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up on a broken body is what these tests do."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingServer

    def handle_any(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append(f"{self.command} {path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # an upload's bytes, read so the answer is seen
        self.server.routes.get(path, answer(b"not found", status=404))(self)

    do_GET = do_HEAD = do_POST = do_PUT = handle_any

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: `requests` is the record."""


def answer(body: bytes, headers: dict[str, str] | None = None, status: int = 200) -> Route:
    def respond(handler: Handler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return respond


def unavailable() -> Route:
    return answer(b'{"errors": []}', {"Content-Type": "application/json"}, status=UNAVAILABLE)


def broken_once(body: bytes) -> Route:
    """The whole body announced, half of it sent, the connection closed; then all of it."""
    calls: list[None] = []
    whole = answer(body)

    def respond(handler: Handler) -> None:
        calls.append(None)
        if len(calls) > 1:
            whole(handler)
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True

    return respond


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Route]], CountingServer]]:
    """Start counting servers for a test; all stop when it ends."""
    servers: list[CountingServer] = []

    def start(routes: dict[str, Route]) -> CountingServer:
        servers.append(CountingServer(routes))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class Artifact:
    """A small package artifact, and the paths a registry serves it at."""

    def __init__(self) -> None:
        self.config = json.dumps({"name": "pkg", "version": "1.0.0"}).encode()
        self.layer = b"\x7fELF" + bytes(range(256)) * 64
        config = Descriptor(
            ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(self.config), len(self.config)
        )
        self.layer_descriptor = Descriptor(
            BPF_OBJECT_MEDIA_TYPE,
            sha256_digest(self.layer),
            len(self.layer),
            {TITLE_ANNOTATION: "pkg.bpf.o"},
        )
        self.manifest = ImageManifest(
            config, (self.layer_descriptor,), artifact_type=ARTIFACT_TYPE
        ).to_bytes()
        self.digest = sha256_digest(self.manifest)
        self.manifest_path = f"/v2/{REPOSITORY}/manifests/{self.digest}"
        self.layer_path = f"/v2/{REPOSITORY}/blobs/{self.layer_descriptor.digest}"
        self.config_path = f"/v2/{REPOSITORY}/blobs/{config.digest}"

    def routes(self, **replaced: Route) -> dict[str, Route]:
        """A registry serving it; `manifest` or `layer` answer those paths otherwise."""
        manifest = answer(
            self.manifest, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": self.digest}
        )
        return {
            f"/v2/{REPOSITORY}/manifests/1.0.0": manifest,
            self.manifest_path: replaced.get("manifest", manifest),
            self.config_path: answer(self.config),
            self.layer_path: replaced.get("layer", answer(self.layer)),
        }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose config file sets the retries."""
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f"retries = {RETRIES}\n")
    return tmp_path / "home"


def run(home: Path, *args: str) -> tuple[int, str]:
    """`ebpf-hub ARGS` in a process of its own: (exit status, stderr)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EBPF_HUB_") and key.lower() not in ("http_proxy", "https_proxy")
    }
    env["EBPF_HUB_HOME"] = str(home)
    done = subprocess.run(
        [EBPF_HUB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stderr


def error_line(home: Path, *args: str) -> str:
    """The one error line of a command that must fail."""
    code, stderr = run(home, *args)
    errors = [line for line in stderr.splitlines() if line.startswith("ebpf-hub: error: ")]
    assert code == 1, stderr
    assert len(errors) == 1, stderr
    return errors[0]


def pull_args(registry: CountingServer, out: Path) -> tuple[str, ...]:
    return ("pull", f"{registry.host}/{REPOSITORY}:1.0.0", "--out", str(out), "--allow-unsigned")


def test_a_blob_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], CountingServer], home: Path, tmp_path: Path
) -> None:
    artifact = Artifact()
    registry = serve(artifact.routes(layer=unavailable()))
    error = error_line(home, *pull_args(registry, tmp_path / "out"))
    assert registry.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert registry.count("GET", artifact.layer_path) == RETRIES + 1


def test_a_manifest_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], CountingServer], home: Path, tmp_path: Path
) -> None:
    artifact = Artifact()
    registry = serve(artifact.routes(manifest=unavailable()))
    error = error_line(home, *pull_args(registry, tmp_path / "out"))
    assert registry.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert registry.count("GET", artifact.manifest_path) == RETRIES + 1


def test_a_hub_index_stuck_on_503_gets_retries_plus_one_gets(
    serve: Callable[[dict[str, Route]], CountingServer], home: Path
) -> None:
    index = "/api/v1/index.json"
    hub = serve({index: unavailable()})
    error = error_line(home, "search", "exec", "--hub", hub.url)
    assert hub.host in error
    assert f"HTTP {UNAVAILABLE}" in error
    assert hub.count("GET", index) == RETRIES + 1


def test_a_body_broken_once_is_fetched_again_and_pulled(
    serve: Callable[[dict[str, Route]], CountingServer], home: Path, tmp_path: Path
) -> None:
    """The client returned the answer before the body broke: the download repeats it."""
    artifact = Artifact()
    registry = serve(artifact.routes(layer=broken_once(artifact.layer)))
    out = tmp_path / "out"
    code, stderr = run(home, *pull_args(registry, out))
    assert code == 0, stderr
    assert (out / "pkg.bpf.o").read_bytes() == artifact.layer
    assert registry.count("GET", artifact.layer_path) == 2


def test_an_upload_is_repeated_whole_never_its_put_alone(
    serve: Callable[[dict[str, Route]], CountingServer],
) -> None:
    """Each try of the upload is one POST (a new session) and one PUT: the client never
    repeats the PUT, which would write into a session the registry may have dropped."""
    uploads = f"/v2/{REPOSITORY}/blobs/uploads/"
    session = f"{uploads}session"
    registry = serve(
        {uploads: answer(b"", {"Location": session}, status=202), session: unavailable()}
    )
    store = RegistryStore(registry.host, REPOSITORY, insecure=True, retries=RETRIES)
    layer = Artifact().layer_descriptor
    with pytest.raises(RegistryUnavailableError, match=f"HTTP {UNAVAILABLE}"):
        store.put_blob(layer, Artifact().layer)
    assert registry.count("POST", uploads) == RETRIES + 1
    assert registry.count("PUT", session) == RETRIES + 1


def test_the_client_does_not_retry_a_put_that_reached_the_server(
    serve: Callable[[dict[str, Route]], CountingServer],
) -> None:
    registry = serve({"/x": unavailable()})
    with (
        Client(retry=RetryPolicy(retries=RETRIES, backoff=0.01)) as client,
        client.request("PUT", registry.url + "x", body=b"data") as response,
    ):
        assert response.status == UNAVAILABLE
    assert registry.count("PUT", "/x") == 1
