"""A Content-Security-Policy on every page: defence in depth behind `sanitize`.

Should contributor HTML ever get past the sanitizer, the browser still refuses to run it:
scripts load only from the site itself, and the only inline scripts that run are the theme's
own, allowed by hash. Those hashes are taken from the page as the theme rendered it with the
page's content cut out, so nothing in the content can allow itself. Plugins, frames, a `<base>`
and forms posting elsewhere are refused too. A static site can only set the policy in a
`<meta>` (which cannot say `frame-ancestors`; a host has to send that as a header).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

from ebpf_hub.site.pages import NoOptions

PLUGIN_NAME = "ebpf-hub/csp"
# The theme's inline scripts carry no attributes; its configuration is a JSON data block,
# which browsers never run and the policy does not govern.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Characters of a page's content searched for in the page; the rest is compared, not searched.
_PROBE = 64
_POLICY = (
    "default-src 'self'",
    "script-src 'self' {hashes}",
    # Styles may be inline (the theme's and ours); contributor styles are sanitized away.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' https: data:",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


class ContentSecurityPolicyPlugin(BasePlugin[NoOptions]):  # type: ignore[no-untyped-call]  # mkdocs' own
    """Puts the policy, with the hashes of the theme's inline scripts, first in each page."""

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        theme = _without(output, page.content) if page.content else output
        hashes = " ".join(sorted({_hash(script) for script in _INLINE_SCRIPT.findall(theme)}))
        policy = "; ".join(_POLICY).format(hashes=hashes)
        meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        return output.replace("<head>", f"<head>{meta}", 1)


def _without(output: str, content: str) -> str:
    """`output` less the first occurrence of `content` (as `str.replace(content, "", 1)`).

    Searching for the whole content (tens of KiB) in the page cost more than the rest of the
    plugin together, at 10,000 pages a second: a short probe finds the candidates, and
    `startswith` (a memory compare) confirms one."""
    probe = content[:_PROBE]
    at = output.find(probe)
    while at >= 0 and not output.startswith(content, at):
        at = output.find(probe, at + 1)
    return output if at < 0 else output[:at] + output[at + len(content) :]


@lru_cache(maxsize=64)
def _hash(script: str) -> str:
    """The policy source of one inline script; the theme's are the same on every page."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
