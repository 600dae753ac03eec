"""The typed model of the client's side of the JSON index: entries, references, version specs.

Real `ebpf-hub index` output of the seed hub goes into the model and comes back as the same
JSON, so `info --json` prints what the hub serves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.cli import main
from ebpf_hub.client.resolve import resolve
from ebpf_hub.errors import HubError
from ebpf_hub.model.index import IndexPackage, IndexReference, IndexVersion
from ebpf_hub.model.requires import DEFAULT_ARCHITECTURES, DEFAULT_BTF, Requires
from ebpf_hub.model.version_spec import VersionSpec
from ebpf_hub.safetext import quote
from ebpf_hub.schemas import load_schema
from hubrepo import REPO

REGISTRY = "localhost:5000/team/ebpf"  # a port and a nested namespace


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed hub's index with every version published (digest, size, parameters)."""
    work = tmp_path_factory.mktemp("published")
    plain = work / "plain"
    assert main(["index", "--root", str(REPO), "--out", str(plain)]) == 0
    ledger: dict[str, Any] = {}
    for n, path in enumerate(sorted((plain / "api/v1/packages").glob("*.json"))):
        entry = json.loads(path.read_bytes())
        ledger[entry["name"]] = {
            v["version"]: {
                "digest": f"sha256:{n:02x}{m:02x}" + "0" * 60,
                "size": 1000 + m,
                "parameters": [{"name": "min_us", "type": "u64", "default": m}],
            }
            for m, v in enumerate(entry["versions"])
        }
    (work / "digests.json").write_text(json.dumps(ledger))
    out = work / "site"
    command = ["index", "--root", str(REPO), "--out", str(out), "--registry", REGISTRY]
    assert main([*command, "--digests", str(work / "digests.json")]) == 0
    return out


def entries(site: Path) -> list[dict[str, Any]]:
    paths = sorted((site / "api/v1/packages").glob("*.json"))
    assert len(paths) >= 3
    return [json.loads(path.read_bytes()) for path in paths]


def test_every_seed_entry_goes_through_the_model_unchanged(published: Path) -> None:
    for data in entries(published):
        package = IndexPackage.from_json(data)
        assert package.to_json() == data
        assert json.dumps(package.to_json(), sort_keys=True) == json.dumps(data, sort_keys=True)


def test_versions_are_typed(published: Path) -> None:
    data = entries(published)[0]
    package = IndexPackage.from_json(data)
    assert package.name == data["name"] and len(package.versions) == len(data["versions"])
    first = package.versions[0]
    assert first.reference == IndexReference(REGISTRY, package.name, first.version)
    assert first.reference.location == f"{REGISTRY}/{package.name}"
    assert first.digest is not None and first.digest.startswith("sha256:")
    assert first.size == 1000
    assert first.pinned == f"{REGISTRY}/{package.name}@{first.digest}"
    assert first.parameters is not None and first.parameters[0].default == 0
    assert str(first.parameters[0].name) == "min_us"


def test_info_json_prints_the_entry_as_served(
    published: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    data = entries(published)[0]
    capsys.readouterr()
    assert main(["info", data["name"], "--hub", str(published), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    extra = {"selected", "installed", "capabilities"}
    assert {k: v for k, v in shown.items() if k not in extra} == data
    assert shown["selected"] == data["latest"]


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag"),
    [
        ("ghcr.io/ebpf-hub/packages/execsnoop:1.0.0", "ghcr.io/ebpf-hub/packages", "execsnoop", "1.0.0"),
        ("localhost:5000/execsnoop:1.2.0-rc.1", "localhost:5000", "execsnoop", "1.2.0-rc.1"),
        ("127.0.0.1:5000/a/b/c/tcp-states:2.0.0", "127.0.0.1:5000/a/b/c", "tcp-states", "2.0.0"),
        ("[::1]:5000/ns/x:1.0.0", "[::1]:5000/ns", "x", "1.0.0"),
        ("oci:build/oci/execsnoop:1.0.0", "oci:build/oci", "execsnoop", "1.0.0"),
        ("oci:/srv/hub/oci/execsnoop:1.0.0", "oci:/srv/hub/oci", "execsnoop", "1.0.0"),
    ],
)  # fmt: skip
def test_references_split_into_registry_repository_and_tag(
    text: str, registry: str, repository: str, tag: str
) -> None:
    reference = IndexReference.parse(text)
    assert (reference.registry, reference.repository, reference.tag) == (registry, repository, tag)
    assert str(reference) == text


@pytest.mark.parametrize(
    "text",
    ["execsnoop:1.0.0", "ghcr.io/ns/execsnoop", "ghcr.io/ns/:1.0.0", "ghcr.io/ns/execsnoop:",
     "/execsnoop:1.0.0", "ghcr.io/ns/execsnoop@sha256:" + "a" * 64, ""],
)  # fmt: skip
def test_a_reference_of_another_form_is_one_clear_error(text: str) -> None:
    with pytest.raises(HubError) as caught:
        IndexReference.parse(text)
    assert caught.value.message == (
        f"the hub lists the reference {quote(text)}, which is not REGISTRY/NAME:VERSION"
    )
    assert caught.value.hint == "report it to the hub"


def version_entry(version: str, yanked: str | None = None) -> dict[str, Any]:
    return {
        "version": version, "created": "2026-01-01", "changes": "Something", "commit": None,
        "tree": None, "yanked": yanked, "ref": f"example.org/hub/sample:{version}",
        "digest": None, "size": None, "pinned": None, "parameters": None,
    }  # fmt: skip


def test_a_version_that_is_no_semantic_version_is_the_hubs_fault() -> None:
    with pytest.raises(HubError, match=re.escape("sample: the hub lists version '1.0', which")):
        IndexVersion.from_json(version_entry("1.0"), "sample")


def test_resolve_returns_typed_versions(published: Path) -> None:
    package = IndexPackage.from_json(entries(published)[0])
    chosen = resolve(package, None).version
    assert isinstance(chosen, IndexVersion) and chosen.version == package.latest
    line = VersionSpec.parse(str(chosen.parsed.major))
    assert resolve(package, line).version == chosen


@pytest.mark.parametrize(
    ("text", "major", "minor", "line"),
    [("1", 1, None, "1"), ("0", 0, None, "0"), ("1.2", 1, 2, "1.2"), ("10.0", 10, 0, "10.0"),
     ("1.2.3", None, None, None), ("1.0.0-rc.1", None, None, None)],
)  # fmt: skip
def test_version_spec_forms(
    text: str, major: int | None, minor: int | None, line: str | None
) -> None:
    spec = VersionSpec.parse(text)
    assert (spec.major, spec.minor, spec.line, str(spec)) == (major, minor, line, text)
    assert spec.exact is (major is None)


@pytest.mark.parametrize(
    ("text", "hint"),
    [("v1.2.0", "drop the 'v' (1.2.0)"), ("1.2.3.4", None), ("01", None), ("1.", None),
     ("latest", None), ("", None), ("1.2.x", None)],
)  # fmt: skip
def test_an_invalid_version_spec_is_one_clear_error(text: str, hint: str | None) -> None:
    with pytest.raises(HubError) as caught:
        VersionSpec.parse(text)
    assert caught.value.message == (
        f"version {text!r} is not MAJOR, MAJOR.MINOR or an exact MAJOR.MINOR.PATCH[-PRERELEASE]"
    )
    assert caught.value.hint == hint


@pytest.mark.parametrize(
    ("spec", "version", "selected"),
    [("1", "1.4.2", True), ("1", "2.0.0", False), ("1", "1.5.0-rc.1", False),
     ("1.2", "1.2.9", True), ("1.2", "1.3.0", False), ("1.2", "1.20.0", False),
     ("1.2.3", "1.2.3", True), ("1.2.3", "1.2.4", False),
     ("1.0.0-rc.1", "1.0.0-rc.1", True), ("1.0.0-rc.1", "1.0.0", False),
     ("1", "not-a-version", False)],
)  # fmt: skip
def test_version_spec_matches(spec: str, version: str, selected: bool) -> None:
    """A line selects releases only; an exact spec, that version (prerelease or not)."""
    assert VersionSpec.parse(spec).matches(version) is selected


@pytest.mark.parametrize("schema", ["package.schema.json", "package-index.schema.json"])
def test_requires_defaults_are_the_schemas(schema: str) -> None:
    loaded = load_schema(schema)
    requires = loaded.get("$defs", {}).get("requires") or loaded["properties"]["requires"]
    fields = requires["properties"]
    assert fields["btf"]["default"] is DEFAULT_BTF
    assert tuple(fields["architectures"]["default"]) == DEFAULT_ARCHITECTURES


def test_requires_answers_with_defaults_and_writes_back_what_it_read() -> None:
    bare = Requires.from_json({"kernel": "5.8"})
    assert (bare.btf, bare.architectures, bare.capabilities) == (True, ("x86_64",), None)
    assert bare.to_json() == {"kernel": "5.8"}
    full = {
        "kernel": "6.1",
        "btf": False,
        "architectures": ["aarch64"],
        "capabilities": ["CAP_BPF"],
    }
    typed = Requires.from_json(full)
    assert (typed.btf, typed.architectures) == (False, ("aarch64",))
    assert typed.to_json() == full


def test_the_model_imports_nothing_heavy() -> None:
    code = (
        "import sys, ebpf_hub.model.index, ebpf_hub.model.version_spec, ebpf_hub.model.requires\n"
        "import ebpf_hub.model.package, ebpf_hub.model.artifact\n"
        "heavy = ('jsonschema', 'jsonschema_rs', 'mkdocs', 'ebpf_hub.bpfobj', 'ebpf_hub.oci',\n"
        "         'ebpf_hub.site', 'ebpf_hub.index', 'httpx', 'urllib3', 'cryptography')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_hub_source_takes_the_registry_from_the_typed_reference() -> None:
    from ebpf_hub.client.install import hub_source
    from ebpf_hub.client.settings import Settings

    entry = IndexVersion.from_json(
        version_entry("1.0.0") | {"ref": f"{REGISTRY}/sample:1.0.0"}, "sample"
    )
    source = hub_source(Settings(), "sample", entry)
    assert source.location.name == source.identity == f"{REGISTRY}/sample"
    mirrored = hub_source(Settings(registry="mirror.example:5000/m"), "sample", entry)
    assert mirrored.location.name == "mirror.example:5000/m/sample"
    assert mirrored.identity == f"{REGISTRY}/sample"  # the signature names the hub's
    with pytest.raises(HubError, match=r"which is not REGISTRY/other:1\.0\.0"):
        hub_source(Settings(), "other", entry)


@pytest.mark.parametrize(
    ("requires", "passes"),
    [({"kernel": "5.8"}, False), ({"kernel": "5.8", "architectures": ["aarch64"]}, True), (None, True)],
)  # fmt: skip
def test_preflight_applies_the_default_architecture(
    requires: dict[str, Any] | None, passes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package that names no architecture is built for the schema's default (x86_64); an
    object without metadata may run anywhere supported."""
    from ebpf_hub.run import host, preflight

    monkeypatch.setattr(host, "architecture", lambda: "aarch64")
    declared = Requires.from_json(requires) if requires is not None else None
    [arch] = [c for c in preflight.package_checks(declared, []) if c.name == "architecture"]
    assert arch.ok is passes
