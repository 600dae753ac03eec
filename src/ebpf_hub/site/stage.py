"""The docs directory MkDocs builds from: `site/` with its markers filled, plus generated pages.

Generated pages (one per package, one per category) exist only in this staging copy under
build/, never in `site/`, so the repository holds hand-written pages only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.index.jsonindex import Digests
from ebpf_hub.index.model import Package
from ebpf_hub.site.catalogue import category_page, category_path
from ebpf_hub.site.generated import MARKER, SiteData, expand
from ebpf_hub.site.package_page import package_page, page_path

DOCS_DIR = Path("site")


def stage_docs(data: SiteData, digests: Digests, staging: Path) -> dict[str, dict[str, str]]:
    """Fill the empty directory `staging` with every page of the site; return the HTML
    fragments the package pages' markers stand for (see `fragments`)."""
    source = data.config.root / DOCS_DIR
    if not source.is_dir():
        raise HubError(f"{source}: the site's hand-written pages are missing; restore {DOCS_DIR}/")
    shutil.copytree(source, staging, dirs_exist_ok=True)
    for path in sorted(staging.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if MARKER.search(text):
            path.write_text(expand(text, path.relative_to(staging).as_posix(), data), "utf-8")
    for category, description in data.config.categories.items():
        page = category_page(category, description, data.counts[category])
        _write_new(staging, category_path(category), page)
    fragments = {}
    for package in data.packages:
        published = digests.get(package.name, {})
        generated = package_page(package, data.registry, published, _readme(data, package))
        _write_new(staging, page_path(package.name), generated.markdown)
        fragments[page_path(package.name)] = generated.fragments
    return fragments


def _readme(data: SiteData, package: Package) -> str | None:
    """The README.md of an in-repo source; git sources are not fetched to build the site."""
    if "path" not in package.source:
        return None
    path = data.config.root / package.source["path"] / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _write_new(staging: Path, relative: str, text: str) -> None:
    """Write a generated page, refusing to replace a hand-written one (one open per page:
    at 10,000 packages every system call shows)."""
    path = staging / relative
    try:
        handle = path.open("x", encoding="utf-8")
    except FileNotFoundError:
        path.parent.mkdir(parents=True)
        handle = path.open("x", encoding="utf-8")
    except FileExistsError:
        raise HubError(
            f"{DOCS_DIR / relative}: a hand-written page is where a generated page goes; "
            "rename or remove it"
        ) from None
    with handle:
        handle.write(text)
