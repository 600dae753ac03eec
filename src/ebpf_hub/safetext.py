"""Text written by others, made safe to show on a terminal and in one-line messages.

A terminal obeys the control characters it is given: ESC sequences move the cursor, recolour,
hide text (the "conceal" attribute), retitle the window (OSC) or query it; C1 controls
(U+0080-U+009F) are the same sequences in one character; a carriage return overwrites the line
already shown. Bidirectional overrides reorder what a reader sees ("Trojan Source") and
zero-width characters make different names look alike. Package metadata, registry answers,
tag names and kernel events (a file name chosen by any local user) may hold all of these, so
whatever the CLI prints passes through `escape`, which shows them as visible escapes (`\\x1b`,
`\\u202e`). `ebpf_hub.index.checks` refuses them in package files with the same pattern.

JSON output needs nothing more: `json.dumps` with its default `ensure_ascii=True` writes C0,
DEL and every non-ASCII character (C1, bidi, zero-width) as `\\uXXXX`.
"""

from __future__ import annotations

import re
from typing import Final

# C0 controls, DEL and C1 controls; the soft hyphen; the Arabic letter mark; the Mongolian
# vowel separator; zero-width space/joiners and the left-to-right/right-to-left marks; line and
# paragraph separators; bidi embeddings, overrides and isolates; word joiner, invisible
# operators and the deprecated format controls; lone surrogates (JSON's "\ud800" decodes to
# one, and no UTF-8 output can print it); the byte-order mark (zero-width no-break); the
# interlinear annotation controls; the tag characters, invisible copies of ASCII.
UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
QUOTE_LIMIT: Final = 48  # characters of a value echoed in a message before it is cut


def visible(char: str) -> str:
    """The escape that shows `char`: `\\x1b` for one byte's worth, `\\u202e` up to U+FFFF,
    else `\\U000e0041` (as `\\ue0041` it would read as U+E004 and a "1")."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str, keep: str = "") -> str:
    """`text` with every unsafe character but those in `keep` (e.g. "\\n") made visible."""

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep else visible(char)

    return UNSAFE.sub(replace, text)


def clip(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` for a message: escaped, and cut at `limit` characters with its length said,
    so that a 5,000-digit argument or a hostile name cannot flood the line."""
    shown, note = _cut(str(value), limit)
    return shown + note


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` for a message as `clip` shows it, in quotes: `'abc'`, `'ab…' (5000 characters)`."""
    shown, note = _cut(str(value), limit)
    return f"'{shown}'{note}"


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The escaped start of `text` and, when it was cut, a note of its whole length."""
    if len(text) <= limit:
        return escape(text), ""
    return escape(text[:limit]) + "…", f" ({len(text)} characters)"
