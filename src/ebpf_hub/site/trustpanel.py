"""A package page's trust panel: per version, what backs it and how to check it yourself.

The evidence is `ebpf_hub.index.trust`'s, the same the JSON index carries, so the page and the
API never disagree. What the hub does not record is said in words ("not recorded"), with the
command that checks it on the artifact; the newest version's panel is open, older ones fold.
"""

from __future__ import annotations

from collections.abc import Sequence

from ebpf_hub.index.trust import VersionTrust
from ebpf_hub.site.markup import escape, html_code, html_commands, html_heading, html_link

ANCHOR = "trust"
TITLE = "Trust"
_NOT_RECORDED = (
    '<span class="hub-muted">not recorded in the index; <code>ebpf-hub verify</code> '
    "checks it on the artifact</span>"
)


def panel_id(version: str) -> str:
    """The id of a version's panel, which its row of the versions table links to."""
    return f"trust-{version}"


def signature_state(trust: VersionTrust) -> str:
    """The versions table's signature cell: what the index says, linked to the panel."""
    if trust.digest is None:
        state = "not published"
    elif trust.evidence.signer is not None:
        state = "signed by the hub's key"
    elif trust.evidence.index_role is not None:
        state = "digest in the TUF-signed index"
    else:
        state = "not recorded"
    return f'<a href="#{escape(panel_id(trust.version))}">{state}</a>'


def trust_section(trusts: Sequence[VersionTrust], source_path: str | None) -> str:
    """The section's HTML, newest version first; `source_path`: an in-repo source's path."""
    panels = "".join(
        _panel(trust, source_path, latest=index == 0) for index, trust in enumerate(trusts)
    )
    lead = (
        "<p>For each version: what signed it, where it was built from and by what, and how it "
        "fared on the kernel matrix. Check it yourself with the commands given: both take "
        "the hub's public key from <code>EBPF_HUB_PUBLIC_KEY</code>.</p>"
    )
    return html_heading(ANCHOR, TITLE) + lead + panels


def _panel(trust: VersionTrust, source_path: str | None, *, latest: bool) -> str:
    rows = [
        ("Signed by", _signer(trust)),
        ("Index entry", _index(trust)),
        ("Digest", html_code(trust.digest) if trust.digest else "not published yet"),
        ("Source", _source(trust, source_path)),
        ("Builder", _builder(trust)),
        ("Toolchain", _toolchain(trust)),
        ("Kernel matrix", _kernels(trust)),
    ]
    items = "".join(f"<dt>{term}</dt><dd>{value}</dd>" for term, value in rows)
    commands = [trust.evidence.verify] + ([trust.evidence.cosign] if trust.evidence.cosign else [])
    why = (
        ""
        if trust.evidence.cosign
        else '<p class="hub-muted">No <code>cosign</code> command: the version is not '
        "published to a registry (an OCI layout is no registry cosign reads).</p>"
    )
    return (
        f'<details class="hub-trust" id="{escape(panel_id(trust.version))}"'
        f"{' open' if latest else ''}><summary>Version {escape(trust.version)}</summary>"
        f'<dl class="hub-trust__facts">{items}</dl>'
        f"<p>Check it:</p>{html_commands(commands)}{why}</details>"
    )


def _signer(trust: VersionTrust) -> str:
    """The key by its fingerprint, as `ebpf-hub verify` prints it, so the two can be matched."""
    if trust.evidence.signer is None:
        return _NOT_RECORDED
    return f"the hub's key {html_code(trust.evidence.signer)}"


def _builder(trust: VersionTrust) -> str:
    if trust.evidence.builder is None:
        return _NOT_RECORDED
    run = f", {html_link(trust.evidence.run, 'CI run')}" if trust.evidence.run else ""
    return escape(trust.evidence.builder) + run


def _toolchain(trust: VersionTrust) -> str:
    """Tool and version pairs in the provenance's order, as `ebpf-hub verify` lists them."""
    if trust.evidence.toolchain is None:
        return _NOT_RECORDED
    return ", ".join(f"{escape(tool)} {escape(v)}" for tool, v in trust.evidence.toolchain.items())


def _index(trust: VersionTrust) -> str:
    if trust.evidence.index_role is None:
        return "this hub's index is not signed with TUF"
    return f"signed with TUF, role {escape(trust.evidence.index_role)}"


def _source(trust: VersionTrust, source_path: str | None) -> str:
    pin = html_code(trust.source_pin)
    if trust.evidence.source_url is not None:
        return html_link(trust.evidence.source_url, trust.source_pin)
    where = f" of {html_code(source_path)} in the hub's repository" if source_path else ""
    return pin + where


def _kernels(trust: VersionTrust) -> str:
    if not trust.evidence.passed and not trust.evidence.failed:
        return "not tested"
    parts = []
    if trust.evidence.passed:
        parts.append("passed on " + ", ".join(escape(k) for k in trust.evidence.passed))
    if trust.evidence.failed:
        parts.append("failed or partial on " + ", ".join(escape(k) for k in trust.evidence.failed))
    return "; ".join(parts) + ' (<a href="#matrix">kernel matrix</a>)'
