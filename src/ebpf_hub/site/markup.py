"""Small, safe pieces of Markdown and HTML for generated pages.

Index fields are free text written by contributors; everything here escapes them so that a
`<`, a `|` or a backtick in a summary shows as typed instead of changing the page's structure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence, Set

from ebpf_hub.site.sanitize import GENERATED_ANCHORS, LINK_REL, SCHEMES

_ATX_HEADING = re.compile(r"^(#{1,6})(?=\s|$)")
# What may end an ATX heading's text: closing hashes, an attribute list (an id of its own).
_HEADING_END = re.compile(r"(\s+#+)?\s*(\{[^}]*\})?\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
# Characters Markdown would read as markup, as numeric entities that render as themselves.
_MARKDOWN_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]|"})
# The characters `html.escape` replaces (quotes included).
_HTML_SPECIAL = re.compile("[&<>\"']")


def escape(text: str) -> str:
    """`text` as HTML text or attribute value. Most text (names, versions, dates) has nothing
    to escape and is returned as it is: one search instead of five replaces, on a path taken
    about 190 times per package page."""
    return html.escape(text, quote=True) if _HTML_SPECIAL.search(text) else text


def cell(text: str) -> str:
    """`text` shown literally on one line, even in a table cell: no markup, no column break."""
    return _literal(" ".join(text.split()))


def prose(text: str) -> str:
    """Trusted one-line Markdown (our schema descriptions): code spans kept, the rest escaped."""
    parts = re.split(r"(`+[^`]*`+)", " ".join(text.split()))
    return "".join(part if part.startswith("`") else _literal(part) for part in parts)


def _literal(text: str) -> str:
    return escape(text).translate(_MARKDOWN_ENTITIES)


def code(text: str) -> str:
    """`text` as an inline code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; cells must already be escaped (`cell`, `code`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def html_code(text: str) -> str:
    """`text` as HTML inline code."""
    return f"<code>{escape(text)}</code>"


def html_link(url: str, text: str | None = None) -> str:
    """A link to `url` (shown as `text`, or as itself), marked as leading out of the site; or
    `url` as plain text when its scheme is not one a contributor's link may have (`SCHEMES`),
    so that a `javascript:` URL that got past validation never becomes a live link."""
    shown = escape(url if text is None else text)
    if url.split(":", 1)[0] not in SCHEMES:
        return shown
    return f'<a href="{escape(url)}" rel="{LINK_REL}">{shown}</a>'


def html_heading(anchor: str, title: str) -> str:
    """A section heading as Python-Markdown's toc extension writes it, permalink included.

    `anchor` must be one of `GENERATED_ANCHORS`, which contributor headings may not take."""
    if anchor not in GENERATED_ANCHORS:
        raise ValueError(f"{anchor!r} is not in sanitize.GENERATED_ANCHORS")
    return (
        f'<h2 id="{anchor}">{escape(title)}<a class="headerlink" href="#{anchor}" '
        'title="Permanent link">&para;</a></h2>'
    )


def html_list(items: Iterable[str]) -> str:
    """An HTML bullet list; items must already be HTML."""
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; cells must already be HTML."""
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_commands(lines: Iterable[str]) -> str:
    """A shell code block, which Material gives a copy button."""
    text = escape("\n".join(lines))
    return f'<div class="language-sh highlight"><pre><code>{text}</code></pre></div>'


def html_admonition(kind: str, title: str, body: str) -> str:
    """A Material admonition (`note`, `warning`, `danger`, ...); `body` is HTML."""
    return (
        f'<div class="admonition {kind}"><p class="admonition-title">{escape(title)}</p>'
        f"{body}</div>"
    )


def embed_document(markdown: str, *, lead: str = "", drop_sections: Set[str] = frozenset()) -> str:
    """A stand-alone Markdown document (a README) made fit to sit under a page's `##` section.

    Its own title (a leading `# ...` line) is dropped, as the page has one, and so are its
    first paragraphs while they repeat `lead` (the page's About text), and its `##` sections
    whose title, lower-cased, is in `drop_sections` (what the page generates itself). Every
    other heading moves one level down so it nests under the section, and gets an id of its
    own, `readme-SLUG`, so that none takes an id the page's generated sections use. Fenced code
    is left alone.
    """
    lines = markdown.strip("\n").splitlines()
    if lines and re.match(r"#\s", lines[0]):
        lines = lines[1:]
    lines = _without_lead(lines, lead)
    fence: str | None = None
    dropping = False
    taken: set[str] = set()
    out = []
    for text in lines:
        line = text
        marker = _FENCE.match(line)
        run = marker.group(1) if marker else ""
        heading = _ATX_HEADING.match(line) if fence is None and not run else None
        if fence is None and run:
            fence = run
        elif fence is not None and run.startswith(fence):
            fence = None
        elif heading is not None:
            title = _HEADING_END.sub("", line[heading.end() :]).strip()
            if len(heading.group(1)) <= 2:
                dropping = title.lower() in drop_sections
            if not dropping:
                level = "#" * min(len(heading.group(1)) + 1, 6)
                line = f"{level} {title} {{ #{_readme_id(title, taken)} }}"
        if not dropping:
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def _without_lead(lines: list[str], lead: str) -> list[str]:
    """`lines` less the paragraphs at their start that `lead` starts with, in the same order
    (compared word by word, so line breaks do not matter)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", lead.strip())]
    start = 0
    for paragraph in paragraphs:
        while start < len(lines) and not lines[start].strip():
            start += 1
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        if not paragraph or " ".join(" ".join(lines[start:end]).split()) != paragraph:
            break
        start = end
    return lines[start:]


def _readme_id(title: str, taken: set[str]) -> str:
    """`readme-SLUG` for a README heading, made unique among `taken` (which it joins)."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    base = "readme-" + ("-".join(words) or "section")
    anchor, count = base, 1
    while anchor in taken:
        anchor, count = f"{base}-{count}", count + 1
    taken.add(anchor)
    return anchor
