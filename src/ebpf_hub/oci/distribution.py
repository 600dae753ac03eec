"""The read side of the OCI distribution API over a directory of layouts: a local registry.

A local hub (`scripts/up`) publishes to layouts on disk, yet its pages and JSON index must name
references that any OCI client pulls (``HOST:PORT/NAMESPACE/NAME:TAG``), as the real hub's do.
`ebpf-hub site serve --layout DIR` therefore answers ``/v2/`` from ``DIR`` with
:func:`respond`: the API version check, manifests by tag or digest (with ``Content-Type`` and
``Docker-Content-Digest``), blobs by digest and tag lists; errors in the spec's JSON format.
Nothing can be written (every other method is 405), and a request reaches the file system only
once its repository matches the name grammar under the served namespace and its tag or digest
is well formed, so no path can climb out of ``DIR``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from ebpf_hub.oci.digest import is_digest
from ebpf_hub.oci.errors import InvalidReferenceError, OCIError
from ebpf_hub.oci.layoutreader import LayoutReader
from ebpf_hub.oci.reference import check_tag, is_name_component

API_ROOT = "/v2"
API_PREFIX = API_ROOT + "/"
READ_METHODS = ("GET", "HEAD")
_ROUTE = re.compile(r"/v2/(?P<name>.+)/(?:(?P<kind>manifests|blobs)/(?P<ref>[^/]+)|tags/list)")
_JSON = "application/json"
_UNKNOWN = {"manifests": "MANIFEST_UNKNOWN", "blobs": "BLOB_UNKNOWN"}
_API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


@dataclass(frozen=True)
class Response:
    """What to answer: a body in memory or an open file (sent, then closed, by the server)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | BinaryIO = b""


def _json(status: int, value: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value).encode()
    return Response(status, {"Content-Type": _JSON, **(headers or {})}, body)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """An answer in the spec's error format, which clients print to their users."""
    return _json(status, {"errors": [{"code": code, "message": message, "detail": None}]}, headers)


class LocalRegistry:
    """Serves the layouts of ``reader`` as repositories ``NAMESPACE/NAME``, read-only."""

    def __init__(self, reader: LayoutReader, namespace: str) -> None:
        self.reader = reader
        self.namespace = namespace.strip("/")

    def respond(self, method: str, path: str) -> Response:
        """The answer to ``method`` on ``path`` (without its query), which starts with /v2."""
        if method not in READ_METHODS:
            allow = {"Allow": ", ".join(READ_METHODS)}
            return error(405, "UNSUPPORTED", "this registry is read-only", allow)
        if path in (API_ROOT, API_PREFIX):
            return _json(200, {}, _API_VERSION)
        route = _ROUTE.fullmatch(path)
        if route is None:
            return error(404, "NOT_FOUND", "no such endpoint")
        name = route["name"]
        repository = self._repository(name)
        if repository is None:
            return error(404, "NAME_UNKNOWN", f"no repository {name} under {self.namespace}/")
        try:
            if route["kind"] == "manifests":
                return self._manifest(repository, route["ref"])
            if route["kind"] == "blobs":
                return self._blob(repository, route["ref"])
            return self._tags(name, repository)
        except InvalidReferenceError as exc:  # a tag or digest that no file can be named by
            return error(404, _UNKNOWN[route["kind"]], str(exc))
        except OCIError as exc:
            return error(500, "UNKNOWN", str(exc))

    def _repository(self, name: str) -> str | None:
        """The layout's directory name for a repository name, or None if it names none: the
        only check between a request and the file system, so it admits one name component."""
        prefix, _, rest = name.rpartition("/")
        return rest if prefix == self.namespace and is_name_component(rest) else None

    def _manifest(self, repository: str, reference: str) -> Response:
        if not is_digest(reference):
            check_tag(reference)
        found = self.reader.manifest(repository, reference)
        if found is None:
            return error(404, "MANIFEST_UNKNOWN", f"no manifest {reference} in {repository}")
        headers = {"Content-Type": found.media_type, "Docker-Content-Digest": found.digest}
        return Response(200, headers, found.data)

    def _blob(self, repository: str, digest: str) -> Response:
        handle = self.reader.blob(repository, digest)
        if handle is None:
            return error(404, "BLOB_UNKNOWN", f"no blob {digest} in {repository}")
        size = os.fstat(handle.fileno()).st_size
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "Docker-Content-Digest": digest,
        }
        return Response(200, headers, handle)

    def _tags(self, name: str, repository: str) -> Response:
        tags = self.reader.tags(repository)
        if tags is None:
            return error(404, "NAME_UNKNOWN", f"no repository {name}")
        return _json(200, {"name": name, "tags": tags})
