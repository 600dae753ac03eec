"""The catalogue website: built from the real index, served over HTTP, driven in Chromium.

The browser is Debian's headless chromium driven by Playwright (never `playwright install`);
the site must work with no network: every request it makes has to be answered by our server.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
import yaml
from jsonschema import Draft202012Validator
from playwright.sync_api import BrowserContext, Page, sync_playwright

from ebpf_hub.cli import build_parser
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import load_config
from ebpf_hub.index.jsonindex import digests_from_json
from ebpf_hub.index.validate import validate
from ebpf_hub.model.package import Package
from ebpf_hub.site import build_site
from hubrepo import SAMPLE
from siteserver import Served, copy_site_inputs, serve_site

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-output"
SEED = "execsnoop"
KEYWORD = "execve"
CATEGORY = "networking"
DIGEST = "sha256:" + "5e" * 32
# The seed's newest version: the one its page offers first, with the ledger's digest.
NEWEST = yaml.safe_load((REPO / "index" / "packages" / f"{SEED}.yaml").read_text())["versions"][-1][
    "version"
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEDGER = digests_from_json(
    {SEED: {NEWEST: {"digest": DIGEST, "size": 20480, "parameters": []}}}, "LEDGER"
)


@pytest.fixture(scope="module")
def real_packages() -> list[Package]:
    report = validate(load_config(REPO))
    assert report.ok, report.problems
    return report.packages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    out = tmp_path_factory.mktemp("site") / "out"
    build_site(load_config(REPO), out, digests=LEDGER, command_line=build_parser())
    with serve_site(out) as served:
        yield served


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class Watched:
    """A browser page with every console error and failed request it saw."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def visit(self, url: str) -> None:
        """Open `url` and wait until it has loaded everything (the search worker too), so
        that leaving it cancels no request."""
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")


@pytest.fixture
def tab(browser: BrowserContext) -> Iterator[Watched]:
    watched = Watched(browser.new_page())
    page = watched.page
    page.on("console", lambda m: watched.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.problems.append(str(e)))
    page.on("requestfailed", lambda r: watched.problems.append(f"failed: {r.url}"))
    page.on(
        "request",
        lambda r: (
            watched.problems.append(f"external: {r.url}")
            if urlparse(r.url).scheme in ("http", "https")
            and urlparse(r.url).hostname != "127.0.0.1"
            else None
        ),
    )
    page.on(
        "response",
        lambda r: watched.problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
    )
    yield watched
    page.wait_for_load_state("networkidle")
    page.close()
    assert watched.problems == []


def test_search_finds_a_package_and_its_page_shows_install_and_versions(
    site: Served, tab: Watched, real_packages: list[Package]
) -> None:
    [seed] = [p for p in real_packages if p.name == SEED]
    assert KEYWORD in seed.keywords
    page = tab.page
    tab.visit(site.url)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

    page.locator("input.md-search__input").click()
    page.keyboard.type(KEYWORD, delay=20)
    # Material adds ?h=WORDS to result links, to highlight the words on the page.
    result = page.locator(f'a.md-search-result__link[href*="/packages/{SEED}/?"]').first
    result.wait_for(timeout=15_000)
    result.click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}packages/{SEED}/") + r"(\?.*)?$"))
    page.wait_for_load_state("networkidle")

    assert page.title() == f"{SEED} - eBPF Hub"
    commands = page.locator("#install ~ div.highlight").all_inner_texts()
    assert f"ebpf-hub install {SEED}" in commands[0]
    assert f"ebpf-hub run {SEED}" in commands[0]
    registry = load_config(REPO).registry
    assert f"oras pull --platform linux/amd64 {registry}/{SEED}@{DIGEST}" in commands[1]
    table = page.locator('xpath=//h2[@id="versions"]/following::table[1]')
    headers = table.locator("th").all_inner_texts()
    row = table.locator("tbody tr").first
    cells = dict(zip(headers, row.locator("td").all_inner_texts(), strict=True))
    assert cells["Version"] == NEWEST and cells["Released"] == seed.versions[-1].created
    assert cells["Size"] == "20.0 KiB"
    assert cells["Digest"].startswith(DIGEST[:19]) and cells["Digest"].endswith("…")
    assert row.locator("code").get_attribute("title") == DIGEST
    assert row.locator("button.hub-copy").get_attribute("data-clipboard-text") == DIGEST
    assert "latest" in cells["Status"]
    for category in seed.categories:
        chip = page.locator("nav.md-tags a", has_text=category)
        assert chip.get_attribute("href") == f"../../categories/{category}/"
    page.screenshot(path=str(SCREENSHOTS / f"package-{SEED}.png"), full_page=True)


def test_category_page_lists_its_packages(
    site: Served, tab: Watched, real_packages: list[Package]
) -> None:
    expected = sorted(p.name for p in real_packages if CATEGORY in p.categories)
    assert expected, f"the seed index has no {CATEGORY} package"
    page = tab.page
    tab.visit(f"{site.url}categories/{CATEGORY}/")
    listed = page.locator("ul.hub-listing > li > a").all_inner_texts()
    assert listed == expected
    summaries = page.locator("ul.hub-listing .hub-listing__summary").all_inner_texts()
    by_name = {p.name: p.summary for p in real_packages}
    assert summaries == [by_name[name] for name in expected]
    page.locator("ul.hub-listing > li > a", has_text=expected[0]).click()
    page.wait_for_url(f"{site.url}packages/{expected[0]}/")


def test_home_page_counts_categories_and_lists_recent_packages(
    site: Served, tab: Watched, real_packages: list[Package]
) -> None:
    config = load_config(REPO)
    page = tab.page
    tab.visit(site.url)
    cards = page.locator(".hub-categories li")
    assert cards.count() == len(config.categories)
    for category, description in config.categories.items():
        card = cards.filter(has=page.locator(f'a[href="categories/{category}/"]'))
        count = sum(category in p.categories for p in real_packages)
        text = card.inner_text()
        assert description in text
        assert (f"{count} package" if count else "no packages yet") in text
    recent = page.locator('xpath=//h2[@id="recently-updated"]/following::table[1]/tbody/tr/td[1]/a')
    assert recent.count() == min(8, len(real_packages))
    assert set(recent.all_inner_texts()) <= {p.name for p in real_packages}

    # The hero's search box opens Material's search, focused.
    page.locator("button.hub-hero__search").click()
    page.keyboard.type(KEYWORD, delay=20)
    page.locator(f'a.md-search-result__link[href*="/packages/{SEED}/?"]').first.wait_for()


def test_phone_layout_has_no_horizontal_overflow(site: Served, tab: Watched) -> None:
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("", f"packages/{SEED}/", f"categories/{CATEGORY}/"):
        tab.visit(site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path or 'home'} is {width}px wide on a 390px screen"


class _Links(html.parser.HTMLParser):
    """Every URL a page links to or loads; `loads` are what a browser fetches by itself."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") == "canonical":
            return
        for name in ("href", "src"):
            value = values.get(name)
            if value:
                self.links.append(value)
                if tag in ("link", "script", "img", "iframe", "source"):
                    self.loads.append(value)


def _fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our server)
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


def test_every_internal_link_and_asset_answers_200(
    site: Served, real_packages: list[Package]
) -> None:
    host = urlparse(site.url).netloc
    pending, seen, broken, external_loads = [site.url], {site.url}, [], []
    while pending:
        url = pending.pop()
        status, kind, body = _fetch(url)
        if status != 200:
            broken.append(f"{status} {url}")
            continue
        found: list[str] = []
        if kind == "text/html":
            parser = _Links()
            parser.feed(body.decode())
            found = parser.links
            external_loads += [u for u in parser.loads if urlparse(urljoin(url, u)).netloc != host]
        elif kind == "text/css":
            found = re.findall(r"url\(['\"]?([^'\")]+)", body.decode())
        for link in found:
            target = urldefrag(urljoin(url, link)).url
            if urlparse(target).netloc == host and target not in seen:
                seen.add(target)
                pending.append(target)
    assert broken == []
    assert external_loads == []
    for name in ("index.json", *(f"packages/{p.name}.json" for p in real_packages)):
        assert f"{site.url}api/v1/{name}" in seen
    assert f"{site.url}packages/{SEED}/" in seen
    assert len(seen) > 40


def test_no_request_leaves_the_site(site: Served) -> None:
    text = "\n".join(p.read_text() for p in site.root.rglob("*.html"))
    for host in ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com"):
        assert host not in text


def test_reference_pages_follow_the_schemas_and_the_cli(site: Served) -> None:
    metadata = (site.root / "reference/metadata/index.html").read_text()
    schema = json.loads((REPO / "schema/package.schema.json").read_text())
    for name in schema["properties"]:
        assert f"<code>{name}</code>" in metadata
    for name in schema["properties"]["versions"]["items"]["properties"]:
        assert f"<code>{name}</code>" in metadata
    assert 'id="package-versions"' in metadata
    api = (site.root / "reference/api/index.html").read_text()
    assert 'id="index-packages-versions"' in api and 'id="package-index-versions"' in api

    cli = (site.root / "reference/cli/index.html").read_text()
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert commands.choices
    for name, sub in commands.choices.items():
        assert f'id="cli-{name}"' in cli
        usage = sub.format_usage().split()[1:3]
        assert " ".join(usage) in cli


def test_the_artifact_reference_names_the_media_types_the_code_writes() -> None:
    from ebpf_hub.oci import artifact, signing

    text = (REPO / "site/reference/artifact.md").read_text()
    table = dict(re.findall(r"^\| ([a-zA-Z ]+) \| `([^`]+)` \|", text, flags=re.M))
    assert table == {
        "artifact": artifact.ARTIFACT_TYPE,
        "config blob": artifact.ARTIFACT_CONFIG_MEDIA_TYPE,
        "eBPF object": artifact.BPF_OBJECT_MEDIA_TYPE,
        "README": artifact.FILE_MEDIA_TYPES["README.md"],
        "license": artifact.FILE_MEDIA_TYPES["LICENSE"],
    }
    assert f'"mediaType": "{artifact.ARTIFACT_CONFIG_MEDIA_TYPE}"' in text
    for media_type in (signing.PAYLOAD_MEDIA_TYPE, signing.SIGNATURE_CONFIG_MEDIA_TYPE):
        assert f"`{media_type}`" in text.partition("## Signatures")[2]


def test_add_a_package_example_is_a_valid_package_file() -> None:
    text = (REPO / "site/add-a-package.md").read_text()
    [example] = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    schema = json.loads((REPO / "schema/package.schema.json").read_text())
    Draft202012Validator(schema).validate(yaml.safe_load(example))


def test_two_builds_give_the_same_pages(site: Served, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site(load_config(REPO), again, digests=LEDGER, command_line=build_parser())
    first = {p.relative_to(site.root) for p in site.root.rglob("*") if p.is_file()}
    second = {p.relative_to(again) for p in again.rglob("*") if p.is_file()}
    assert first == second
    compared = [p for p in first if p.suffix in (".html", ".json")]
    assert any(p.parts[0] == "packages" for p in compared)
    assert [p for p in compared if (site.root / p).read_bytes() != (again / p).read_bytes()] == []


def _copy_hub(root: Path) -> Path:
    """A copy of this repository's hub (index, sources, schemas, site) to change freely."""
    for part in ("index", "sources"):
        shutil.copytree(REPO / part, root / part)
    copy_site_inputs(root)
    return root


def test_unknown_category_fails_the_build_with_a_clear_message(tmp_path: Path) -> None:
    config = load_config(REPO)
    [seed] = [p for p in validate(config).packages if p.name == SEED]
    raw = {**seed.to_json(), "categories": ["process", "gardening"]}
    out = tmp_path / "out"
    with pytest.raises(HubError) as caught:
        build_site(config, out, packages=[Package.from_json(raw)], command_line=build_parser())
    message = str(caught.value)
    assert f"package {SEED}: category 'gardening' is not in index/hub.yaml's allow-list" in message
    assert "\n" not in message and not out.exists()


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        (
            "tags: [gardening]",
            "Error reading page 'extra.md': category 'gardening' is not in index/hub.yaml's "
            "allow-list (",
        ),
        ("tags: networking", "Error reading page 'extra.md': tags must be a list of category"),
    ],
)
def test_a_hand_written_page_gets_its_categories_checked(
    tmp_path: Path, front_matter: str, message: str
) -> None:
    hub = _copy_hub(tmp_path / "hub")
    (hub / "site/extra.md").write_text(f"---\n{front_matter}\n---\n# Extra\n")
    with pytest.raises(HubError, match=re.escape(f"mkdocs build failed: {message}")):
        build_site(load_config(hub), tmp_path / "out", packages=[], command_line=build_parser())
    assert not (tmp_path / "out").exists()


def test_materials_tags_plugin_is_refused(tmp_path: Path) -> None:
    """It would obey a listing directive written into a contributor's README."""
    hub = _copy_hub(tmp_path / "hub")
    config = hub / "mkdocs.yml"
    config.write_text(config.read_text().replace("  - search\n", "  - search\n  - tags\n"))
    with pytest.raises(
        HubError, match=r"^mkdocs.yml: the material/tags plugin is not used"
    ) as caught:
        build_site(load_config(hub), tmp_path / "out", packages=[], command_line=build_parser())
    assert caught.value.hint == "remove material/tags from the plugins of mkdocs.yml"


def test_a_failed_build_leaves_the_previous_site(tmp_path: Path) -> None:
    hub = _copy_hub(tmp_path / "hub")
    out = tmp_path / "out"
    build_site(load_config(hub), out, packages=[], command_line=build_parser())
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    page = hub / "site/install.md"
    page.write_text(page.read_text() + "\n<!-- hub:nonsense -->\n")
    with pytest.raises(HubError, match=r"site/install.md: unknown generated block"):
        build_site(load_config(hub), out, packages=[], command_line=build_parser())
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub", "out"]
    assert list((hub / "build").iterdir()) == []


def test_a_hand_written_page_where_a_generated_page_goes_fails_the_build(tmp_path: Path) -> None:
    hub = _copy_hub(tmp_path / "hub")
    (hub / "site/packages").mkdir()
    (hub / f"site/packages/{SEED}.md").write_text("# Mine\n")
    out = tmp_path / "out"
    with pytest.raises(HubError) as caught:
        build_site(load_config(hub), out, command_line=build_parser())
    assert str(caught.value) == (
        f"site/packages/{SEED}.md: a hand-written page is where a generated page goes; "
        "rename or remove it"
    )
    assert not out.exists() and list((hub / "build").iterdir()) == []


def _get(url: str) -> str:
    status, _, body = _fetch(url)
    return body.decode() if status == 200 else ""


def test_serve_rebuilds_when_a_package_file_changes(tmp_path: Path) -> None:
    hub = _copy_hub(tmp_path / "hub")
    code = (
        "import sys; from pathlib import Path; from ebpf_hub.index.config import load_config; "
        "from ebpf_hub.cli import build_parser; from ebpf_hub.site import serve_site; "
        "serve_site(load_config(Path(sys.argv[1])), Path(sys.argv[2]), port=0, "
        "command_line=build_parser())"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code, str(hub), str(tmp_path / "out")],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        page = f"{match.group(1)}packages/{SEED}/"
        assert "Trace every program started" in _get(page)

        package = hub / "index/packages" / f"{SEED}.yaml"
        data = yaml.safe_load(package.read_text())
        data["summary"] = "Trace every program started, now served fresh"
        package.write_text(yaml.safe_dump(data, sort_keys=False))
        deadline = time.monotonic() + 30
        while "now served fresh" not in _get(page):
            assert time.monotonic() < deadline, "the site was not rebuilt"
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


def _sample(name: str, **changes: Any) -> Package:
    data = yaml.safe_load(SAMPLE.replace("name: sample", f"name: {name}"))
    data.update(changes)
    return Package.from_json(data)


def test_package_pages_show_yanked_versions_danger_and_text_as_typed(tmp_path: Path) -> None:
    yanked = [
        {**version, "yanked": "Breaks on arm64"} if version["version"] == "1.1.0" else version
        for version in yaml.safe_load(SAMPLE)["versions"]
    ]
    risky = _sample(
        "risky",
        summary="Counts <script>alert(1)</script> | *events* `x`",
        description="Mentions `<!-- hub-marker:readme -->` in its text.",
        permissions={"attach": ["tracepoint"], "helpers": ["bpf_send_signal"]},
        versions=yanked,
    )
    withdrawn = _sample(
        "withdrawn",
        summary="# Not a heading: a summary shows as typed",
        versions=[{**v, "yanked": "Withdrawn"} for v in yaml.safe_load(SAMPLE)["versions"]],
    )
    parameters = [{"name": "target_pid", "type": "pid", "default": 0, "description": "one pid"}]
    ledger = digests_from_json(
        {"risky": {"1.0.0": {"digest": DIGEST, "size": 1, "parameters": parameters}}}, "ledger"
    )
    out = tmp_path / "out"
    build_site(
        load_config(REPO),
        out,
        packages=[risky, withdrawn],
        digests=ledger,
        command_line=build_parser(),
    )

    page = (out / "packages/risky/index.html").read_text()
    assert (
        "Counts &lt;script&gt;alert(1)&lt;/script&gt; &#124; &#42;events&#42; &#96;x&#96;" in page
    )
    assert "<script>alert" not in page
    assert page.count('id="versions"') == 1
    assert page.index('id="about"') < page.index('id="versions"')
    assert "<dt>Latest</dt><dd>1.0.0</dd>" in page
    assert '<span class="hub-chip hub-chip--yanked">yanked</span> Breaks on arm64' in page
    assert 'class="admonition danger"' in page and "<code>bpf_send_signal</code>" in page
    assert f"oras pull --platform linux/amd64 ghcr.io/ebpf-hub/packages/risky@{DIGEST}" in page
    assert "<code>target_pid</code>" in page

    gone = (out / "packages/withdrawn/index.html").read_text()
    assert "Every version is yanked" in gone and "ebpf-hub install withdrawn" not in gone
    assert '<p class="hub-summary"># Not a heading: a summary shows as typed</p>' in gone
    leftovers = [p for p in out.rglob("*.html") if "hub-marker:" in p.read_text()]
    assert leftovers == [out / "packages/risky/index.html"]  # only the description's own text
    assert "Mentions <code>&lt;!-- hub-marker:readme --&gt;</code> in its text." in page


def test_in_repo_readme_is_embedded_below_the_package_details(site: Served) -> None:
    readme = (REPO / "sources" / SEED / "README.md").read_text()
    assert "\n## Example output\n" in readme and "\n# in another shell:\n" in readme
    page = (site.root / f"packages/{SEED}/index.html").read_text()
    assert page.count("<h1") == 1
    assert page.index('id="output"') < page.index('id="readme"')
    assert page.index('id="readme"') < page.index('id="readme-example-output"')
    assert '<h3 id="readme-example-output">' in page
    assert "# in another shell:" in page  # a comment in a code block, not a heading


def test_a_package_page_lists_the_metrics_run_serves(site: Served) -> None:
    """The names a Grafana panel needs, before anyone runs the package: the same function
    names them for the page and for `run --metrics` (tests/test_metrics.py scrapes them)."""
    histogram = (site.root / "packages/runqlat/index.html").read_text()
    assert 'id="metrics"' in histogram
    assert "<code>ebpf_hub_runqlat_hist_usecs_bucket</code>" in histogram
    events = (site.root / "packages/opensnoop/index.html").read_text()
    assert "<code>ebpf_hub_events_total</code>" in events


@pytest.mark.parametrize("name", ["../index", "Networking", "net_work", "a--b", "<b>x</b>"])
def test_a_category_name_that_cannot_name_a_page_is_refused(tmp_path: Path, name: str) -> None:
    hub = _copy_hub(tmp_path / "hub")
    config = hub / "index/hub.yaml"
    config.write_text(config.read_text().replace("  networking:", f"  {json.dumps(name)}:", 1))
    with pytest.raises(HubError) as caught:
        load_config(hub)
    assert caught.value.message == f"index/hub.yaml: category {name!r} is not a usable name"
    assert "lowercase letters, digits and single hyphens" in (caught.value.hint or "")


def test_a_description_heading_named_like_a_generated_section_stays_out_of_the_contents(
    tmp_path: Path,
) -> None:
    """A contributor's "## About" loses its id to the page's own About: listing it in the
    table of contents would lead to the other section."""
    hub = _copy_hub(tmp_path / "hub")
    [seed] = [p for p in validate(load_config(hub)).packages if p.name == SEED]
    description = "Intro.\n\n## About\n\nMine.\n\n## Usage\n\nUse it.\n"
    package = Package.from_json({**seed.to_json(), "description": description})
    out = tmp_path / "out"
    build_site(load_config(hub), out, packages=[package], command_line=build_parser())
    page = (out / f"packages/{SEED}/index.html").read_text()
    contents = re.search(r'<nav class="hub-toc".*?</nav>', page)
    assert contents is not None
    links = re.findall(r'href="#([^"]+)"', contents[0])
    assert links.count("about") == 1 and "usage" in links
    assert links.index("install") < links.index("about") < links.index("usage")
    assert page.count('id="about"') == 1
