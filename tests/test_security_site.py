"""Stored XSS on the catalogue (issue #11): a hostile package, a payload in every field it has.

One site is built from a hub whose package `hostile` carries script payloads in its description
and README (raw HTML, Markdown links, attribute lists, extension syntax) and in every other
field contributors write, and a second package `hostile-git` those of a git source. The
packages are handed to the build as they are, not validated: the pages must hold even for
what validation would refuse. One Chromium session then visits the package pages, their
category page, the home page and a search, as a visitor would. Every payload that could run
calls `alert('LABEL')` (or sends the browser to `/pwned/LABEL`); none may, and the DOM may hold
nothing that could run on a click. The ordinary Markdown beside the payloads must still render.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Dialog, Page, Request, sync_playwright

from ebpf_hub.cli import build_parser
from ebpf_hub.index.config import load_config
from ebpf_hub.index.jsonindex import digests_from_json
from ebpf_hub.model.package import Package
from ebpf_hub.site import build_site
from hubrepo import SAMPLE, make_hub
from siteserver import Served, copy_site_inputs, serve_site
from test_site import CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
CATEGORY = "process"


def _run(label: str) -> str:
    return f"alert('{label}')"


def _img(label: str) -> str:
    return f'<img src=x onerror="{_run(label)}">'


# The description: ordinary Markdown first, then one payload per paragraph.
DESCRIPTION = f"""\
Ordinary Markdown: **bold text**, a [documented link](https://example.org/docs) and `inline code`.

Jinja stays text: {{{{ 7 * 7 }}}} {{% if true %}}evaluated{{% endif %}}

### Usage notes

| left | centred |
| :--- | :---: |
| cell-a | cell-b |

```python
def handler():
    return 0
```

![logo](https://images.example.org/logo.png)

<script>{_run("script")}</script>

{_img("img-onerror")}

<svg onload="{_run("svg-onload")}"><circle r="1"/></svg>

<svg><script>{_run("svg-script")}</script></svg>

<iframe src="javascript:{_run("iframe-src")}"></iframe>

<iframe srcdoc="<script>parent.{_run("iframe-srcdoc")}</script>"></iframe>

<object data="javascript:{_run("object")}"></object>

<embed src="javascript:{_run("embed")}">

<details open ontoggle="{_run("details-ontoggle")}"><summary>toggle</summary>x</details>

<a href="javascript:{_run("a-href")}">raw link</a>
<a href="JaVaScRiPt:{_run("a-case")}">case link</a>
<a href="&#106;avascript:{_run("a-entity")}">entity link</a>
<a href="java&#x09;script:{_run("a-tab")}">tab link</a>
<a href="&#x01;javascript:{_run("a-control")}">control link</a>
<a href="data:text/html,&lt;script&gt;{_run("a-data")}&lt;/script&gt;">data link</a>
<a href="vbscript:msgbox('a-vbscript')">vbscript link</a>

[markdown link](JaVaScRiPt:{_run("md-link")}) and [reference link][r] and <javascript:{_run("autolink")}>

[r]: javascript:{_run("md-reference")}

<form action="javascript:{_run("form")}"><button formaction="javascript:{_run("formaction")}">go</button></form>

<style>article {{ display: none }}</style>

<meta http-equiv="refresh" content="0;url=/pwned/meta-refresh">

<base href="/pwned/base/">

<link rel="stylesheet" href="/pwned/link">

<div class="md-dialog md-dialog--active hub-chip" data-md-component="dialog">fake dialog</div>

A paragraph with an attribute list.
{{: onclick="{_run("attr-list")}" style="position:fixed;inset:0" }}

![attr image](https://images.example.org/a.png){{: onerror="{_run("attr-list-img")}" }}

```{{ .python onclick="{_run("fence-attr")}" }}
x = 1
```

<div markdown="1" onmouseover="{_run("md-in-html")}">**inside html**</div>

## {_img("heading")} heading

<!-- material/tags {{ include: [process] }} -->

<!-- --><script>{_run("comment-breakout")}</script> -->

<noscript><p title="</noscript>{_img("noscript")}"></noscript>
"""
# An element left open, which must not swallow the package's details (its permissions).
LEFT_OPEN = "\n<details><summary>left open</summary>\n"

README = f"""\
# hostile

## Example

```
$ ebpf-hub run hostile
```

<script>{_run("readme-script")}</script>

{_img("readme-img")}

[readme link](javascript:{_run("readme-link")})

<math><mtext><table><mglyph><style><img src=x onerror="{_run("mxss")}">
"""

LEDGER = digests_from_json(
    {
        "hostile": {
            "1.0.0": {
                "digest": f'sha256:"><img src=x onerror="{_run("digest")}">',
                "size": 1,
                "parameters": [
                    {
                        "name": _img("param-name"),
                        "type": _img("param-type"),
                        "default": _img("param-default"),
                        "description": _img("param-description"),
                    }
                ],
            }
        }
    },
    "LEDGER",
)


def _hostile() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SAMPLE)
    data.update(
        name="hostile",
        summary=f"Summary pwnsummary {_img('summary')} </title><script>{_run('title')}</script>",
        description=DESCRIPTION,
        license=_img("license"),
        homepage=f'https://x.example/"><img src=x onerror="{_run("homepage")}">',
        maintainers=[
            {
                "name": _img("maintainer-name"),
                "email": f'x@y.example"><img src=x onerror="{_run("maintainer-email")}">',
                "github": f'"><img src=x onerror="{_run("maintainer-github")}">',
            }
        ],
        categories=[CATEGORY],
        keywords=[_img("keyword"), "pwnsummary"],
        source={"path": "sources/hostile"},
        requires={
            "kernel": _img("kernel"),
            "architectures": [_img("arch")],
            "capabilities": [_img("capability")],
        },
        programs=[
            {
                "name": _img("program-name"),
                "section": _img("program-section"),
                "description": _img("program-description"),
            }
        ],
        permissions={"attach": [_img("attach")], "helpers": [_img("helper")]},
        output={
            "events": True,
            "maps": [
                {
                    "map": _img("map"),
                    "kind": _img("map-kind"),
                    "unit": _img("map-unit"),
                    "title": _img("map-title"),
                }
            ],
        },
    )
    data["versions"] = [
        {
            "version": "1.0.0",
            "tree": _img("tree"),
            "created": "2026-01-10",
            "changes": _img("changes"),
        },
        {
            "version": "1.1.0",
            "tree": _img("tree"),
            "created": _img("created"),
            "changes": _img("changes-2"),
            "yanked": _img("yanked"),
        },
    ]
    return data


def _hostile_git() -> dict[str, Any]:
    data = copy.deepcopy(_hostile())
    data.update(
        name="hostile-git",
        description=DESCRIPTION + LEFT_OPEN,
        homepage=f"javascript:{_run('homepage-scheme')}",
        source={"git": f"javascript:{_run('git')}", "subdir": _img("subdir")},
    )
    for version in data["versions"]:
        version["commit"] = version.pop("tree")
    return data


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    hub = make_hub(tmp_path_factory.mktemp("hub"))
    copy_site_inputs(hub)
    (hub / "sources/hostile").mkdir(parents=True)
    (hub / "sources/hostile/README.md").write_text(README)
    packages = [Package.from_json(_hostile()), Package.from_json(_hostile_git())]
    out = hub / "out"
    build_site(
        load_config(hub), out, packages=packages, digests=LEDGER, command_line=build_parser()
    )
    with serve_site(out) as served:
        yield served


@dataclass
class Visitor:
    """A browser tab that records every payload that ran: alerts from any frame, and any
    request for /pwned/ (where a refresh or a <base> would send it)."""

    page: Page
    ran: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _dialog(self, dialog: Dialog) -> None:
        self.ran.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if "/pwned/" in request.url:
            self.ran.append(request.url)

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")


@pytest.fixture(scope="module")
def visitor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visitor]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            # Nothing leaves the machine: outside images fail at once instead of timing out.
            context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
            yield Visitor(context.new_page())
        finally:
            context.close()


# Everything in the page that could run on load or on a click: event handler attributes, URLs
# with a script or data scheme (as the browser reads them: control characters and whitespace
# dropped, any case), and elements that run, frame, submit or restyle.
_DANGER = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(`${el.tagName} ${attr.name}`);
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (/^(javascript|vbscript|data):/.test(value)) found.push(`${el.tagName} ${attr.name}=${value}`);
    }
  }
  const content = ['script', 'style', 'link', 'form', 'meta', 'noscript'];
  const selector = ['iframe, object, embed, base', ...content.map(tag => `article ${tag}`)];
  for (const el of document.querySelectorAll(selector.join(', '))) found.push(el.outerHTML);
  for (const a of document.querySelectorAll('article a[href]')) {
    if (!['http:', 'https:', 'mailto:'].includes(a.protocol)) found.push(`link ${a.href}`);
    const outside = a.protocol !== 'mailto:' && a.host !== location.host;
    const rel = (a.getAttribute('rel') || '').split(/\\s+/);
    if (outside && !(rel.includes('nofollow') && rel.includes('noopener')))
      found.push(`no rel: ${a.href}`);
  }
  for (const el of document.querySelectorAll('article [class*="md-dialog"], article [class*="hub-chip"]'))
    if (el.textContent.includes('fake dialog')) found.push(el.outerHTML);
  for (const el of document.querySelectorAll('article [data-md-component], article :is(h1,h2,h3,h4,h5,h6)[id^="_"]'))
    found.push(el.outerHTML);
  return found;
}"""


# A script put into the page as if it had come with its content: the violation the policy reports.
_INJECT_SCRIPT = """() => new Promise(resolve => {
  document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
  const script = document.createElement('script');
  script.textContent = "alert('inline-after-sanitizer')";
  document.body.append(script);
  setTimeout(() => resolve('no violation'), 2000);
})"""


def _assert_inert(visitor: Visitor, url: str) -> None:
    visitor.visit(url)
    page = visitor.page
    page.mouse.move(300, 300)  # hover handlers
    page.wait_for_timeout(200)
    assert visitor.ran == [], f"payloads ran on {url}: {visitor.ran}"
    danger = page.evaluate(_DANGER)
    assert danger == [], f"{url} could still run: {danger}"


def test_no_payload_runs_on_any_page_and_markdown_still_renders(
    site: Served, visitor: Visitor
) -> None:
    page = visitor.page
    _assert_inert(visitor, site.url + "packages/hostile-git/")
    # An element the description leaves open holds none of the details of the package.
    for anchor in ("#versions", "#permissions", "#facts"):
        assert page.locator(anchor).evaluate("h => h.closest('details') === null"), anchor
    for path in (f"categories/{CATEGORY}/", "", "packages/hostile/"):
        _assert_inert(visitor, site.url + path)

    # The page's own text shows the payloads as typed, in its title and meta description too.
    summary = _hostile()["summary"]
    assert page.title() == "hostile - eBPF Hub"
    description = page.locator('meta[name="description"]').get_attribute("content")
    assert description == summary
    assert page.locator("p.hub-summary").inner_text() == summary
    text = page.locator("article").inner_text()
    for shown in (
        "Jinja stays text: {{ 7 * 7 }} {% if true %}evaluated{% endif %}",
        _img("changes"),
    ):
        assert shown in text
    assert "packages/hostile.md:" not in text  # the tags listing directive was not obeyed

    # Ordinary Markdown still renders: emphasis, links, tables, highlighted code, images.
    article = page.locator("article")
    assert article.locator("strong", has_text="bold text").count() == 1
    link = article.locator("a", has_text="documented link")
    assert link.get_attribute("href") == "https://example.org/docs"
    assert article.locator("h3#usage-notes").count() == 1
    assert article.locator("td", has_text="cell-b").get_attribute("style") == "text-align:center"
    code = article.locator(".highlight pre code", has_text="def handler")
    assert code.locator("span.k", has_text="def").count() == 1
    assert article.locator('img[src="https://images.example.org/logo.png"]').count() == 1
    assert article.locator("h3#readme-example").count() == 1  # the README's ##, a level down
    # Material's script runs: it gave each code block its copy button.
    assert article.locator(".highlight button.md-code__button").count() >= 3

    # And behind the sanitizer, the page's Content-Security-Policy refuses any other script.
    assert page.evaluate(_INJECT_SCRIPT).startswith("script-src")
    assert visitor.ran == []


def test_search_results_show_payloads_as_text(site: Served, visitor: Visitor) -> None:
    page = visitor.page
    visitor.visit(site.url)
    page.locator("input.md-search__input").click()
    page.keyboard.type("pwnsummary", delay=20)
    result = page.locator('a.md-search-result__link[href*="/packages/hostile/"]').first
    result.wait_for(timeout=15_000)
    page.wait_for_timeout(300)
    assert visitor.ran == []
    assert page.evaluate(_DANGER) == []
    result.click()
    page.wait_for_load_state("networkidle")
    assert visitor.ran == []
