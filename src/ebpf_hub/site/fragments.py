"""HTML put into pages after MkDocs rendered and indexed them, so the build stays cheap.

Most of a package page (badges, commands, tables of versions and programs, permissions) is
generated from the index. Written as Markdown, each page would be parsed twice more, by
Python-Markdown and by the search indexer: at 10,000 packages that made the build cost four
times a bare MkDocs build of as many pages. So those parts are generated as HTML and the page's
Markdown holds a marker for each; this plugin swaps the markers for the HTML once the search
plugin has indexed the page. Search still sees what people look for (name, summary,
description, keywords, README), which stays Markdown.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority

# Docs path of a page -> marker name -> the HTML that replaces the marker.
Fragments = Mapping[str, Mapping[str, str]]

PLUGIN_NAME = "ebpf-hub/fragments"
# Markers carry a token drawn per process, so text a contributor writes into a description or a
# README can never pass for one. It never reaches the output: every marker is replaced.
_TOKEN = secrets.token_hex(8)


def marker(name: str) -> str:
    """The placeholder a page's Markdown carries where fragment `name` goes."""
    return f"<!-- hub-fragment:{_TOKEN}:{name} -->"


class _NoOptions(Config):  # type: ignore[no-untyped-call]  # mkdocs' own
    """The plugin has nothing to configure in mkdocs.yml: the site build adds it in code."""


class FragmentsPlugin(BasePlugin[_NoOptions]):  # type: ignore[no-untyped-call]  # mkdocs' own
    """Replaces each page's fragment markers with their HTML."""

    def __init__(self, fragments: Fragments) -> None:
        super().__init__()
        self.fragments = fragments

    @event_priority(-100)  # after the search plugin (priority 0) has indexed the page
    def on_page_context(self, context: Any, *, page: Any, config: Any, nav: Any) -> Any:
        inserts = self.fragments.get(page.file.src_uri, {})
        content: str = page.content
        for name, html in inserts.items():
            if marker(name) not in content:
                raise PluginError(f"{page.file.src_uri}: the marker of fragment {name!r} is gone")
            content = content.replace(marker(name), html, 1)
        page.content = content
        return context
