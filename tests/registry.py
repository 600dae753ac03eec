"""A real OCI registry for tests: Debian's ``docker-registry`` (CNCF distribution 2.8).

Each server gets its own free port, config and storage directory, so tests can read and tamper
with the blobs on disk, and ``stop()`` it mid-transfer. Auth variants: htpasswd (HTTP basic)
and bearer tokens from :class:`TokenServer`, a minimal implementation of the token server the
distribution spec describes (what Docker Hub, GHCR and Harbor run), signing ES256 JWTs that
the registry checks against the issuer's certificate.
"""

from __future__ import annotations

import base64
import datetime
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = "docker-registry"
START_TIMEOUT = 10.0
TOKEN_SERVICE = "ebpf-hub-test-registry"  # noqa: S105 - a name, not a secret
TOKEN_ISSUER = "ebpf-hub-test-issuer"  # noqa: S105 - a name, not a secret


@dataclass
class RegistryServer:
    """A running registry: ``host`` is ``127.0.0.1:PORT``, ``storage`` its filesystem root."""

    host: str
    storage: Path
    log: Path
    process: subprocess.Popen[bytes]
    username: str | None = None
    password: str | None = None
    token_realm: str | None = None  # the token server's URL, on another origin than `host`

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps a blob (manifests are blobs too) on disk."""
        hex_digest = digest.removeprefix("sha256:")
        blobs = self.storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
        return blobs / hex_digest[:2] / hex_digest / "data"

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file (the only scheme distribution accepts).

    Uses the standard library's ``crypt`` (libxcrypt does bcrypt; Python 3.11 and 3.12 ship
    the module), else apache2-utils' ``htpasswd``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
    except ImportError:
        htpasswd = shutil.which("htpasswd")
        if htpasswd is None:
            raise RuntimeError("need Python's crypt module or htpasswd (apache2-utils)") from None
        line = subprocess.run(
            [htpasswd, "-nbB", "user", password], check=True, capture_output=True, text=True
        ).stdout
        return line.strip().split(":", 1)[1]
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4)  # noqa: S324 - this is bcrypt
    return crypt.crypt(password, salt)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOKEN_ISSUER)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


class TokenServer:
    """Grants every requested scope to one user with the right password, as ES256 JWTs."""

    def __init__(self, workdir: Path, username: str, password: str) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        certificate = _self_signed(self._key)
        self._x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER))
        self.cert_path = workdir / "token-issuer.pem"
        self.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        expected = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._expected_auth = f"Basic {expected}"
        self._username = username
        self.tokens_issued = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.realm = f"http://127.0.0.1:{self._http.server_address[1]}/token"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def registry_auth(self) -> dict[str, object]:
        """The registry's ``auth`` configuration that trusts this server."""
        return {
            "token": {
                "realm": self.realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(self.cert_path),
            }
        }

    def token(self, scope: str) -> str:
        """A JWT granting ``scope`` (``repository:NAME:ACTIONS``)."""
        access = []
        if scope:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c.decode()]}
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": self._username,
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        self.tokens_issued += 1
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.headers.get("Authorization") != server._expected_auth:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                scope = parse_qs(urlsplit(self.path).query).get("scope", [""])[0]
                body = json.dumps({"token": server.token(scope)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read results, not access logs."""

        return Handler

    def stop(self) -> None:
        """Stop serving tokens."""
        self._http.shutdown()
        self._http.server_close()


def _wait_ready(server: RegistryServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {server.log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://{server.host}/v2/", timeout=1) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            time.sleep(0.05)
            continue
        if status in (200, 401):
            return
    server.stop()
    raise RuntimeError(f"docker-registry did not answer on {server.host} in {START_TIMEOUT} s")


def start_registry(
    workdir: Path,
    *,
    username: str | None = None,
    password: str | None = None,
    token_server: TokenServer | None = None,
) -> RegistryServer:
    """Start a registry in ``workdir``.

    With a user name and password it requires them: by HTTP basic auth (an htpasswd file), or,
    given ``token_server``, through bearer tokens from that server.
    """
    storage = workdir / "storage"
    storage.mkdir(parents=True)
    host = f"127.0.0.1:{free_port()}"
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "error"},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": host},
    }
    if token_server is not None:
        config["auth"] = token_server.registry_auth()
    elif username is not None and password is not None:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(f"{username}:{bcrypt_hash(password)}\n")
        config["auth"] = {"htpasswd": {"realm": "ebpf-hub-tests", "path": str(htpasswd)}}
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    log = workdir / "registry.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    realm = token_server.realm if token_server is not None else None
    server = RegistryServer(host, storage, log, process, username, password, realm)
    _wait_ready(server)
    return server
