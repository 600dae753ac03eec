"""Registry credentials and the answers to a registry's authentication challenge.

Credentials come from the environment first (what CI sets), then from docker's
``config.json`` (what ``docker login`` / ``skopeo login --authfile`` wrote), so a user who can
pull with docker can pull with ebpf-hub. Challenges are the ``WWW-Authenticate`` header of a
401: ``Basic`` (htpasswd registries) is answered with the credentials, ``Bearer`` (token
servers: Docker Hub, GHCR, Harbor, ...) by fetching a token for the requested scope.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ebpf_hub.httpclient import Client, TooLargeError, TransferError
from ebpf_hub.oci.errors import AuthenticationError

USERNAME_ENV = "EBPF_HUB_REGISTRY_USERNAME"
PASSWORD_ENV = "EBPF_HUB_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
DOCKER_CONFIG_ENV = "DOCKER_CONFIG"
_PARAM_RE = re.compile(r'([A-Za-z]+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    """A user name and a password (or access token) for one registry."""

    username: str
    password: str = field(repr=False)

    def basic_header(self) -> str:
        """The ``Authorization`` value of HTTP basic auth."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def login_hint(host: str) -> str:
    """How to give credentials, for error messages."""
    return f"set {USERNAME_ENV} and {PASSWORD_ENV}, or run 'docker login {host}'"


def docker_config_path(env: Mapping[str, str]) -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (as docker does)."""
    directory = env.get(DOCKER_CONFIG_ENV)
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


def _registry_host(key: str) -> str:
    """Host of a docker ``auths`` key: ``host:port`` or a URL like ``https://host/v1/``."""
    return urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]


def _from_docker_config(host: str, path: Path) -> Credentials | None:
    try:
        config = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        raise AuthenticationError(
            f"{path} is not valid JSON; fix it or run 'docker login'"
        ) from None
    auths = config.get("auths") if isinstance(config, dict) else None
    for key, entry in (auths or {}).items():
        if _registry_host(key) != host or not isinstance(entry, dict) or not entry.get("auth"):
            continue
        try:
            username, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, TypeError):
            sep = ""
        if not sep:
            raise AuthenticationError(
                f"{path}: the auth entry of {key!r} is not base64 of 'user:password'; "
                f"run 'docker login {host}' again"
            )
        return Credentials(username, password)
    return None


def find_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for ``host`` from the environment or docker's config, or None."""
    env = os.environ if env is None else env
    username, password = env.get(USERNAME_ENV), env.get(PASSWORD_ENV)
    if username and password:
        return Credentials(username, password)
    return _from_docker_config(host, docker_config_path(env))


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: the scheme and its parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge:
    """Parse ``Bearer realm="...",service="...",scope="..."`` or ``Basic realm="..."``."""
    scheme, _, rest = header.strip().partition(" ")
    return Challenge(scheme.lower(), dict(_PARAM_RE.findall(rest)))


def fetch_token(
    client: Client,
    challenge: Challenge,
    credentials: Credentials | None,
    *,
    host: str,
) -> str:
    """Get a bearer token from the challenge's realm (anonymous when there are no credentials)."""
    realm = challenge.params.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise AuthenticationError(
            f"{host} asks for a bearer token without a usable realm {realm!r}"
        )
    params = {k: v for k, v in challenge.params.items() if k in ("service", "scope")}
    headers = {"Authorization": credentials.basic_header()} if credentials else {}
    try:
        with client.request("GET", realm, params=params, headers=headers) as response:
            status = response.status
            if status in (401, 403):
                hint = "check the credentials" if credentials else login_hint(host)
                raise AuthenticationError(
                    f"the token server of {host} refused access to "
                    f"{params.get('scope', host)}; {hint}"
                )
            try:
                body = response.json()
            except (ValueError, TooLargeError):
                body = None
    except TransferError as exc:
        raise AuthenticationError(
            f"cannot reach the token server {realm} of {host} ({exc.reason})"
        ) from None
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if status != 200 or not isinstance(token, str) or not token:
        raise AuthenticationError(
            f"the token server {realm} of {host} answered {status} without a token"
        )
    return token
