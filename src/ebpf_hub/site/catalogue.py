"""The catalogue's overview: category pages, category cards with counts, recent packages.

Categories are the tags of the package pages; each category page lists its packages, and the
chips on a package page link to its categories' pages (`categories`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence

from ebpf_hub.errors import HubError
from ebpf_hub.index.config import HUB_CONFIG_PATH
from ebpf_hub.model.package import Package
from ebpf_hub.site.markup import cell, escape, table
from ebpf_hub.site.package_page import page_path
from ebpf_hub.site.pages import Block, GeneratedPage

RECENT_LIMIT = 8


def category_path(category: str) -> str:
    """Where a category's page lives in the docs directory."""
    return f"categories/{category}.md"


def category_url(category: str) -> str:
    """The URL of a category's page, from the site's root."""
    return f"categories/{category}/"


def link(page_src: str, target_src: str) -> str:
    """A Markdown link target from the page `page_src` to the page `target_src` (docs paths)."""
    return posixpath.relpath(target_src, posixpath.dirname(page_src) or ".")


def not_allowed(category: str, allowed: Iterable[str]) -> str:
    """The one-line refusal of a category outside the allow-list (callers say where)."""
    return (
        f"category {category!r} is not in {HUB_CONFIG_PATH}'s allow-list "
        f"({', '.join(allowed)}); pick one of them or add it there"
    )


def category_members(
    packages: Iterable[Package], allowed: Mapping[str, str]
) -> dict[str, list[Package]]:
    """The packages of each category of the allow-list, in the order of `packages`; a package
    naming a category outside it is refused, before any work."""
    members: dict[str, list[Package]] = {category: [] for category in allowed}
    for package in packages:
        for category in package.categories:
            if category not in members:
                raise HubError(f"package {package.name}: {not_allowed(category, allowed)}")
            members[category].append(package)
    return members


def packages_phrase(count: int) -> str:
    """`count` packages, in words."""
    return "no packages yet" if count == 0 else f"{count} package{'s' if count != 1 else ''}"


def category_page(category: str, description: str, members: Sequence[Package]) -> GeneratedPage:
    """A category's page: its description, then its packages (`members`, in order) with their
    summaries, as HTML that search does not index (it finds the package pages themselves)."""
    empty = "" if members else " [Add the first one](../add-a-package.md)."
    meta = {
        "title": category.capitalize(),
        "description": escape(description),
        "hide": ["navigation", "toc"],
    }
    markdown = (
        f"# {cell(category.capitalize())}\n\n{cell(description)}.\n\n"
        + f"{packages_phrase(len(members)).capitalize()}.{empty} "
        + "See [all categories](index.md).\n"
    )
    if not members:
        return GeneratedPage(meta, markdown)
    # From categories/NAME/ to packages/NAME/.
    items = "".join(
        f'<li><a href="../../{posixpath.splitext(page_path(p.name))[0]}/">{escape(p.name)}</a>'
        f'<span class="hub-listing__summary">{escape(p.summary)}</span></li>\n'
        for p in members
    )
    listing = f'\n<ul class="hub-listing">\n{items}</ul>\n'
    return GeneratedPage(meta, markdown, (Block(listing, None, indexed=False),))


def category_cards(page_src: str, categories: Mapping[str, str], counts: Mapping[str, int]) -> str:
    """Material grid cards, one per category, for the home page."""
    cards = [
        f"-   [**{cell(category.capitalize())}**]({link(page_src, category_path(category))})"
        f"\n\n    {cell(description)}\n\n    "
        f'<span class="hub-muted">{packages_phrase(counts[category])}</span>\n'
        for category, description in categories.items()
    ]
    return '<div class="grid cards hub-categories" markdown>\n\n' + "\n".join(cards) + "\n</div>\n"


def category_table(page_src: str, categories: Mapping[str, str], counts: Mapping[str, int]) -> str:
    """Every category with its description and package count."""
    rows = [
        (
            f"[{cell(category)}]({link(page_src, category_path(category))})",
            cell(description),
            str(counts[category]),
        )
        for category, description in categories.items()
    ]
    # Search finds the category pages themselves; their table here is not indexed again.
    listed = table(("Category", "What it holds", "Packages"), rows)
    return f"<div data-search-exclude markdown>\n\n{listed}\n</div>\n"


def _newest(packages: Sequence[Package]) -> list[Package]:
    """The packages with the newest releases, newest first (ties by name), RECENT_LIMIT."""
    newest = sorted(packages, key=lambda p: p.name)
    newest.sort(key=lambda p: p.versions[-1].created, reverse=True)
    return newest[:RECENT_LIMIT]


def recent_names(packages: Sequence[Package]) -> list[dict[str, str]]:
    """The newest packages' names and summaries, for the theme's templates (the 404 page)."""
    return [{"name": p.name, "summary": p.summary} for p in _newest(packages)]


def recent_packages(page_src: str, packages: Sequence[Package]) -> str:
    """The packages with the newest releases, as a table, which search does not index (it
    finds the package pages)."""
    newest = _newest(packages)
    if not newest:
        return "No packages yet.\n"
    rows = [
        (
            f"[{p.name}]({link(page_src, page_path(p.name))})",
            cell(p.versions[-1].version),
            cell(p.versions[-1].created),
            cell(p.summary),
        )
        for p in newest
    ]
    listed = table(("Package", "Version", "Released", "Summary"), rows)
    return f"<div data-search-exclude markdown>\n\n{listed}\n</div>\n"
