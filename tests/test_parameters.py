"""Typed parameters (issue 15, item 6) on a real object and the real kernel.

tests/data/params/sigmask is a libbpf-tools-style tool whose parameters leak their encoding:
two signal sets kept as bitmasks (bit N is signal N; the kernel's sigmask(), bit N-1), a list
of receiving process IDs and a latency in microseconds. Its metadata declares what each
means. It is published signed to an OCI layout and indexed, so `info` and `run` work on it
as a user's client does: `run -p target_signals=KILL` must get only SIGKILL events, `10ms`
must reach the kernel as 10000, and a bad value is one line naming the parameter, the value
and what is accepted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ebpf_hub.bpfobj.inspect import ObjectInfo, inspect_object
from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.cli import main
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.model.index import IndexPackage
from ebpf_hub.model.paramdecl import ParameterDecl, declarations_from_json
from ebpf_hub.model.paramvalues import render
from ebpf_hub.run.params import encode_value
from ebpf_hub.schemas import first_error, load_schema
from hubrepo import REPO, make_hub, write_package
from kernelstate import assert_gone, held_prog_ids, links_of
from test_run import published_env

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
DATA = REPO / "tests" / "data" / "params"
METADATA = (DATA / "sigmask.yaml").read_text()
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user whose hub holds sigmask, published signed and indexed."""
    work = tmp_path_factory.mktemp("params")
    root = make_hub(work / "hub")
    shutil.copytree(DATA / "sigmask", root / "sources" / "sigmask")
    write_package(root, "sigmask", METADATA.replace("TREE", tree_hash(root / "sources/sigmask")))
    return published_env(root, work)


@pytest.fixture(scope="module")
def sigmask(tmp_path_factory: pytest.TempPathFactory) -> ObjectInfo:
    """The object as the hub's toolchain compiles it."""
    out = tmp_path_factory.mktemp("sigmask")
    [path] = compile_objects(toolchain(), DATA / "sigmask", out, "sigmask")
    return inspect_object(path)


@pytest.fixture(scope="module")
def declared() -> dict[str, ParameterDecl]:
    found = declarations_from_json(yaml.safe_load(METADATA)["parameters"]) or ()
    return {d.name: d for d in found}


def ebpf_hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EBPF_HUB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def encoded(info: ObjectInfo, declared: dict[str, ParameterDecl], name: str, text: str) -> int:
    """`text` as the integer the kernel reads from parameter `name`."""
    [param] = [p for p in info.parameters if p.name == name]
    return int.from_bytes(encode_value(param, text, declared[name]), "little")


# --- the kernel reads what the declaration promises ---


@root_only
def test_a_signal_set_by_name_filters_in_the_kernel_and_a_duration_arrives_in_its_unit(
    hub: dict[str, str],
) -> None:
    """=KILL gets only SIGKILL, though USR1 and TERM are sent too; the sigmask() set lets
    KILL and TERM through, so an off-by-one in either encoding loses the KILL event; the
    list admits only the children; `10ms` is 10000 in the kernel, which keeps microseconds."""
    children = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    tpids = ",".join(str(child.pid) for child in children)
    try:
        run = subprocess.Popen(
            [
                *(EBPF_HUB, "run", "sigmask", "--yes", "--json", "--duration", "3"),
                *("-p", f"target_pid={os.getpid()}", "-p", "target_signals=KILL"),
                *("-p", "kernel_signals=SIGKILL,term", "-p", f"target_tpids={tpids}"),
                *("-p", "min_lat=10ms"),
            ],
            env=hub,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert run.stderr is not None
        told = []
        for line in run.stderr:
            told.append(line)
            if " attached " in line:
                break
        else:
            pytest.fail(f"the runner never attached: {''.join(told)}")
        progs = held_prog_ids(run.pid)
        links = links_of(progs)
        for child, sig in zip(
            children, (signal.SIGUSR1, signal.SIGTERM, signal.SIGKILL), strict=True
        ):
            os.kill(child.pid, sig)
            child.wait(timeout=10)
        stdout, stderr = run.communicate(timeout=30)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert run.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stdout.splitlines()]
    assert [(e["sig"], e["tpid"], e["min_lat"]) for e in events] == [
        (signal.SIGKILL, children[2].pid, 10_000)
    ], stdout[:500]
    assert progs
    assert_gone(progs, links)


def test_a_number_given_to_a_signal_set_is_a_signal_never_the_raw_mask(
    sigmask: ObjectInfo, declared: dict[str, ParameterDecl]
) -> None:
    """`=9` once filtered signals 1 and 4: it is signal 9 in both bit conventions."""
    assert encoded(sigmask, declared, "target_signals", "9") == 1 << 9
    assert encoded(sigmask, declared, "kernel_signals", "9") == 1 << 8
    assert encoded(sigmask, declared, "target_signals", "KILL,SIGTERM,usr1") == (
        1 << 9 | 1 << 15 | 1 << 10
    )
    assert encoded(sigmask, declared, "kernel_signals", "32") == 1 << 31  # fits 32 bits
    assert encoded(sigmask, declared, "target_signals", "none") == 0
    assert encoded(sigmask, declared, "target_signals", "SIGRTMIN+3,iot") == 1 << 37 | 1 << 6
    assert encoded(sigmask, declared, "min_lat", "1.5s") == 1_500_000
    assert encoded(sigmask, declared, "min_lat", "250") == 250  # a bare number: microseconds
    assert encoded(sigmask, declared, "target_tpids", "7, 8") == 7 | 8 << 32


@pytest.mark.parametrize(
    ("option", "line"),
    [
        (
            "target_signals=FOO",
            "parameter target_signals (signal-set): 'FOO' is not a signal name; accepted: a "
            "signal name (KILL, SIGKILL) or a number 1-64",
        ),
        (
            "target_signals=KILL,65",
            "parameter target_signals (signal-set): 65 is not a signal number; accepted: a "
            "signal name (KILL, SIGKILL) or a number 1-64",
        ),
        (
            "kernel_signals=64",
            "parameter kernel_signals (signal-set): signal 64 does not fit this 32-bit set; "
            "accepted: signals 1-32",
        ),
        (
            "min_lat=10 parsecs",
            "parameter min_lat (duration in us): '10 parsecs' is not a duration; accepted: a "
            "duration such as 10ms, 1.5s or 250us (a bare number is in us)",
        ),
        (
            "min_lat=1500ns",
            "parameter min_lat (duration in us): '1500ns' is not a whole number of us, the unit "
            "the program keeps it in; accepted: multiples of 1us",
        ),
        (
            "target_tpids=1,2,3,4,5",
            "parameter target_tpids (list of int): 5 values given; accepted: at most 4",
        ),
    ],
)
@root_only
def test_a_bad_value_is_one_line_naming_the_parameter_the_value_and_what_is_accepted(
    hub: dict[str, str], option: str, line: str
) -> None:
    result = ebpf_hub(hub, "run", "sigmask", "--yes", "-p", option)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"ebpf-hub: error: {line}"
    assert "attached" not in result.stderr


# --- info, the index and the artifact config carry the declarations ---


def test_info_shows_each_parameter_with_its_type_unit_default_and_description(
    hub: dict[str, str],
) -> None:
    text = ebpf_hub(hub, "info", "sigmask")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    start = lines.index("parameters (ebpf-hub run sigmask -p NAME=VALUE):")
    assert lines[start + 1 : start + 11] == [
        f"  {'kernel_signals':<24} {'signal-set':<20} default none",
        "      Only these signals too, kept as the kernel's sigmask() keeps them.",
        f"  {'min_lat':<24} {'duration (us)':<20} default 0",
        "      The latency threshold every event echoes.",
        f"  {'target_pid':<24} {'int':<20} default 0",
        "      Only signals this process ID generates; 0 traces every process.",
        f"  {'target_signals':<24} {'signal-set':<20} default none",
        "      Only these signals; none traces every signal.",
        f"  {'target_tpids':<24} {'list':<20} default none",
        "      Only signals sent to these process IDs (up to 4); none traces every one.",
    ]
    result = ebpf_hub(hub, "info", "sigmask", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["parameters"] == yaml.safe_load(METADATA)["parameters"]  # the declarations
    served = Path(hub["EBPF_HUB_URL"].removeprefix("file://"), "api/v1/packages/sigmask.json")
    data = json.loads(served.read_text())
    read = IndexPackage.from_json(data).to_json()  # the client's model keeps them
    assert read["parameters"] == data["parameters"]
    assert read["versions"][0]["parameters"] == data["versions"][0]["parameters"]
    [version] = shown["versions"]
    by_name = {p["name"]: p for p in version["parameters"]}
    assert by_name["min_lat"] == {
        "name": "min_lat",
        "type": "__u64",
        "default": 0,
        "description": "The latency threshold every event echoes.",
        "kind": "duration",
        "unit": "us",
        "defaultText": "0",
    }


def test_defaults_render_in_the_declared_form() -> None:
    def decl(kind: str, unit: str | None = None, bit: str | None = None) -> ParameterDecl:
        return ParameterDecl("p", "A parameter.", kind, unit=unit, bit=bit)

    assert render(decl("signal-set", bit="signal"), 1 << 9 | 1 << 15) == "KILL,TERM"
    assert render(decl("signal-set", bit="signal-1"), 1 << 8) == "KILL"
    assert render(decl("signal"), 2) == "INT"
    assert render(decl("duration", unit="us"), 10_000) == "10ms"
    assert render(decl("duration", unit="ns"), 1_500) == "1500ns"
    assert render(ParameterDecl("p", "d", "enum", values=(("inet", 2),)), 2) == "inet"
    assert render(ParameterDecl("p", "d", "list", items="signal"), [9, 0]) == "KILL"


def test_the_artifact_config_and_index_declare_parameters_as_the_package_file_does() -> None:
    package = load_schema("package.schema.json")["properties"]["parameters"]
    for copy in ("artifact-config.schema.json", "package-index.schema.json"):
        schema = load_schema(copy)
        assert schema["$defs"]["parameters"] == package, copy
        assert schema["properties"]["parameters"] == {"$ref": "#/$defs/parameters"}, copy


# --- declarations the schema or the object refuse ---


@pytest.mark.parametrize(
    ("declaration", "error"),
    [
        ({"type": "signal-set", "description": "Signals."}, '"bit" is a required property'),
        ({"type": "duration", "description": "A wait."}, '"unit" is a required property'),
        ({"type": "duration", "unit": "fortnights", "description": "A wait."}, "fortnights"),
        (
            {"type": "int", "bit": "signal", "description": "A pid."},
            "bit: False schema does not allow",
        ),
        ({"type": "float", "description": "A ratio."}, '"float" is not one of'),
    ],
)
def test_the_schema_refuses_a_declaration_missing_what_its_type_needs(
    declaration: dict[str, str], error: str
) -> None:
    document = yaml.safe_load(METADATA.replace("TREE", "sha256:" + "0" * 64))
    assert first_error("package.schema.json", document) is None
    document["parameters"] = {"target_pid": declaration}
    found = first_error("package.schema.json", document)
    assert found is not None and error in found, found


def test_the_build_refuses_a_declaration_the_object_cannot_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "sigmask"
    shutil.copytree(DATA / "sigmask", directory)
    document = yaml.safe_load(METADATA.replace("TREE", "sha256:" + "0" * 64))
    document["parameters"]["min_lat"] = {"type": "string", "description": "A name."}
    document["parameters"]["no_such"] = {"type": "int", "description": "Nothing."}
    (directory / "ebpf-hub.yaml").write_text(yaml.safe_dump(document))
    assert main(["build", str(directory)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    [line] = [line for line in lines if not line.startswith("note: ")]
    assert line.startswith("ebpf-hub: error: ")
    assert (
        "sigmask.bpf.o: parameters.min_lat is declared type string, which needs a char array, "
        "but the object's min_lat is a __u64" in line
    )
    assert "parameters.no_such is declared but no object has a const volatile global" in line
    assert f"declare it in {directory / 'ebpf-hub.yaml'}" in line


def test_every_seed_declaration_names_a_parameter_its_source_has() -> None:
    """The build checks each type against the object; here, cheaply, that the seeds declare
    a description for every `const volatile` their sources have, and nothing else."""
    for path in sorted((REPO / "index" / "packages").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        source = document["source"].get("path")
        if source is None or not (REPO / source).is_dir():
            continue
        text = "\n".join(p.read_text() for p in (REPO / source).glob("*.bpf.c"))
        names = set(_const_volatile_names(text))
        assert set(document.get("parameters", {})) == names, path.name


def _const_volatile_names(text: str) -> Iterator[str]:
    for line in text.splitlines():
        if line.startswith("const volatile "):
            yield line.split("=")[0].split()[-1].split("[")[0].rstrip(";")
