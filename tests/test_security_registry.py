"""Registry credentials and plain HTTP under attack (issue #11, items 3 and 4).

Each attack is performed as an attacker would: a hostile HTTP server on loopback (a registry,
a token server, a download host) records the headers it receives, and the test asserts that
no credential reached it. Host names an attacker controls (``localhost.attacker.example``,
``127.0.0.1.nip.io``) are made to resolve to loopback by patching the resolver, as the
attacker's DNS would.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import socket
import ssl
import stat
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import AUTH_PASSWORD
from ebpf_hub.client.fetch import Source, open_remote, resolve_tag
from ebpf_hub.client.install import hub_source
from ebpf_hub.client.settings import Settings
from ebpf_hub.errors import HubError
from ebpf_hub.model.index import IndexVersion
from ebpf_hub.oci.manifest import Descriptor
from ebpf_hub.oci.reference import parse_reference
from ebpf_hub.oci.registry import RegistryStore
from registry import RegistryServer

SECRET = "hunter2-registry-secret"  # noqa: S105 - the credential the attacker wants
SECRET_B64 = base64.b64encode(f"ci:{SECRET}".encode()).decode()
DIGEST = "sha256:" + "ab" * 32
BLOB = b"an eBPF object, or so it says"
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
ATTACKER_SUFFIXES = (".attacker.example", ".nip.io")


# --- a hostile server that records what it is sent ------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request the hostile server received."""

    method: str
    path: str
    headers: dict[str, str]


Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["Hostile", Seen], Reply]


class _Server4(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server4):
    address_family = socket.AF_INET6


class Hostile:
    """An HTTP(S) server on a loopback address: records every request, answers with `route`."""

    def __init__(self, route: Route, *, address: str = "127.0.0.1", tls: Path | None = None):
        self.seen: list[Seen] = []
        self._route = route
        self._lock = threading.Lock()
        server_class = _Server6 if ":" in address else _Server4
        self._httpd = server_class((address, 0), self._handler())
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port: int = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def host(self, name: str = "127.0.0.1") -> str:
        """``NAME:PORT`` of this server (NAME must resolve to its address)."""
        return f"{name}:{self.port}"

    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://{self.host()}/"

    def authorizations(self) -> list[str]:
        """Every Authorization header received."""
        with self._lock:
            return [s.headers["authorization"] for s in self.seen if "authorization" in s.headers]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 2  # a TLS hello on a plain-HTTP port is not a request: give up soon

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen = Seen(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                with server._lock:
                    server.seen.append(seen)
                status, headers, body = server._route(server, seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _any

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: `seen` is the record."""

        return Handler


@pytest.fixture
def hostile() -> Iterator[Callable[..., Hostile]]:
    """Start hostile servers; all are stopped at the end of the test."""
    started: list[Hostile] = []

    def start(route: Route, **options: Any) -> Hostile:
        server = Hostile(route, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def hub_version(ref: str, version: str = "1.0.0") -> IndexVersion:
    """A version entry of the hub index naming `ref`, as `hub_source` takes it."""
    entry = {
        "version": version, "created": "2024-01-01", "changes": "First.", "commit": None,
        "tree": None, "yanked": None, "ref": ref, "digest": None, "size": None, "pinned": None,
        "parameters": None,
    }  # fmt: skip
    return IndexVersion.from_json(entry, "execsnoop")


def serves_manifest_heads(server: Hostile, seen: Seen) -> Reply:
    """A registry that knows every tag (HEAD of a manifest answers a digest)."""
    return 200, {"Docker-Content-Digest": DIGEST}, b""


def basic_auth(inner: Route) -> Route:
    """A registry that asks for HTTP basic credentials before answering with `inner`."""

    def route(server: Hostile, seen: Seen) -> Reply:
        if "authorization" not in seen.headers:
            return 401, {"WWW-Authenticate": 'Basic realm="registry"'}, b""
        return inner(server, seen)

    return route


def bearer_auth(realm: Callable[[Hostile], str], inner: Route) -> Route:
    """A registry that sends clients to the token server `realm(registry)` for a token."""

    def route(server: Hostile, seen: Seen) -> Reply:
        if seen.path.startswith("/token"):
            return 200, {"Content-Type": "application/json"}, b'{"token": "registry-token"}'
        if seen.headers.get("authorization") != "Bearer registry-token":
            challenge = f'Bearer realm="{realm(server)}",service="reg",scope="repository:ns/x:pull"'
            return 401, {"WWW-Authenticate": challenge}, b""
        return inner(server, seen)

    return route


def same_origin_bearer_auth(inner: Route) -> Route:
    """A registry that is its own token server (GHCR, Harbor, Quay)."""
    return bearer_auth(lambda registry: f"http://{registry.host()}/token", inner)


def anonymous(inner: Route) -> Route:
    """A registry that lets anyone read."""
    return inner


def token_server(server: Hostile, seen: Seen) -> Reply:
    """A token server that grants anything (and records who asked with what)."""
    return 200, {"Content-Type": "application/json"}, b'{"token": "registry-token"}'


# --- environment: no real credentials, resolver, certificates --------------------------------


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty docker config directory (returned), no settings, no proxies, env credentials."""
    for variable in (
        "EBPF_HUB_REGISTRY",
        "EBPF_HUB_INSECURE_REGISTRIES",
        "EBPF_HUB_URL",
        "EBPF_HUB_PUBLIC_KEY",
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EBPF_HUB_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("EBPF_HUB_REGISTRY_PASSWORD", SECRET)
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    return docker


@pytest.fixture(autouse=True)
def attacker_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under the attacker's domains resolve to 127.0.0.1, as their DNS would make them."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.lower().rstrip(".").endswith(ATTACKER_SUFFIXES):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def tls_certificate(directory: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A self-signed certificate and key for `name` (one PEM file), trusted by the client."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (directory / "ca.pem").write_bytes(cert_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(directory / "ca.pem"))
    bundle = directory / "server.pem"
    bundle.write_bytes(
        cert_pem
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return bundle


def settings(**fields: Any) -> Settings:
    """Client settings with short timeouts and no retries: attacks fail fast."""
    return Settings(timeout=5.0, retries=0, **fields)


def source(host: str) -> Source:
    reference = parse_reference(f"{host}/ns/x")
    return Source(reference, reference.name)


# --- item 3: credentials go only to the host they are for ------------------------------------


def test_an_index_pointing_a_version_at_another_registry_gets_no_credentials(
    hostile: Callable[..., Hostile], tmp_path: Path
) -> None:
    """The hub index names the attacker's registry for one version; CI has env credentials."""
    attacker = hostile(basic_auth(serves_manifest_heads))
    entry = hub_version(f"{attacker.host()}/ns/execsnoop:1.0.0")
    where = hub_source(settings(), "execsnoop", entry)
    with pytest.raises(HubError, match="authentication required") as error:
        resolve_tag(settings(), where, "1.0.0")
    assert attacker.authorizations() == []
    assert "docker login" in str(error.value)


def test_env_credentials_go_to_the_configured_registry_only(
    hostile: Callable[..., Hostile],
) -> None:
    """Configured registry on one port; a pulled reference on another port, and on `localhost`."""
    configured = hostile(basic_auth(serves_manifest_heads))
    attacker = hostile(basic_auth(serves_manifest_heads))
    mine = settings(registry=f"{configured.host()}/ns")
    assert resolve_tag(mine, source(configured.host()), "1.0.0") == DIGEST
    assert configured.authorizations() == [f"Basic {SECRET_B64}"]
    for host in (attacker.host(), configured.host("localhost")):
        with pytest.raises(HubError, match="authentication required"):
            resolve_tag(mine, source(host), "1.0.0")
    assert attacker.authorizations() == []
    assert configured.authorizations() == [f"Basic {SECRET_B64}"]


def test_docker_auths_entries_are_scoped_to_their_host(
    hostile: Callable[..., Hostile], clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EBPF_HUB_REGISTRY_USERNAME")
    registry = hostile(basic_auth(serves_manifest_heads))
    attacker = hostile(basic_auth(serves_manifest_heads))
    for key in (registry.host(), f"http://{registry.host()}", f"https://{registry.host()}/v1/"):
        write_docker_config(clean_environment, {"auths": {key: {"auth": SECRET_B64}}})
        assert resolve_tag(settings(), source(registry.host()), "1.0.0") == DIGEST
        with pytest.raises(HubError, match="authentication required"):
            resolve_tag(settings(), source(attacker.host()), "1.0.0")
    assert registry.authorizations() == [f"Basic {SECRET_B64}"] * 3
    assert attacker.authorizations() == []


def write_docker_config(directory: Path, config: dict[str, Any]) -> None:
    (directory / "config.json").write_text(json.dumps(config))


def install_helper(directory: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """`docker-credential-test` on PATH running `body` (Python, the server on stdin);
    returns the file where it logs each server it is asked about."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = directory / "helper.log"
    helper = bin_dir / "docker-credential-test"
    helper.write_text(
        f"#!{__import__('sys').executable}\n"
        "import json, sys\n"
        f"LOG = {str(log)!r}\n"
        "assert sys.argv[1:] == ['get'], sys.argv\n"
        "server = sys.stdin.read().strip()\n"
        "open(LOG, 'a').write(server + '\\n')\n" + body
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    return log


def helper_knowing(host: str) -> str:
    """A helper body that has the test registry's credentials for `host` only."""
    return (
        f"if server == {host!r}:\n"
        f"    print(json.dumps({{'ServerURL': server, 'Username': 'hub', "
        f"'Secret': {AUTH_PASSWORD!r}}}))\n"
        "else:\n"
        "    print('credentials not found in native keychain')\n"
        "    sys.exit(1)\n"
    )


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_credential_helpers_against_a_real_registry(
    kind: str,
    auth_registry: RegistryServer,
    hostile: Callable[..., Hostile],
    clean_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EBPF_HUB_REGISTRY_USERNAME")
    log = install_helper(tmp_path, monkeypatch, helper_knowing(auth_registry.host))
    entry = {auth_registry.host: "test"} if kind == "credHelpers" else "test"
    write_docker_config(clean_environment, {kind: entry, "auths": {}})
    store = RegistryStore(auth_registry.host, f"helper/t{uuid.uuid4().hex[:12]}", insecure=True)
    descriptor = Descriptor("application/octet-stream", BLOB_DIGEST, len(BLOB))
    assert store.put_blob(descriptor, BLOB)
    store.get_blob(descriptor, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    attacker = hostile(basic_auth(serves_manifest_heads))
    with pytest.raises(HubError, match="authentication required"):
        resolve_tag(settings(), source(attacker.host()), "1.0.0")
    assert attacker.authorizations() == []
    asked = set(log.read_text().split())
    assert auth_registry.host in asked
    assert asked <= {auth_registry.host, attacker.host()}  # a store is asked per host


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"credsStore": "missing"}, "docker-credential-missing is not on PATH; install it"),
        ({"credsStore": "../../bin/sh"}, "is not a credential helper name"),
        ({"credHelpers": {"HOST": "test"}}, "answered for HOST without a JSON Username"),
    ],
)
def test_credential_helper_failures_are_one_clear_line(
    config: dict[str, Any],
    message: str,
    hostile: Callable[..., Hostile],
    clean_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_helper(tmp_path, monkeypatch, "print('not json')\n")
    registry = hostile(basic_auth(serves_manifest_heads))
    text = json.dumps(config).replace("HOST", registry.host())
    write_docker_config(clean_environment, json.loads(text))
    with pytest.raises(HubError) as error:
        resolve_tag(settings(), source(registry.host()), "1.0.0")
    assert str(clean_environment / "config.json") in str(error.value)
    assert message.replace("HOST", registry.host()) in str(error.value)
    assert "\n" not in str(error.value)
    assert registry.authorizations() == []


def test_a_hanging_credential_helper_times_out(
    hostile: Callable[..., Hostile],
    clean_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ebpf_hub.oci import dockerconfig

    monkeypatch.setattr(dockerconfig, "HELPER_TIMEOUT", 0.5)
    install_helper(tmp_path, monkeypatch, "import time\ntime.sleep(30)\n")
    write_docker_config(clean_environment, {"credsStore": "test"})
    registry = hostile(basic_auth(serves_manifest_heads))
    with pytest.raises(HubError, match=r"docker-credential-test did not answer in 0\.5 s"):
        resolve_tag(settings(), source(registry.host()), "1.0.0")


def test_a_token_realm_on_another_origin_gets_no_credentials(
    hostile: Callable[..., Hostile],
) -> None:
    """The configured registry sends clients to a token server on another port."""
    realm = hostile(token_server)
    registry = hostile(bearer_auth(lambda _: f"http://{realm.host()}/token", serves_manifest_heads))
    mine = settings(registry=f"{registry.host()}/ns")
    assert resolve_tag(mine, source(registry.host()), "1.0.0") == DIGEST  # anonymous token
    assert [s.path.split("?")[0] for s in realm.seen] == ["/token"]
    assert realm.authorizations() == []


def test_a_token_realm_on_the_registry_origin_gets_its_credentials(
    hostile: Callable[..., Hostile],
) -> None:
    registry = hostile(same_origin_bearer_auth(serves_manifest_heads))
    mine = settings(registry=f"{registry.host()}/ns")
    assert resolve_tag(mine, source(registry.host()), "1.0.0") == DIGEST
    assert f"Basic {SECRET_B64}" in registry.authorizations()


def test_a_token_realm_with_user_info_is_refused(hostile: Callable[..., Hostile]) -> None:
    """``http://REGISTRY@ATTACKER/`` names the attacker's host, whatever it looks like."""
    realm = hostile(token_server)
    registry = hostile(
        bearer_auth(lambda r: f"http://{r.host()}@{realm.host()}/token", serves_manifest_heads)
    )
    mine = settings(registry=f"{registry.host()}/ns")
    with pytest.raises(HubError, match="not an http\\(s\\) URL without user info"):
        resolve_tag(mine, source(registry.host()), "1.0.0")
    assert realm.seen == []


def test_an_https_registry_downgrading_its_realm_to_plain_http(
    hostile: Callable[..., Hostile],
    clean_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The registry speaks HTTPS; its realm is http:// on the same (non-loopback) name."""
    name = "registry.attacker.example"
    realm = hostile(token_server)
    registry = hostile(
        bearer_auth(lambda _: f"http://{realm.host(name)}/token", serves_manifest_heads),
        tls=tls_certificate(tmp_path, name, monkeypatch),
    )
    mine = settings(registry=f"{registry.host(name)}/ns")
    assert resolve_tag(mine, source(registry.host(name)), "1.0.0") == DIGEST  # anonymous
    auths = {realm.host(name): {"auth": SECRET_B64}, registry.host(name): {"auth": SECRET_B64}}
    write_docker_config(clean_environment, {"auths": auths})
    with pytest.raises(HubError, match="over plain HTTP; refusing to send credentials"):
        resolve_tag(mine, source(registry.host(name)), "1.0.0")
    assert realm.authorizations() == []


def test_no_basic_credentials_over_plain_http_to_a_remote_host(
    hostile: Callable[..., Hostile],
) -> None:
    """`publish --insecure` to a LAN name: the registry may be plain HTTP, the password not."""
    name = "registry.attacker.example"
    registry = hostile(basic_auth(serves_manifest_heads))
    store = RegistryStore(registry.host(name), "ns/x", insecure=True, retries=0)
    with pytest.raises(HubError, match="over plain HTTP; they are only sent over HTTPS"):
        store.resolve("1.0.0")
    assert registry.authorizations() == []


def test_a_blob_redirect_to_another_host_carries_no_credentials(
    hostile: Callable[..., Hostile], tmp_path: Path
) -> None:
    """The registry sends the blob download elsewhere, which would like the token or password."""
    cdn = hostile(lambda server, seen: (200, {}, BLOB))
    sneaky = hostile(same_origin_bearer_auth(lambda server, seen: (200, {}, BLOB)))
    descriptor = Descriptor("application/octet-stream", BLOB_DIGEST, len(BLOB))
    schemes: list[tuple[Hostile, Callable[[Route], Route]]] = [
        (sneaky, anonymous),
        (sneaky, basic_auth),
        (cdn, basic_auth),
        (cdn, same_origin_bearer_auth),
    ]
    for target, auth in schemes:

        def redirect(server: Hostile, seen: Seen, target: Hostile = target) -> Reply:
            return 307, {"Location": target.url()}, b""

        registry = hostile(auth(redirect))
        mine = settings(registry=f"{registry.host()}/ns")
        store = open_remote(source(registry.host()), mine)
        try:
            store.get_blob(descriptor, tmp_path / "blob")
        except HubError as error:
            assert target is sneaky, error
            assert "refusing to send them to another server" in str(error)
    assert len(cdn.seen) == 2
    assert cdn.authorizations() == []
    assert sneaky.authorizations() == []


def test_an_upload_sent_to_another_host_carries_no_credentials(
    hostile: Callable[..., Hostile],
) -> None:
    elsewhere = hostile(lambda server, seen: (201, {"Docker-Content-Digest": BLOB_DIGEST}, b""))

    def registry_route(server: Hostile, seen: Seen) -> Reply:
        if seen.method == "POST":
            return 202, {"Location": elsewhere.url() + "upload/1"}, b""
        return 404, {}, b""

    registry = hostile(basic_auth(registry_route))
    store = RegistryStore(registry.host(), "ns/x", insecure=True, retries=0)
    descriptor = Descriptor("application/octet-stream", BLOB_DIGEST, len(BLOB))
    store.put_blob(descriptor, BLOB)
    assert [s.method for s in elsewhere.seen] == ["PUT"]
    assert elsewhere.authorizations() == []
    assert f"Basic {SECRET_B64}" in registry.authorizations()


# --- item 4: plain HTTP only to loopback -------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "127.1",
        "2130706433",
        "LOCALHOST.attacker.example",
    ],
)
def test_lookalike_loopback_names_get_no_plain_http(
    name: str, hostile: Callable[..., Hostile]
) -> None:
    """A plain-HTTP registry behind a name that merely looks local: the client must use TLS,
    so the server never sees a request (nor the env credentials configured for it)."""
    attacker = hostile(basic_auth(serves_manifest_heads))
    mine = settings(registry=f"{attacker.host(name)}/ns")
    with pytest.raises(HubError) as error:
        resolve_tag(mine, source(attacker.host(name)), "1.0.0")
    assert attacker.seen == []
    assert "EBPF_HUB_INSECURE_REGISTRIES" in str(error.value)
    assert "--insecure-registry" in str(error.value)


@pytest.mark.parametrize(
    ("name", "address"),
    [("localhost", "127.0.0.1"), ("LOCALHOST", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"),
     ("[::1]", "::1"), ("[0:0:0:0:0:0:0:1]", "::1")],
)  # fmt: skip
def test_loopback_registries_keep_plain_http(
    name: str, address: str, hostile: Callable[..., Hostile]
) -> None:
    registry = hostile(basic_auth(serves_manifest_heads), address=address)
    mine = settings(registry=f"{registry.host(name)}/ns")
    assert resolve_tag(mine, source(registry.host(name)), "1.0.0") == DIGEST
    assert registry.authorizations() == [f"Basic {SECRET_B64}"]  # loopback may carry them


def test_declared_insecure_registries_get_plain_http(
    hostile: Callable[..., Hostile], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The explicit setting, from the environment and from the config file; exact HOST:PORT."""
    registry = hostile(serves_manifest_heads)
    host = registry.host("registry.attacker.example")
    monkeypatch.setenv("EBPF_HUB_INSECURE_REGISTRIES", f"other.example, {host.upper()}")
    assert resolve_tag(Settings.load(), source(host), "1.0.0") == DIGEST
    monkeypatch.delenv("EBPF_HUB_INSECURE_REGISTRIES")
    config = tmp_path / "home" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'insecure_registries = ["{host}"]\n')
    assert resolve_tag(Settings.load(), source(host), "1.0.0") == DIGEST
    assert len(registry.seen) == 2
    loaded = Settings.load(insecure_registries=["registry.attacker.example"])
    with pytest.raises(HubError, match="declare it insecure"):
        resolve_tag(loaded, source(host), "1.0.0")  # the flag wins, and the port must match


@pytest.mark.parametrize("entry", ["user@registry.lan", "https://registry.lan", "reg.lan:99999"])
def test_a_bad_insecure_registry_entry_is_one_clear_line(
    entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBPF_HUB_INSECURE_REGISTRIES", entry)
    with pytest.raises(HubError) as error:
        Settings.load()
    assert str(error.value).startswith("EBPF_HUB_INSECURE_REGISTRIES: ")
    assert "HOST[:PORT]" in str(error.value)


def test_the_plain_http_decision() -> None:
    """The rule itself, on spellings that cannot be resolved here."""
    from ebpf_hub.oci.hosts import plain_http_allowed

    allowed = ["localhost", "localhost:5000", "127.0.0.1", "127.9.8.7:1", "[::1]", "[::1]:80"]
    refused = [
        "localhost.attacker.example",
        "127.0.0.1.nip.io:5000",
        "localhost.",
        "localhost.:5000",
        "127.1",
        "0x7f.0.0.1",
        "0.0.0.0",  # noqa: S104 - a host spelling under test, not a bind address
        "::1",
        "[::1",
        "[::1].attacker.example",
        "user@localhost",
        "localhost@attacker.example",
        "localhost:0",
        "localhost:65536",
        "\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54",  # fullwidth "localhost"
        "xn--localhost-",
        "registry.lan:5000",
    ]
    assert [h for h in allowed if not plain_http_allowed(h)] == []
    assert [h for h in refused if plain_http_allowed(h)] == []
    assert plain_http_allowed("REGISTRY.lan:5000", ["registry.lan:5000"])
    assert not plain_http_allowed("registry.lan:5001", ["registry.lan:5000"])


def test_the_cli_documents_the_insecure_setting(capsys: pytest.CaptureFixture[str]) -> None:
    from ebpf_hub.cli import main

    with pytest.raises(SystemExit):
        main(["pull", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--insecure-registry HOST[:PORT]" in text
    assert "EBPF_HUB_INSECURE_REGISTRIES" in text
