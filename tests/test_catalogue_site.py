"""The catalogue as people use it: the package list, package pages, search, the local server.

One site is built for the whole module (from this repository's index, with a ledger entry for
the seed package and a fixed SOURCE_DATE_EPOCH) and served by `ebpf-hub site serve`'s own
handler, so its 404 page and compression are what is tested. Pages are driven in Debian's
Chromium at a desktop and a phone size, in the light and the dark scheme, and checked with
axe-core (fetched by scripts/bootstrap --dev into .tools/axe-core).
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ebpf_hub.cli import build_parser
from ebpf_hub.index.config import load_config
from ebpf_hub.index.jsonindex import API_DIR, build_index, digests_from_json
from ebpf_hub.index.trust import INDEX_ROLE, commit_url, version_trust
from ebpf_hub.index.validate import validate
from ebpf_hub.model.matrix import KernelVerdict, Verdict
from ebpf_hub.model.package import Package, Source
from ebpf_hub.site import build_site
from ebpf_hub.site.catalogue import recent_names
from ebpf_hub.site.facts import BuildDate, PackageFacts
from ebpf_hub.site.serve import site_handler
from siteserver import Served
from test_jsonindex import schema_validator

REPO = Path(__file__).resolve().parent.parent
AXE = REPO / ".tools/axe-core/4.10.3/axe.min.js"  # the version scripts/bootstrap --dev fetches
SEED = "execsnoop"
VERSION = "1.0.1"  # its newest, the one its page leads with
DIGEST = "sha256:" + "5e" * 32
# The build's date: 2026-12-08, after every seed package's release.
EPOCH = int(datetime.datetime(2026, 12, 8, 12, tzinfo=datetime.UTC).timestamp())
PARAMETERS = [
    {
        "name": "target_pid",
        "type": "pid_t",
        "default": 0,
        "description": "Only this process ID; 0 traces every process.",
        "kind": "int",
        "defaultText": "0",
    }
]
LEDGER = digests_from_json(
    {SEED: {VERSION: {"digest": DIGEST, "size": 20480, "parameters": PARAMETERS}}}, "LEDGER"
)
# The matrix ledger's verdicts on the seed: one kernel passed, one failed.
PASSED = KernelVerdict("6.1", "x86_64", "6.1.0-50-cloud-amd64", Verdict.PASS, "")
FAILED = KernelVerdict(
    "5.10", "x86_64", "5.10.0-32-cloud-amd64", Verdict.FAIL, "libbpf: prog 'handle': -EINVAL"
)
MATRICES = {SEED: {VERSION: (PASSED, FAILED)}}
REGISTRY = "ghcr.io/ebpf-hub/packages"  # index/hub.yaml's
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOOKS = [(size, scheme) for size in SIZES for scheme in ("light", "dark")]
# One page of each template: home, list, package, category, hand-written, reference, 404.
TEMPLATES = (
    "",
    "packages/",
    f"packages/{SEED}/",
    "categories/networking/",
    "install/",
    "reference/metadata/",
    "no/such/page/",
)


@pytest.fixture(scope="module")
def packages() -> list[Package]:
    report = validate(load_config(REPO))
    assert report.ok, report.problems
    return report.packages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    out = tmp_path_factory.mktemp("catalogue") / "out"
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(EPOCH)
    try:
        build_site(
            load_config(REPO), out, digests=LEDGER, command_line=build_parser(), matrices=MATRICES
        )
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before
    server = ThreadingHTTPServer(("127.0.0.1", 0), site_handler(out, None, None))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(out, f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Browser, look: tuple[str, str]) -> Iterator[tuple[Page, list[str]]]:
    """A page at `look` (size, scheme) with every console error, failed request and request
    to another host recorded; the test asserts there were none."""
    size, scheme = look
    # The site's CSP would refuse axe-core, which the tests inject: only the tests bypass it.
    context = browser.new_context(
        viewport=SIZES[size],  # type: ignore[arg-type]
        color_scheme=scheme,  # type: ignore[arg-type]
        bypass_csp=True,
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith("http://127.0.0.1:") else problems.append(r.url),
    )
    try:
        yield page, problems
    finally:
        context.close()


@pytest.fixture(params=LOOKS, ids=[f"{size}-{scheme}" for size, scheme in LOOKS])
def tab(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    yield from _open(browser, request.param)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    yield from _open(browser, ("desktop", "light"))


def _visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def _not_found_console_line(problems: list[str]) -> list[str]:
    """The problems less the one a 404 page must cause: the browser logs its status."""
    return [p for p in problems if "404 (Not Found)" not in p]


def test_every_template_has_no_serious_axe_violation(
    site: Served, tab: tuple[Page, list[str]]
) -> None:
    page, problems = tab
    assert AXE.is_file(), f"{AXE} is missing: run scripts/bootstrap --dev"
    found = {}
    for path in TEMPLATES:
        _visit(page, site.url + path)
        page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']}: {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path or "home"] = serious
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES[tab_size(page)]["width"], f"{path or 'home'} is {width}px wide"
    assert found == {}
    assert _not_found_console_line(problems) == []


def tab_size(page: Page) -> str:
    viewport = page.viewport_size
    assert viewport is not None
    return "phone" if viewport["width"] < 600 else "desktop"


def test_the_package_list_filters_by_text_typo_facet_and_kernel_and_sorts(
    site: Served, tab: tuple[Page, list[str]], packages: list[Package]
) -> None:
    page, problems = tab
    _visit(page, site.url)
    page.get_by_role("link", name="See all packages, newest first").click()
    page.wait_for_url(f"{site.url}packages/?sort=updated")
    assert page.locator("#hub-filter-sort").input_value() == "updated"
    rows = page.locator("ul.hub-list > li:not([hidden]) > a")
    assert rows.count() == len(packages)
    newest = sorted(packages, key=lambda p: p.name)
    newest.sort(key=lambda p: p.versions[-1].created, reverse=True)
    assert rows.all_inner_texts() == [p.name for p in newest]

    page.locator("#hub-filter-sort").select_option("name")
    assert rows.all_inner_texts() == sorted(p.name for p in packages)
    page.locator("#hub-filter-text").fill("execsnop")  # a typo
    assert rows.all_inner_texts() == [SEED]
    page.locator("#hub-filter-text").fill("")
    facets = page.locator("details.hub-facets")
    assert not facets.evaluate("e => e.open")
    facets.locator("summary").click()
    hooked = sorted(p.name for p in packages if "xdp" in p.permissions.attach)
    xdp = page.get_by_role("checkbox", name=f"xdp ({len(hooked)})")
    xdp.check()
    assert rows.all_inner_texts() == hooked
    xdp.uncheck()
    built = BuildDate.of(packages)
    modifying = sorted(p.name for p in packages if PackageFacts.of(p, {}, built).modifies)
    page.get_by_role("checkbox", name=f"modifies ({len(modifying)})").check()
    assert rows.all_inner_texts() == modifying
    status = page.locator(".hub-filter__status").inner_text()
    assert status == f"{len(modifying)} of {len(packages)} packages"
    assert "effect=modifies" in page.url
    page.get_by_role("checkbox", name=f"modifies ({len(modifying)})").uncheck()

    def kernel(package: Package) -> tuple[int, ...]:
        return tuple(map(int, (package.requires.kernel or "0").split(".")))

    oldest = min(packages, key=kernel)
    page.locator("#hub-filter-kernel").select_option(oldest.requires.kernel)
    old_enough = sorted(p.name for p in packages if kernel(p) <= kernel(oldest))
    assert rows.all_inner_texts() == old_enough
    assert problems == []


def test_navigation_links_the_package_list(site: Served, tab: tuple[Page, list[str]]) -> None:
    page, problems = tab
    _visit(page, site.url + "install/")
    if tab_size(page) == "phone":
        page.locator("label.md-header__button[for='__drawer']").click()
        page.locator(".md-nav--primary").get_by_role("link", name="Packages", exact=True).click()
    else:
        page.locator(".md-tabs").get_by_role("link", name="Packages", exact=True).click()
    page.wait_for_url(f"{site.url}packages/")
    assert page.locator("h1").inner_text().startswith("All packages")
    assert problems == []


def test_a_package_page_has_facts_a_contents_and_no_repeats(
    site: Served, tab: tuple[Page, list[str]], packages: list[Package]
) -> None:
    page, problems = tab
    [seed] = [p for p in packages if p.name == SEED]
    _visit(page, f"{site.url}packages/{SEED}/")
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert sorted(ids) == sorted(set(ids))
    facts = page.get_by_role("complementary", name="Facts")
    assert facts.is_visible()
    text = facts.inner_text()
    released = seed.versions[-1].created
    days = (datetime.date(2026, 12, 8) - datetime.date.fromisoformat(released)).days
    for fact in (VERSION, f"{days} days ago ({released})", "20.0 KiB", seed.license, "JSON"):
        assert fact in text
    for capability in seed.requires.capabilities or ():
        assert capability in text
    json_link = facts.get_by_role("link", name=f"{SEED}.json")
    assert json_link.get_attribute("href") == f"../../api/v1/packages/{SEED}.json"
    # The README's lead repeats the description: it is shown once, under About.
    lead = " ".join(seed.description.split()[:8])
    body = " ".join(page.locator("article").inner_text().split())
    assert body.count(lead) == 1
    # Parameters come from the ledger once; the README's own section is left out.
    assert page.locator("h2#parameters, h3#readme-parameters").count() == 1
    assert (
        page.locator("h2#programs").count() == 1
        and "Programs" not in page.locator("h3").all_inner_texts()
    )
    toc = page.get_by_role("navigation", name="On this page")
    assert toc.is_visible()
    entries = toc.get_by_role("link").all_inner_texts()
    assert entries[:5] == ["Install", "About", "Versions", "Trust", "Kernel matrix"]
    assert "Example output" in entries
    toc.get_by_role("link", name="Example output").click()
    page.wait_for_url(f"{site.url}packages/{SEED}/#readme-example-output")
    commands = page.locator("#install ~ div.highlight").first.inner_text()
    assert f"sudo ebpf-hub run {SEED}" in commands
    privileges = page.locator(".hub-privileges")
    assert "as root, or with the capabilities CAP_BPF" in privileges.inner_text()
    privileges.get_by_role("link", name="Install ebpf-hub").click()
    page.wait_for_url(f"{site.url}install/")
    assert problems == []


def test_search_suggests_a_package_for_a_typo(site: Served, tab: tuple[Page, list[str]]) -> None:
    page, problems = tab
    _visit(page, site.url)
    page.get_by_role("button", name="Search packages: exec, tcp, latency, malloc…").focus()
    page.keyboard.press("Enter")
    search = page.locator("input.md-search__input")
    assert search.evaluate("e => e === document.activeElement")
    for typo, name in (("execsnop", SEED), ("opensnop", "opensnoop")):
        search.fill("")
        page.keyboard.type(typo, delay=10)
        suggestion = page.locator(".hub-didyoumean a")
        suggestion.first.wait_for()
        assert suggestion.all_inner_texts() == [name]
    page.locator(".hub-didyoumean a").click()
    page.wait_for_url(f"{site.url}packages/opensnoop/")
    assert problems == []


def test_titles_and_open_graph_tags(site: Served, desktop: tuple[Page, list[str]]) -> None:
    page, problems = desktop
    _visit(page, site.url)
    assert page.title() == "eBPF Hub"
    _visit(page, f"{site.url}packages/{SEED}/")
    assert page.title() == f"{SEED} - eBPF Hub"
    og = {
        name: page.locator(f'meta[property="og:{name}"]').get_attribute("content")
        for name in ("title", "description", "url", "type", "site_name")
    }
    assert og["title"] == f"{SEED} - eBPF Hub" and og["site_name"] == "eBPF Hub"
    assert og["url"] == f"https://ebpf-hub.github.io/packages/{SEED}/"
    assert og["description"] and og["type"] == "website"
    # "-errno" does not break after its dash.
    _visit(page, f"{site.url}packages/opensnoop/")
    dashed = page.locator("article code", has_text="-errno").first
    assert dashed.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    # No sidebar holding one lone entry on the categories page.
    _visit(page, f"{site.url}categories/")
    assert not page.locator(".md-sidebar--primary").is_visible()
    assert problems == []


def test_links_in_text_are_underlined_and_phone_tables_scroll_with_a_hint(
    site: Served, tab: tuple[Page, list[str]]
) -> None:
    page, problems = tab
    _visit(page, f"{site.url}packages/{SEED}/")
    link = page.locator(".hub-privileges a")
    assert "underline" in link.evaluate("e => getComputedStyle(e).textDecorationLine")
    if tab_size(page) == "phone":
        wrap = page.locator("h2#programs ~ .md-typeset__scrollwrap").first
        assert wrap.get_attribute("tabindex") == "0"
        hint = page.locator("h2#programs ~ .hub-scroll-hint").first
        assert hint.is_visible() and "sideways" in hint.inner_text()
    assert problems == []


def test_search_indexes_facts_but_not_placeholders_or_tables(
    site: Served, packages: list[Package]
) -> None:
    docs = json.loads((site.root / "search/search_index.json").read_text())["docs"]
    seed = " ".join(d["text"] for d in docs if d["location"].startswith(f"packages/{SEED}/"))
    for indexed in ("GPL-2.0-only", "CAP_PERFMON", "tracepoint"):
        assert indexed in seed
    everything = " ".join(d["title"] + " " + d["text"] for d in docs)
    assert "Search packages: exec" not in everything
    home = " ".join(d["text"] for d in docs if d["location"].startswith("#") or not d["location"])
    assert (
        f"{len(packages)} packages" in home and "Version" not in home
    )  # the recent packages' table header
    categories = " ".join(d["text"] for d in docs if d["location"].startswith("categories/#"))
    assert "<table>" not in home + categories
    assert not any(d["location"].startswith("packages/#") for d in docs)
    # A category page's list of packages is not indexed again: search finds the packages.
    category = packages[0].categories[0]
    listed = " ".join(
        d["text"] for d in docs if d["location"].startswith(f"categories/{category}/")
    )
    assert f"categories/{category}/" in site.root.joinpath("sitemap.xml").read_text()
    assert listed and not any(p.name in listed for p in packages if category in p.categories)
    names = json.loads((site.root / "search/package-names.json").read_text())
    assert SEED in names and names == sorted(names)


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our server)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_serve_answers_unknown_paths_with_the_404_page_and_compresses_text(
    site: Served, packages: list[Package]
) -> None:
    status, headers, body = _get(site.url + "no/such/page", **{"Accept-Encoding": "gzip"})
    assert status == 404 and headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    assert "Page not found" in page and 'href="/packages/"' in page
    newest = recent_names(packages)[0]["name"]  # the 404 page lists the recently updated
    assert f'href="/packages/{newest}/"' in page and "data-hub-search" in page
    status, headers, body = _get(site.url + "no/such/page")
    assert status == 404 and "Content-Encoding" not in headers and b"Page not found" in body

    for path, file in (("", "index.html"), ("search/search_index.json", None)):
        plain = (site.root / (file or path)).read_bytes()
        status, headers, body = _get(site.url + path, **{"Accept-Encoding": "br, gzip;q=0.8"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == plain and len(body) < len(plain) / 3
        status, headers, body = _get(site.url + path)
        assert status == 200 and "Content-Encoding" not in headers and body == plain
    status, headers, _ = _get(site.url + "assets/images/favicon.png", **{"Accept-Encoding": "gzip"})
    assert status == 200 and "Content-Encoding" not in headers


def test_the_404_page_offers_search_and_packages(
    site: Served, desktop: tuple[Page, list[str]], packages: list[Package]
) -> None:
    page, problems = desktop
    _visit(page, site.url + "packages/exesnoop/")
    assert page.locator("h1").inner_text().startswith("Page not found")
    newest = recent_names(packages)[0]["name"]
    page.get_by_role("link", name=newest, exact=True).click()
    page.wait_for_url(f"{site.url}packages/{newest}/")
    assert _not_found_console_line(problems) == []


def test_updated_days_count_to_the_newest_release_without_source_date_epoch(
    packages: list[Package], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    built = BuildDate.of(packages)
    assert built.day.isoformat() == max(v.created for p in packages for v in p.versions)
    assert built.source == "the newest release in the hub"
    [seed] = [p for p in packages if p.name == SEED]
    facts = PackageFacts.of(seed, {}, built)
    assert (
        facts.days_ago == (built.day - datetime.date.fromisoformat(seed.versions[-1].created)).days
    )
    assert facts.size is None and facts.effect == "observes only"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(Exception, match="SOURCE_DATE_EPOCH='yesterday' is not a count of seconds"):
        BuildDate.of(packages)


def test_versions_link_a_trust_panel_that_the_json_api_matches(
    site: Served, tab: tuple[Page, list[str]], packages: list[Package]
) -> None:
    page, problems = tab
    [seed] = [p for p in packages if p.name == SEED]
    _visit(page, f"{site.url}packages/{SEED}/")
    versions = page.locator("h2#versions + table, h2#versions ~ .md-typeset__scrollwrap table")
    headers = versions.first.locator("th").all_inner_texts()
    for column in ("Size", "Architectures", "Signature", "Changes"):
        assert column in headers
    cells = versions.first.locator("tbody tr").first.locator("td").all_inner_texts()
    row = dict(zip(headers, cells, strict=True))
    assert row["Size"] == "20.0 KiB" and row["Architectures"] == ", ".join(
        seed.requires.architectures
    )
    assert row["Signature"] == "not recorded" and row["Changes"] == seed.versions[-1].changes
    versions.first.get_by_role("link", name="not recorded").click()
    page.wait_for_url(f"{site.url}packages/{SEED}/#trust-{VERSION}")
    panel = page.locator(f"details[id='trust-{VERSION}']")
    assert panel.evaluate("e => e.open") and panel.is_visible()
    terms, values = panel.locator("dt").all_inner_texts(), panel.locator("dd").all_inner_texts()
    facts = dict(zip(terms, values, strict=True))
    assert facts["Digest"] == DIGEST
    assert (
        facts["Source"]
        == f"tree {seed.versions[-1].tree} of {seed.source.path} in the hub's repository"
    )
    assert facts["Index entry"] == "this hub's index is not signed with TUF"
    for unknown in ("Signed by", "Builder", "Toolchain"):
        assert facts[unknown].startswith("not recorded")
    assert facts["Kernel matrix"] == (
        "passed on x86_64/6.1; failed or partial on x86_64/5.10 (kernel matrix)"
    )
    verify = f"ebpf-hub verify {SEED}@{VERSION}"
    cosign = (
        'cosign verify --key "$EBPF_HUB_PUBLIC_KEY" --insecure-ignore-tlog '
        f"-a package={SEED} -a version={VERSION} {REGISTRY}/{SEED}@{DIGEST}"
    )
    assert panel.locator("pre code").inner_text().splitlines() == [verify, cosign]
    assert panel.get_by_role("button", name="Copy to clipboard").count() == 1  # Material's

    entry = json.loads((site.root / f"api/v1/packages/{SEED}.json").read_text())
    schema_validator("package-index.schema.json").validate(entry)
    trust = entry["versions"][-1]["trust"]
    assert (trust["verify"], trust["cosign"]) == (verify, cosign)
    assert (trust["kernels_passed"], trust["kernels_failed"]) == (["x86_64/6.1"], ["x86_64/5.10"])
    assert trust["signer"] is trust["builder"] is trust["toolchain"] is trust["index_role"] is None
    assert problems == []


def test_parameters_have_descriptions_and_related_packages_lead_on(
    site: Served, tab: tuple[Page, list[str]], packages: list[Package]
) -> None:
    page, problems = tab
    [seed] = [p for p in packages if p.name == SEED]
    _visit(page, f"{site.url}packages/{SEED}/")
    table = page.locator("h2#parameters ~ table, h2#parameters ~ .md-typeset__scrollwrap table")
    assert table.first.locator("th").all_inner_texts() == ["Name", "Type", "Default", "Description"]
    assert table.first.locator("tbody td").all_inner_texts() == [
        "target_pid",
        "int",
        "0",
        PARAMETERS[0]["description"],
    ]
    related = page.locator("ul.hub-related > li > a")
    names = related.all_inner_texts()
    assert 1 <= len(names) <= 4 and SEED not in names
    by_name = {p.name: p for p in packages}
    for name in names:
        other = by_name[name]
        assert set(other.keywords) & set(seed.keywords) or set(other.categories) & set(
            seed.categories
        )
    related.first.click()
    page.wait_for_url(f"{site.url}packages/{names[0]}/")
    assert page.locator("h1").inner_text().startswith(names[0])
    assert problems == []


def test_the_package_list_has_a_tested_kernel_facet(
    site: Served, tab: tuple[Page, list[str]]
) -> None:
    page, problems = tab
    _visit(page, f"{site.url}packages/")
    page.locator("details.hub-facets summary").click()
    tested = page.get_by_role("group", name="Tested kernels")
    assert tested.get_by_role("checkbox").count() == 1  # only the latest version's passes
    tested.get_by_role("checkbox", name="x86_64/6.1 (1)").check()
    assert page.locator("ul.hub-list > li:not([hidden]) > a").all_inner_texts() == [SEED]
    assert problems == []


def test_trust_links_a_commit_names_the_tuf_role_and_fits_cosign_to_the_registry(
    packages: list[Package],
) -> None:
    [seed] = [p for p in packages if p.name == SEED]
    commit = "0123456789abcdef0123456789abcdef01234567"
    forked = dataclasses.replace(
        seed,
        source=Source(git="https://github.com/iovisor/bcc.git", subdir="libbpf-tools"),
        versions=tuple(dataclasses.replace(v, commit=commit, tree=None) for v in seed.versions),
    )
    files = build_index([forked], "127.0.0.1:5000/hub", LEDGER, MATRICES, index_signed=True)
    entry = json.loads(files[API_DIR / "packages" / f"{SEED}.json"])
    schema_validator("package-index.schema.json").validate(entry)
    trust = entry["versions"][-1]["trust"]
    assert trust["source_url"] == f"https://github.com/iovisor/bcc/commit/{commit}"
    assert trust["index_role"] == INDEX_ROLE
    assert trust["cosign"] == (
        'cosign verify --key "$EBPF_HUB_PUBLIC_KEY" --insecure-ignore-tlog --allow-http-registry '
        f"-a package={SEED} -a version={VERSION} 127.0.0.1:5000/hub/{SEED}@{DIGEST}"
    )
    # An OCI layout is no registry cosign reads; an unknown forge gets no guessed link.
    layout = version_trust(
        forked,
        forked.versions[-1],
        "oci:build/oci",
        LEDGER[SEED][VERSION],
        None,
        index_signed=False,
    )
    assert layout.evidence.cosign is None and layout.evidence.index_role is None
    assert commit_url("https://git.example.org/bcc.git", commit) is None
