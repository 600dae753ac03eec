"""A package page's kernel matrix: a row per version, a column per kernel the hub tested.

Each cell is the kernel's verdict on that version (pass, FAIL, partial: verified but some
program not attached in the test guest), with the reason under the table, so a visitor sees
before installing which kernels a version was proven on and why it failed on the others.
The verdicts are the JSON index's (`ebpf_hub.model.matrix`); every reason is the verifier's
or libbpf's text, escaped like any other text from a build.
"""

from __future__ import annotations

from collections.abc import Mapping

from ebpf_hub.model.matrix import KernelVerdict, Verdict, kernel_series
from ebpf_hub.model.package import Package
from ebpf_hub.site.markup import escape, html_code, html_heading, html_list, html_table

ANCHOR = "matrix"
TITLE = "Kernel matrix"
_CHIP = {
    Verdict.PASS: '<span class="hub-chip hub-chip--pass">pass</span>',
    Verdict.FAIL: '<span class="hub-chip hub-chip--fail">FAIL</span>',
    Verdict.SKIP: '<span class="hub-chip hub-chip--partial">partial</span>',
}
_UNTESTED = '<span class="hub-muted">—</span>'


def matrix_section(package: Package, tested: Mapping[str, tuple[KernelVerdict, ...]]) -> str:
    """The section's HTML, or "" when no version of `package` was tested."""
    if not tested:
        return ""
    kernels = sorted(
        {(v.arch, v.kernel) for verdicts in tested.values() for v in verdicts},
        key=lambda key: (key[0], kernel_series(key[1]) or (0, 0), key[1]),
    )
    rows, notes = [], []
    for version in reversed(package.versions):
        verdicts = {(v.arch, v.kernel): v for v in tested.get(version.version, ())}
        row = [escape(version.version)]
        for key in kernels:
            verdict = verdicts.get(key)
            row.append(_CHIP[verdict.status] if verdict else _UNTESTED)
            if verdict is not None and verdict.status is not Verdict.PASS:
                reason = " / ".join(verdict.reason.splitlines())
                notes.append(
                    f"{escape(version.version)} on {escape(verdict.label)} "
                    f"({html_code(verdict.release)}): {escape(reason)}"
                )
        rows.append(row)
    header = ["Version", *(f"{arch} {kernel}" for arch, kernel in kernels)]
    lead = (
        "<p>Each version is loaded (the verifier runs) and attached on the Debian kernels of "
        "the hub's matrix, booted under qemu. <em>partial</em>: verified, but a program was "
        "not attached in the test guest.</p>"
    )
    return (
        html_heading(ANCHOR, TITLE)
        + lead
        + html_table(header, rows)
        + (html_list(notes) if notes else "")
    )
