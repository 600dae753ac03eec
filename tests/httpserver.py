"""A real HTTP server for tests: serves a directory on 127.0.0.1 with ETags, and misbehaves on cue.

Every GET is logged as (path, status), so tests can count requests and see 304s; `fail()`
makes the next N requests of a path answer an error status, and `stop()` takes the server
away, as a hub or a download going down would.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import defaultdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit


class StaticServer:
    """Serves the files under `root` at `url` (``http://127.0.0.1:PORT/``) until stopped."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log: list[tuple[str, int]] = []
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next `times` GETs of `path` (e.g. ``/api/v1/index.json``) with `status`."""
        with self._lock:
            self._failures[path].extend([status] * times)

    def statuses(self, path: str) -> list[int]:
        """The status of every GET of `path` so far, in order."""
        with self._lock:
            return [status for logged, status in self.log if logged == path]

    def stop(self) -> None:
        """Stop serving and free the port (idempotent); connections are then refused."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def _record(self, path: str, status: int) -> None:
        with self._lock:
            self.log.append((path, status))

    def _next_failure(self, path: str) -> int | None:
        with self._lock:
            queued = self._failures.get(path)
            return queued.pop(0) if queued else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is what fault tests do; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _handler_for(server: StaticServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            failure = server._next_failure(path)
            if failure is not None:
                self._answer(path, failure, HTTPStatus(failure).phrase.encode())
                return
            file = (server.root / path.lstrip("/")).resolve()
            if not file.is_relative_to(server.root.resolve()) or not file.is_file():
                self._answer(path, 404, b"not found")
                return
            body = file.read_bytes()
            etag = _etag(body)
            wanted = {
                t.strip().removeprefix("W/")
                for t in self.headers.get("If-None-Match", "").split(",")
            }
            if etag in wanted or "*" in wanted:
                self._answer(path, 304, b"", {"ETag": etag})
                return
            content_type = (
                "application/json" if file.suffix == ".json" else "application/octet-stream"
            )
            self._answer(path, 200, body, {"ETag": etag, "Content-Type": content_type})

        def _answer(
            self, path: str, status: int, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            server._record(path, status)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the log list is the record."""

    return Handler
