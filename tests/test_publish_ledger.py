"""The registry is the truth for what is published: a lost ledger loses no digest.

A publish run that fails halfway keeps what it pushed in the registry, but its ledger (a file in
the CI workspace) is lost with the run, and the next merge's `--changed` range does not cover
those versions. `--digests-from-registry` reads them back, so the index still pins them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.index.jsonindex import digests_from_json, load_digests
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.model.index import BuildOrigin
from ebpf_hub.oci.errors import UnsafeArtifactError
from ebpf_hub.oci.layout import LayoutStore
from ebpf_hub.publish.ledger import published_entry
from hubrepo import SAMPLE, copy_seed, git, make_hub, write_package
from registry import RegistryServer
from test_publish import publish, skopeo_raw


def index(root: Path, out: Path, registry: str, *extra: str) -> dict[str, bytes]:
    """Build the JSON index of `root` into `out` and return its files by relative path."""
    assert (
        main(["index", "--root", str(root), "--out", str(out), "--registry", registry, *extra]) == 0
    )
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def commit(hub: Path, message: str) -> str:
    git(hub, "add", "-A")
    git(hub, "commit", "-q", "-m", message)
    return git(hub, "rev-parse", "HEAD").strip()


def broken_copy(hub: Path, seed: str, name: str) -> None:
    """A package whose pinned sources do not compile: its build fails, as a bad merge's does."""
    copy_seed(hub, seed, name)
    source = next((hub / "sources" / name).glob("*.bpf.c"))
    source.write_text(source.read_text() + "\nthis is not C;\n")
    path = hub / "index" / "packages" / f"{name}.yaml"
    lines = path.read_text().splitlines()
    path.write_text(
        "\n".join(
            f"    tree: {tree_hash(hub / 'sources' / name)}"
            if line.startswith("    tree: ")
            else line
            for line in lines
        )
        + "\n"
    )


def test_a_failed_runs_pushes_are_pinned_by_the_next_merges_index(
    fresh_registry: RegistryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = make_hub(tmp_path / "hub")
    git(hub, "init", "-q", "-b", "main")
    base = commit(hub, "an empty hub")
    namespace = f"{fresh_registry.host}/lost"

    # Merge 1 adds two packages; one does not build, so the run fails after pushing the other.
    copy_seed(hub, "syscount")
    broken_copy(hub, "killsnoop", "broken")
    first = commit(hub, "syscount and broken")
    lost = tmp_path / "run1.json"
    assert publish(hub, namespace, lost, f"--changed={base}..{first}", "--no-sign") == 1
    err = capsys.readouterr().err
    assert f"pushed {namespace}/syscount:1.0.0" in err
    assert "1 version(s) failed to publish: broken@1.0.0" in err

    # Merge 2 adds another package; its run starts from a fresh ledger (run 1's is lost).
    copy_seed(hub, "execsnoop")
    second = commit(hub, "execsnoop")
    ledger = tmp_path / "run2.json"
    assert publish(hub, namespace, ledger, f"--changed={first}..{second}", "--no-sign") == 0
    assert set(json.loads(ledger.read_text())) == {"execsnoop"}  # syscount is not in its range

    files = index(
        hub,
        tmp_path / "site",
        namespace,
        "--insecure",
        "--digests",
        str(ledger),
        "--digests-from-registry",
    )
    for name in ("syscount", "execsnoop"):
        [version] = json.loads(files[f"api/v1/packages/{name}.json"])["versions"]
        raw = skopeo_raw(f"{namespace}/{name}:1.0.0")
        assert version["digest"] == "sha256:" + hashlib.sha256(raw).hexdigest()
        assert version["pinned"] == f"{namespace}/{name}@{version['digest']}"
    [unbuilt] = json.loads(files["api/v1/packages/broken.json"])["versions"]
    assert unbuilt["digest"] is None
    assert "api/v1/digests.json" not in files  # the site is never a store

    # What both runs recorded, and the registry alone, give the same index.
    recorded = tmp_path / "recorded.json"
    recorded.write_text(json.dumps(json.loads(lost.read_text()) | json.loads(ledger.read_text())))
    from_ledger = index(hub, tmp_path / "from-ledger", namespace, "--digests", str(recorded))
    from_registry = index(
        hub, tmp_path / "from-registry", namespace, "--insecure", "--digests-from-registry"
    )
    assert from_registry == from_ledger == files


def test_an_index_from_an_oci_layout_alone_equals_the_ledgers(tmp_path: Path) -> None:
    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "xdpcount")
    layout, ledger = f"oci:{tmp_path / 'oci'}", tmp_path / "digests.json"
    assert publish(hub, layout, ledger, "--all", "--no-sign") == 0
    write_package(hub, "sample", SAMPLE)  # in the index, never published: no layout directory
    from_ledger = index(hub, tmp_path / "a", layout, "--digests", str(ledger))
    from_layout = index(hub, tmp_path / "b", layout, "--digests-from-registry")
    assert from_layout == from_ledger
    [version] = json.loads(from_layout["api/v1/packages/xdpcount.json"])["versions"]
    assert version["digest"] == json.loads(ledger.read_text())["xdpcount"]["1.0.0"]["digest"]
    assert version["parameters"] is not None
    sample = json.loads(from_layout["api/v1/packages/sample.json"])["versions"]
    assert [v["digest"] for v in sample] == [None, None]


def test_a_tag_holding_another_package_is_refused_not_pinned(tmp_path: Path) -> None:
    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "xdpcount")
    assert publish(hub, f"oci:{tmp_path / 'oci'}", tmp_path / "l.json", "--all", "--no-sign") == 0
    store = LayoutStore(tmp_path / "oci" / "xdpcount")
    assert published_entry(store, "xdpcount", "1.0.0") is not None
    assert published_entry(store, "xdpcount", "9.9.9") is None
    with pytest.raises(UnsafeArtifactError, match=r"does not describe impostor 1\.0\.0"):
        published_entry(store, "impostor", "1.0.0")


def test_a_ledger_from_before_signers_were_recorded_still_loads(tmp_path: Path) -> None:
    """Entries publish wrote before it recorded signers and build origins load as unknown
    ones (the trust panel says "not recorded"); a full entry reads back as written."""
    old = {"digest": "sha256:" + "ab" * 32, "size": 1024, "parameters": []}
    path = tmp_path / "digests.json"
    path.write_text(json.dumps({"xdpcount": {"1.0.0": old}}))
    [entry] = load_digests(path)["xdpcount"].values()
    assert (entry.signer, entry.origin) == (None, None)
    assert entry.to_json() == old  # an unsigned entry is written as before
    origin = BuildOrigin("urn:ebpf-hub:builder:local", None, {"clang": "19", "libbpf": "1.5"})
    signed = replace(entry, signer="sha256:" + "A" * 43 + "=", origin=origin)
    [back] = digests_from_json({"x": {"1": signed.to_json()}}, "ledger")["x"].values()
    assert back == signed
