"""Text a template or `init --from` wrote for the author to replace, recognised where it stays.

A package whose summary is the tracepoint template's "Trace exec() calls..." tells users
nothing true about it, and it passes every other check. The texts are read from the templates
themselves (any `{{placeholder}}` in them matches whatever it was rendered to), so a template
that changes its wording is recognised without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Final

import yaml

from ebpf_hub.develop.project import MANIFEST
from ebpf_hub.develop.scaffold import TEMPLATES

# What `ebpf-hub init --from` writes where only the author knows the words.
IMPORTED_SUMMARY: Final = "{name}: replace this line with what it shows"
IMPORTED_DESCRIPTION: Final = (
    "Replace this with what {name} shows, when to use it and how to read its output "
    "(Markdown); `ebpf-hub submit` refuses the package until then."
)
_PLACEHOLDER: Final = re.compile(r"\\\{\\\{[a-z_]+\\\}\\\}")


def _pattern(text: str) -> re.Pattern[str]:
    """`text` as a pattern: whitespace runs match any whitespace, `{{x}}` matches anything."""
    words = [_PLACEHOLDER.sub(".*?", re.escape(word)) for word in text.split()]
    return re.compile(r"\s+".join(words), re.DOTALL)


@cache
def _manifest_fields() -> dict[str, tuple[re.Pattern[str], ...]]:
    """Each field's template texts, as patterns (the imported ones included)."""
    found: dict[str, list[str]] = {
        "summary": [IMPORTED_SUMMARY.replace("{name}", "{{name}}")],
        "description": [IMPORTED_DESCRIPTION.replace("{name}", "{{name}}")],
    }
    for manifest in sorted(TEMPLATES.glob(f"*/{MANIFEST}")):
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        for field, texts in found.items():
            if isinstance(data.get(field), str):
                texts.append(data[field])
    return {field: tuple(map(_pattern, texts)) for field, texts in found.items()}


@cache
def _abouts() -> tuple[re.Pattern[str], ...]:
    """What each template kind's README says the package does (its ABOUT.md), and the line
    `init --from` writes in its place."""
    texts = [about.read_text(encoding="utf-8") for about in sorted(TEMPLATES.glob("*/ABOUT.md"))]
    return tuple(map(_pattern, [*texts, IMPORTED_SUMMARY.replace("{name}", "{{name}}")]))


def placeholder_fields(summary: str, description: str) -> Iterator[str]:
    """The manifest fields (summary, description) still holding a template's text."""
    for field, value in (("summary", summary), ("description", description)):
        if any(pattern.fullmatch(value.strip()) for pattern in _manifest_fields()[field]):
            yield field


def readme_is_template(text: str) -> bool:
    """Whether a README still says what a template kind says its package does."""
    return any(pattern.search(text) for pattern in _abouts())
