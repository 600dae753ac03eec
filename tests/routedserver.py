"""A hostile server for tests: each path of 127.0.0.1 answers as the test says, and is counted.

The retry-policy and slow-loris tests play a hub, a registry or a token server with it: a
route is a function that writes the answer (honestly, slowly, broken or never), every request
is logged as `METHOD PATH`, and the CLI runs as a real process against it
(`run_cli`, `one_error_line`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from artifactconfig import artifact_config
from ebpf_hub.oci.artifact import ARTIFACT_CONFIG_MEDIA_TYPE, ARTIFACT_TYPE, BPF_OBJECT_MEDIA_TYPE
from ebpf_hub.oci.digest import sha256_digest
from ebpf_hub.oci.manifest import OCI_MANIFEST, TITLE_ANNOTATION, Descriptor, ImageManifest

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
REPOSITORY = "ns/pkg"

Route = Callable[["Handler"], None]


class RoutedServer(ThreadingHTTPServer):
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
        """A client hanging up on a slow or broken answer is what these tests do."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RoutedServer

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
    """An honest answer: the status, the headers, the body (none to a HEAD)."""

    def respond(handler: Handler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    return respond


class Artifact:
    """A small package artifact whose one layer is `layer`, and the paths a registry serves
    it at (repository `REPOSITORY`, tag 1.0.0)."""

    def __init__(self, layer: bytes) -> None:
        self.config = json.dumps(artifact_config("pkg", "1.0.0")).encode()
        self.layer = layer
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

    def routes(
        self, *, tag: Route | None = None, manifest: Route | None = None, layer: Route | None = None
    ) -> dict[str, Route]:
        """A registry serving it; `tag`, `manifest` (by digest) or `layer` answer those
        paths otherwise."""
        honest = answer(
            self.manifest, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": self.digest}
        )
        return {
            f"/v2/{REPOSITORY}/manifests/1.0.0": tag or honest,
            self.manifest_path: manifest or honest,
            self.config_path: answer(self.config),
            self.layer_path: layer or answer(self.layer),
        }


def run_cli(
    home: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    """`ebpf-hub ARGS` in a process of its own, with none of the caller's hub settings or
    proxies, `home` as its EBPF_HUB_HOME and `env` on top: (exit status, stderr)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EBPF_HUB_") and key.lower() not in ("http_proxy", "https_proxy")
    }
    clean |= {"EBPF_HUB_HOME": str(home), **(env or {})}
    done = subprocess.run(
        [EBPF_HUB, *args], env=clean, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stderr


def one_error_line(code: int, stderr: str) -> str:
    """The one error line of a command that must have failed with status 1."""
    errors = [line for line in stderr.splitlines() if line.startswith("ebpf-hub: error: ")]
    assert code == 1, stderr
    assert len(errors) == 1, stderr
    return errors[0]
