"""The docs MkDocs builds from: `site/` with its markers filled, plus the generated pages.

Hand-written pages are copied to a staging directory under build/ and their markers filled
there, so `site/` keeps what people wrote. Generated pages (one per package, one per category,
the list of all packages) are never written anywhere: they are handed to MkDocs from memory
(see `pages`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ebpf_hub.errors import HubError
from ebpf_hub.index.jsonindex import Digests
from ebpf_hub.index.trust import HubTrust
from ebpf_hub.model.matrix import Matrices
from ebpf_hub.model.package import Package
from ebpf_hub.site.catalogue import category_page, category_path
from ebpf_hub.site.facts import BuildDate, PackageFacts
from ebpf_hub.site.generated import MARKER, SiteData, expand
from ebpf_hub.site.listing import LISTING_PATH, listing_page
from ebpf_hub.site.package_page import package_page, page_path
from ebpf_hub.site.pages import GeneratedPage
from ebpf_hub.site.related import related

DOCS_DIR = Path("site")
#: The repository's threat model, published as the site's Security page: one text, two places.
SECURITY_FILE = Path("SECURITY.md")
SECURITY_PAGE = "security.md"


def stage_docs(
    data: SiteData,
    digests: Digests,
    staging: Path,
    matrices: Matrices | None,
    trusts: HubTrust,
) -> dict[str, GeneratedPage]:
    """Fill the empty directory `staging` with the hand-written pages, markers filled; return
    the generated pages by docs path (`matrices`: the kernel matrix's verdicts to show;
    `trusts`: every version's evidence, `index.trust.hub_trust` of the same data, which the
    JSON index shows too)."""
    source = data.config.root / DOCS_DIR
    if not source.is_dir():
        raise HubError(f"{source}: the site's hand-written pages are missing; restore {DOCS_DIR}/")
    shutil.copytree(source, staging, dirs_exist_ok=True)
    security = data.config.root / SECURITY_FILE
    if not security.is_file():
        raise HubError(f"{security}: the threat model is missing; restore {SECURITY_FILE}")
    shutil.copyfile(security, staging / SECURITY_PAGE)
    written = set()
    for path in sorted(staging.rglob("*.md")):
        relative = path.relative_to(staging).as_posix()
        written.add(relative)
        text = path.read_text(encoding="utf-8")
        if MARKER.search(text):
            path.write_text(expand(text, relative, data), "utf-8")
    pages = {
        category_path(category): category_page(category, description, data.members[category])
        for category, description in data.config.categories.items()
    }
    built = BuildDate.of(data.packages)
    tested = matrices or {}
    facts = [
        PackageFacts.of(p, digests.get(p.name, {}), built, tested.get(p.name))
        for p in data.packages
    ]
    suggested = related(facts)
    for package, known in zip(data.packages, facts):
        pages[page_path(package.name)] = package_page(
            package,
            data.registry,
            digests.get(package.name, {}),
            _readme(data, package),
            known,
            trusts=trusts[package.name],
            matrix=tested.get(package.name),
            related=suggested[package.name],
        )
    pages[LISTING_PATH] = listing_page(facts)
    taken = sorted(written.intersection(pages))
    if taken:
        raise HubError(
            f"{DOCS_DIR / taken[0]}: a hand-written page is where a generated page goes; "
            "rename or remove it"
        )
    return pages


def _readme(data: SiteData, package: Package) -> str | None:
    """The README.md of an in-repo source; git sources are not fetched to build the site."""
    if package.source.path is None:
        return None
    path = data.config.root / package.source.path / "README.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None
