"""Which hubs this user trusts: one `root.json` per hub, installed under the config directory
(`trust install-root`) or shipped inside the client for the hub it was released for.

Kept apart from `ebpf_hub.trust.client` so that reading the index can ask "is a root installed
for this hub?" without importing python-tuf: only a hub with a root pays for verification.
A hub is named by its URL; a local hub given as a directory is named by its `file://` URL, so
`trust install-root --hub DIR` and `--hub file:///abs/DIR` are the same hub.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ebpf_hub.paths import config_dir
from ebpf_hub.privatedir import open_private_file
from ebpf_hub.schemas import DATA_DIR

TRUST_DIR = "trust"
ROOT_FILE = "root.json"
# Where a release carries the root of its hub, as `<hub_key>.root.json` beside the package's
# schemas (scripts/build-dist copies the newest of the hub repository's index/trust/N.root.json).
SHIPPED_ROOTS = DATA_DIR / "roots"
_URL_SCHEMES = ("http://", "https://", "file://")


def hub_base(hub: str | Path) -> str:
    """The hub's URL as its trust is keyed: a directory as its absolute `file://` URL, and
    always ending in '/'."""
    text = str(hub)
    if isinstance(hub, Path) or not text.startswith(_URL_SCHEMES):
        text = Path(text).absolute().as_uri()
    return text if text.endswith("/") else text + "/"


def hub_key(hub: str | Path) -> str:
    """The directory name of one hub's trust root and verified-metadata cache."""
    return hashlib.sha256(hub_base(hub).encode()).hexdigest()[:24]


def root_dir(hub: str | Path) -> Path:
    """Where the root trusted for `hub` is kept."""
    return config_dir() / TRUST_DIR / hub_key(hub)


def installed_root(hub: str | Path) -> bytes | None:
    """The root trusted for `hub`: the one the user installed, else the one this client was
    shipped with for it, else None (its index is then read unsigned).

    Only a root that is there is read through the ownership checks of `privatedir`: a user
    with no root installed is not stopped by a config directory they never use for trust.
    The shipped root is only where python-tuf starts: newer roots reach the client signed by
    it, so a release outlives root rotations.
    """
    directory = root_dir(hub)
    if (directory / ROOT_FILE).exists():
        try:
            with open_private_file(directory, ROOT_FILE) as handle:
                return handle.read()
        except FileNotFoundError:
            pass
    return shipped_root(hub)


def shipped_root(hub: str | Path) -> bytes | None:
    """The root a release of the client carries for `hub`, if any."""
    shipped = SHIPPED_ROOTS / f"{hub_key(hub)}.root.json"
    try:
        return shipped.read_bytes()
    except FileNotFoundError:
        return None
