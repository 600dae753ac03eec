"""One package's page: what it is, how to install it, what it may do, and every version.

The page's Markdown holds only what contributors write in Markdown (description, README) and
the headings; everything else is HTML that `pages` puts in once the Markdown is rendered: what
people search for (summary, keywords) before search indexing, what is derived from the index
(badges, commands, tables, permissions) after it. That keeps a 10,000-package build cheap.
The Markdown is sanitized once rendered (see `pages`); every other contributor-written field is
escaped, so it shows as typed and cannot break the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ebpf_hub.bpfobj.capabilities import declared_dangers, declared_hooks
from ebpf_hub.model.index import Published
from ebpf_hub.model.package import Maintainer, Output, Package, Version
from ebpf_hub.model.requires import Requires
from ebpf_hub.oci.hosts import is_loopback
from ebpf_hub.oci.reference import LAYOUT_PREFIX
from ebpf_hub.site.markup import (
    cell,
    embed_document,
    escape,
    html_admonition,
    html_code,
    html_commands,
    html_heading,
    html_link,
    html_list,
    html_table,
)
from ebpf_hub.site.pages import Block, GeneratedPage, marker

# Ledger entries of one package, by version.
PublishedVersions = Mapping[str, Published]

# Hooks that attach to a network interface, so `run` needs to be told which one.
_INTERFACE_HOOKS = frozenset({"xdp", "tc"})
_SHORT_DIGEST = len("sha256:") + 12
# The About heading: the first <h2> of a package page (its only <h1>, the title, comes first).
_ABOUT = "<h2"


def page_path(name: str) -> str:
    """Where a package's page lives in the docs directory (and so its URL, packages/NAME/)."""
    return f"packages/{name}.md"


def package_page(
    package: Package, registry: str, published: PublishedVersions, readme: str | None
) -> GeneratedPage:
    """The page of `package`; `readme` is its source README.md when the hub has it."""
    meta = {
        "title": package.name,
        # Material puts the description into a <meta> tag unescaped: it must be HTML already.
        "description": escape(package.summary),
        "tags": list(package.categories),
        "hide": ["navigation", "toc"],
        "search": {"boost": 2},
    }
    markdown = f"# {package.name}\n\n## About\n\n" + package.description.strip() + "\n"
    # Below the title: the summary, then the install commands, then About (the first <h2>).
    head = (
        Block(f'<p class="hub-summary">{cell(package.summary)}</p>\n', _ABOUT, indexed=True),
        Block(
            _badges(package) + _install(package, registry, published) + "\n\n",
            _ABOUT,
            indexed=False,
        ),
    )
    details = "".join(
        [
            _versions(package, published),
            _programs(package),
            _permissions(package),
            _parameters(package, published),
            _requirements(package.requires),
            _output(package.output or Output()),
            _maintainers(package.maintainers),
            _source(package),
        ]
    )
    # The About section ends with the keywords (searchable) and the details, at the end of the
    # page or, when the README follows, at a marker that the details replace.
    keywords = [_keywords(package)] if package.keywords else []
    if readme is None:
        tail = [Block(f"\n{k}", None, indexed=True) for k in keywords]
        tail.append(Block(f"\n{details}", None, indexed=False))
    else:
        end = marker("readme")
        markdown += f"\n{end}\n\n## README\n\n" + embed_document(readme)
        tail = [Block(f"{k}\n", end, indexed=True) for k in keywords]
        tail.append(Block(details, end, indexed=False))
    return GeneratedPage(meta, markdown, (*head, *tail), contributed=True)


def _keywords(package: Package) -> str:
    return "<p>Keywords: " + ", ".join(html_code(k) for k in package.keywords) + "</p>"


def _badge(key: str, value: str, kind: str) -> str:
    return (
        f'<span class="hub-badge hub-badge--{kind}"><span class="hub-badge__key">{key}</span>'
        f'<span class="hub-badge__value">{escape(value)}</span></span>'
    )


def _badges(package: Package) -> str:
    requires = package.requires
    latest = package.latest
    badges = [
        _badge("license", package.license, "license"),
        _badge("latest", latest.version, "version")
        if latest
        else _badge("latest", "all yanked", "yanked"),
        _badge("kernel", f"≥ {requires.kernel}", "kernel"),
        _badge("arch", " · ".join(requires.architectures), "arch"),
    ]
    return '<div class="hub-badges">' + "".join(badges) + "</div>"


def _install(package: Package, registry: str, published: PublishedVersions) -> str:
    latest = package.latest
    if latest is None:
        return html_admonition(
            "warning",
            "Every version is yanked",
            "<p><code>ebpf-hub install</code> will not pick any version of this package.</p>",
        )
    needs_interface = any(p.attach in _INTERFACE_HOOKS for p in package.programs)
    run = f"ebpf-hub run {package.name}" + (" --iface eth0" if needs_interface else "")
    entry = published.get(latest.version)
    digest = entry.digest if entry else None
    pull = _oras_pull(registry, package.name, f"@{digest}" if digest else f":{latest.version}")
    return (
        html_heading("install", "Install")
        + html_commands([f"ebpf-hub install {package.name}", run])
        + f"<p>The artifact itself, version {escape(latest.version)}, with any OCI client:</p>"
        + html_commands([pull])
    )


def _oras_pull(registry: str, name: str, suffix: str) -> str:
    """The `oras pull` command for an artifact, as oras takes it: a layout is named with
    `--oci-layout`, and a loopback registry (a local hub: scripts/up) speaks plain HTTP, which
    oras must be told, as the hub's client allows it there without being told."""
    if registry.startswith(LAYOUT_PREFIX):
        return f"oras pull --oci-layout {registry.removeprefix(LAYOUT_PREFIX)}/{name}{suffix}"
    plain = "--plain-http " if is_loopback(registry.partition("/")[0]) else ""
    return f"oras pull {plain}{registry}/{name}{suffix}"


def _digest_cell(entry: Published | None) -> str:
    if entry is None:
        return '<span class="hub-muted" title="not published yet">—</span>'
    full = escape(entry.digest)
    return (
        f'<code title="{full}">{escape(entry.digest[:_SHORT_DIGEST])}…</code>'
        f'<button class="hub-copy" data-clipboard-text="{full}" title="Copy the full digest" '
        'aria-label="Copy the full digest"></button>'
    )


def _status_cell(version: Version, latest: Version | None) -> str:
    if version.yanked is not None:
        return f'<span class="hub-chip hub-chip--yanked">yanked</span> {escape(version.yanked)}'
    if version is latest:
        return '<span class="hub-chip hub-chip--latest">latest</span>'
    return ""


def _versions(package: Package, published: PublishedVersions) -> str:
    rows = [
        (
            escape(v.version),
            escape(v.created),
            _digest_cell(published.get(v.version)),
            _status_cell(v, package.latest),
            escape(v.changes),
        )
        for v in reversed(package.versions)
    ]
    header = ("Version", "Released", "Digest", "Status", "Changes")
    return html_heading("versions", "Versions") + html_table(header, rows)


def _programs(package: Package) -> str:
    rows = [
        (
            html_code(p.name),
            html_code(p.section),
            escape(p.attach or "unknown"),
            escape(p.description or ""),
        )
        for p in package.programs
    ]
    header = ("Program", "Section", "Attaches to", "What it does")
    return html_heading("programs", "Programs") + html_table(header, rows)


def _permissions(package: Package) -> str:
    permissions = package.permissions
    items = [
        "Hooks: " + ", ".join(html_code(kind) for kind in permissions.attach),
        "Reads process memory: "
        + ("yes (arguments, strings)" if permissions.reads_user_memory else "no"),
    ]
    if permissions.drops_packets:
        items.append("<strong>May drop or redirect network traffic</strong>")
    dangers = declared_hooks(permissions) + declared_dangers(permissions)
    if dangers:
        verdict = html_admonition(
            "danger",
            "Changes the system",
            "<p>This package attaches to hooks or calls functions (helpers, kfuncs) that do more "
            "than observe:</p>"
            + html_list(f"{html_code(d.name)}: {escape(d.effect)}" for d in dangers),
        )
    else:
        verdict = html_admonition(
            "success",
            "Observes only",
            "<p>It calls none of the helpers or kfuncs that change the system (writing process "
            "memory, overriding return values, sending signals, rewriting or redirecting "
            "packets).</p>",
        )
    return html_heading("permissions", "Permissions") + html_list(items) + verdict


def _parameters(package: Package, published: PublishedVersions) -> str:
    """The `const volatile` globals a user can set with `run --param NAME=VALUE`.

    They come from the built object: publish records the latest version's parameters in its
    ledger entry beside its digest and size. Until a version is published, the section is
    left out.
    """
    latest = package.latest
    entry = published.get(latest.version) if latest else None
    if entry is None or not entry.parameters:
        return ""
    rows = [
        (html_code(p.name), html_code(p.type), html_code(json.dumps(p.default)))
        for p in entry.parameters
    ]
    header = ("Name", "Type", "Default")
    usage = html_code(f"ebpf-hub run {package.name} --param NAME=VALUE")
    return (
        html_heading("parameters", "Parameters")
        + f"<p>Set with {usage}.</p>"
        + html_table(header, rows)
    )


def _requirements(requires: Requires) -> str:
    btf = "required (<code>/sys/kernel/btf/vmlinux</code>)" if requires.btf else "not needed"
    items = [
        f"Kernel: {escape(requires.kernel or '')} or newer",
        f"BTF: {btf}",
        "Architectures: " + escape(", ".join(requires.architectures)),
    ]
    if requires.capabilities:
        items.append("Capabilities: " + ", ".join(html_code(c) for c in requires.capabilities))
    return html_heading("requirements", "Requirements") + html_list(items)


def _output(output: Output) -> str:
    items = []
    if output.events:
        items.append("One line per event from the <code>events</code> ring buffer.")
    for shown in output.output_maps:
        unit = f" ({escape(shown.unit)})" if shown.unit else ""
        title = f": {escape(shown.title)}" if shown.title else ""
        items.append(f"Map {html_code(shown.map)}, a {escape(shown.kind)}{unit}{title}")
    if not items:
        return ""
    return (
        html_heading("output", "Output")
        + "<p>What <code>ebpf-hub run</code> prints:</p>"
        + html_list(items)
    )


def _maintainers(maintainers: tuple[Maintainer, ...]) -> str:
    items = []
    for person in maintainers:
        links = []
        if person.github is not None:
            links.append(html_link(f"https://github.com/{person.github}", f"@{person.github}"))
        if person.email is not None:
            links.append(html_link(f"mailto:{person.email}", person.email))
        contact = f" ({', '.join(links)})" if links else ""
        items.append(escape(person.name) + contact)
    return html_heading("maintainers", "Maintainers") + html_list(items)


def _source(package: Package) -> str:
    source = package.source
    latest = package.latest or package.versions[-1]
    if source.git is not None:
        where = html_link(source.git)
        if source.subdir is not None:
            where += f", directory {html_code(source.subdir)}"
        pin = f"commit {html_code(latest.pin or '')}"
    else:
        where = f"{html_code(source.path or '')} in the hub's repository"
        pin = f"tree hash {html_code(latest.pin or '')}"
    items = [f"Sources: {where}; version {escape(latest.version)} is pinned to {pin}"]
    if package.homepage is not None:
        items.append(f"Homepage: {html_link(package.homepage)}")
    items.append(
        f'Metadata as JSON: <a href="../../api/v1/packages/{package.name}.json">'
        f"api/v1/packages/{package.name}.json</a>"
    )
    return html_heading("source", "Source") + html_list(items)
