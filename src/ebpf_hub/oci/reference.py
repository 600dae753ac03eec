"""Parse the references users and the index write: a registry repository or an OCI layout.

Accepted forms:

* ``HOST[:PORT]/NAMESPACE/NAME:TAG`` and ``HOST[:PORT]/NAMESPACE/NAME@sha256:HEX`` (both may
  be given; the digest then wins; ``HOST`` is a name, an IPv4 address or ``[IPv6]``). The host
  is required, there is no implicit default registry: the client decides which registry to
  prepend, not this parser.
* ``oci:DIR``, ``oci:DIR:TAG`` and ``oci:DIR@sha256:HEX``: an OCI image layout directory holding
  one repository, whose tags are the ``org.opencontainers.image.ref.name`` annotations of its
  ``index.json``. This is skopeo's ``oci:`` syntax (``DIR`` ends at the first ``:``), so
  ``oci:build/oci/NAME:TAG`` addresses the layout ``build/oci/NAME`` and both tools agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ebpf_hub.oci.digest import check_digest
from ebpf_hub.oci.errors import InvalidReferenceError
from ebpf_hub.oci.hosts import parse_host
from ebpf_hub.safetext import quote

LAYOUT_PREFIX = "oci:"
_FORMS = "HOST[:PORT]/NAMESPACE/NAME:TAG, HOST[:PORT]/NAMESPACE/NAME@sha256:HEX or oci:DIR[:TAG]"
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_MAX_REPOSITORY_LENGTH = 255


def check_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid OCI tag, else raise."""
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReferenceError(
            f"invalid tag {quote(tag)}: use letters, digits, '_', '.' and '-' (at most 128, "
            "not starting with '.' or '-')"
        )
    return tag


def is_name_component(text: str) -> bool:
    """Whether ``text`` is one component of a repository name in the OCI grammar (lowercase
    letters and digits with single separators: never empty, ``.`` or ``..``)."""
    return _COMPONENT_RE.fullmatch(text) is not None


@dataclass(frozen=True)
class RegistryReference:
    """A repository on a registry, optionally with a tag and/or a digest."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``HOST/REPOSITORY``: the identity signatures name."""
        return f"{self.host}/{self.repository}"

    def __str__(self) -> str:
        return self.name + _suffix(self.tag, self.digest)


@dataclass(frozen=True)
class LayoutReference:
    """An OCI image layout directory, optionally with a tag and/or a digest."""

    path: Path
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``oci:DIR``, the layout's identity."""
        return f"{LAYOUT_PREFIX}{self.path}"

    def __str__(self) -> str:
        return self.name + _suffix(self.tag, self.digest)


Reference = Union[RegistryReference, LayoutReference]


def _suffix(tag: str | None, digest: str | None) -> str:
    return (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _fail(text: str, reason: str) -> InvalidReferenceError:
    return InvalidReferenceError(f"invalid reference {quote(text)}: {reason}; expected {_FORMS}")


def _split_digest(text: str, rest: str) -> tuple[str, str | None]:
    if "@" not in rest:
        return rest, None
    rest, digest = rest.rsplit("@", 1)
    try:
        check_digest(digest)
    except InvalidReferenceError:
        raise _fail(text, f"bad digest {quote(digest)}") from None
    return rest, digest


def _split_tag(text: str, rest: str, *, at_first: bool) -> tuple[str, str | None]:
    if ":" not in rest:
        return rest, None
    rest, tag = rest.split(":", 1) if at_first else rest.rsplit(":", 1)
    if not _TAG_RE.fullmatch(tag):
        raise _fail(text, f"bad tag {quote(tag)}")
    return rest, tag


def _is_host(text: str) -> bool:
    """Like docker: a first component is a host if it has a '.' or a port, is localhost, or is
    a bracketed IPv6 address; and it must be a plain ``HOST[:PORT]`` (no user info)."""
    looks_like_host = "." in text or ":" in text or text == "localhost" or text.startswith("[")
    try:
        parse_host(text)
    except ValueError:
        return False
    return looks_like_host


def parse_reference(text: str) -> Reference:
    """Parse ``text`` into a registry or a layout reference, or raise a one-line error."""
    if text.startswith(LAYOUT_PREFIX):
        rest, digest = _split_digest(text, text[len(LAYOUT_PREFIX) :])
        path, tag = _split_tag(text, rest, at_first=True)
        if not path:
            raise _fail(text, "the layout directory is empty")
        return LayoutReference(Path(path), tag, digest)
    rest, digest = _split_digest(text, text)
    host, slash, rest = rest.partition("/")
    if not slash or not _is_host(host):
        raise _fail(text, "it does not start with a registry host")
    repository, tag = _split_tag(text, rest, at_first=False)
    components = repository.split("/")
    if not all(_COMPONENT_RE.fullmatch(part) for part in components):
        raise _fail(
            text, f"bad repository {quote(repository)} (lowercase letters, digits, '.', '_', '-')"
        )
    if len(repository) > _MAX_REPOSITORY_LENGTH:
        raise _fail(text, f"the repository is longer than {_MAX_REPOSITORY_LENGTH} characters")
    return RegistryReference(host, repository, tag, digest)
