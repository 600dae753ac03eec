"""HTTP to one registry host: timeouts, retries, the authentication handshake, error mapping.

Each failure is retried at one level, by one `RetryPolicy`. The HTTP client
(`ebpf_hub.httpclient`) retries connection failures of every request, and the reads (GET,
HEAD) that end in a 429 or 5xx or break, honouring ``Retry-After``. What it does not retry is
raised as :class:`RepeatableError` and repeated whole by :meth:`Transport.retrying`: a blob
body that broke after the client returned the answer (the download resumes), and a write
(POST, PUT) that reached the registry (a blob PUT that broke half-way leaves a dead upload
session behind, so the whole upload starts again). Every request has a connect and a read
timeout.

Credentials stay with their origin: the registry's go to the registry and to a token realm on
the same origin; a realm on another origin gets only what the keychain holds for that host,
and only for a registry the keychain holds credentials for too: the token comes back to the
registry, so a registry nobody logged in to must not get one minted with the user's
credentials elsewhere (most token servers live on the registry's origin: GHCR, Harbor, Quay;
Docker Hub's and GitLab's do not, and need their own ``docker login``). Nothing carries
credentials over plain HTTP to a host that is not loopback, and a challenge that comes from
another origin (a registry redirected a blob download elsewhere) is not answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import IO, TypeVar
from urllib.parse import urlsplit

from ebpf_hub import __version__
from ebpf_hub.httpclient import (
    RETRY_STATUSES,
    Client,
    Response,
    RetryPolicy,
    TooLargeError,
    TransferError,
)
from ebpf_hub.httplimits import Limits
from ebpf_hub.oci.auth import Challenge, Credentials, fetch_token, parse_challenge
from ebpf_hub.oci.errors import (
    AuthenticationError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
    RepeatableError,
)
from ebpf_hub.oci.hosts import INSECURE_HELP, may_carry_credentials, url_host, url_origin
from ebpf_hub.oci.keychain import Keychain
from ebpf_hub.safetext import clip

DEFAULT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
DETAIL_LIMIT = 200  # characters of a registry's error message in ours
T = TypeVar("T")


class Transport:
    """An HTTP client bound to one registry host, with its credentials and token.

    ``credentials`` are for this host only; without them the ``keychain`` is asked (for this
    host, and for a token realm elsewhere). The default keychain gives the environment's
    credentials to ``host``: whoever opens a transport on a host they chose configured it.
    ``client``, when given, is shared with the rest of the command (its timeouts, limits and
    retry policy then apply, not ``timeout``, ``retries`` and ``limits``).
    """

    def __init__(
        self,
        host: str,
        *,
        insecure: bool = False,
        credentials: Credentials | None = None,
        keychain: Keychain | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        limits: Limits | None = None,
        client: Client | None = None,
    ) -> None:
        self.host = host
        self.base_url = f"{'http' if insecure else 'https'}://{host}"
        self.origin = url_origin(self.base_url)
        self.keychain = keychain if keychain is not None else Keychain(configured=host)
        self._given = credentials
        self._authorization: str | None = None
        self.client = client or Client(
            timeout=timeout,
            connect_timeout=CONNECT_TIMEOUT,
            retry=RetryPolicy(retries=retries),
            user_agent=f"ebpf-hub/{__version__}",
            limits=limits,
        )

    @cached_property
    def credentials(self) -> Credentials | None:
        """This registry's credentials, looked up on the first challenge (helpers are slow)."""
        return self._given if self._given is not None else self.keychain.find(self.host)

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as ``/v2/ns/name/tags/list``."""
        return self.base_url + path

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        data: bytes | IO[bytes] | None = None,
    ) -> Response:
        """Send a request, answering one authentication challenge if the registry makes it.

        The body of the answer is read on demand: close it (``with``) when done.
        """
        response = self._send(method, url, what=what, headers=headers, data=data)
        if response.status != 401:
            return response
        response.close()
        self._refuse_foreign(response, what)
        self._authorization = self._answer(response, what)
        if data is not None and not isinstance(data, bytes):
            data.seek(0)
        response = self._send(method, url, what=what, headers=headers, data=data)
        if response.status == 401:
            response.close()
            self._refuse_foreign(response, what)
            raise self._denied(what)
        return response

    def _refuse_foreign(self, response: Response, what: str) -> None:
        """A challenge from another server (the registry sent the request on) is not ours to
        answer: doing so would hand it this registry's credentials or its token realm's."""
        if url_origin(response.url) != self.origin:
            raise AuthenticationError(
                f"{self.host} sent {what} on to {urlsplit(response.url).hostname}, which asks "
                "for credentials; refusing to send them to another server"
            )

    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None,
        data: bytes | IO[bytes] | None,
    ) -> Response:
        sent = dict(headers or {})
        if self._authorization and url_origin(url) == self.origin:  # not to an upload elsewhere
            sent["Authorization"] = self._authorization
        try:
            return self.client.request(method, url, headers=sent, body=data)
        except TransferError as exc:
            if exc.tls:
                raise RegistryError(
                    f"TLS failure talking to {self.host} for {what} ({exc.reason}); fix the "
                    f"certificate, or if it speaks plain HTTP, declare it insecure: {INSECURE_HELP}"
                ) from None
            retried = self.client.retry.client_retries(method, sent=exc.sent)
            raise (RegistryUnavailableError if retried else RepeatableError)(
                f"cannot reach {self.host} for {what} ({exc.reason}); check the address "
                "and that the registry is running"
            ) from None

    def _answer(self, response: Response, what: str) -> str:
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge.scheme == "bearer":
            credentials, hint = self._realm_credentials(challenge)
            token = fetch_token(self.client, challenge, credentials, host=self.host, hint=hint)
            return f"Bearer {token}"
        if challenge.scheme != "basic":
            raise AuthenticationError(
                f"{self.host} asks for unsupported authentication {challenge.scheme!r} for {what}"
            )
        if self.credentials is None:
            raise self._denied(what)
        if self.origin is None or not may_carry_credentials(self.origin):
            raise AuthenticationError(
                f"{self.host} asks for credentials for {what} over plain HTTP; they are only "
                "sent over HTTPS (or to a loopback address): serve the registry over HTTPS"
            )
        return self.credentials.basic_header()

    def _realm_credentials(self, challenge: Challenge) -> tuple[Credentials | None, str]:
        """What the token realm may receive, and how to give it some if it has none: the
        registry's credentials on its own origin, elsewhere only those stored for the realm's
        host and only when the registry has credentials of its own, and nothing over plain
        HTTP to a host that is not loopback."""
        realm = challenge.params.get("realm", "")
        origin = url_origin(realm)
        if origin is None:
            raise AuthenticationError(
                f"{self.host} asks for a bearer token from {realm!r}, not an http(s) URL "
                "without user info; the registry's authentication is misconfigured"
            )
        if origin == self.origin:
            credentials, hint = self.credentials, self.keychain.hint(self.host)
        elif self.credentials is None:
            # The token goes to the registry: minted with what the user stored for the realm's
            # host, it would hand a registry they never logged in to (one an index names) a
            # token that acts as them on another registry, for a scope the challenge chose.
            credentials = None
            hint = (
                f"the token server is on another host, which gets credentials only for a "
                f"registry that has some: run 'docker login {self.host}'"
            )
        else:
            realm_host = url_host(realm)
            credentials = self.keychain.find(realm_host)
            hint = (
                f"the token server is on another host, which gets only credentials stored for "
                f"it: run 'docker login {realm_host}' or configure a credential helper"
            )
        if credentials is not None and not may_carry_credentials(origin):
            raise AuthenticationError(
                f"{self.host} asks for a bearer token from {realm}, over plain HTTP; refusing "
                "to send credentials there: the token server must use HTTPS"
            )
        return credentials, hint

    def _denied(self, what: str) -> AuthenticationError:
        if self.credentials is None:
            return AuthenticationError(
                f"authentication required: {self.host} asks for credentials for {what}; "
                + self.keychain.hint(self.host)
            )
        return AuthenticationError(
            f"{self.host} rejected the credentials of user {self.credentials.username!r} for "
            f"{what}; check the user name and password"
        )

    def check(self, response: Response, what: str, expected: int = 200) -> None:
        """Raise the error that matches an unexpected status (the response is then closed)."""
        status = response.status
        if status == expected:
            return
        detail = _error_detail(response)
        response.close()
        if status == 403:
            raise AuthenticationError(
                f"{self.host} denied {what}{detail}; the account lacks permission for it"
            )
        if status == 404:
            raise NotFoundError(f"{what} not found on {self.host}{detail}; check the reference")
        if status in RETRY_STATUSES:
            retried = self.client.retry.client_retries(response.method, sent=True)
            raise (RegistryUnavailableError if retried else RepeatableError)(
                f"{self.host} failed {what} with HTTP {status}{detail}; try again later"
            )
        raise RegistryError(f"{self.host} refused {what} with HTTP {status}{detail}")

    def retrying(self, operation: Callable[[], T]) -> T:
        """Run a whole operation again, with the client's backoff, after a failure the client
        did not retry itself (:class:`RepeatableError`); any other failure ends it at once."""
        policy = self.client.retry
        for retry in range(1, policy.retries + 1):
            try:
                return operation()
            except RepeatableError:
                time.sleep(policy.delay(retry))
        return operation()


def _error_detail(response: Response) -> str:
    """`` (CODE: message)`` from a distribution error body, or nothing."""
    if response.method == "HEAD":
        return ""
    try:
        errors = response.json(limit=65536).get("errors")
    except (ValueError, AttributeError, TooLargeError, TransferError):
        return ""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    # The registry's words: cut, so that an answer of 64 KiB is not a 64 KiB error line.
    code, message = clip(first.get("code", "ERROR")), clip(first.get("message", ""), DETAIL_LIMIT)
    return f" ({code}: {message})"
