"""`ebpf-hub build`: every seed package compiles, matches its declarations, is reproducible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ebpf_hub.build.package import build_version
from ebpf_hub.cli import main
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.oci.artifact import build_artifact
from ebpf_hub.publish.select import select_targets
from ebpf_hub.run.host import NO_KPROBES, has_kprobes
from hubrepo import REPO, copy_seed, make_hub
from kernelstate import held_prog_ids

SEEDS = sorted(p.stem for p in (REPO / "index" / "packages").glob("*.yaml"))


@pytest.mark.parametrize("name", SEEDS)
def test_seed_package_builds_and_matches_its_declarations(name: str, tmp_path: Path) -> None:
    config = load_config(REPO)
    [package] = validate(config, [config.packages_dir / f"{name}.yaml"]).packages
    built = build_version(REPO, package, package.versions[-1], tmp_path)
    objects = [f for f in built.files if f.name.endswith(".bpf.o")]
    assert objects and all(f.read_bytes()[:4] == b"\x7fELF" for f in objects)
    artifact = built.config
    sections = {
        (p["name"], p["section"]) for o in artifact.objects for p in o.description["programs"]
    }
    assert sections == {(p.name, p.section) for p in package.programs}
    assert artifact.name == name and artifact.version == package.versions[-1].version
    assert ArtifactConfig.read(artifact.to_json(), "the built config") == artifact
    if package.output is not None and package.output.events:
        assert any(o.description["event"] for o in artifact.objects), "events declared, no event"


def _loaded_program_ids() -> set[int]:
    """Programs this test process holds: what a load test left behind, whatever else runs."""
    return held_prog_ids()


@pytest.mark.root
def test_every_seed_package_loads_into_the_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each seed loads here, but one this kernel cannot run (a kprobe package on a kernel
    without kprobes), which the load test refuses naming why; its kernels are the matrix's."""
    packages = {p.name: p for p in validate(load_config(REPO)).packages}
    before = _loaded_program_ids()
    for name in SEEDS:
        code = main(["build", name, "--root", str(REPO), "--out", str(tmp_path), "--load-test"])
        err = capsys.readouterr().err
        needs_kprobes = any(p.attach == "kprobe" for p in packages[name].programs)
        if needs_kprobes and not has_kprobes():
            assert code == 1 and f"needs kprobes: {NO_KPROBES}" in err, err
        else:
            assert code == 0, err
    assert _loaded_program_ids() <= before


def _hub_with(tmp: Path, seed: str) -> Path:
    hub = make_hub(tmp)
    copy_seed(hub, seed, "sample")
    return hub


def test_two_builds_in_different_directories_give_the_same_digest(tmp_path: Path) -> None:
    digests, objects = [], []
    for where in ("first/checkout", "second"):
        hub = _hub_with(tmp_path / where, "runqlat")
        config = load_config(hub)
        [target] = select_targets(config, None)
        built = build_version(hub, target.package, target.version, tmp_path / where / "out")
        artifact = build_artifact(
            list(built.files),
            built.config.to_json(),
            title="sample",
            version=target.version.version,
            created=target.version.created,
        )
        digests.append(artifact.digest)
        objects.append((tmp_path / where / "out" / "runqlat.bpf.o").read_bytes())
    assert objects[0] == objects[1]
    assert digests[0] == digests[1]


def _break(hub: Path, old: str, new: str) -> None:
    source = hub / "sources" / "sample" / "execsnoop.bpf.c"
    text = source.read_text()
    assert old in text
    source.write_text(text.replace(old, new))
    copy_pin(hub)


def copy_pin(hub: Path) -> None:
    """Re-pin sample's newest version to what its directory holds now."""
    from ebpf_hub.index.srchash import tree_hash

    path = hub / "index/packages/sample.yaml"
    lines = path.read_text().splitlines()
    lines = [
        f"    tree: {tree_hash(hub / 'sources/sample')}" if line.startswith("    tree:") else line
        for line in lines
    ]
    path.write_text("\n".join(lines) + "\n")


EXTRA_PROGRAM = """
SEC("tracepoint/syscalls/sys_enter_kill")
int sneaky(void *ctx)
{
\treturn 0;
}

char LICENSE[]"""

SIGNAL_CALL = "\tbpf_ringbuf_submit(e, 0);"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "\nchar LICENSE[]",
            EXTRA_PROGRAM,
            "program 'sneaky' (section tracepoint/syscalls/sys_enter_kill) is not declared in programs:",
        ),
        (
            SIGNAL_CALL,
            SIGNAL_CALL + "\n\tbpf_send_signal(9);",
            "calls bpf_send_signal, which permissions.helpers does not declare",
        ),
        (
            'SEC("tracepoint/syscalls/sys_enter_execve")',
            'SEC("tracepoint/syscalls/sys_enter_execveat")',
            "is declared with section 'tracepoint/syscalls/sys_enter_execve'",
        ),
    ],
    ids=["undeclared-program", "undeclared-helper", "other-section"],
)
def test_object_that_hides_something_fails_to_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    hub = _hub_with(tmp_path / "hub", "execsnoop")
    _break(hub, old, new)
    code = main(["build", "sample", "--root", str(hub), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "sample@1.0.0: the object does not match the package metadata" in err
    assert expected in err


def test_compile_error_shows_the_compiler_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = _hub_with(tmp_path / "hub", "execsnoop")
    _break(hub, "e->ppid = ppid;", "e->ppid = ppid")
    code = main(["build", "sample", "--root", str(hub), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "execsnoop.bpf.c:" in err and "error: expected ';'" in err
    assert "sample@1.0.0: execsnoop.bpf.c does not compile (clang exit 1)" in err
    assert not list((tmp_path / "out").rglob("*.bpf.o"))


def test_build_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "syscount", "--root", str(REPO), "--out", str(tmp_path), "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["package"] == "syscount"
    assert {Path(f).name for f in entry["files"]} == {"syscount.bpf.o", "README.md", "LICENSE"}


def test_old_version_is_built_from_git_history(tmp_path: Path) -> None:
    from hubrepo import add_version, git

    hub = _hub_with(tmp_path / "hub", "execsnoop")
    git(hub, "init", "-q", "-b", "main")
    git(hub, "add", "-A")
    git(hub, "commit", "-q", "-m", "1.0.0")
    config = load_config(hub)
    [first] = select_targets(config, None)
    original = build_version(hub, first.package, first.version, tmp_path / "a").config
    _break(hub, "e->uid = (__u32)bpf_get_current_uid_gid();", "e->uid = 0;")
    shutil.copy(hub / "index/packages/sample.yaml", tmp_path / "pinned.yaml")
    git(hub, "checkout", "-q", "index/packages/sample.yaml")
    add_version(hub, "sample", "1.1.0")
    git(hub, "add", "-A")
    git(hub, "commit", "-q", "-m", "1.1.0")
    old, new = select_targets(load_config(hub), None)
    rebuilt = build_version(hub, old.package, old.version, tmp_path / "b").config
    assert rebuilt.objects == original.objects
    assert build_version(hub, new.package, new.version, tmp_path / "c").config.version == "1.1.0"


@pytest.mark.root
def test_load_test_shows_the_verifier_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = _hub_with(tmp_path / "hub", "execsnoop")
    _break(hub, "e->ppid = ppid;", "e->ppid = ppid;\n\te->comm[ppid] = 0;")
    before = _loaded_program_ids()
    code = main(
        ["build", "sample", "--root", str(hub), "--out", str(tmp_path / "out"), "--load-test"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "sample@1.0.0: execsnoop.bpf.o does not load into this kernel" in err
    assert "trace_execve_enter" in err
    assert _loaded_program_ids() <= before


def test_git_source_is_fetched_at_the_pinned_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ebpf_hub.build.source import checkout_sources
    from ebpf_hub.model.package import Package, Permissions, Source, Version
    from ebpf_hub.model.requires import Requires
    from hubrepo import git

    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
    upstream = tmp_path / "upstream"
    shutil.copytree(REPO / "sources" / "syscount", upstream / "bpf")
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-q", "-m", "v1")
    pinned = git(upstream, "rev-parse", "HEAD").strip()
    (upstream / "bpf" / "syscount.bpf.c").write_text("/* later work */\n")
    git(upstream, "commit", "-q", "-am", "v2")

    package = Package(
        name="syscount",
        summary="x",
        description="x",
        license="GPL-2.0-only",
        maintainers=(),
        categories=(),
        source=Source(git=f"file://{upstream}", subdir="bpf"),
        requires=Requires(kernel="5.8"),
        programs=(),
        permissions=Permissions(attach=("tracepoint",)),
        versions=(),
    )
    version = Version(version="1.0.0", created="2026-11-28", changes="x", commit=pinned)
    fetched = checkout_sources(REPO, package, version, tmp_path / "work")
    assert (fetched / "syscount.bpf.c").read_bytes() == (
        REPO / "sources/syscount/syscount.bpf.c"
    ).read_bytes()
    assert sorted(p.name for p in fetched.iterdir()) == [
        "LICENSE", "README.md", "syscount.bpf.c", "trigger",
    ]  # fmt: skip

    missing = Version(version="1.0.1", created="2026-11-28", changes="x", commit="f" * 40)
    with pytest.raises(HubError, match=r"syscount@1.0.1: cannot fetch commit f{40} from file://"):
        checkout_sources(REPO, package, missing, tmp_path / "work2")


def test_schema_lists_exactly_the_dangerous_helpers_the_build_checks() -> None:
    from ebpf_hub.bpfobj.capabilities import DANGEROUS_HELPERS
    from ebpf_hub.schemas import load_schema

    schema = load_schema("package.schema.json")
    listed = schema["properties"]["permissions"]["properties"]["helpers"]["items"]["enum"]
    assert sorted(listed) == sorted(DANGEROUS_HELPERS)
