"""The HTTP client against real servers on 127.0.0.1: keep-alive, retries, failures, redirects,
proxies and TLS, each seen from the server's side (requests, TCP connections) as well."""

from __future__ import annotations

import datetime
import ipaddress
import os
import select
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ebpf_hub.httpclient import Client, RetryPolicy, TooLargeError, TransferError, next_link

BIG = bytes(range(256)) * 800  # 200 KiB: more than the client drains to keep a connection
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY")


class Request(NamedTuple):
    """One request as the server read it; `port` is the client's, one per TCP connection."""

    method: str
    target: str
    headers: Message
    body: bytes
    port: int


Answer = Callable[["Handler"], None]


class Server(ThreadingHTTPServer):
    """A server on a free port that logs every request and lets `answer` reply to it.

    `accepted` counts TCP connections (before any TLS handshake), `closed` is released once
    for every connection the server has closed.
    """

    daemon_threads = True

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server_bind()
        self.answer = answer
        self.tls = tls
        self.requests: list[Request] = []
        self.accepted = 0
        self.closed = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.port = self.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen and serve; until then a connection to the (bound) port is refused."""
        self.server_activate()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        self.server_close()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = self.socket.accept()
        with self.lock:
            self.accepted += 1
        if self.tls is None:
            return conn, address
        conn.settimeout(5)  # the handshake runs in the serving thread: never hang it
        try:
            wrapped = self.tls.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            raise  # the server drops the connection quietly, as for any failed accept
        wrapped.settimeout(None)
        return wrapped, address

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer is what these tests do; anything else is printed."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def log(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def ports(self) -> list[int]:
        return [request.port for request in self.log()]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    @property
    def hub(self) -> Server:
        return cast(Server, self.server)

    def serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body, self.client_address[1])
        with self.hub.lock:
            self.hub.requests.append(request)
        self.hub.answer(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_CONNECT = serve

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: `requests` is the record."""


class Servers:
    """Starts servers for one test and stops them all after it."""

    def __init__(self) -> None:
        self.started: list[Server] = []

    def __call__(
        self, answer: Answer, tls: ssl.SSLContext | None = None, *, listen: bool = True
    ) -> Server:
        server = Server(answer, tls)
        self.started.append(server)
        if listen:
            server.start()
        return server


@pytest.fixture
def serve() -> Iterator[Servers]:
    servers = Servers()
    yield servers
    for server in servers.started:
        server.stop()


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or certificate store of the user's: each test sets what it needs."""
    for variable in (*PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(variable, raising=False)


def fast(
    retries: int = 3, backoff: float = 0.01, backoff_max: float = 8.0, **options: Any
) -> Client:
    """A client that waits a few milliseconds between retries instead of a quarter second."""
    retry = RetryPolicy(retries, backoff, backoff_max)
    return Client(**{"timeout": 5.0, "retry": retry, **options})


def ok(handler: Handler) -> None:
    """200 with the request's path as the body (tests see which request was answered)."""
    handler.reply(200, handler.path.encode())


def routes(**answers: Answer) -> Answer:
    """Answers by the first path segment (``/big/1`` → ``big``); `ok` for the others."""

    def answer(handler: Handler) -> None:
        segment = handler.path.lstrip("/").split("/")[0].split("?")[0]
        answers.get(segment, ok)(handler)

    return answer


def big(handler: Handler) -> None:
    handler.reply(200, BIG)


def truncated(handler: Handler) -> None:
    """Promise 1000 bytes, send 10, hang up."""
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"0123456789")
    handler.close_connection = True


def hang_up(handler: Handler) -> None:
    """Close the connection without an answer."""
    handler.close_connection = True


def answer_then_close(handler: Handler) -> None:
    """A normal kept-alive answer, then the server closes the idle connection (a keep-alive
    timeout), without saying so in the headers."""
    ok(handler)
    handler.close_connection = True


def statuses(*codes: int) -> Answer:
    """Answer the n-th request with codes[n] (the last one for the rest), then 200."""

    def answer(handler: Handler) -> None:
        index = len(handler.hub.log()) - 1
        code = codes[min(index, len(codes) - 1)]
        handler.reply(code, f"answer {index + 1}: {code}".encode())

    return answer


# Keep-alive


def test_sequential_requests_share_one_connection(serve: Servers) -> None:
    server = serve(ok)
    with fast() as client:
        for path in ("/a", "/b", "/c"):
            with client.request("GET", server.url + path) as response:
                assert response.read(100) == path.encode()
    assert len(server.log()) == 3
    assert len(set(server.ports())) == 1
    assert server.accepted == 1


def test_a_short_unread_body_is_drained_and_the_connection_kept(serve: Servers) -> None:
    server = serve(ok)
    with fast() as client:
        client.request("GET", server.url + "/unread").close()
        with client.request("GET", server.url + "/next") as response:
            assert response.read(100) == b"/next"
    assert len(set(server.ports())) == 1


def test_an_abandoned_large_body_does_not_poison_the_next_request(serve: Servers) -> None:
    server = serve(routes(big=big))
    with fast() as client:
        abandoned = client.request("GET", server.url + "/big")
        assert abandoned.status == 200
        assert abandoned.headers.get("Content-Length") == str(len(BIG))
        abandoned.close()
        with client.request("GET", server.url + "/small") as response:
            assert (response.status, response.read(100)) == (200, b"/small")
        with client.request("GET", server.url + "/big") as response:
            assert response.read(len(BIG)) == BIG
    first, second, third = server.ports()
    assert first != second  # the abandoned connection was closed, not reused
    assert second == third  # and the new one is kept alive


def test_close_twice_does_not_pool_the_connection_twice(serve: Servers) -> None:
    """Closing an answer twice (an explicit close inside ``with``) must be harmless: the
    connection may be handed out once, not to two answers at the same time."""
    server = serve(routes(big=big))
    with fast() as client:
        with client.request("GET", server.url + "/small") as response:
            assert response.read(100) == b"/small"
            response.close()
        streaming = client.request("GET", server.url + "/big")  # body not read yet
        with client.request("GET", server.url + "/other") as other:
            assert other.read(100) == b"/other"
        with streaming:
            assert streaming.read(len(BIG)) == BIG


def test_a_connection_broken_mid_body_is_not_reused(serve: Servers) -> None:
    """After a transfer broke, the dead connection must not return to the pool: reopened by
    http.client on the next request, it would read with the connect timeout (0.05 s here), so
    a PUT answered after 0.5 s (a PUT is not retried) would time out."""

    def slow(handler: Handler) -> None:
        time.sleep(0.5)
        ok(handler)

    server = serve(routes(cut=truncated, slow=slow))
    with fast(timeout=10.0, connect_timeout=0.05) as client:
        with (
            client.request("GET", server.url + "/cut") as response,
            pytest.raises(TransferError, match="closed mid-transfer"),
        ):
            response.read(10_000)
        with client.request("PUT", server.url + "/slow", body=b"data") as response:
            assert (response.status, response.read(100)) == (200, b"/slow")


def test_a_stale_kept_alive_connection_is_replaced_even_without_retries(serve: Servers) -> None:
    """The server closed the idle connection (its keep-alive timeout): the next request must go
    on a new connection, not fail, even with retries=0 (the request never reached a server)."""
    server = serve(answer_then_close)
    with fast(retries=0) as client:
        with client.request("GET", server.url + "/first") as response:
            assert response.read(100) == b"/first"
        assert server.closed.acquire(timeout=5)
        with client.request("GET", server.url + "/second") as response:
            assert response.read(100) == b"/second"
    assert server.accepted == 2


def test_a_file_body_is_resent_whole_after_a_stale_connection(
    serve: Servers, tmp_path: Path
) -> None:
    """The first attempt went on a connection the server had closed; the retry re-sends the
    file from where it started, with the right Content-Length."""
    server = serve(answer_then_close)
    payload = os.urandom(300_000)
    (tmp_path / "blob").write_bytes(payload)
    with fast(retries=2) as client:
        client.request("GET", server.url + "/warm").close()
        assert server.closed.acquire(timeout=5)
        with (tmp_path / "blob").open("rb") as file:
            file.seek(1000)
            with client.request("PUT", server.url + "/upload", body=file) as response:
                assert response.status == 200
    assert server.accepted == 2
    _, put = server.log()
    assert (put.method, put.target) == ("PUT", "/upload")
    assert put.body == payload[1000:]
    assert put.headers.get("Content-Length") == str(len(payload) - 1000)


# Retries


def test_get_is_retried_after_503s(serve: Servers) -> None:
    server = serve(statuses(503, 503, 200))
    with fast(retries=3) as client, client.request("GET", server.url + "/x") as response:
        assert (response.status, response.read(100)) == (200, b"answer 3: 200")
    assert len(server.log()) == 3


def test_retry_after_is_capped_at_backoff_max(serve: Servers) -> None:
    def busy(handler: Handler) -> None:
        handler.reply(503, b"busy", {"Retry-After": "1"})

    server = serve(busy)
    started = time.monotonic()
    with fast(retries=2, backoff_max=0.2) as client, client.request("GET", server.url) as response:
        assert response.status == 503
    elapsed = time.monotonic() - started
    assert len(server.log()) == 3
    assert 0.4 <= elapsed < 1.5  # two waits of 0.2 s (Retry-After honoured, capped), not 2 s


def test_post_is_not_retried(serve: Servers) -> None:
    server = serve(statuses(503, 200))
    with fast(retries=3) as client, client.request("POST", server.url, body=b"{}") as response:
        assert response.status == 503
    assert [request.method for request in server.log()] == ["POST"]


def test_exhausted_retries_return_the_last_error_answer(serve: Servers) -> None:
    server = serve(statuses(500))
    with fast(retries=2) as client, client.request("GET", server.url) as response:
        assert (response.status, response.read(100)) == (500, b"answer 3: 500")
    assert len(server.log()) == 3


def test_get_is_retried_when_the_server_hangs_up_without_answering(serve: Servers) -> None:
    def flaky(handler: Handler) -> None:
        (hang_up if len(handler.hub.log()) == 1 else ok)(handler)

    server = serve(flaky)
    with fast(retries=1) as client, client.request("GET", server.url + "/x") as response:
        assert response.read(100) == b"/x"
    assert len(server.log()) == 2
    assert server.accepted == 2


def test_post_is_not_repeated_when_the_server_hangs_up(serve: Servers) -> None:
    server = serve(hang_up)
    with fast(retries=3) as client, pytest.raises(TransferError) as caught:
        client.request("POST", server.url, body=b"once")
    assert caught.value.reason == "the server closed the connection"
    assert len(server.log()) == 1


# Connection failures and timeouts


def test_connection_refused_after_the_retries(serve: Servers) -> None:
    server = serve(ok, listen=False)  # bound, not listening: connecting is refused
    started = time.monotonic()
    with fast(retries=3, backoff=0.05) as client, pytest.raises(TransferError) as caught:
        client.request("PUT", server.url, body=b"x")  # refused is retried for every method
    elapsed = time.monotonic() - started
    assert caught.value.reason == "connection refused"
    assert not caught.value.tls
    assert 0.05 + 0.1 + 0.2 <= elapsed < 5  # three waits: four attempts


def test_connection_refused_is_retried_until_the_server_is_up(serve: Servers) -> None:
    server = serve(ok, listen=False)
    threading.Timer(0.1, server.start).start()
    started = time.monotonic()
    with (
        fast(retries=40, backoff=0.05, backoff_max=0.05) as client,
        client.request("GET", server.url + "/up") as response,
    ):
        assert response.read(100) == b"/up"
    assert time.monotonic() - started >= 0.1
    assert len(server.log()) == 1


def test_read_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        with fast(timeout=0.3, retries=0) as client, pytest.raises(TransferError) as caught:
            client.request("GET", url)
        elapsed = time.monotonic() - started
    assert caught.value.reason == "timed out"
    assert 0.25 <= elapsed < 3


# Broken and oversized bodies


def chunked(handler: Handler) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for _ in range(10):
        handler.wfile.write(b"64\r\n" + b"c" * 100 + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def test_a_body_cut_short_raises(serve: Servers) -> None:
    server = serve(truncated)
    with fast() as client, client.request("GET", server.url) as response:
        chunks: list[bytes] = []
        with pytest.raises(TransferError, match=r"^the connection closed mid-transfer$"):
            chunks.extend(response.iter_bytes(4))
    assert b"".join(chunks) == b"0123456789"


def test_read_limit(serve: Servers) -> None:
    server = serve(routes(big=big, chunked=chunked))
    with fast() as client:
        with (
            client.request("GET", server.url + "/big") as response,
            pytest.raises(TooLargeError, match=f"larger than {len(BIG) - 1} bytes"),
        ):
            response.read(len(BIG) - 1)  # refused on the declared Content-Length
        with client.request("GET", server.url + "/chunked") as response:
            assert response.headers.get("Content-Length") is None
            with pytest.raises(TooLargeError, match="larger than 999 bytes"):
                response.read(999)  # refused while reading
        with client.request("GET", server.url + "/chunked") as response:
            assert response.read(1000) == b"c" * 1000
        with client.request("GET", server.url + "/big") as response:
            assert response.read(len(BIG)) == BIG


# Redirects


def redirect(handler: Handler) -> None:
    """``/hop/N`` → ``/hop/N-1`` …, ``/hop/0`` → ``/echo``; ``/away?to=URL`` → URL."""
    _, _, rest = handler.path.partition("/hop/")
    if rest:
        hops = int(rest)
        handler.reply(302, b"", {"Location": f"/hop/{hops - 1}" if hops else "/echo"})
    else:
        handler.reply(302, b"", {"Location": handler.path.partition("?to=")[2]})


def echo(handler: Handler) -> None:
    """The Authorization header the request carried."""
    handler.reply(200, handler.headers.get("Authorization", "-").encode())


def test_redirects_on_the_same_origin_keep_credentials(serve: Servers) -> None:
    server = serve(routes(hop=redirect, echo=echo))
    auth = {"Authorization": "Bearer secret"}
    with fast() as client, client.request("GET", server.url + "/hop/4", headers=auth) as response:
        assert (response.status, response.read(100)) == (200, b"Bearer secret")
    assert [r.target for r in server.log()] == [*(f"/hop/{n}" for n in range(4, -1, -1)), "/echo"]
    assert len(set(server.ports())) == 1  # redirect answers are drained, the connection kept


def test_a_redirect_to_another_origin_drops_credentials(serve: Servers) -> None:
    other = serve(echo)
    server = serve(routes(away=redirect))
    with (
        fast() as client,
        client.request(
            "GET",
            f"{server.url}/away?to={other.url}/x",
            headers={"Authorization": "Basic c2VjcmV0"},
        ) as response,
    ):
        assert (response.status, response.read(100)) == (200, b"-")
    assert [r.target for r in other.log()] == ["/x"]


def test_more_than_five_redirects_fail(serve: Servers) -> None:
    server = serve(routes(hop=redirect))
    with fast() as client, pytest.raises(TransferError, match=r"^more than 5 redirects$"):
        client.request("GET", server.url + "/hop/5")  # six redirects to reach /echo
    assert len(server.log()) == 6


def test_post_is_not_redirected(serve: Servers) -> None:
    server = serve(routes(hop=redirect))
    with fast() as client, client.request("POST", server.url + "/hop/1", body=b"x") as response:
        assert (response.status, response.headers.get("Location")) == (302, "/hop/0")
    assert len(server.log()) == 1


# Request bodies


def test_put_of_a_file_sends_its_length_and_bytes(serve: Servers, tmp_path: Path) -> None:
    server = serve(ok)
    payload = os.urandom(1024 * 1024 + 12345)  # more than one upload block
    (tmp_path / "blob").write_bytes(payload)
    with (
        fast() as client,
        (tmp_path / "blob").open("rb") as file,
        client.request("PUT", server.url + "/blob", body=file) as response,
    ):
        assert response.status == 200
    (put,) = server.log()
    assert put.headers.get("Content-Length") == str(len(payload))
    assert put.headers.get("Transfer-Encoding") is None
    assert put.body == payload


# Proxies


def test_plain_http_goes_through_http_proxy(
    serve: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve(ok)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with (
        fast(retries=0) as client,
        client.request("GET", "http://hub.invalid:8080/api/v1/index.json?x=1") as response,
    ):
        assert response.read(100) == b"http://hub.invalid:8080/api/v1/index.json?x=1"
    (request,) = proxy.log()
    assert request.target == "http://hub.invalid:8080/api/v1/index.json?x=1"
    assert request.headers.get("Host") == "hub.invalid:8080"


def test_no_proxy_goes_direct(serve: Servers, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = serve(ok)
    server = serve(ok)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org, 127.0.0.1")
    with fast() as client, client.request("GET", server.url + "/direct") as response:
        assert response.read(100) == b"/direct"
    assert [r.target for r in server.log()] == ["/direct"]
    assert proxy.log() == []


# TLS


@dataclass(frozen=True)
class Certificates:
    ca: Path  # PEM of the CA that signed the server's certificate
    server: ssl.SSLContext  # for 127.0.0.1 and hub.test


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway CA and a server certificate it signed, made with `cryptography`."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ebpf-hub test CA")])

    def builder(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )

    signing = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    ca = (
        builder(ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(signing, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("hub.test")]
    leaf = (
        builder(x509.Name([]), server_key)
        .add_extension(x509.SubjectAlternativeName(names), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    return Certificates(directory / "ca.pem", context)


def test_an_untrusted_certificate_fails_without_retries(
    serve: Servers, certificates: Certificates
) -> None:
    server = serve(ok, certificates.server)
    with fast(retries=3) as client, pytest.raises(TransferError) as caught:
        client.request("GET", server.url + "/x")
    assert caught.value.tls
    assert "certificate verify failed" in caught.value.reason
    assert server.accepted == 1  # a certificate problem is not retried
    assert server.log() == []


def test_ssl_cert_file_makes_the_certificate_trusted(
    serve: Servers, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(ok, certificates.server)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    with fast() as client:
        for path in ("/a", "/b"):
            with client.request("GET", server.url + path) as response:
                assert (response.status, response.read(100)) == (200, path.encode())
    assert server.accepted == 1  # kept alive over TLS too


def tunnel(handler: Handler) -> None:
    """A CONNECT proxy: every host name is 127.0.0.1 here; bytes are piped both ways."""
    if handler.command != "CONNECT":
        handler.reply(405)
        return
    port = int(handler.path.rpartition(":")[2])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as upstream:
        handler.send_response(200, "Connection established")
        handler.end_headers()
        downstream = handler.connection
        open_ends = [downstream, upstream]
        while True:
            readable, _, _ = select.select(open_ends, [], [], 5)
            if not readable:
                break
            for source in readable:
                data = source.recv(65536)
                if not data:
                    handler.close_connection = True
                    return
                (upstream if source is downstream else downstream).sendall(data)
    handler.close_connection = True


def test_https_through_a_connect_proxy(
    serve: Servers, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(ok, certificates.server)
    proxy = serve(tunnel)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{proxy.port}")  # no scheme, as curl allows
    url = f"https://hub.test:{server.port}/v2/"  # resolved by the proxy only
    with fast(retries=0) as client:
        for _ in range(2):
            with client.request("GET", url) as response:
                assert (response.status, response.read(100)) == (200, b"/v2/")
    assert [(r.method, r.target) for r in proxy.log()] == [("CONNECT", f"hub.test:{server.port}")]
    assert [r.target for r in server.log()] == ["/v2/", "/v2/"]
    assert server.accepted == 1  # the tunnel is kept alive


# Link headers


def test_next_link() -> None:
    assert next_link('<https://r/v2/x/tags/list?n=1&last=a>; rel="next"') == (
        "https://r/v2/x/tags/list?n=1&last=a"
    )
    assert next_link(
        '</v2/x/tags/list?last=a>; rel="prev", </v2/x/tags/list?last=c>; rel=next'
    ) == ("/v2/x/tags/list?last=c")
    assert next_link('<https://r/v2/x/tags/list?n=1&last=a>; rel="prev"') is None
    assert next_link("<https://r/v2/x/tags/list?n=1&last=a>") is None
    assert next_link("") is None
