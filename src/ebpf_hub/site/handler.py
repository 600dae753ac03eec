"""The local hub's HTTP handler: the site's files, and with a layout, a registry at /v2/.

`ebpf-hub site serve` is the whole local hub, so that what its pages say works as said: the
JSON index and pages from the built site, the artifacts they name from
:class:`~ebpf_hub.oci.distribution.LocalRegistry`. Both are read-only: a method other than GET
or HEAD is answered 405 everywhere.
"""

from __future__ import annotations

import shutil
from http.server import SimpleHTTPRequestHandler
from typing import ClassVar
from urllib.parse import urlsplit

from ebpf_hub.oci.distribution import API_PREFIX, API_ROOT, LocalRegistry, Response


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves files without logging every request (errors are still printed); `registry`,
    when a subclass sets it, answers the OCI distribution API."""

    registry: ClassVar[LocalRegistry | None] = None

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def do_GET(self) -> None:
        if not self._answered_by_registry():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._answered_by_registry():
            super().do_HEAD()

    def _refuse_write(self) -> None:
        if not self._answered_by_registry():
            self.send_error(405, "the local hub is read-only")

    do_PUT = do_POST = do_PATCH = do_DELETE = _refuse_write

    def _answered_by_registry(self) -> bool:
        path = urlsplit(self.path).path
        if self.registry is None or not (path == API_ROOT or path.startswith(API_PREFIX)):
            return False
        self._send(self.registry.respond(self.command, path))
        return True

    def _send(self, response: Response) -> None:
        body = response.body
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(body, bytes):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if isinstance(body, bytes):
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        with body:
            if self.command != "HEAD":
                shutil.copyfileobj(body, self.wfile)
