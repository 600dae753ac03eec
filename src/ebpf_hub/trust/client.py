"""The client's side: verified bytes of the hub's index files, through python-tuf's updater.

`TrustedIndex(hub_url, client).fetch("packages/execsnoop.json")` returns the file's bytes only
after python-tuf has walked from the trusted root (`trust install-root`) to the newest one and
checked the timestamp, the snapshot, the top-level targets and the one hashed bin that names
the file, each signed by the keys its delegator names, none expired, none older than what this
client verified before. Metadata and verified files are cached under
`$XDG_CACHE_HOME/ebpf-hub/tuf/<hub>/`: when the hub cannot be reached the same checks run on
the cache, which serves until its metadata expires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from tuf.ngclient import Updater, UpdaterConfig
from tuf.ngclient.fetcher import FetcherInterface

from ebpf_hub.errors import HubError
from ebpf_hub.fsutil import UnsafePathError, open_regular, write_atomic
from ebpf_hub.httpclient import Client
from ebpf_hub.locking import LockTimeout, file_lock
from ebpf_hub.paths import cache_dir, config_dir
from ebpf_hub.privatedir import private_dir
from ebpf_hub.trust.fetcher import CachedFetcher, HubFetcher, Unreachable
from ebpf_hub.trust.metadata import METADATA_DIR, now, parse
from ebpf_hub.trust.refusals import Context, refusal
from ebpf_hub.trust.roots import ROOT_FILE, TRUST_DIR, hub_base, hub_key, installed_root

API_PATH = "api/v1/"
LOCK_FILE = "lock"
LOCK_TIMEOUT = 60.0  # seconds to wait for another client updating the same cache
# The snapshot gives the bins no length: these bound what a server may send for one (a bin of
# a 10,000-package hub is about 10 KB), and for the timestamp, before anything is verified.
_CONFIG = UpdaterConfig(
    max_root_rotations=64, timestamp_max_length=16 * 1024, targets_max_length=4 * 1024 * 1024
)
_REFUSED = (tuf_errors.RepositoryError, tuf_errors.DownloadError)
_ROOT_HISTORY = "root_history"  # python-tuf's directory of trusted roots, in its cache
_ROOT_FILE = re.compile(r"[0-9]{1,12}\.root\.json")

Notice = Callable[[str], None]


@dataclass(frozen=True)
class RootInfo:
    """A trusted root: where it is kept, its version and expiry, its root keys' threshold."""

    path: Path
    version: int
    expires: str
    threshold: int
    keys: int


def install_root(source: Path, hub_url: str, *, replace: bool = False) -> RootInfo:
    """Trust `source` (a `root.json`) for `hub_url` from now on: checked to be root metadata
    signed by its own threshold of keys and not expired, then copied under the config
    directory. An installed root is replaced only with `replace`: later roots reach the
    client signed by this one, through the hub, with no command."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise HubError(
            f"cannot read {source} ({exc.strerror})", hint="pass the hub's root.json"
        ) from None
    root = parse(data, Root, str(source))
    try:
        root.signed.verify_delegate(Root.type, root.signed_bytes, root.signatures)
    except tuf_errors.UnsignedMetadataError as exc:
        raise HubError(
            f"{source} is not signed by its own root keys ({exc})",
            hint="ask the hub for its root.json again",
        ) from None
    if root.signed.is_expired(now()):
        raise HubError(
            f"{source} expired at {root.signed.expires:%Y-%m-%d %H:%M:%S} UTC",
            hint="ask the hub for its newest root.json",
        )
    path = private_dir(config_dir(), TRUST_DIR, hub_key(hub_url)) / ROOT_FILE
    if path.exists() and not replace and path.read_bytes() != data:
        raise HubError(
            f"a different root is already trusted for {hub_base(hub_url)} ({path})",
            hint="pass --force to replace it, once you know why it changed",
        )
    write_atomic(path, data)
    role = root.signed.roles[Root.type]
    return RootInfo(
        path,
        root.signed.version,
        f"{root.signed.expires:%Y-%m-%dT%H:%M:%SZ}",
        role.threshold,
        len(role.keyids),
    )


class TrustedIndex:
    """Verified files of one hub's `api/v1`, fetched over `client`.

    `hub_url` is the hub's URL, or the directory of a local hub (read in place, verified
    all the same); `root` is the trusted root's bytes (default: the one installed for the
    hub); `notice` receives the one line saying the cache serves because the hub is
    unreachable; an `offline` index never asks the hub (shell completion, `list`). A `mirror`
    (a directory laid out as the hub's `api/v1`: an imported bundle) is read instead of the
    hub, verified against the same root into the same cache, so that the hub's files it
    carries then serve offline as if fetched from the hub.
    """

    def __init__(
        self,
        hub_url: str | Path,
        client: Client,
        *,
        root: bytes | None = None,
        notice: Notice | None = None,
        offline: bool = False,
        mirror: Path | None = None,
    ) -> None:
        self.hub = hub_base(hub_url)
        self._api = mirror.absolute().as_uri() + "/" if mirror else f"{self.hub}{API_PATH}"
        self._root = root
        self._notice = notice
        self._fetcher = HubFetcher(client)
        self._cache = (METADATA_DIR, hub_key(self.hub))
        self._metadata_dir = private_dir(cache_dir(), *self._cache, "metadata")
        self._targets_dir = cache_dir().joinpath(*self._cache, "targets")  # made when written
        self._updater: Updater | None = None
        self._offline: str | None = "reading the cache only" if offline else None

    def fetch(self, relative: str) -> bytes | None:
        """The verified bytes of `api/v1/<relative>`; None when the signed index has no such
        file. Refusals and failures raise one HubError line.

        python-tuf's updater expects one process per cache: concurrent clients take turns.
        """
        lock = self._metadata_dir.parent / LOCK_FILE
        try:
            with file_lock(lock, LOCK_TIMEOUT):
                return self._fetch(relative)
        except LockTimeout:
            raise HubError(
                f"another ebpf-hub kept the index cache {lock.parent} locked for "
                f"{LOCK_TIMEOUT:.0f} s",
                hint="try again once it is done",
            ) from None
        except OSError as exc:
            raise HubError(
                f"cannot use the index cache {lock.parent} ({exc.strerror or exc})",
                hint="check its permissions or set XDG_CACHE_HOME",
            ) from None

    def _fetch(self, relative: str) -> bytes | None:
        updater = self._refreshed()
        try:
            info = updater.get_targetinfo(relative)
        except _REFUSED as exc:
            raise self._refusal(exc) from None
        if info is None:
            return None
        cached = self._targets_dir / quote(relative, "")
        try:
            with open_regular(cached) as handle:
                data = handle.read()
            info.verify_length_and_hashes(data)
            return data
        except (FileNotFoundError, UnsafePathError, tuf_errors.LengthOrHashMismatchError):
            pass
        directory, slash, name = relative.rpartition("/")
        url = f"{self._api}{directory}{slash}{info.hashes['sha256']}.{name}"
        fetcher = self._offline_fetcher() if self._offline is not None else self._fetcher
        try:
            data = fetcher.download_bytes(url, info.length)
            info.verify_length_and_hashes(data)
        except Unreachable as exc:
            raise HubError(
                f"cannot reach the hub at {self.hub} ({exc.reason}) to download {relative}",
                hint="check --hub / EBPF_HUB_URL or your network",
            ) from None
        except _REFUSED as exc:
            raise self._refusal(exc) from None
        private_dir(cache_dir(), *self._cache, "targets")
        write_atomic(cached, data, durable=False)  # verified again on every read
        return data

    def mirror_files(self, relatives: Iterable[str]) -> dict[str, bytes]:
        """What a mirror of the hub must serve for a client to verify the files `relatives`
        (each fetched and verified first), named as the hub serves them: the newest root as
        `tuf/N.root.json` (with every older one, so that a client trusting any of them
        walks up to it), `tuf/timestamp.json`, the snapshot, the top-level targets and the
        bins naming those files as `tuf/VERSION.ROLE.json`, and each file as
        `DIR/SHA256.NAME`. All of it is this client's verified copy: an offline bundle
        (`ebpf_hub.client.bundle`) carries it to a machine that verifies it again."""
        files: dict[str, bytes] = {}
        roles = {Timestamp.type, Snapshot.type, Targets.type}
        for relative in relatives:
            data = self.fetch(relative)
            if data is None:
                raise HubError(f"the signed index of {self.hub} has no {relative}")
            updater = self._refreshed()
            info = updater.get_targetinfo(relative)
            assert info is not None  # noqa: S101 - fetch just found it
            directory, slash, name = relative.rpartition("/")
            files[f"{directory}{slash}{info.hashes['sha256']}.{name}"] = data
            roles.add(self._delegate_of(relative))
        for role in sorted(roles):
            with open_regular(self._metadata_dir / f"{quote(role, '')}.json") as handle:
                data = handle.read()
            version = json.loads(data)["signed"]["version"]
            name = "timestamp.json" if role == Timestamp.type else f"{version}.{role}.json"
            files[f"{METADATA_DIR}/{name}"] = data
        history = self._metadata_dir / _ROOT_HISTORY  # python-tuf keeps every root it trusted
        for path in history.iterdir():
            if _ROOT_FILE.fullmatch(path.name):
                with open_regular(path) as handle:
                    files[f"{METADATA_DIR}/{path.name}"] = handle.read()
        return files

    def _delegate_of(self, relative: str) -> str:
        """The role that signs `relative`: its hashed bin, or the top-level targets."""
        with open_regular(self._metadata_dir / f"{Targets.type}.json") as handle:
            targets = Metadata[Targets].from_bytes(handle.read())
        delegations = targets.signed.delegations
        if delegations is None or delegations.succinct_roles is None:
            return Targets.type
        return delegations.succinct_roles.get_role_for_target(relative)

    def _refreshed(self) -> Updater:
        """The updater, its top-level metadata refreshed: from the hub, else the cache."""
        if self._updater is not None:
            return self._updater
        try:
            if self._offline is not None:  # asked not to reach the hub
                raise Unreachable(self._offline)
            updater = self._new_updater(self._fetcher)
            updater.refresh()
        except Unreachable as exc:
            asked = self._offline is not None
            self._offline = exc.reason
            try:
                updater = self._new_updater(self._offline_fetcher())
                updater.refresh()
            except _REFUSED as cached_exc:
                raise self._refusal(cached_exc) from None
            if self._notice is not None and not asked:
                self._notice(
                    f"hub unreachable ({exc.reason}); using the signed index verified "
                    "from the cache"
                )
        except _REFUSED as exc:
            raise self._refusal(exc) from None
        self._updater = updater
        return updater

    def _new_updater(self, fetcher: FetcherInterface) -> Updater:
        root = self._root if self._root is not None else installed_root(self.hub)
        if root is None:
            raise HubError(
                f"no trusted root for the hub at {self.hub}",
                hint="install the hub's root.json with `ebpf-hub trust install-root FILE`",
            )
        try:
            return Updater(
                str(self._metadata_dir),
                f"{self._api}{METADATA_DIR}/",
                str(self._targets_dir),
                self._api,
                fetcher,
                _CONFIG,
                bootstrap=root,
            )
        except (tuf_errors.RepositoryError, ValueError) as exc:
            raise HubError(
                f"the trusted root of {self.hub} is not valid root metadata ({exc})",
                hint="install the hub's root.json again with `ebpf-hub trust install-root`",
            ) from None

    def _offline_fetcher(self) -> CachedFetcher:
        return CachedFetcher(f"{self._api}{METADATA_DIR}/", self._metadata_dir, self._offline or "")

    def _refusal(self, exc: Exception) -> HubError:
        context = Context(self.hub, self._metadata_dir, self._fetcher.last, self._offline)
        return refusal(exc, context)
