"""Registry credentials and the answers to a registry's authentication challenge.

Which credentials a host gets is :mod:`ebpf_hub.oci.keychain`'s business (each pair goes to
the one host it was given for); this module only uses them. Challenges are the
``WWW-Authenticate`` header of a 401: ``Basic`` (htpasswd registries) is answered with the
credentials, ``Bearer`` (token servers: Docker Hub, GHCR, Harbor, ...) by fetching a token for
the requested scope from the challenge's realm.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ebpf_hub.httpclient import Client, TooLargeError, TransferError
from ebpf_hub.oci.errors import AuthenticationError

USERNAME_ENV = "EBPF_HUB_REGISTRY_USERNAME"
PASSWORD_ENV = "EBPF_HUB_REGISTRY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
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
    hint: str,
) -> str:
    """Get a bearer token from the challenge's realm (anonymous when there are no credentials).

    The caller has checked the realm and chosen the credentials it may receive; ``hint`` says
    how to give credentials, for when the realm wants some.
    """
    realm = challenge.params["realm"]
    params = {k: v for k, v in challenge.params.items() if k in ("service", "scope")}
    headers = {"Authorization": credentials.basic_header()} if credentials else {}
    try:
        with client.request("GET", realm, params=params, headers=headers) as response:
            status = response.status
            if status in (401, 403):
                raise AuthenticationError(
                    f"the token server of {host} refused access to "
                    f"{params.get('scope', host)}; "
                    + ("check the credentials" if credentials else hint)
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
