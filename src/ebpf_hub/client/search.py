"""Ranked search over the package summaries of `index.json`.

Ranks, best first: the exact name, a name starting with the term, a name containing it, a
keyword or category equal to it, every word of the term starting a word of the summary or
keywords, and last a name merely similar to the term (a typo). Ties go by closeness (for
similar names) and then by name, so the same index and term always give the same list. One
pass over the summaries with cheap string tests first keeps a query over 10,000 packages in
milliseconds; only names that matched nothing else reach difflib.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ebpf_hub.model.index import IndexSummary

FUZZY_CUTOFF = 0.7  # difflib ratio a name needs to count as a typo of the term
_WORD = re.compile(r"[a-z0-9]+")

RANK_NAME, RANK_PREFIX, RANK_IN_NAME, RANK_TAG, RANK_WORDS, RANK_SIMILAR = range(6)


class Match(NamedTuple):
    """One search hit: `reason` says why it matched, `rank` orders the reasons (0 is best).

    A named tuple rather than a dataclass: listing 10,000 packages builds 10,000 of them.
    """

    name: str
    rank: int
    reason: str
    score: float  # difflib ratio for a similar name; 1.0 for every other kind of match
    package: IndexSummary  # the entry of index.json


def search(summaries: list[IndexSummary], term: str, category: str | None = None) -> list[Match]:
    """The packages matching `term`, best first; an empty term lists them all (or a category)."""
    wanted = term.strip().lower()
    pool = summaries
    if category is not None:
        category = category.strip().lower()
        pool = [p for p in summaries if category in p.categories]
    if not wanted:
        reason = "category" if category is not None else "listed"
        return sorted((Match(p.name, RANK_TAG, reason, 1.0, p) for p in pool), key=_order)
    words = _WORD.findall(wanted)
    similar = _Similar(wanted)
    matches = []
    for package in pool:
        name = package.name
        score = 1.0
        if wanted in name:
            if name == wanted:
                rank, reason = RANK_NAME, "name"
            elif name.startswith(wanted):
                rank, reason = RANK_PREFIX, "name prefix"
            else:
                rank, reason = RANK_IN_NAME, "in name"
        elif wanted in package.keywords:
            rank, reason = RANK_TAG, "keyword"
        elif wanted in package.categories:
            rank, reason = RANK_TAG, "category"
        elif words and _has_words(package, words):
            rank, reason = RANK_WORDS, "summary"
        else:
            score = similar.score(name)
            if score < FUZZY_CUTOFF:
                continue
            rank, reason = RANK_SIMILAR, "similar name"
        matches.append(Match(name, rank, reason, score, package))
    return sorted(matches, key=_order)


def _order(match: Match) -> tuple[int, float, str]:
    return match.rank, -match.score, match.name


def _has_words(package: IndexSummary, words: list[str]) -> bool:
    """Whether every word of the term starts a word of the summary or of a keyword."""
    text = " ".join((package.summary.lower(), *package.keywords))
    # Substring tests first: most packages fail one and are never tokenized.
    if not all(word in text for word in words):
        return False
    vocabulary = _WORD.findall(text)
    return all(any(v.startswith(word) for v in vocabulary) for word in words)


class _Similar:
    """difflib's ratio of names to the term, skipping names whose cheap upper bounds are low."""

    def __init__(self, term: str) -> None:
        self._length = len(term)
        self._matcher = SequenceMatcher(None, "", term, autojunk=False)

    def score(self, name: str) -> float:
        """The ratio (rounded), or 0.0 when it cannot reach FUZZY_CUTOFF."""
        # difflib's real_quick_ratio, inline: lengths alone rule out most names.
        total = len(name) + self._length
        if 2 * min(len(name), self._length) < FUZZY_CUTOFF * total:
            return 0.0
        self._matcher.set_seq1(name)
        if self._matcher.quick_ratio() < FUZZY_CUTOFF:
            return 0.0
        return round(self._matcher.ratio(), 3)
