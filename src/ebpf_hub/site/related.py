"""Related packages: a few others sharing a package's keywords and categories.

A shared keyword says more than a shared category (a category holds a twelfth of the hub), so
it weighs more. Candidates come from posting lists, never from comparing every pair: at
10,000 packages a pairwise pass would cost more than the whole site build.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

from ebpf_hub.site.facts import PackageFacts
from ebpf_hub.site.markup import escape, html_heading

ANCHOR = "related"
TITLE = "Related packages"
LIMIT = 4
_KEYWORD, _CATEGORY = 3, 1
# At most this many packages (the first by name) of one keyword or category are weighed for a
# package: enough to fill LIMIT places, without a pass over a category of thousands.
_SAMPLE = 64


def related(facts: Sequence[PackageFacts]) -> dict[str, tuple[PackageFacts, ...]]:
    """Each package's related packages, best first (ties by name), at most LIMIT."""
    by_keyword = _postings(facts, lambda f: f.keywords)
    by_category = _postings(facts, lambda f: f.categories)
    named = {f.name: f for f in facts}
    found = {}
    for package in facts:
        # Counted in C (`Counter.update` of names): a keyword's sample is listed _KEYWORD
        # times, so that each of its packages scores that much.
        score: Counter[str] = Counter()
        for keyword in set(package.keywords):
            score.update(by_keyword[keyword] * _KEYWORD)
        for category in set(package.categories):
            score.update(by_category[category] * _CATEGORY)
        del score[package.name]
        # By name, then (a stable sort) by score, best first: no key built per candidate.
        best = sorted(sorted(score.items()), key=itemgetter(1), reverse=True)[:LIMIT]
        found[package.name] = tuple(named[name] for name, _ in best)
    return found


def related_section(others: Sequence[PackageFacts]) -> str:
    """The section's HTML (links to sibling pages), or "" when there are none."""
    if not others:
        return ""
    items = "".join(
        f'<li><a href="../{escape(f.name)}/">{escape(f.name)}</a> '
        f'<span class="hub-muted">{escape(f.summary)}</span></li>'
        for f in others
    )
    return html_heading(ANCHOR, TITLE) + f'<ul class="hub-related">{items}</ul>'


def _postings(
    facts: Sequence[PackageFacts], values: Callable[[PackageFacts], Iterable[str]]
) -> dict[str, list[str]]:
    """Each value's sample: the names of its first _SAMPLE packages by name."""
    postings: dict[str, list[str]] = defaultdict(list)
    for package in sorted(facts, key=lambda f: f.name):
        for value in set(values(package)):
            if len(postings[value]) < _SAMPLE:
                postings[value].append(package.name)
    return postings
