"""Reading the hub's JSON index: `api/v1/index.json` and `api/v1/packages/<name>.json`.

A hub whose TUF root this user installed (`ebpf-hub trust install-root`) is read only through
`ebpf_hub.trust.client`: every file is verified from that root down (signatures, versions,
expiry, hashes), and any refusal stops the command. A hub without one is read as below, and
its index is as trustworthy as the connection to it; the artifacts are verified either way.

Over HTTP(S) every file is fetched with a conditional GET and kept in the cache with its ETag,
so an unchanged index costs a 304 and an unreachable hub falls back to the last copy. A
`file://` URL or a plain directory is read in place (a local or offline hub). Everything is
checked against the index's JSON Schemas before it is returned: the rest of the client can
then trust the shape of what it reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ebpf_hub.client.console import say
from ebpf_hub.client.names import check_name
from ebpf_hub.client.settings import HUB_URL_ENV, Settings
from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import UnsafePathError, open_regular, write_atomic
from ebpf_hub.httpclient import RETRY_STATUSES, Client, TooLargeError, TransferError
from ebpf_hub.paths import cache_dir
from ebpf_hub.privatedir import private_dir
from ebpf_hub.safetext import quote
from ebpf_hub.schemas import first_error
from ebpf_hub.trust.roots import installed_root

if TYPE_CHECKING:
    from ebpf_hub.model.index import IndexPackage, IndexSummary
    from ebpf_hub.trust.client import TrustedIndex

MIB = 1024 * 1024
INDEX_LIMIT = 64 * MIB
PACKAGE_LIMIT = 4 * MIB
API_PATH = "api/v1/"
INDEX_FILE = "index.json"
INDEX_SCHEMA = "index.schema.json"
PACKAGE_SCHEMA = "package-index.schema.json"


class _NotFound(Exception):
    """The file is not on the hub (HTTP 404, or no such file in a local hub)."""


class _Unreachable(Exception):
    """The hub did not answer usefully, even after retries; the message is the reason."""


@dataclass(frozen=True)
class _Fetched:
    body: bytes
    etag: str | None
    fresh: bool  # downloaded just now: to be cached once it proved valid


@dataclass(frozen=True)
class _CacheEntry:
    body: bytes
    etag: str | None
    fetched: str  # ISO 8601 UTC time of the download


class HubIndex:
    """The index of one hub, read lazily: each file is fetched at most once per instance.

    `client` is the command's HTTP client, shared with its registries; without one the index
    opens its own, from `settings`, and closes it with itself. An `offline` index never asks
    the hub: it reads a local hub in place and an HTTP(S) one from the cache alone, for what
    must answer at once whatever the network does (`list`, shell completion). A `mirror` (the
    hub's files an offline bundle carries, `ebpf_hub.client.bundle`) is read instead of the
    hub, and only through the hub's signed index.
    """

    def __init__(
        self,
        settings: Settings,
        client: Client | None = None,
        *,
        offline: bool = False,
        mirror: Path | None = None,
    ) -> None:
        self.settings = settings
        self._base = settings.hub_url if settings.hub_url.endswith("/") else settings.hub_url + "/"
        self._local = _local_root(self._base)
        key = hashlib.sha256(self._base.encode()).hexdigest()[:24]
        self._cache_root = cache_dir() / "index" / key
        self._client = client
        self._owns_client = client is None
        self._documents: dict[str, dict[str, Any]] = {}
        self._noticed = False
        self._offline = offline
        self._signed: TrustedIndex | None = None
        self._signed_checked = False
        self._mirror = mirror

    def __enter__(self) -> HubIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections, if the index opened them."""
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def summaries(self) -> list[IndexSummary]:
        """Every package as `index.json` lists it (name, summary, categories, versions...)."""
        from ebpf_hub.model.index import IndexSummary

        return [IndexSummary.from_json(p) for p in self._index()["packages"]]

    def registry(self) -> str:
        """The registry to pull from: the configured one, else the one the index names."""
        return self.settings.registry_for(self._index()["registry"])

    def package(self, name: str) -> IndexPackage:
        """One package in full (`packages/<name>.json`); an unknown name suggests close ones."""
        check_name(name)
        try:
            entry = self._document(f"packages/{name}.json", PACKAGE_SCHEMA, PACKAGE_LIMIT)
        except _NotFound:
            raise self._unknown(name) from None
        if entry["name"] != name:
            raise HubError(
                f"{self._where(f'packages/{name}.json')} describes {entry['name']!r}, "
                f"not {quote(name)}",
                hint="the hub is inconsistent, report it to the hub",
            )
        from ebpf_hub.model.index import IndexPackage  # typed only when a package is asked for

        return IndexPackage.from_json(entry)

    def _index(self) -> dict[str, Any]:
        try:
            return self._document(INDEX_FILE, INDEX_SCHEMA, INDEX_LIMIT)
        except _NotFound:
            hint = (
                "write one with `ebpf-hub index --out DIR`, or " if self._local is not None else ""
            )
            raise HubError(
                f"no hub index at {self._where(INDEX_FILE)}",
                hint=f"{hint}check --hub / {HUB_URL_ENV}",
            ) from None

    def _document(self, relative: str, schema: str, limit: int) -> dict[str, Any]:
        if relative not in self._documents:
            signed = self._signed_index()
            if signed is not None:
                fetched = _verified(signed, relative, limit, self._where(relative))
            elif self._local is not None:
                fetched = _read_local(self._local / API_PATH / relative, limit)
            else:
                fetched = self._fetch(relative, limit)
            data = _decode(fetched.body, schema, self._where(relative))
            if fetched.fresh:
                self._store(relative, fetched)
            self._documents[relative] = data
        return self._documents[relative]

    def trusted(self) -> TrustedIndex:
        """The hub's TUF-verified index; refused when no root is installed for the hub."""
        signed = self._signed_index()
        if signed is None:
            raise self._no_root()
        return signed

    def _no_root(self) -> HubError:
        return HubError(
            f"no trusted root for the hub at {self._base}: its index is not verified",
            hint="install the hub's root.json with `ebpf-hub trust install-root FILE`",
        )

    def _signed_index(self) -> TrustedIndex | None:
        """The hub's TUF-verified index when a root is installed for it, else None; python-tuf
        is imported only then."""
        if not self._signed_checked:
            self._signed_checked = True
            hub = self._local if self._local is not None else self._base
            root = installed_root(hub)
            if root is None and self._mirror is not None:
                raise self._no_root()  # a mirror is only ever read verified
            if root is not None:
                from ebpf_hub.trust.client import TrustedIndex

                if self._client is None:
                    self._client = self.settings.http_client()
                self._signed = TrustedIndex(
                    hub,
                    self._client,
                    root=root,
                    notice=self._notice,
                    offline=self._offline,
                    mirror=self._mirror,
                )
        return self._signed

    def _where(self, relative: str) -> str:
        if self._local is not None:
            return str(self._local / API_PATH / relative)
        return self._base + API_PATH + relative

    def _fetch(self, relative: str, limit: int) -> _Fetched:
        """A conditional GET; on 304, or when the hub cannot be reached, the cached copy."""
        cached = self._cached(relative)
        if self._offline:
            if cached is None:
                raise HubError(
                    f"no copy of {self._where(relative)} is cached yet",
                    hint="`ebpf-hub outdated` fetches the index",
                )
            return _Fetched(cached.body, cached.etag, fresh=False)
        try:
            status, body, etag = self._get(
                self._where(relative), cached.etag if cached else None, limit
            )
        except _Unreachable as exc:
            if cached is None:
                raise HubError(
                    f"cannot reach the hub at {self._base} ({exc})",
                    hint=f"check --hub / {HUB_URL_ENV} or your network",
                ) from None
            self._notice(
                f"hub unreachable ({exc}); using the cached index from "
                f"{cached.fetched.replace('T', ' ').replace('Z', ' UTC')}"
            )
            return _Fetched(cached.body, cached.etag, fresh=False)
        if status == 304 and cached is not None:
            return _Fetched(cached.body, cached.etag, fresh=False)
        return _Fetched(body, etag, fresh=True)

    def _get(self, url: str, etag: str | None, limit: int) -> tuple[int, bytes, str | None]:
        """(status, body, ETag) of a GET of `url`, retried by the client on transient errors."""
        if self._client is None:
            self._client = self.settings.http_client()
        headers = {"If-None-Match": etag} if etag else {}
        try:
            with self._client.request("GET", url, headers=headers) as response:
                status = response.status
                if status == 200:
                    return status, response.read(limit), response.headers.get("ETag")
        except TooLargeError:
            raise HubError(_too_big(url, limit)) from None
        except TransferError as exc:
            raise _Unreachable(exc.reason) from None
        if status == 304 and etag:
            return status, b"", etag
        if status in (404, 410):
            raise _NotFound
        if status in RETRY_STATUSES:
            raise _Unreachable(f"HTTP {status}")
        raise HubError(f"the hub answered HTTP {status} for {url}; check --hub / {HUB_URL_ENV}")

    def _cached(self, relative: str) -> _CacheEntry | None:
        """The cached copy: a JSON header line (ETag, time, body hash), then the body.

        One file, written atomically, so the ETag can never describe another body; a copy
        whose hash does not match, or a link in its place, is ignored (and replaced by the
        next download). So is a cache in another user's directory: `_store` then refuses it.
        """
        try:
            with open_regular(self._cache_path(relative)) as handle:
                raw = handle.read()
        except (OSError, UnsafePathError):
            return None
        head, _, body = raw.partition(b"\n")
        try:
            meta = json.loads(head)
        except ValueError:
            return None
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return _CacheEntry(body, meta.get("etag"), str(meta.get("fetched")))

    def _store(self, relative: str, fetched: _Fetched) -> None:
        from datetime import datetime, timezone  # only after a download, never on a 304

        meta = {
            "etag": fetched.etag,
            "fetched": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sha256": hashlib.sha256(fetched.body).hexdigest(),
            "url": self._where(relative),
        }
        path = self._cache_root / relative
        try:
            body = json.dumps(meta, sort_keys=True).encode() + b"\n" + fetched.body
            write_atomic(self._cache_path(relative), body, durable=False)  # torn: fails its hash
        except OSError as exc:
            raise HubError(
                f"cannot write the index cache {path} ({exc.strerror})",
                hint="check its permissions or set XDG_CACHE_HOME",
            ) from None

    def _cache_path(self, relative: str) -> Path:
        """Where the copy of `relative` is cached, its directory created and checked."""
        path = self._cache_root / relative
        private_dir(cache_dir(), *path.parent.relative_to(cache_dir()).parts)
        return path

    def _notice(self, message: str) -> None:
        """One line on stderr, once: the output stays clean for --json readers."""
        if not self._noticed:
            self._noticed = True
            say(f"ebpf-hub: {message}")

    def _unknown(self, name: str) -> HubError:
        import difflib

        names = [p.name for p in self.summaries()]
        if name in names:
            return HubError(
                f"the hub lists {quote(name)} but has no {API_PATH}packages/{name}.json",
                hint="it may be updating, try again shortly",
            )
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"did you mean: {', '.join(close)}?" if close else "`ebpf-hub search` lists them"
        return HubError(f"no package named {quote(name)} on the hub at {self._base}", hint=hint)


def _decode(body: bytes, schema_name: str, where: str) -> dict[str, Any]:
    """The JSON document in `body`, or a one-line error naming the first thing wrong with it."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise HubError(
            f"{where} is not valid JSON ({exc})", hint="check --hub, or report it to the hub"
        ) from None
    error = first_error(schema_name, data)
    if error is not None:
        raise HubError(
            f"{where} is not a valid eBPF Hub index file ({error})",
            hint="check --hub, or report it to the hub",
        )
    decoded: dict[str, Any] = data
    return decoded


def _verified(signed: TrustedIndex, relative: str, limit: int, where: str) -> _Fetched:
    """`relative` as the signed index has it (verified against the signed length and hash)."""
    body = signed.fetch(relative)
    if body is None:
        raise _NotFound
    if len(body) > limit:
        raise HubError(_too_big(where, limit))
    return _Fetched(body, None, fresh=False)  # the TUF client keeps its own verified cache


def _local_root(base: str) -> Path | None:
    """The directory of a local hub (`file://` URL or a path), or None for an HTTP(S) hub."""
    if base.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(base)
        if parts.netloc not in ("", "localhost"):
            raise HubError(
                f"hub URL {base!r}: file:// URLs cannot name a host", hint="use file:///PATH"
            )
        return Path(unquote(parts.path))
    if base.startswith(("http://", "https://")):
        return None
    return Path(base).expanduser().absolute()


def _read_local(path: Path, limit: int) -> _Fetched:
    try:
        with path.open("rb") as handle:
            body = handle.read(limit + 1)
    except FileNotFoundError:
        raise _NotFound from None
    except OSError as exc:
        raise HubError(
            f"cannot read {path} ({exc.strerror})", hint=f"check --hub / {HUB_URL_ENV}"
        ) from None
    if len(body) > limit:
        raise HubError(_too_big(str(path), limit))
    return _Fetched(body, None, fresh=False)


def _too_big(where: str, limit: int) -> str:
    return f"{where} is larger than {limit // MIB} MiB; refusing it (check --hub / {HUB_URL_ENV})"
