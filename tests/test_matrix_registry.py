"""The kernel matrix of every published version comes back from the registry.

The publish workflow's matrix ledger holds only the versions one merge tested, so an index
built from it alone drops every older version's matrix. `--digests-from-registry` reads the
record of each published version the ledger lacks from the signed attestation publish
attached to its digest, verified with the hub's public key; a record that does not verify,
or that speaks of another version, stops the build in one line, and a version with no
attestation has no matrix. Each version's signer, builder and toolchain come back the same
way, verified with that key, equal to what `ebpf-hub verify` reports and shown on the page.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.matrix.record import (
    PREDICATE_TYPE,
    KernelOutcome,
    ProgramOutcome,
    VersionMatrix,
)
from ebpf_hub.matrix.results import Status
from ebpf_hub.oci.attestation import attach_statement
from ebpf_hub.oci.dsse import key_hint
from ebpf_hub.oci.keys import load_private_key, load_public_key
from ebpf_hub.oci.manifest import Descriptor
from ebpf_hub.oci.registry import RegistryStore
from ebpf_hub.publish import matrixledger
from ebpf_hub.publish.ledger import from_registry as ledger_from_registry
from ebpf_hub.publish.pipeline import Destination
from hubrepo import add_version, copy_seed, make_hub
from registry import RegistryServer
from siteserver import copy_site_inputs
from test_publish import publish
from test_publish_ledger import index

PROGRAM = ("xdpcount.bpf.o", "xdp_count", "xdp")


def kernel(name: str, arch: str, status: Status, reason: str = "") -> KernelOutcome:
    """One kernel's outcome for xdpcount's one program."""
    program = ProgramOutcome(*PROGRAM, status, reason)
    return KernelOutcome(name, arch, f"linux-image-{name}", "1", f"{name}.0-test", "", (program,))


RECORDS = (
    VersionMatrix(
        "xdpcount",
        "1.0.0",
        (kernel("6.1", "arm64", Status.PASS), kernel("6.1", "x86_64", Status.PASS)),
    ),
    VersionMatrix(
        "xdpcount",
        "1.1.0",
        (
            kernel("5.10", "x86_64", Status.SKIP, "no BTF: the kernel has none"),
            kernel("6.12", "x86_64", Status.PASS),
        ),
    ),
)


def matrices(files: dict[str, bytes]) -> dict[str, object]:
    """Each version's `matrix` in the index's xdpcount.json (None: not tested)."""
    versions = json.loads(files["api/v1/packages/xdpcount.json"])["versions"]
    return {version["version"]: version.get("matrix") for version in versions}


def trusts(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """Each version's `trust` in the index's xdpcount.json."""
    versions = json.loads(files["api/v1/packages/xdpcount.json"])["versions"]
    return {version["version"]: version["trust"] for version in versions}


def check_trust_is_what_verify_reports(
    files: dict[str, bytes],
    site: Path,
    keys: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every version's signer, builder, run and toolchain are recorded, and are what
    `ebpf-hub verify` reports on the artifact, with the hub's key, from the index in `site`."""
    monkeypatch.setenv("EBPF_HUB_HOME", str(site.parent / "client"))
    capsys.readouterr()
    command = ["verify", "xdpcount@1.1.0", "--hub", str(site), "--json"]
    assert main([*command, "--public-key", f"{keys}.pub"]) == 0
    chain = json.loads(capsys.readouterr().out)
    checked = {link["link"]: link["checked"] for link in chain["chain"]}
    run = chain["provenance"]["runDetails"]
    expected = {
        "builder": run["builder"]["id"],
        "run": run["metadata"].get("invocationId"),
        "toolchain": run["builder"]["version"],
    }
    assert set(expected["toolchain"]) == {"clang", "libbpf", "bpftool"}
    for trust in trusts(files).values():  # one publish run signed and built them all
        assert trust["signer"] == f"sha256:{key_hint(load_public_key(Path(f'{keys}.pub')))}"
        assert f"key {trust['signer']}, " in checked["signature"]
        assert {field: trust[field] for field in expected} == expected
    assert f"builder {expected['builder']}" in checked["provenance"]


def check_the_page_shows_the_trust(site: Path, version: str, trust: dict[str, Any]) -> None:
    """The package page's panel of `version` states the same signer, builder and toolchain."""
    page = (site / "packages" / "xdpcount" / "index.html").read_text()
    start = page.index(f'id="trust-{version}"')
    panel = page[start : page.index("</details>", start)]
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", panel))
    assert facts["Signed by"] == f"the hub's key <code>{trust['signer']}</code>"
    assert facts["Builder"].startswith(html.escape(trust["builder"]))
    if trust["run"] is not None:  # published from CI: the run is linked
        assert f'<a href="{html.escape(trust["run"])}"' in facts["Builder"]
    tools = ", ".join(f"{tool} {version}" for tool, version in trust["toolchain"].items())
    assert facts["Toolchain"] == html.escape(tools)


def failed_index(hub: Path, out: Path, namespace: str, *extra: str) -> None:
    """Build the index from the registry as `index` does, expecting it to be refused."""
    command = ["index", "--root", str(hub), "--out", str(out), "--registry", namespace]
    assert main([*command, "--insecure", "--digests-from-registry", *extra]) == 1


def test_every_published_versions_matrix_is_read_back_from_its_signed_attestation(
    fresh_registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("EBPF_HUB_PUBLIC_KEY", raising=False)  # the test says which key
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no config file
    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "xdpcount")
    add_version(hub, "xdpcount", "1.1.0")
    add_version(hub, "xdpcount", "1.2.0")  # published, never tested: no attestation
    ledger, tested = tmp_path / "digests.json", tmp_path / "matrix"
    matrixledger.record(tested, RECORDS)
    keys = tmp_path / "hub"
    assert main(["keygen", str(keys)]) == 0
    namespace = f"{fresh_registry.host}/matrix"
    signed = ("--sign-key", f"{keys}.key", "--matrix-dir", str(tested))
    assert publish(hub, namespace, ledger, "--all", *signed) == 0
    assert "attached the signed kernel-matrix record of 2 version(s)" in capsys.readouterr().err

    # The next merge's run: no ledger of digests, an empty matrix ledger.
    empty = tmp_path / "empty-matrix"
    empty.mkdir()
    hub_key = ("--public-key", f"{keys}.pub")
    from_registry = index(
        hub, tmp_path / "a", namespace, "--insecure", "--digests-from-registry",
        "--matrix", str(empty), *hub_key,
    )  # fmt: skip
    expected = {
        record.version: [verdict.to_json() for verdict in record.verdicts()] for record in RECORDS
    }
    assert matrices(from_registry) == expected | {"1.2.0": None}
    assert expected["1.1.0"][0]["status"] == "skip"  # the verdicts, not just the kernels
    # ... the same index as the complete ledgers give.
    complete = index(
        hub, tmp_path / "b", namespace, "--digests", str(ledger), "--matrix", str(tested)
    )
    assert from_registry == complete
    check_trust_is_what_verify_reports(from_registry, tmp_path / "a", keys, capsys, monkeypatch)
    # CI's case: this merge's ledger holds its own version, the registry the rest.
    this_run = tmp_path / "this-run"
    matrixledger.record(this_run, RECORDS[1:])
    mixed = index(
        hub, tmp_path / "m", namespace, "--insecure", "--digests-from-registry",
        "--matrix", str(this_run), *hub_key,
    )  # fmt: skip
    assert mixed == complete
    # The workflow's own step: the site build, whose api/v1 is that index.
    copy_site_inputs(hub)
    site = ["site", "build", "--root", str(hub), "--out", str(tmp_path / "site")]
    site += ["--registry", namespace, "--insecure", "--digests-from-registry"]
    assert main([*site, "--matrix", str(empty), *hub_key]) == 0
    served = tmp_path / "site" / "api" / "v1" / "packages" / "xdpcount.json"
    assert served.read_bytes() == from_registry["api/v1/packages/xdpcount.json"]
    check_the_page_shows_the_trust(tmp_path / "site", "1.2.0", trusts(from_registry)["1.2.0"])

    # A key that is not the one publish signed with: the attestations do not verify.
    stranger = tmp_path / "stranger"
    assert main(["keygen", str(stranger)]) == 0
    capsys.readouterr()
    failed_index(hub, tmp_path / "c", namespace, "--public-key", f"{stranger}.pub")
    [line] = capsys.readouterr().err.splitlines()
    # ... nor do the signature and provenance: signer and builder stay unknown, as with no key.
    packages = validate(load_config(hub)).packages
    for public_key in (load_public_key(Path(f"{stranger}.pub")), None):
        read = ledger_from_registry(packages, Destination(namespace, insecure=True), {}, public_key)
        assert {(e.signer, e.origin) for e in read["xdpcount"].values()} == {(None, None)}
    assert line.startswith("ebpf-hub: error: xdpcount 1.0.0: ")
    assert "does not verify with the given public key" in line
    assert "check that --public-key / EBPF_HUB_PUBLIC_KEY is the hub's key" in line
    # No key at all: an attestation nobody checks is not taken, nor passed over in silence.
    failed_index(hub, tmp_path / "d", namespace)
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "ebpf-hub: error: xdpcount 1.0.0: the registry holds a kernel-matrix record of "
        f"{json.loads(ledger.read_text())['xdpcount']['1.0.0']['digest']} and no public key is "
        "configured to verify it; pass --public-key FILE or set EBPF_HUB_PUBLIC_KEY (the hub's "
        "public key)"
    )

    # A record signed by the hub but about 1.1.0, attached to 1.0.0's digest: refused.
    store = RegistryStore(fresh_registry.host, "matrix/xdpcount", insecure=True)
    pinned = json.loads(ledger.read_text())["xdpcount"]["1.0.0"]["digest"]
    fetched = store.get_manifest(pinned)
    subject = Descriptor(fetched.media_type, pinned, len(fetched.data))
    key = load_private_key(Path(f"{keys}.key"))
    assert attach_statement(store, subject, PREDICATE_TYPE, RECORDS[1].to_json(), key)
    failed_index(hub, tmp_path / "e", namespace, *hub_key)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"ebpf-hub: error: xdpcount 1.0.0: the kernel-matrix record attached to {pinned} is "
        "about 'xdpcount' '1.1.0'; delete that referrer from the registry"
    )
    assert not (tmp_path / "e").exists()  # nothing half-written
