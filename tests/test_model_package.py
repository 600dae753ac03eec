"""The package metadata and artifact config models: each default once, JSON round trips, and a
config from a registry checked before anything reads it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.errors import HubError
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.model import package as package_model
from ebpf_hub.model.artifact import ArtifactConfig, BuildInfo, ObjectEntry
from ebpf_hub.model.package import Output, Package, Permissions
from ebpf_hub.schemas import load_schema

REPO = Path(__file__).resolve().parents[1]


def _seed_packages() -> list[Package]:
    config = load_config(REPO)
    return validate(config).packages


def test_each_permissions_default_is_the_schemas() -> None:
    schema = load_schema("package.schema.json")["properties"]["permissions"]["properties"]
    assert schema["reads_user_memory"]["default"] is package_model.DEFAULT_READS_USER_MEMORY
    assert schema["drops_packets"]["default"] is package_model.DEFAULT_DROPS_PACKETS
    bare = Permissions.from_json({"attach": ["tracepoint"]})
    assert (bare.reads_user_memory, bare.drops_packets, bare.helpers, bare.kfuncs) == (
        False,
        False,
        (),
        (),
    )
    assert bare.to_json() == {"attach": ["tracepoint"]}  # defaults are not written out


def test_every_seed_package_reads_back_as_it_was_written() -> None:
    """`to_json` gives the document back: the index and the artifact config copy it."""
    for package in _seed_packages():
        document = package.to_json()
        assert Package.from_json(json.loads(json.dumps(document))) == package


def test_the_artifact_configs_shared_parts_are_the_index_schemas() -> None:
    """The artifact config describes requires, permissions and output exactly as the package
    files and the index do; only its source also carries the pin."""
    config = load_schema("artifact-config.schema.json")["$defs"]
    index = load_schema("package-index.schema.json")["$defs"]
    for part in ("name", "summary", "license", "requires", "permissions", "output"):
        assert config[part] == index[part], part
    source = copy.deepcopy(config["source"])
    for pin in ("commit", "tree"):
        del source["properties"][pin]
    assert source["properties"] == index["source"]["properties"]


def _config(package: Package) -> dict[str, Any]:
    entry = ObjectEntry(
        "sample.bpf.o",
        {
            "programs": [],
            "parameters": [
                {"name": "min_us", "type": {"type": "const volatile __u64"}, "default": 10}
            ],
        },
    )
    build = BuildInfo("clang 19", ("-O2",), "x86_64", "ab" * 32)
    return ArtifactConfig.describe(package, package.versions[-1], (entry,), build).to_json()


def test_an_artifact_config_round_trips_and_lists_its_parameters() -> None:
    package = _seed_packages()[0]
    data = _config(package)
    config = ArtifactConfig.read(data, "sample")
    assert config.to_json() == data
    assert config.requires == package.requires and config.output == (package.output or Output())
    [parameter] = config.parameters
    assert (parameter.name, parameter.type, parameter.default) == ("min_us", "__u64", 10)
    pin = package.versions[-1].pin
    assert pin in (config.source.tree, config.source.commit)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.pop("permissions"), "the top level"),
        (lambda c: c["requires"].update(btf="yes"), "requires/btf"),
        (lambda c: c["output"].update(maps=[{"map": "x"}]), "output/maps/0"),
        (lambda c: c["objects"][0].update(file="../../etc/passwd"), "objects/0/file"),
        (lambda c: c["permissions"].update(attach="tracepoint"), "permissions/attach"),
        (lambda c: c.update(configVersion=2), "configVersion"),
    ],
)
def test_a_config_that_is_not_what_build_writes_is_refused_in_one_line(
    change: Any, where: str
) -> None:
    """A config comes from a registry (or a file beside objects): its shape is checked before
    anything reads it, and a bad one is refused with the field, not a KeyError."""
    data = _config(_seed_packages()[0])
    change(data)
    with pytest.raises(HubError) as caught:
        ArtifactConfig.read(data, "registry.example/pkg:1.0.0 config")
    message = str(caught.value)
    assert message.startswith(
        "registry.example/pkg:1.0.0 config: not an eBPF Hub artifact config (at "
    )
    assert where in message and "\n" not in message
