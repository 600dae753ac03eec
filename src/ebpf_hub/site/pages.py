"""Generated pages handed to MkDocs from memory, with blocks of HTML put in after rendering.

A page per package (and per category) is generated from the index at every build. Written to
disk with YAML front matter, each would be written, read back, parsed as YAML and deleted: at
10,000 packages that alone cost seconds. So the pages stay in memory (MkDocs' virtual files)
and their metadata stays a dict, set on the page before any other plugin reads it.

Most of a package page (summary, keywords, badges, commands, tables, permissions) is generated
from the index too, as HTML: as Markdown, it would be parsed by Python-Markdown on every build,
which made a package page cost about 1.7 times the Markdown time of a minimal page. Only what
contributors write (description, README) and the headings (so that MkDocs still gives them
their anchors and table of contents) go through Markdown. The HTML goes in as blocks once the
page is rendered: what search should find (summary, keywords) before the search plugin indexes
the page, the rest (tables, commands) after it, which keeps the search index small.

What contributors write is HTML too once rendered (Markdown passes raw HTML through), so a page
that holds it is sanitized (see `sanitize`) as soon as it is rendered, before any block goes in
and before search indexes it: the blocks are ours and escape every field they show.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape, unescape
from typing import Any

from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, file_sort_key
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import TableOfContents

from ebpf_hub.site.sanitize import sanitize

PLUGIN_NAME = "ebpf-hub/pages"
# Markers carry a token drawn per process, so text a contributor writes into a description or a
# README can never pass for one. They never reach the output: every marker is removed.
_TOKEN = secrets.token_hex(8)
_MARKER = re.compile(rf"<!-- hub-marker:{_TOKEN}:[a-z-]+ -->")
_AROUND_MARKERS = re.compile(f"({_MARKER.pattern})")
_ID_ATTRIBUTE = re.compile(r'id="([^"]*)"')


def marker(name: str) -> str:
    """A place in a page's Markdown for blocks to go before (see `Block`), where nothing that
    Markdown renders can be told apart from a contributor's text; removed from the output."""
    return f"<!-- hub-marker:{_TOKEN}:{name} -->"


@dataclass(frozen=True)
class Block:
    """HTML put into a rendered page: right before the first `before` in it (something its
    Markdown renders, or a `marker`), or at its end when `before` is None. The HTML holds any
    newlines around it. `indexed` blocks go in before the search plugin indexes the page, so
    search finds their text; the others after it. The HTML is rendered after the Markdown, so
    its headings are not in the page's table of contents unless listed in `headings`."""

    html: str
    before: str | None
    indexed: bool
    # The `<h2>` sections the HTML holds, (anchor, title): added to the page's table of
    # contents where they fall among the headings its Markdown gave it.
    headings: tuple[tuple[str, str], ...] = ()
    # The HTML takes the place of `before` instead of going before it: a stand-in that search
    # indexed (short text, cheap to index) becomes the HTML people see.
    replaces: bool = False
    # The HTML goes right after `before` instead (after the end of the page's title).
    after: bool = False


@dataclass(frozen=True)
class GeneratedPage:
    """A page made from the index: its front matter, its Markdown, and the blocks of HTML put
    in once the Markdown is rendered, in order. The Markdown of a `contributed` page holds text
    that contributors wrote: what it renders is sanitized."""

    meta: dict[str, Any]
    markdown: str
    blocks: tuple[Block, ...] = ()
    contributed: bool = False
    # A `marker` the page's table of contents goes before, as HTML: the headings its Markdown
    # gave it and those its blocks list, in the order of the page. Material's own sidebar
    # table of contents costs a template rendering per page; this costs a string join.
    contents: str | None = None


# Docs path of a page (`packages/NAME.md`) -> the page.
GeneratedPages = Mapping[str, GeneratedPage]


class NoOptions(Config):  # type: ignore[no-untyped-call]  # mkdocs' own
    """The site's plugins have nothing to configure in mkdocs.yml: the site build adds them."""


class GeneratedPagesPlugin(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]  # mkdocs' own
    """Adds the generated pages to the site, sets their metadata and puts in their blocks."""

    def __init__(self, pages: GeneratedPages) -> None:
        super().__init__()
        self.pages = pages

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """The docs directory's files with the generated pages among them, in the order MkDocs
        lists a directory (which is the order of the search index and the sitemap)."""
        added = [
            File.generated(config, uri, content=page.markdown) for uri, page in self.pages.items()
        ]
        docs = [file for file in files if file.src_dir == config.docs_dir]
        theme = [file for file in files if file.src_dir != config.docs_dir]
        return Files([*sorted([*docs, *added], key=file_sort_key), *theme])

    @event_priority(100)  # before other plugins read the metadata (categories, search)
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> None:
        generated = self.pages.get(page.file.src_uri)
        if generated is not None:
            page.meta = generated.meta

    def on_page_content(
        self, html: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        generated = self.pages.get(page.file.src_uri)
        if generated is None:
            return None
        if generated.contributed:
            html = _sanitize_around_markers(html)
        # An option or a negative value (`-errno`, `--param`) must not break after its dash.
        html = html.replace("<code>-", '<code class="hub-nowrap">-')
        return _put_blocks(html, generated, page.file.src_uri, indexed=True)

    @event_priority(-100)  # after the search plugin (priority 0) has indexed the page
    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        generated = self.pages.get(page.file.src_uri)
        if generated is not None:
            content = _put_blocks(page.content or "", generated, page.file.src_uri, indexed=False)
            if generated.contents is not None:
                content = _put_contents(content, page.toc, generated, generated.contents)
            page.content = _MARKER.sub("", content)
        return context


def _sanitize_around_markers(content: str) -> str:
    """`content` sanitized piece by piece, its markers kept: each piece is balanced on its own,
    so that no element a contributor leaves open (a `<details>`) holds the blocks put in at a
    marker, such as the permissions of the package."""
    pieces = _AROUND_MARKERS.split(content)
    return "".join(piece if i % 2 else sanitize(piece) for i, piece in enumerate(pieces))


def _put_blocks(content: str, page: GeneratedPage, uri: str, *, indexed: bool) -> str:
    """`content` with the page's `indexed` (or other) blocks put in, in order."""
    for block in page.blocks:
        if block.indexed != indexed:
            continue
        if block.before is None:
            content += block.html
            continue
        at = content.find(block.before)
        if at < 0:
            raise PluginError(f"{uri}: {block.before!r} is gone, where generated HTML goes")
        end = at + len(block.before)
        if block.after:
            at = end
        content = content[:at] + block.html + content[end if block.replaces else at :]
    return content


def _put_contents(content: str, toc: TableOfContents, page: GeneratedPage, before: str) -> str:
    """`content` with its table of contents (`<h2>` and `<h3>` sections) before `before`.

    The Markdown's headings come from `toc` (below the page's title when it has one); their
    titles are text the toc extension took from contributor Markdown, so they are escaped
    again here, after undoing any escaping of its own."""
    top = toc.items[0].children if len(toc.items) == 1 and toc.items[0].level == 1 else toc.items
    # Where each id first appears, in one pass over the page (a search per entry cost more).
    found: dict[str, int] = {}
    for match in _ID_ATTRIBUTE.finditer(content):
        found.setdefault(match[1], match.start())
    generated = [(2, anchor, escape(title)) for b in page.blocks for anchor, title in b.headings]
    # A Markdown heading whose id the sanitizer took (a contributor's "## About" is not
    # the page's About) is left out: its entry would lead to another section.
    taken = {anchor for _, anchor, _ in generated}
    entries = [(2, link.id, escape(unescape(link.title))) for link in top]
    entries += [
        (3, child.id, escape(unescape(child.title))) for link in top for child in link.children
    ]
    entries = [e for e in entries if e[1] in found and e[1] not in taken] + generated
    entries.sort(key=lambda entry: found.get(entry[1], -1))
    items = "".join(
        f'<li class="hub-toc__level-{level}"><a href="#{escape(anchor)}">{title}</a></li>'
        for level, anchor, title in entries
    )
    nav = (
        '<nav class="hub-toc" aria-labelledby="hub-toc-title">'
        f'<p id="hub-toc-title" class="hub-toc__title">On this page</p><ul>{items}</ul></nav>'
    )
    at = content.find(before)
    return content[:at] + nav + content[at:] if at >= 0 else content
