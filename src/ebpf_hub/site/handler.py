"""The local hub's HTTP handler: the site's files, and with a layout, a registry at /v2/.

`ebpf-hub site serve` is the whole local hub, so that what its pages say works as said: the
JSON index and pages from the built site, the artifacts they name from
:class:`~ebpf_hub.oci.distribution.LocalRegistry`. Both are read-only: a method other than GET
or HEAD is answered 405 everywhere.

Like a static host, it answers an unknown path with the site's own 404 page, and compresses
text (pages, styles, scripts, JSON) for a client that accepts gzip: the pages are mostly
markup and the search index is JSON, a tenth of their size compressed.
"""

from __future__ import annotations

import functools
import gzip
import io
import shutil
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import BinaryIO, ClassVar
from urllib.parse import urlsplit

from ebpf_hub.oci.distribution import API_PREFIX, API_ROOT, LocalRegistry, Response

NOT_FOUND_PAGE = "404.html"
COMPRESSED_TYPES = frozenset(
    {"application/json", "application/javascript", "image/svg+xml", "application/xml"}
)
_COMPRESSED_CACHE = 256


@functools.lru_cache(maxsize=_COMPRESSED_CACHE)
def _compress(path: Path, mtime_ns: int, size: int) -> bytes:
    """`path` gzipped, once per version of the file (`mtime_ns` and `size` key the cache, so a
    rebuild's new file is compressed again); mtime 0 keeps the bytes the same every time."""
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def compressed(path: Path) -> bytes:
    """The gzip encoding of the file at `path`, from the cache when the file is unchanged."""
    status = path.stat()
    return _compress(path, status.st_mtime_ns, status.st_size)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves files without logging every request (errors are still printed); `registry`,
    when a subclass sets it, answers the OCI distribution API."""

    registry: ClassVar[LocalRegistry | None] = None

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def send_head(self) -> BinaryIO | None:
        """A file, compressed when the type is text and the client accepts gzip; else what
        the standard handler answers (a directory redirect, a 404 with the site's page)."""
        path = Path(self.translate_path(self.path))
        if path.is_dir() and urlsplit(self.path).path.endswith("/"):
            path = path / "index.html"
        if not (path.is_file() and self._accepts_gzip() and self._compressible(path)):
            return super().send_head()
        body = compressed(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The site's 404 page for a path that leads nowhere; the standard page otherwise."""
        page = Path(self.directory) / NOT_FOUND_PAGE
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        gzipped = self._accepts_gzip()
        if gzipped:
            body = compressed(page)
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _accepts_gzip(self) -> bool:
        codings = self.headers.get("Accept-Encoding", "")
        return any(c.split(";")[0].strip() == "gzip" for c in codings.split(","))

    def _compressible(self, path: Path) -> bool:
        kind = self.guess_type(str(path))
        return kind.startswith("text/") or kind in COMPRESSED_TYPES

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
