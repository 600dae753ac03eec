"""`/packages/`: every package on one page, with an in-page filter, facets and sorting.

The list is plain HTML, complete without JavaScript (every package linked, sorted by name);
`assets/hub.js` makes the filter form work. The form is there from the start, its status line
filled and its facets folded, so that nothing moves when the script starts. Each row carries its
facets in `data-` attributes, so filtering is attribute matching in the browser, with no
request. The list goes in after search indexing: search finds package pages, not this list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ebpf_hub.site.facts import PackageFacts, days_phrase
from ebpf_hub.site.markup import escape
from ebpf_hub.site.pages import Block, GeneratedPage

LISTING_PATH = "packages/index.md"


@dataclass(frozen=True)
class Facet:
    """A way to narrow the list: its label, the row attribute it matches, and the values of
    one package (a row matches a checked value if it has it; checked values of one facet
    widen, of different facets narrow)."""

    key: str
    label: str
    values: Callable[[PackageFacts], Iterable[str]]


FACETS: Sequence[Facet] = (
    Facet("category", "Category", lambda f: f.categories),
    Facet("hook", "Hook type", lambda f: f.hooks),
    Facet("effect", "Effect", lambda f: (f.effect,)),
    Facet("tested", "Tested kernels", lambda f: f.tested),
    Facet("arch", "Architecture", lambda f: f.architectures),
    Facet("license", "License", lambda f: (f.license,)),
)


def listing_page(facts: Sequence[PackageFacts]) -> GeneratedPage:
    """The page, its rows sorted by name; `facts` of every package."""
    meta = {
        "title": "All packages",
        "description": "Every package of the hub, with a filter by category, hook type, effect, "
        "tested and minimum kernel, architecture and license.",
        "hide": ["navigation", "toc"],
    }
    count = len(facts)
    markdown = (
        "# All packages\n\n"
        f"<p>{count} package{'s' if count != 1 else ''}, sorted by name. Each name leads to "
        "its page; <code>ebpf-hub search WORDS</code> finds them from a terminal. Ages are "
        f"counted to {escape(facts[0].as_of.phrase) if facts else 'the build'}.</p>\n"
    )
    rows = sorted(facts, key=lambda f: f.name)
    html = _form(rows) + _list(rows)
    return GeneratedPage(meta, markdown, (Block(html, None, indexed=False),))


def _form(rows: Sequence[PackageFacts]) -> str:
    """The filter form: text, sort order, kernel and one group of checkboxes per facet."""
    groups = "".join(_facet(facet, rows) for facet in FACETS)
    kernels = sorted({f.kernel for f in rows if f.kernel}, key=_kernel_key)
    options = "".join(f'<option value="{escape(k)}">{escape(k)}</option>' for k in kernels)
    return (
        '<form class="hub-filter" role="search" aria-label="Filter packages">'
        '<div class="hub-filter__bar">'
        '<label for="hub-filter-text">Filter</label>'
        '<input id="hub-filter-text" type="search" name="q" autocomplete="off" '
        'placeholder="name, summary, keyword">'
        '<label for="hub-filter-sort">Sort by</label>'
        '<select id="hub-filter-sort" name="sort"><option value="name">name</option>'
        '<option value="updated">recently updated</option></select>'
        '<label for="hub-filter-kernel">Runs on kernel</label>'
        f'<select id="hub-filter-kernel" name="kernel"><option value="">any</option>{options}'
        "</select></div>"
        '<details class="hub-facets"><summary>Narrow down by category, hook type, effect, '
        "tested kernels, architecture, license</summary>"
        f'<div class="hub-facets__groups">{groups}</div></details>'
        f'<p class="hub-filter__status" role="status">{len(rows)} of {len(rows)} packages</p>'
        "</form>"
    )


def _facet(facet: Facet, rows: Sequence[PackageFacts]) -> str:
    counts = Counter(value for f in rows for value in set(facet.values(f)))
    if not counts:  # no package has a value (no kernel matrix ran): nothing to narrow by
        return ""
    boxes = "".join(
        f'<label><input type="checkbox" name="{facet.key}" value="{escape(value)}"> '
        f'{escape(value)} <span class="hub-muted">({counts[value]})</span></label>'
        for value in sorted(counts)
    )
    return f"<fieldset><legend>{escape(facet.label)}</legend>{boxes}</fieldset>"


def _list(rows: Sequence[PackageFacts]) -> str:
    items = "".join(_row(f) for f in rows)
    return f'<ul class="hub-list" aria-label="Packages">{items}</ul>'


def _row(facts: PackageFacts) -> str:
    attributes = "".join(
        f' data-{facet.key}="{escape(" ".join(facet.values(facts)))}"' for facet in FACETS
    )
    text = " ".join((facts.name, facts.summary, *facts.categories, *facts.keywords)).lower()
    version = escape(facts.latest) if facts.latest else "yanked"
    return (
        f'<li data-name="{escape(facts.name)}" data-updated="{escape(facts.released)}" '
        f'data-kernel="{escape(facts.kernel or "")}" data-text="{escape(text)}"{attributes}>'
        f'<a href="{escape(facts.name)}/">{escape(facts.name)}</a> '
        f'<span class="hub-list__version">{version}</span> '
        f'<span class="hub-list__summary">{escape(facts.summary)}</span> '
        f'<span class="hub-muted">updated {days_phrase(facts.days_ago)} · '
        f"{escape(facts.effect)} · {escape(', '.join(facts.hooks))}</span></li>"
    )


def _kernel_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
