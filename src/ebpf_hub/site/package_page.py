"""One package's page: what it is, how to install it, what it may do, and every version.

The page's Markdown holds only what contributors write in Markdown (description, README) and
its headings; everything else is HTML that `pages` puts in once the Markdown is rendered: what
people search for (summary, the facts sidebar with license, hooks, capabilities, keywords)
before search indexing, what is derived from the index (commands, tables, permissions) after
it. That keeps a 10,000-package build cheap. The Markdown is sanitized once rendered (see
`pages`); every other contributor-written field is escaped, so it shows as typed.

Layout: the title and summary, then a two-column part (one column on a phone): the facts
sidebar (`facts`) and the table of contents beside the sections, Install first. The versions
table's header and a row's cells are defined next to each other (`_VERSION_HEADER`,
`_version_cells`), so that a new column (tested kernels) is one entry in each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ebpf_hub.bpfobj.capabilities import declared_dangers, declared_hooks
from ebpf_hub.index.trust import VersionTrust
from ebpf_hub.model.artifact import Parameter
from ebpf_hub.model.index import Published
from ebpf_hub.model.matrix import KernelVerdict
from ebpf_hub.model.metrics import package_metrics
from ebpf_hub.model.package import Output, Package, Version
from ebpf_hub.model.requires import Requires
from ebpf_hub.oci.hosts import is_loopback
from ebpf_hub.oci.reference import LAYOUT_PREFIX
from ebpf_hub.site.facts import PackageFacts, PublishedVersions, size_phrase
from ebpf_hub.site.factsbox import facts_for_search, facts_sidebar
from ebpf_hub.site.markup import (
    cell,
    embed_document,
    escape,
    html_admonition,
    html_code,
    html_commands,
    html_heading,
    html_list,
    html_table,
)
from ebpf_hub.site.matrixview import ANCHOR as MATRIX_ANCHOR
from ebpf_hub.site.matrixview import TITLE as MATRIX_TITLE
from ebpf_hub.site.matrixview import matrix_section
from ebpf_hub.site.pages import Block, GeneratedPage, marker
from ebpf_hub.site.related import ANCHOR as RELATED_ANCHOR
from ebpf_hub.site.related import TITLE as RELATED_TITLE
from ebpf_hub.site.related import related_section
from ebpf_hub.site.trustpanel import ANCHOR as TRUST_ANCHOR
from ebpf_hub.site.trustpanel import TITLE as TRUST_TITLE
from ebpf_hub.site.trustpanel import signature_state, trust_section

# Hooks that attach to a network interface, so `run` needs to be told which one.
_INTERFACE_HOOKS = frozenset({"xdp", "tc"})
_SHORT_DIGEST = len("sha256:") + 12
# The About heading, before the description: the sidebar and Install go before it.
_ABOUT_HEADING = html_heading("about", "About")
_ABOUT = '<h2 id="about"'
# The end of the page's title, the first heading its Markdown renders (`# NAME`).
_TITLE_END = "</h1>"
# Sections of a README that the page generates from the index: left out of the README.
_GENERATED_SECTIONS = {"programs": "programs", "program": "programs", "parameters": "parameters"}
# Where the page's table of contents goes: in the side column, below the facts.
_CONTENTS = marker("contents")
# Where the client's installation is explained, from a package page (packages/NAME/).
INSTALL_CLIENT = "../../install/"


def page_path(name: str) -> str:
    """Where a package's page lives in the docs directory (and so its URL, packages/NAME/)."""
    return f"packages/{name}.md"


def package_page(
    package: Package,
    registry: str,
    published: PublishedVersions,
    readme: str | None,
    facts: PackageFacts,
    *,
    trusts: Mapping[str, VersionTrust],
    matrix: Mapping[str, tuple[KernelVerdict, ...]] | None = None,
    related: Sequence[PackageFacts] = (),
) -> GeneratedPage:
    """The page of `package`; `readme` is its source README.md when the hub has it; `trusts`
    each version's evidence (`ebpf_hub.index.trust.hub_trust`, as the JSON index has it);
    `matrix` the kernel matrix's verdicts by version (`ebpf_hub.site.matrixview`); `related`
    the packages to suggest (`ebpf_hub.site.related`)."""
    meta = {
        "title": package.name,
        # Material puts the description into a <meta> tag unescaped: it must be HTML already.
        "description": escape(package.summary),
        "tags": list(package.categories),
        "hide": ["navigation", "toc"],
        "search": {"boost": 2},
    }
    markdown = f"# {package.name}\n\n" + package.description.strip() + "\n"
    parameters = _parameters(package, published)
    kernels = matrix_section(package, matrix or {})
    newest_first = [trusts[v.version] for v in reversed(package.versions)]
    suggested = related_section(related)
    sections: list[tuple[str, str]] = [("versions", "Versions"), (TRUST_ANCHOR, TRUST_TITLE)]
    sections += [(MATRIX_ANCHOR, MATRIX_TITLE)] if kernels else []
    sections += [("programs", "Programs")]
    sections += [("permissions", "Permissions")]
    sections += [("parameters", "Parameters")] if parameters else []
    sections += [("requirements", "Requirements")]
    output = _output(package.output or Output())
    sections += [("output", "Output")] if output else []
    metrics = _metrics(package)
    sections += [("metrics", "Metrics")] if metrics else []
    sections += [(RELATED_ANCHOR, RELATED_TITLE)] if suggested else []
    details = "".join(
        [
            _versions(package, published, newest_first),
            trust_section(newest_first, package.source.path),
            kernels,
            _programs(package),
            _permissions(package),
            parameters,
            _requirements(package.requires),
            output,
            metrics,
            suggested,
        ]
    )
    install = _install(package, registry, published)
    # Search indexes the short form, and only it: the sidebar and the layout's columns then
    # take its place (`Block.replaces`); every element search parses costs at 10,000 pages.
    searched = facts_for_search(facts)
    columns = (
        '<div class="hub-package"><div class="hub-package__side">'
        + facts_sidebar(facts)
        + f'{_CONTENTS}</div><div class="hub-package__main">\n'
    )
    # Right after the title (the page's first heading, from its Markdown): the summary, the
    # facts and the About heading, which as Markdown would cost more than the description.
    lead = f'<p class="hub-summary">{cell(package.summary)}</p>\n{searched}{_ABOUT_HEADING}\n'
    head = (
        Block(f"\n{lead}", _TITLE_END, indexed=True, headings=(("about", "About"),), after=True),
        Block(columns, searched, indexed=False, replaces=True),
        Block(install + "\n\n", _ABOUT, indexed=False, headings=_install_heading(install)),
    )
    if readme is None:
        tail = [Block(f"\n{details}", None, indexed=False, headings=tuple(sections))]
    else:
        end = marker("readme")
        generated = {anchor for anchor, _ in sections}
        drop = {title for title, anchor in _GENERATED_SECTIONS.items() if anchor in generated}
        embedded = embed_document(readme, lead=package.description, drop_sections=drop)
        markdown += f"\n{end}\n\n## README\n\n" + embedded
        tail = [Block(details, end, indexed=False, headings=tuple(sections))]
    tail.append(Block("</div></div>\n", None, indexed=False))
    return GeneratedPage(meta, markdown, (*head, *tail), contributed=True, contents=_CONTENTS)


def _install_heading(install: str) -> tuple[tuple[str, str], ...]:
    return (("install", "Install"),) if 'id="install"' in install else ()


def _install(package: Package, registry: str, published: PublishedVersions) -> str:
    """The commands, with what `run` needs (root, or the capabilities named) and where to get
    the client; nothing to install when every version is yanked."""
    latest = package.latest
    if latest is None:
        return html_admonition(
            "warning",
            "Every version is yanked",
            "<p><code>ebpf-hub install</code> will not pick any version of this package.</p>",
        )
    needs_interface = any(p.attach in _INTERFACE_HOOKS for p in package.programs)
    run = f"sudo ebpf-hub run {package.name}" + (" --iface eth0" if needs_interface else "")
    entry = published.get(latest.version)
    digest = entry.digest if entry else None
    pull = _oras_pull(
        registry,
        package.name,
        f"@{digest}" if digest else f":{latest.version}",
        package.requires.architectures[0],
    )
    capabilities = package.requires.capabilities or ()
    privileges = (
        "as root, or with the capabilities " + ", ".join(html_code(c) for c in capabilities)
        if capabilities
        else "as root"
    )
    return (
        html_heading("install", "Install")
        + html_commands([f"ebpf-hub install {package.name}", run])
        + f'<p class="hub-privileges"><code>run</code> loads programs into the kernel: it '
        f"needs to run {privileges}. <code>install</code> needs no privileges. "
        f'New to the client? <a href="{INSTALL_CLIENT}">Install ebpf-hub</a>.</p>'
        + f"<p>The artifact itself, version {escape(latest.version)}, with oras (or any OCI "
        "client):</p>" + html_commands([pull])
    )


def _oras_pull(registry: str, name: str, suffix: str, arch: str) -> str:
    """The `oras pull` command for an artifact, as oras takes it: a layout is named with
    `--oci-layout`, and a loopback registry (a local hub: scripts/up) speaks plain HTTP, which
    oras must be told, as the hub's client allows it there without being told. A version is
    an image index with a manifest per architecture, whose files have the same names: oras
    is told the platform of `arch` (the package's first), else it would write them all; an
    architecture no platform names (metadata that skipped validation) gets no flag."""
    from ebpf_hub.oci.imageindex import OCI_ARCH, Platform

    platform = f"--platform {Platform.of_arch(arch)} " if arch in OCI_ARCH else ""
    if registry.startswith(LAYOUT_PREFIX):
        layout = registry.removeprefix(LAYOUT_PREFIX)
        return f"oras pull {platform}--oci-layout {layout}/{name}{suffix}"
    plain = "--plain-http " if is_loopback(registry.partition("/")[0]) else ""
    return f"oras pull {platform}{plain}{registry}/{name}{suffix}"


def _digest_cell(entry: Published | None) -> str:
    if entry is None:
        return '<span class="hub-muted" title="not published yet">—</span>'
    full = escape(entry.digest)
    return (
        f'<code title="{full}">{escape(entry.digest[:_SHORT_DIGEST])}…</code>'
        f'<button class="hub-copy" data-clipboard-text="{full}" title="Copy the full digest" '
        'aria-label="Copy the full digest"></button>'
    )


#: The versions table's header, left to right: `_version_cells` gives a row in this order.
_VERSION_HEADER = (
    "Version",
    "Released",
    "Size",
    "Architectures",
    "Signature",
    "Digest",
    "Status",
    "Changes",
)


def _versions(
    package: Package, published: PublishedVersions, trusts: Sequence[VersionTrust]
) -> str:
    """The table, newest first; `trusts` in the same order."""
    latest = package.latest
    # The package file's: every version shares its `requires`.
    architectures = escape(", ".join(package.requires.architectures))
    rows = [
        _version_cells(v, published.get(v.version), trust, architectures, latest=v is latest)
        for v, trust in zip(reversed(package.versions), trusts)
    ]
    return html_heading("versions", "Versions") + html_table(_VERSION_HEADER, rows)


def _version_cells(
    version: Version,
    entry: Published | None,
    trust: VersionTrust,
    architectures: str,
    *,
    latest: bool,
) -> tuple[str, ...]:
    """One row's cells (HTML): `entry` is the version's ledger entry (None until published),
    `architectures` the cell every row shares, `latest` whether it is the package's latest."""
    return (
        escape(version.version),
        f'<span class="hub-nowrap">{escape(version.created)}</span>',
        _size_cell(entry),
        architectures,
        signature_state(trust),
        _digest_cell(entry),
        _status_cell(version, latest=latest),
        escape(version.changes),
    )


def _status_cell(version: Version, *, latest: bool) -> str:
    if version.yanked is not None:
        return f'<span class="hub-chip hub-chip--yanked">yanked</span> {escape(version.yanked)}'
    if latest:
        return '<span class="hub-chip hub-chip--latest">latest</span>'
    return ""


def _size_cell(entry: Published | None) -> str:
    if entry is None:
        return '<span class="hub-muted">—</span>'
    return f'<span class="hub-nowrap">{escape(size_phrase(entry.size))}</span>'


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
    described = any(p.description for p in entry.parameters)
    rows = [
        (html_code(p.name), _parameter_type(p), _parameter_default(p))
        + ((escape(p.description or ""),) if described else ())
        for p in entry.parameters
    ]
    header = ("Name", "Type", "Default") + (("Description",) if described else ())
    usage = html_code(f"ebpf-hub run {package.name} --param NAME=VALUE")
    return (
        html_heading("parameters", "Parameters")
        + f"<p>Set with {usage}.</p>"
        + html_table(header, rows)
    )


def _parameter_type(parameter: Parameter) -> str:
    """The declared type (with its unit) when the package declares one, else the C type."""
    if parameter.kind is None:
        return html_code(parameter.type)
    unit = f" ({escape(parameter.unit)})" if parameter.unit else ""
    return html_code(parameter.kind) + unit


def _parameter_default(parameter: Parameter) -> str:
    """The default as `run --param` takes it when declared (`10ms`), else its JSON value."""
    if parameter.default_text is not None:
        return html_code(parameter.default_text)
    return html_code(json.dumps(parameter.default))


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


def _metrics(package: Package) -> str:
    """The Prometheus families `run --metrics` serves for this package, ready for Grafana."""
    families = package_metrics(package.name, package.output or Output())
    if not families:
        return ""
    rows = [(html_code(m.name), escape(m.type), escape(m.holds)) for m in families]
    usage = html_code(f"sudo ebpf-hub run {package.name} --metrics 127.0.0.1:9435")
    return (
        html_heading("metrics", "Metrics")
        + f"<p>With {usage}, Prometheus scrapes these (labels: the map key's fields):</p>"
        + html_table(("Metric", "Type", "What it holds"), rows)
    )


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
