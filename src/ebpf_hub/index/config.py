"""The hub's own configuration (index/hub.yaml): registry, site URL, categories, reserved names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.index.document import DocumentError, load_document

# A category's name, which is also the name of its page (categories/NAME/).
_CATEGORY = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

HUB_CONFIG_PATH = Path("index/hub.yaml")  # the hub's configuration, under a checkout's root
PACKAGES_DIR = Path("index/packages")


@dataclass(frozen=True)
class HubConfig:
    """What every index command needs to know about the hub it works on."""

    root: Path
    registry: str
    site_url: str
    categories: dict[str, str]
    reserved_names: frozenset[str]

    @property
    def packages_dir(self) -> Path:
        return self.root / PACKAGES_DIR


def find_root(start: Path) -> Path:
    """The hub checkout containing `start`: the nearest parent holding index/hub.yaml."""
    for candidate in (start, *start.parents):
        if (candidate / HUB_CONFIG_PATH).is_file():
            return candidate
    raise HubError(
        f"{start}: not inside an eBPF Hub index (no {HUB_CONFIG_PATH} here or above); "
        "run from a hub checkout or pass --root DIR"
    )


def load_config(root: Path) -> HubConfig:
    """Read index/hub.yaml under `root`."""
    path = root / HUB_CONFIG_PATH
    if not path.is_file():
        raise HubError(f"{root}: not an eBPF Hub checkout (no {HUB_CONFIG_PATH}); pass --root DIR")
    try:
        data = load_document(path, str(HUB_CONFIG_PATH)).data
    except DocumentError as exc:
        raise HubError(str(exc)) from None
    try:
        categories = {str(k): str(v) for k, v in data["categories"].items()}
        unusable = next((name for name in categories if not _CATEGORY.fullmatch(name)), None)
        if unusable is not None:
            raise HubError(
                f"{HUB_CONFIG_PATH}: category {unusable!r} is not a usable name",
                hint="name categories with lowercase letters, digits and single hyphens: "
                "each names a page of the site",
            )
        return HubConfig(
            root=root,
            registry=str(data["registry"]),
            site_url=str(data["site_url"]),
            categories=categories,
            reserved_names=frozenset(str(n) for n in data.get("reserved_names", [])),
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise HubError(
            f"{HUB_CONFIG_PATH}: missing or malformed field {exc}; "
            "it needs registry, site_url and a categories mapping"
        ) from None
