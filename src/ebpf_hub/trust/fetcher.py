"""How python-tuf's client downloads: over the project's HTTP client, or from the cache.

`HubFetcher` gives the TUF updater the deadlines, minimum rate, retries and proxies every other
request of ebpf-hub has (`ebpf_hub.httpclient`), instead of python-tuf's own urllib3 stack.
A hub that cannot be reached raises `Unreachable`, which the client answers by verifying
again from its cache with `CachedFetcher`: the same checks, the same expiry, no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tuf.api.exceptions import DownloadError, DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from ebpf_hub.fsutil import open_regular
from ebpf_hub.httpclient import RETRY_STATUSES, Client, TransferError

_KEPT = 1024 * 1024  # bytes of a metadata download kept to explain a refusal


class Unreachable(DownloadError):
    """No answer from the hub (connection, timeout, 5xx after retries): `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Download:
    """The last download: its URL, and its first bytes (to explain a refusal)."""

    url: str
    head: bytes


class HubFetcher(FetcherInterface):
    """Downloads over `client`, keeping the last one's start for `refusals`."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.last: Download | None = None

    def _fetch(self, url: str) -> Iterator[bytes]:
        """A generator, so that errors (TooSlowError's one line among them) reach the caller
        as they are rather than wrapped by `FetcherInterface.fetch`. A `file://` URL (a hub
        in a directory: `TrustedIndex` makes them) is read in place."""
        self.last = Download(url, b"")
        if url.startswith("file://"):
            data = _read_file(Path(unquote(urlsplit(url).path)))
            self.last = Download(url, data[:_KEPT])
            yield data
            return
        try:
            response = self._client.request("GET", url)
        except TransferError as exc:
            raise Unreachable(exc.reason) from None
        with response:
            if response.status in RETRY_STATUSES:
                raise Unreachable(f"HTTP {response.status}")
            if response.status != 200:
                raise DownloadHTTPError(f"HTTP {response.status}", response.status)
            head = bytearray()
            try:
                for chunk in response.iter_bytes():
                    if len(head) < _KEPT:
                        head += chunk[: _KEPT - len(head)]
                        self.last = Download(url, bytes(head))
                    yield chunk
            except TransferError as exc:
                raise Unreachable(exc.reason) from None


class CachedFetcher(FetcherInterface):
    """Serves metadata the client verified and kept, for when the hub is unreachable.

    python-tuf asks for `timestamp.json` and for `VERSION.ROLE.json`; the cache keeps one
    file per role (`ROLE.json`), served whatever version is asked (the updater then checks
    the version it expected). No newer root than the cached ones is known offline (a 404,
    which ends python-tuf's walk up the root versions). `reason` is why the hub was not
    reached, for every other request.
    """

    def __init__(self, metadata_url: str, metadata_dir: Path, reason: str) -> None:
        self._url = metadata_url
        self._dir = metadata_dir
        self.reason = reason

    def _fetch(self, url: str) -> Iterator[bytes]:
        name = url.removeprefix(self._url)
        if name == url:
            raise Unreachable(self.reason)
        version, _, rest = name.partition(".")
        if rest == "root.json":
            raise DownloadHTTPError("no newer root offline", 404)
        role = rest.removesuffix(".json") if version.isdigit() else name.removesuffix(".json")
        try:
            yield _read_file(self._dir / f"{quote(role, '')}.json")
        except DownloadHTTPError:
            raise Unreachable(self.reason) from None


def _read_file(path: Path) -> bytes:
    """A file's bytes (never through a link); a missing one answers as a 404 would."""
    try:
        with open_regular(path) as handle:
            return handle.read()
    except FileNotFoundError:
        raise DownloadHTTPError(f"no file {path}", 404) from None
