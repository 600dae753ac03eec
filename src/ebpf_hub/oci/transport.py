"""HTTP to one registry host: timeouts, retries, the authentication handshake, error mapping.

Retries are split by what is safe to repeat. urllib3 retries connection failures of every
request and the reads (GET, HEAD) that end in a 429 or 5xx, honouring ``Retry-After``. Writes
(POST, PUT) are not retried by urllib3: a blob PUT that broke half-way leaves a dead upload
session behind, so :meth:`Transport.retrying` repeats the whole write operation instead.
Every request has a connect and a read timeout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import BinaryIO, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

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
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ERRNO_RE = re.compile(r"\[Errno -?\d+\][^'\")]*")
T = TypeVar("T")


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): exponential, capped."""
    return float(min(0.25 * 2**attempt, 8.0))


def _reason(exc: Exception) -> str:
    """A short cause for a one-line message (requests' own text nests several reprs)."""
    match = _ERRNO_RE.search(str(exc))
    return match.group(0).strip() if match else type(exc).__name__


class Transport:
    """A requests session bound to one registry host."""

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
        self.timeout = timeout
        self.attempts = retries + 1
        self._authorization: str | None = None
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=0.25,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

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
        data: bytes | BinaryIO | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send a request, answering one authentication challenge if the registry makes it."""
        response = self._send(method, url, what=what, headers=headers, data=data, stream=stream)
        if response.status_code != 401:
            return response
        response.close()
        self._authorization = self._answer(response, what)
        if data is not None and not isinstance(data, bytes):
            data.seek(0)
        response = self._send(method, url, what=what, headers=headers, data=data, stream=stream)
        if response.status_code == 401:
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
        data: bytes | BinaryIO | None,
        stream: bool,
    ) -> requests.Response:
        sent = dict(headers or {})
        if self._authorization:
            sent["Authorization"] = self._authorization
        try:
            return self.session.request(
                method,
                url,
                headers=sent,
                data=data,
                stream=stream,
                timeout=(CONNECT_TIMEOUT, self.timeout),
            )
        except requests.exceptions.SSLError as exc:
            raise RegistryError(
                f"TLS failure talking to {self.host} for {what} ({_reason(exc)}); fix the "
                "certificate, or pass --insecure if the registry speaks plain HTTP"
            ) from None
        except requests.RequestException as exc:
            raise RegistryUnavailableError(
                f"cannot reach {self.host} for {what} ({_reason(exc)}); check the address "
                "and that the registry is running"
            ) from None

    def _answer(self, response: requests.Response, what: str) -> str:
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge.scheme == "bearer":
            token = fetch_token(
                self.session, challenge, self.credentials, host=self.host, timeout=self.timeout
            )
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

    def check(self, response: requests.Response, what: str, expected: int = 200) -> None:
        """Raise the error that matches an unexpected status (the response is then closed)."""
        status = response.status_code
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
        """Run a whole write operation again, with backoff, while the registry is unavailable."""
        for attempt in range(self.attempts - 1):
            try:
                return operation()
            except RegistryUnavailableError:
                time.sleep(backoff_delay(attempt))
        return operation()


def _error_detail(response: requests.Response) -> str:
    """`` (CODE: message)`` from a distribution error body, or nothing."""
    if response.request.method == "HEAD":
        return ""
    try:
        body = next(response.iter_content(65536), b"")
        errors = json.loads(body).get("errors") if body else None
    except (ValueError, AttributeError, requests.RequestException):
        return ""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    return f" ({first.get('code', 'ERROR')}: {first.get('message', '')})"
