"""Categories on the site's pages: index/hub.yaml's allow-list enforced on every page, and the
chips at the top of a page that link to its categories' pages.

A page's categories are the `tags` of its metadata: a package page's come from the index, a
hand-written page may name some in its front matter, and search indexes them either way.
Material's tags plugin once did this work, but it links each tag through listings it renders
over every page of the site: 1.8 s of a 10,000-package build, for lists the build already has
(each category page lists its packages itself, see `catalogue.category_page`). This plugin does
only what is left, and its chips are what the theme's `partials/tags.html` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from ebpf_hub.site.catalogue import category_url, not_allowed
from ebpf_hub.site.pages import NoOptions

PLUGIN_NAME = "ebpf-hub/categories"


@dataclass(frozen=True)
class CategoryChip:
    """One category of a page, as the theme's tags partial reads it: a name, and the URL of
    the category's page (from the site's root; the theme makes it relative to the page)."""

    name: str
    url: str
    hidden: bool = False


class CategoriesPlugin(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]  # mkdocs' own
    """Refuses a page whose categories are not all in the allow-list; gives the others chips."""

    def __init__(self, allowed: Iterable[str]) -> None:
        super().__init__()
        self.allowed = tuple(allowed)

    # After the generated pages' plugin (priority 100) has set their metadata.
    @event_priority(50)
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> None:
        for category in _categories(page):
            if category not in self.allowed:
                # MkDocs names the page: "Error reading page 'NAME': ...".
                raise PluginError(not_allowed(category, self.allowed))

    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        chips = [CategoryChip(category, category_url(category)) for category in _categories(page)]
        if chips:
            context["tags"] = chips
        return context


def _categories(page: Page) -> list[str]:
    """The categories a page names in its metadata (`tags`), which must be a list of names."""
    named = page.meta.get("tags") or []
    if not isinstance(named, list) or not all(isinstance(name, str) for name in named):
        raise PluginError(
            "tags must be a list of category names, as in "
            "`tags: [networking]`; fix the page's front matter"
        )
    return named
