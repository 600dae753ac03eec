"""Registry hosts: what a ``HOST[:PORT]`` is, which ones are the same, which may use plain HTTP.

Plain HTTP is only for registries whose traffic never leaves the machine: the name
``localhost`` itself and loopback IP literals (127.0.0.0/8, ``[::1]``). Deciding by prefix is
not enough: ``localhost.attacker.example`` and ``127.0.0.1.nip.io`` are names that anyone can
point anywhere. A host is therefore loopback only if it *is* ``localhost`` or parses as a
loopback address in canonical form; anything else, including spellings a resolver would still
take to 127.0.0.1 (``127.1``, ``localhost.``), needs HTTPS unless the user declares it an
insecure registry. Credentials are scoped by the same canonical form, so ``GHCR.io`` and
``ghcr.io`` share them and ``ghcr.io:5000`` does not.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

LOCALHOST = "localhost"
INSECURE_REGISTRIES_ENV = "EBPF_HUB_INSECURE_REGISTRIES"
INSECURE_HELP = (
    f"pass --insecure-registry HOST[:PORT], set {INSECURE_REGISTRIES_ENV} or the config file's "
    "insecure_registries (publish: --insecure)"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_NAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Host(NamedTuple):
    """A parsed ``HOST[:PORT]``: a lowercase DNS name or an IP address, and maybe a port."""

    name: str  # lowercase ASCII name, or an IP address in its compressed form
    port: int | None = None

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The address if the host is an IP literal, else None."""
        try:
            return ipaddress.ip_address(self.name)
        except ValueError:
            return None

    @property
    def is_loopback(self) -> bool:
        """``localhost`` itself, or an address in 127.0.0.0/8 or ``::1``."""
        ip = self.ip
        return self.name == LOCALHOST if ip is None else ip.is_loopback

    def __str__(self) -> str:
        name = f"[{self.name}]" if ":" in self.name else self.name
        return name if self.port is None else f"{name}:{self.port}"


def parse_host(text: str) -> Host:
    """Parse ``name``, ``name:port``, ``1.2.3.4[:port]`` or ``[v6][:port]``; ValueError if not.

    Nothing else is a host: no user info (``user@host``), no path, no unbracketed IPv6, no
    trailing dot, no non-ASCII (IDNA) names, which registries are not reachable by anyway.
    """
    if not text.isascii():
        raise ValueError(f"{text!r} is not an ASCII host name")
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise ValueError(f"{text!r} has no closing ']'")
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(address)
        name = str(ip)
    else:
        name, colon, port_text = text.partition(":")
        rest = colon + port_text
        name = name.lower()
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"{text!r} is not HOST[:PORT]")
    if not rest:
        return Host(name)
    port_text = rest.removeprefix(":")
    if not rest.startswith(":") or not _PORT_RE.fullmatch(port_text):
        raise ValueError(f"{text!r} has a bad port")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"{text!r} has a port out of range")
    return Host(name, port)


def canonical_host(text: str) -> str | None:
    """The canonical spelling of a ``HOST[:PORT]`` (lowercase, compressed IPv6), or None."""
    try:
        return str(parse_host(text))
    except ValueError:
        return None


def is_loopback(text: str) -> bool:
    """True only for ``localhost`` and loopback IP literals, with or without a port."""
    try:
        return parse_host(text).is_loopback
    except ValueError:
        return False


def plain_http_allowed(host: str, insecure_registries: Iterable[str] = ()) -> bool:
    """May ``host`` be spoken to in plain HTTP: it is loopback, or the user declared it so.

    ``insecure_registries`` are ``HOST[:PORT]`` entries matched exactly (a port must match too).
    """
    canonical = canonical_host(host)
    if canonical is None:
        return False
    declared = {canonical_host(entry) for entry in insecure_registries}
    return is_loopback(host) or canonical in declared


Origin = tuple[str, str, int]  # scheme, host (canonical), port: what credentials are bound to


def url_origin(url: str) -> Origin | None:
    """The origin of an http(s) URL, or None for anything else (other schemes, user info)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc:
        return None
    try:
        host = parse_host(parts.netloc)
    except ValueError:
        return None
    return scheme, host.name, host.port or _DEFAULT_PORTS[scheme]


def url_host(url: str) -> str:
    """The ``HOST[:PORT]`` of a URL as written, the key its credentials are stored under."""
    return str(parse_host(urlsplit(url).netloc))


def may_carry_credentials(origin: Origin) -> bool:
    """Credentials travel over HTTPS, or over plain HTTP only to a loopback host."""
    scheme, name, _ = origin
    return scheme == "https" or Host(name).is_loopback
