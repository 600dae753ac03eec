"""HTTP to one registry host: timeouts, retries, the authentication handshake, error mapping.

Retries are split by what is safe to repeat. The HTTP client (`ebpf_hub.httpclient`) retries
connection failures of every request, and the reads (GET, HEAD) that end in a 429 or 5xx or
break, honouring ``Retry-After``. Writes (POST, PUT) that reached the registry are not
retried there: a blob PUT that broke half-way leaves a dead upload session behind, so
:meth:`Transport.retrying` repeats the whole write operation instead. Every request has a
connect and a read timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import IO, TypeVar

from ebpf_hub import __version__
from ebpf_hub.httpclient import RETRY_STATUSES, Client, Response, TooLargeError, TransferError
from ebpf_hub.oci.auth import Credentials, fetch_token, login_hint, parse_challenge
from ebpf_hub.oci.errors import (
    AuthenticationError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
)

DEFAULT_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
BACKOFF = 0.25
T = TypeVar("T")


class Transport:
    """An HTTP client bound to one registry host, with its credentials and token."""

    def __init__(
        self,
        host: str,
        *,
        insecure: bool = False,
        credentials: Credentials | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.host = host
        self.base_url = f"{'http' if insecure else 'https'}://{host}"
        self.credentials = credentials
        self.attempts = retries + 1
        self._authorization: str | None = None
        self.client = Client(
            timeout=timeout,
            connect_timeout=CONNECT_TIMEOUT,
            retries=retries,
            backoff=BACKOFF,
            user_agent=f"ebpf-hub/{__version__}",
        )

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
        self._authorization = self._answer(response, what)
        if data is not None and not isinstance(data, bytes):
            data.seek(0)
        response = self._send(method, url, what=what, headers=headers, data=data)
        if response.status == 401:
            response.close()
            raise self._denied(what)
        return response

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
        if self._authorization:
            sent["Authorization"] = self._authorization
        try:
            return self.client.request(method, url, headers=sent, body=data)
        except TransferError as exc:
            if exc.tls:
                raise RegistryError(
                    f"TLS failure talking to {self.host} for {what} ({exc.reason}); fix the "
                    "certificate, or pass --insecure if the registry speaks plain HTTP"
                ) from None
            raise RegistryUnavailableError(
                f"cannot reach {self.host} for {what} ({exc.reason}); check the address "
                "and that the registry is running"
            ) from None

    def _answer(self, response: Response, what: str) -> str:
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge.scheme == "bearer":
            token = fetch_token(self.client, challenge, self.credentials, host=self.host)
            return f"Bearer {token}"
        if challenge.scheme == "basic" and self.credentials is not None:
            return self.credentials.basic_header()
        if challenge.scheme == "basic":
            raise self._denied(what)
        raise AuthenticationError(
            f"{self.host} asks for unsupported authentication {challenge.scheme!r} for {what}"
        )

    def _denied(self, what: str) -> AuthenticationError:
        if self.credentials is None:
            return AuthenticationError(
                f"authentication required: {self.host} asks for credentials for {what}; "
                + login_hint(self.host)
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
            raise RegistryUnavailableError(
                f"{self.host} failed {what} with HTTP {status}{detail}; try again later"
            )
        raise RegistryError(f"{self.host} refused {what} with HTTP {status}{detail}")

    def retrying(self, operation: Callable[[], T]) -> T:
        """Run a whole operation again, with backoff, while the registry is unavailable."""
        for retry in range(1, self.attempts):
            try:
                return operation()
            except RegistryUnavailableError:
                time.sleep(self.client.delay(retry))
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
    return f" ({first.get('code', 'ERROR')}: {first.get('message', '')})"
