"""Contributor HTML made inert before it reaches a page: `sanitize`.

A package's description and README are Markdown, and Markdown passes raw HTML through: a
`<script>`, an `onerror=` handler, an `<iframe>`, a `javascript:` link (also as a reference
link, an autolink, entity-encoded or with a control character inside the scheme) or an
`{: onclick=... }` attribute list would all reach the catalogue and run there. So the HTML
that Python-Markdown renders from them is cleaned with ammonia (through `nh3`), a maintained
allow-list sanitizer that parses the HTML the way a browser does. It runs on the rendered
HTML, not on the Markdown: Markdown extensions write HTML of their own, which a pass over the
source could not see.

What stays is what Markdown and our extensions write: ammonia's default tags and attributes,
links and images to http, https, mailto and relative URLs only (every link marked `nofollow
noopener noreferrer`), `class` (for code highlighting and admonitions) without the theme's
`md-` and the site's `hub-` classes, which could dress text up as the page's own widgets or
cover it, `id` on headings only and only in the form of the ids the toc extension writes (so
no `__config`, `__search`, ... the theme's scripts look up) and none of the anchors of the
sections the hub writes on a package page (`GENERATED_ANCHORS`: a contributor's
`## Permissions` comes first on the page, so a link to the package's `#permissions` would land
on it), and table cell alignment as the tables extension writes it. Everything else, comments
included, is dropped.
"""

from __future__ import annotations

import re
from typing import Final

import nh3

SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "nofollow noopener noreferrer"
_ID: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")
GENERATED_ANCHORS: Final = frozenset(
    {
        "about",
        "install",
        "versions",
        "programs",
        "permissions",
        "parameters",
        "requirements",
        "output",
        "maintainers",
        "source",
        "facts",
        "matrix",
        "metrics",
        "trust",
        "related",
    }
)
_CLASS: Final = re.compile(r"(?!md-|hub-)[A-Za-z][A-Za-z0-9_-]*")


def _attributes() -> dict[str, set[str]]:
    """ammonia's default attributes less `cite` (a URL it does not check against the schemes),
    plus `class`, `lang` and `title` anywhere, `id` on headings, `style` on table cells."""
    allowed = {tag: set(names) - {"cite"} for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    allowed["*"] = {"class", "lang", "title"}
    allowed.update({f"h{level}": {"id"} for level in range(1, 7)})
    for cell in ("th", "td"):
        allowed[cell].add("style")
    return allowed


def _filter(element: str, attribute: str, value: str) -> str | None:
    """Keeps only the safe `id` and `class` values; every other allowed attribute as it is."""
    if attribute == "id":
        return value if _ID.fullmatch(value) and value not in GENERATED_ANCHORS else None
    if attribute == "class":
        kept = " ".join(name for name in value.split() if _CLASS.fullmatch(name))
        return kept or None
    return value


_CLEANER: Final = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS),
    attributes=_attributes(),
    attribute_filter=_filter,
    url_schemes=set(SCHEMES),
    link_rel=LINK_REL,
    filter_style_properties={"text-align"},
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """`html`, an HTML fragment written (or rendered) from contributor text, made safe to
    show: balanced, and with nothing that runs, loads a frame or imitates the site."""
    return _CLEANER.clean(html)
