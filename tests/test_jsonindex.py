"""`ebpf-hub index`: the JSON index matches its schemas, is deterministic, and is all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ebpf_hub.cli import main
from hubrepo import REPO, SAMPLE, make_hub, write_package


def schema_validator(name: str) -> Draft202012Validator:
    schema = json.loads((REPO / "schema" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def build(root: Path, out: Path, *extra: str) -> int:
    return main(["index", "--root", str(root), "--out", str(out), *extra])


def test_repository_index_matches_schemas_and_is_deterministic(tmp_path: Path) -> None:
    assert build(REPO, tmp_path / "one") == 0
    assert build(REPO, tmp_path / "two") == 0
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.json"))
    two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.json"))
    assert one == two and len(one) >= 4
    for relative in one:
        assert (tmp_path / "one" / relative).read_bytes() == (
            tmp_path / "two" / relative
        ).read_bytes()

    index = json.loads((tmp_path / "one" / "api/v1/index.json").read_bytes())
    schema_validator("index.schema.json").validate(index)
    names = [p["name"] for p in index["packages"]]
    assert names == sorted(names) and len(names) >= 3
    package_schema = schema_validator("package-index.schema.json")
    for name in names:
        entry = json.loads((tmp_path / "one" / f"api/v1/packages/{name}.json").read_bytes())
        package_schema.validate(entry)
        assert entry["name"] == name
        assert entry["versions"][-1]["ref"].endswith(f"/{name}:{entry['versions'][-1]['version']}")


def test_versions_latest_yanked_and_digests(tmp_path: Path) -> None:
    hub = make_hub(tmp_path / "hub")
    write_package(hub, "sample", SAMPLE + "    yanked: Breaks on arm64\n")
    digest = "sha256:" + "ab" * 32
    ledger = tmp_path / "digests.json"
    ledger.write_text(json.dumps({"sample": {"1.0.0": {"digest": digest, "size": 1234}}}))
    out = tmp_path / "site"
    assert build(hub, out, "--digests", str(ledger), "--registry", "127.0.0.1:5000/hub") == 0

    index = json.loads((out / "api/v1/index.json").read_bytes())
    assert index["registry"] == "127.0.0.1:5000/hub"
    [summary] = index["packages"]
    assert summary["latest"] == "1.0.0"
    assert summary["versions"] == [
        {"version": "1.0.0", "created": "2026-01-10", "yanked": False},
        {"version": "1.1.0", "created": "2026-02-01", "yanked": True},
    ]
    entry = json.loads((out / "api/v1/packages/sample.json").read_bytes())
    schema_validator("package-index.schema.json").validate(entry)
    first, second = entry["versions"]
    assert first["digest"] == digest and first["size"] == 1234
    assert first["pinned"] == f"127.0.0.1:5000/hub/sample@{digest}"
    assert first["ref"] == "127.0.0.1:5000/hub/sample:1.0.0"
    assert second["digest"] is None and second["pinned"] is None
    assert second["yanked"] == "Breaks on arm64"
    assert entry["programs"] == [
        {
            "name": "handle_exec",
            "section": "tracepoint/syscalls/sys_enter_execve",
            "attach": "tracepoint",
            "description": "",
        }
    ]


def test_invalid_index_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = make_hub(tmp_path / "hub")
    write_package(hub, "sample", SAMPLE)
    out = tmp_path / "site"
    assert build(hub, out) == 0
    before = (out / "api/v1/index.json").read_bytes()
    write_package(hub, "broken", "name: [")
    assert build(hub, out) == 1
    assert "the index has 1 problem(s)" in capsys.readouterr().err
    assert (out / "api/v1/index.json").read_bytes() == before
    assert sorted(p.name for p in (out / "api").iterdir()) == ["v1"]


def test_removed_package_disappears_from_the_output(tmp_path: Path) -> None:
    hub = make_hub(tmp_path / "hub")
    write_package(hub, "sample", SAMPLE)
    other = write_package(hub, "other", SAMPLE.replace("name: sample", "name: other"))
    out = tmp_path / "site"
    assert build(hub, out) == 0
    other.unlink()
    assert build(hub, out) == 0
    assert sorted(p.name for p in (out / "api/v1/packages").iterdir()) == ["sample.json"]


def test_bad_digest_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub = make_hub(tmp_path / "hub")
    write_package(hub, "sample", SAMPLE)
    ledger = tmp_path / "digests.json"
    ledger.write_text("{not json")
    assert build(hub, tmp_path / "site", "--digests", str(ledger)) == 1
    assert "cannot read the digest ledger" in capsys.readouterr().err
