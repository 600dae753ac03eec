"""HTTP/1.1 for the hub and the registries, on the standard library's `http.client`.

Why not requests: `ebpf-hub install` is a short process whose time is mostly start-up, and
importing requests (with urllib3, charset-normalizer, idna) costs several times what a Go
client such as skopeo needs for a whole pull; `http.client` is a fraction of that and is
already what urllib3 builds on. What the client needs on top is small, and lives here:

- a connect timeout and a read timeout on every request, and a deadline for the whole request
  with a minimum rate for its answer, so a server that trickles cannot hold the client
  (`ebpf_hub.httplimits`);
- kept-alive connections, reused per host (one idle pool, safe to share between threads);
- retries with capped exponential backoff, as a `RetryPolicy` the layers above share:
  connection failures for every method (a request that never reached the server is safe to
  repeat), and 429/5xx answers and broken reads for GET and HEAD only; `Retry-After` is
  honoured up to the same cap, so a server or proxy cannot stall the client for long. Writes
  are repeated, if at all, by their callers, who know whether the whole operation is safe
  to redo;
- redirects of GET and HEAD, dropping credentials when the redirect leaves the host;
- `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from the environment, as curl and requests read
  them (HTTPS through a CONNECT tunnel);
- one exception type, `TransferError`, with a few words on the cause for one-line messages
  (and `TooSlowError`, a whole line, for a server past the deadline or below the rate).

TLS verifies against the system's certificate store (`SSL_CERT_FILE` and `SSL_CERT_DIR`
override it, as for every OpenSSL program).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Optional, cast
from urllib.parse import urlencode, urljoin, urlsplit

from ebpf_hub.httplimits import Clock, Limits, PacedSocket, TooSlowError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IDEMPOTENT = frozenset({"GET", "HEAD"})
MAX_REDIRECTS = 5
CHUNK_SIZE = 1024 * 1024
_DRAIN_LIMIT = 64 * 1024  # an unread rest up to this size is read to keep the connection
_Key = tuple[str, str, int]  # scheme, host, port of a connection
_Route = tuple[_Key, Optional[_Key]]  # a destination and the proxy in between: what pools share


class TransferError(Exception):
    """No usable answer: the connection, TLS or a read failed, or timed out.

    `reason` is a few lowercase words ("connection refused", "timed out") for messages;
    `tls` tells a certificate or handshake failure from an unreachable host; `sent` is False
    for a request that never reached a server (connecting failed, or a kept-alive socket was
    stale), which any method may repeat.
    """

    def __init__(self, reason: str, *, tls: bool = False, sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tls = tls
        self.sent = sent


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again, for every layer at once.

    One object, shared by the HTTP client and the operations built on it (a blob download, an
    upload), so that each failure is retried at exactly one level: the client repeats what
    `client_retries` accepts, and an operation repeats only the rest (a body that broke after
    the client returned the answer, a write that reached the server). Were both to repeat a
    503, a registry stuck on it would get `attempts` squared requests instead of `attempts`.
    Retry number n (from 1) waits `backoff * 2**(n-1)` seconds, at most `backoff_max`.
    """

    retries: int = 3
    backoff: float = 0.25
    backoff_max: float = 8.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (from 1)."""
        return float(min(self.backoff * 2 ** (retry - 1), self.backoff_max))

    @staticmethod
    def client_retries(method: str, *, sent: bool) -> bool:
        """Whether the client itself repeats a `method` request that failed, or answered one
        of `RETRY_STATUSES`; `sent`: the request reached the server (every answer did)."""
        return not sent or method in IDEMPOTENT


class TooLargeError(Exception):
    """A body longer than the caller's limit; reading stopped there."""


class Response:
    """An answer whose body is read on demand; close it (or use `with`) when done.

    A body read to its end gives the connection back to the client for the next request;
    an abandoned one closes it.
    """

    def __init__(
        self,
        client: Client,
        route: _Route,
        conn: http.client.HTTPConnection,
        raw: http.client.HTTPResponse,
        method: str,
        *,
        url: str,
    ) -> None:
        self._client = client
        self._route = route
        self._conn = conn
        self._raw = raw
        self.status = raw.status
        self.headers = raw.headers  # an email.message.Message: `get` ignores case
        self.method = method
        self.url = url  # the URL that answered, after redirects: whose answer this is
        self._done = False  # closed or discarded: the connection is no longer this answer's

    def __enter__(self) -> Response:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def iter_bytes(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body in chunks of at most `size` bytes; a broken read raises TransferError."""
        while True:
            try:
                chunk = self._raw.read(size)
            except (OSError, http.client.HTTPException) as exc:
                self._discard()
                raise TransferError(_reason(exc)) from None
            except TooSlowError:
                self._discard()
                raise
            if not chunk:
                if self._raw.length:  # http.client ends quietly when the server hangs up
                    self._discard()
                    raise TransferError("the connection closed mid-transfer")
                return
            yield chunk

    def read(self, limit: int) -> bytes:
        """The whole body; TooLargeError as soon as it exceeds `limit` bytes."""
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLargeError(f"larger than {limit} bytes")
        data = bytearray()
        for chunk in self.iter_bytes(min(limit + 1, CHUNK_SIZE)):
            data += chunk
            if len(data) > limit:
                raise TooLargeError(f"larger than {limit} bytes")
        return bytes(data)

    def json(self, limit: int = 4 * 1024 * 1024) -> Any:
        """The body parsed as JSON: ValueError if it is not JSON, TooLargeError if too long."""
        return json.loads(self.read(limit))

    def close(self) -> None:
        """Give the connection back if the body was read (a short unread rest is read)."""
        if self._done:
            return
        self._done = True
        raw = self._raw
        if not raw.isclosed() and raw.length is not None and raw.length <= _DRAIN_LIMIT:
            try:
                raw.read()
            except (OSError, http.client.HTTPException, TooSlowError):
                self._discard()
                return
        if raw.isclosed() and not raw.will_close:
            self._client._release(self._route, self._conn)
        else:
            self._discard()

    def _discard(self) -> None:
        self._done = True
        self._raw.close()
        self._conn.close()


class Client:
    """A small HTTP client: keep-alive, timeouts, retries, redirects, proxies.

    `timeout` bounds each read (and the connection, up to `connect_timeout`); `limits` bound
    each request as a whole (see `Limits`). `retry` says which failures are tried again and
    when; a retry is not made when its wait would run past the deadline.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        user_agent: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.timeout = timeout
        self.limits = limits or Limits()
        self.connect_timeout = min(connect_timeout, timeout)
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent
        self._idle: dict[_Route, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (answers still being read keep theirs)."""
        with self._lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | IO[bytes] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Response:
        """Send a request and return the answer (any status), after retries and redirects.

        Everything, down to the answer's last byte, must happen before the deadline.
        """
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        sent = dict(headers or {})
        if self.user_agent:
            sent.setdefault("User-Agent", self.user_agent)
        clock = Clock(self.limits)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._with_retries(method, url, sent, body, clock)
            location = response.headers.get("Location")
            if method not in IDEMPOTENT or response.status not in REDIRECT_STATUSES or not location:
                return response
            response.close()
            target = urljoin(url, location)
            if _origin(target) != _origin(url):
                sent.pop("Authorization", None)  # credentials stay with their host
            url = target
        raise TransferError(f"more than {MAX_REDIRECTS} redirects")

    def _with_retries(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | IO[bytes] | None,
        clock: Clock,
    ) -> Response:
        stream = body if body is not None and not isinstance(body, bytes) else None
        start = stream.tell() if stream is not None else 0
        policy = self.retry
        retry = 0
        while True:
            try:
                response = self._send(method, url, headers, body, clock)
            except TransferError as exc:
                if not policy.client_retries(method, sent=exc.sent):
                    raise
                failure = exc
            else:
                if (
                    response.status not in RETRY_STATUSES
                    or not policy.client_retries(method, sent=True)
                    or retry >= policy.retries
                ):
                    return response
                wait = max(policy.delay(retry + 1), _retry_after(response, policy.backoff_max))
                if wait >= clock.remaining():  # this answer, rather than none at the deadline
                    return response
                retry += 1
                response.close()
                time.sleep(wait)
                continue
            if (
                retry >= policy.retries
                or failure.tls
                or policy.delay(retry + 1) >= clock.remaining()
            ):
                raise failure
            retry += 1
            time.sleep(policy.delay(retry))
            if stream is not None:
                stream.seek(start)

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | IO[bytes] | None,
        clock: Clock,
    ) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise TransferError(f"unsupported URL {url!r}")
        key: _Key = (scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        proxy = _proxy_for(scheme, parts.hostname)
        if proxy is not None and scheme == "http":
            target = url  # a plain-HTTP proxy takes the absolute URL
        sent = dict(headers)
        if body is not None and not isinstance(body, bytes) and "Content-Length" not in sent:
            sent["Content-Length"] = str(os.fstat(body.fileno()).st_size - body.tell())
        clock.attempt(_netloc(parts.hostname, key[2]))
        reused, conn = self._acquire((key, proxy), clock)
        try:
            conn.request(method, target, body=body, headers=sent)
            clock.sent()
            raw = conn.getresponse()
            clock.body()
        except TooSlowError:
            conn.close()
            raise
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            stale = reused and isinstance(exc, _STALE)  # the server closed an idle connection
            raise TransferError(_reason(exc), sent=not stale) from None
        return Response(self, (key, proxy), conn, raw, method, url=url)

    def _acquire(self, route: _Route, clock: Clock) -> tuple[bool, http.client.HTTPConnection]:
        """An idle connection on `route` (reused: True), else a new one, paced by `clock`."""
        while True:
            with self._lock:
                idle = self._idle.get(route)
                conn = idle.pop() if idle else None
            if conn is None:
                return False, self._connect(*route, clock)
            if not _dropped(conn):
                cast(PacedSocket, conn.sock).clock = clock
                return True, conn
            conn.close()

    def _connect(self, key: _Key, proxy: _Key | None, clock: Clock) -> http.client.HTTPConnection:
        scheme, host, port = key
        _, address, address_port = proxy or key
        timeout = clock.timeout(self.connect_timeout)
        conn: http.client.HTTPConnection
        tls_errors: tuple[type[Exception], ...] = ()
        if scheme == "https":
            import ssl  # only for HTTPS: loopback registries and hubs speak plain HTTP

            tls_errors = (ssl.SSLError,)
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                address, address_port, timeout=timeout, context=context
            )
            if proxy is not None:
                conn.set_tunnel(host, port)
        else:
            conn = http.client.HTTPConnection(address, address_port, timeout=timeout)
        conn.blocksize = CHUNK_SIZE  # read size of a streamed upload
        try:
            conn.connect()
        except tls_errors as exc:
            conn.close()
            raise TransferError(_reason(exc), tls=True) from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            clock.timed_out()
            raise TransferError(_reason(exc), sent=False) from None
        conn.sock = PacedSocket(conn.sock, self.timeout, clock)
        return conn

    def _release(self, route: _Route, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(route, []).append(conn)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether the server closed an idle connection: it is readable (EOF, or a stray byte)."""
    if conn.sock is None:
        return True
    poll = select.poll()
    poll.register(conn.sock, select.POLLIN)
    return bool(poll.poll(0))


def next_link(header: str) -> str | None:
    """The target of `rel="next"` in a `Link` header (RFC 8288), as registries paginate."""
    for link in header.split(","):
        target, _, params = link.partition(";")
        if "rel=next" in params.replace('"', "").replace(" ", "").lower().split(";"):
            return target.strip().strip("<>")
    return None


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _retry_after(response: Response, cap: float) -> float:
    """The `Retry-After` delay in seconds (a number; dates are ignored), at most `cap`."""
    value = response.headers.get("Retry-After", "").strip()
    return min(float(value), cap) if value.isdigit() else 0.0


def _netloc(host: str, port: int) -> str:
    """``HOST:PORT`` (``[HOST]:PORT`` for IPv6), as messages name a server."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _proxy_for(scheme: str, host: str) -> _Key | None:
    """The proxy the environment names for `scheme` (none for hosts in NO_PROXY)."""
    proxy = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
    if not proxy or _bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parts.hostname:
        return None
    return ("http", parts.hostname, parts.port or 80)


def _bypass(host: str) -> bool:
    """Whether NO_PROXY exempts `host` (`*`, exact names, or domain suffixes)."""
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    host = host.lower()
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return True
    return False


def _reason(exc: BaseException) -> str:
    """A few words on why a request failed, for one-line messages."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror.lower()
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed mid-transfer"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
