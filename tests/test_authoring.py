"""The author's side of issue 15, with real clang builds of tools written in the libbpf-tools
style here (tests/data/authoring: a .bpf.c, a shared .h event struct, no eBPF Hub header) and
the real kernel where they load:

- sigsnoop: kill()/tkill() with their result, through a perf event array;
- exitsnoop: process exits, through a ring buffer whose record only a local variable names;
- reaper: exits with their parent, through a kfunc tested with bpf_ksym_exists(), a renamed
  field (core_fixes.bpf.h) and the map and bit helpers: what Debian's libbpf 1.1 lacks.

Each goes through `init --from` (nothing edited in the C), `build`, `test`, `run`, `submit
--local`; each friction item of the issue (silent nothing, toolchain gaps, hand-written
programs, the wrong file named, placeholders, licenses) has its test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ebpf_hub.bpfobj.eventtype import EVENT_VARIABLE
from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.cli import main
from hubrepo import REPO, describe_package, make_hub
from kernelstate import held_prog_ids

TOOLS = REPO / "tests" / "data" / "authoring"
EBPF_HUB = str(REPO / ".venv" / "bin" / "ebpf-hub")


def imported(tmp_path: Path, tool: str, capsys: pytest.CaptureFixture[str]) -> Path:
    """`ebpf-hub init DIR --from TOOLDIR` of one of the tools here; the package directory."""
    directory = tmp_path / tool
    assert main(["init", str(directory), "--from", str(TOOLS / tool)]) == 0, capsys.readouterr()
    capsys.readouterr()
    return directory


def manifest(directory: Path) -> dict[str, object]:
    data = yaml.safe_load((directory / "ebpf-hub.yaml").read_text())
    assert isinstance(data, dict)
    return data


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The single error line a failed command printed on stderr (notes aside)."""
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if not line.startswith("note: ")]
    assert len(errors) == 1 and errors[0].startswith("ebpf-hub: error: "), lines
    return errors[0]


def package_dir(tmp_path: Path, name: str, c_source: str, extra: str = "") -> Path:
    """A package directory with one program and a manifest that declares it as a tracepoint."""
    directory = tmp_path / name
    directory.mkdir()
    (directory / f"{name}.bpf.c").write_text(c_source)
    (directory / "ebpf-hub.yaml").write_text(
        f"name: {name}\n"
        "summary: A test package of the authoring tests\n"
        "description: A package the authoring tests build, never published.\n"
        "license: GPL-2.0-only\n"
        "maintainers: [{name: Test}]\n"
        "categories: [observability]\n"
        f"source: {{git: 'https://example.org/{name}.git'}}\n"
        "requires: {kernel: '5.8'}\n"
        "programs: [{name: handle, section: tracepoint/sched/sched_process_exit}]\n"
        "permissions: {attach: [tracepoint]}\n"
        f"{extra}"
        "versions: [{version: 0.1.0, created: '2026-12-01', changes: First release.}]\n"
    )
    return directory


PROGRAM = """\
// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
{head}
SEC("tracepoint/sched/sched_process_exit")
int handle(void *ctx)
{{
{body}
\treturn 0;
}}

char LICENSE[] SEC("license") = "{license}";
"""


def program(head: str = "", body: str = "", license: str = "GPL") -> str:
    return PROGRAM.format(head=head, body=body, license=license)


# --- 1. silent nothing: events decoded without the hub's macro ---


def test_a_perf_event_array_of_the_libbpf_tools_struct_event_is_decoded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sigsnoop names its record nowhere but in a hash map's value and sends it through a
    perf event array: `test` decodes the signal its trigger sends."""
    directory = imported(tmp_path, "sigsnoop", capsys)
    assert main(["test", str(directory), "--json"]) == 0, capsys.readouterr().err
    [obj] = json.loads(capsys.readouterr().out)["objects"]
    assert obj["events"] >= 1
    first = obj["firstEvent"]  # the trigger's SIGTERM, or any kill() made meanwhile
    assert set(first) == {"pid", "tpid", "sig", "ret", "comm"}
    assert 0 <= first["sig"] <= 64 and first["pid"] > 0 and first["comm"]


def test_a_ring_buffer_record_only_a_local_variable_names_is_found_in_the_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """clang writes no BTF for exitsnoop's `struct event`: the build finds it in the C and
    names it in the object, with the C unchanged, the same bytes wherever it is built."""
    directory = imported(tmp_path, "exitsnoop", capsys)
    for name in ("exitsnoop.bpf.c", "exitsnoop.h"):
        assert (directory / name).read_bytes() == (TOOLS / "exitsnoop" / name).read_bytes()
    elsewhere = tmp_path / "elsewhere" / "copy"
    shutil.copytree(directory, elsewhere)  # another checkout: the hub builds in a scratch dir
    objects = []
    for source, out in ((directory, "one"), (elsewhere, "two")):
        assert main(["build", str(source), "--out", str(tmp_path / out)]) == 0
        objects.append((tmp_path / out / "exitsnoop.bpf.o").read_bytes())
    assert objects[0] == objects[1]
    info = inspect_object(tmp_path / "one" / "exitsnoop.bpf.o")
    assert info.event is not None and info.event.type == "struct event"
    assert [f.name for f in info.event.fields] == [
        "age_ns", "pid", "ppid", "exit_code", "sig", "comm"
    ]  # fmt: skip
    assert EVENT_VARIABLE in (tmp_path / "one" / "exitsnoop.bpf.o").read_bytes().decode("latin-1")


def test_run_prints_the_events_of_a_tool_with_no_hub_macro(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `test` sees, `run` prints: an exit of a program started while it runs."""
    directory = imported(tmp_path, "exitsnoop", capsys)
    out = tmp_path / "built"
    assert main(["build", str(directory), "--out", str(out)]) == 0
    before = held_prog_ids()
    run = subprocess.Popen(
        [EBPF_HUB, "run", str(out), "--yes", "--json", "--duration", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        subprocess.run(["/bin/true"], check=True)
        time.sleep(0.2)
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stdout.splitlines()]
    assert any(e["comm"] == "true" and e["exit_code"] == 0 for e in events), stdout[:500]
    assert held_prog_ids() == before


def test_an_events_map_whose_records_nothing_names_fails_the_build_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record named `struct sample_record` follows no convention: the build stops, in one
    line, with what to write, instead of `run` printing nothing and `test` blaming the trigger."""
    head = (
        "struct sample_record { __u32 pid; };\n"
        "struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); }"
        ' events SEC(".maps");\n'
    )
    body = (
        "\tstruct sample_record *s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);\n"
        "\tif (!s)\n\t\treturn 0;\n\ts->pid = bpf_get_current_pid_tgid() >> 32;\n"
        "\tbpf_ringbuf_submit(s, 0);"
    )
    directory = package_dir(tmp_path, "unnamed", program(head, body), "output: {events: true}\n")
    assert main(["build", str(directory)]) == 1
    error = one_error(capsys)
    assert "unnamed.bpf.c: the `events` ring buffer carries records of a type" in error
    assert "name their struct `struct event`" in error and "EBPF_HUB_EVENT(struct" in error
    assert not (directory / "build" / "unnamed.bpf.o").exists()


def test_output_events_without_an_events_map_is_refused_at_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = package_dir(tmp_path, "mute", program(), "output: {events: true}\n")
    assert main(["build", str(directory)]) == 1
    error = one_error(capsys)
    assert "output.events is declared but no object has an `events` map" in error
    assert f"declare it in {directory / 'ebpf-hub.yaml'}" in error  # not index/packages/


# --- 2. toolchain gaps: the compat headers, bounded build settings ---


def test_current_libbpf_tools_code_builds_and_runs_with_the_hubs_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """reaper tests a kfunc with bpf_ksym_exists(), calls bpf_task_from_pid(), reads the
    renamed task state and uses the map and bit helpers: none of it is in Debian's headers,
    so plain clang refuses it, and the hub's build loads it and sees exits with parents."""
    tools = toolchain()
    plain = subprocess.run(
        [tools.clang, "-target", "bpf", "-O2", "-g", f"-I{tools.vmlinux_dir}", "-c",
         "reaper.bpf.c", "-o", str(tmp_path / "plain.o")],
        cwd=TOOLS / "reaper", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plain.returncode != 0
    assert "bits.bpf.h' file not found" in plain.stderr

    directory = imported(tmp_path, "reaper", capsys)
    assert sorted(p.name for p in directory.iterdir()) == [
        "LICENSE",
        "README.md",
        "ebpf-hub.yaml",
        "reaper.bpf.c",
        "reaper.h",
        "trigger",
    ]  # fmt: skip  (the hub's headers are not copied: every build has them)
    assert main(["test", str(directory), "--json"]) == 0, capsys.readouterr().err
    [obj] = json.loads(capsys.readouterr().out)["objects"]
    first = obj["firstEvent"]  # the trigger's /bin/true, or any process exiting meanwhile
    assert first["comm"] and first["parent_comm"] and first["ppid"] > 0
    assert first["pid_slot"] == first["pid"].bit_length() - 1
    assert main(["build", str(directory)]) == 0
    info = inspect_object(directory / "build" / "reaper.bpf.o")
    assert {"bpf_task_from_pid", "bpf_task_release"} <= set(info.kfuncs)


def test_defines_and_include_directories_of_the_package_reach_clang_and_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = '#include "limits.h"\nconst volatile int threshold = LIMIT + TUNED_EXTRA;\n'
    settings = "compile: {defines: {TUNED_EXTRA: '2'}, include: [include]}\n"
    directory = package_dir(tmp_path, "tuned", program(head), settings)
    (directory / "include").mkdir()
    (directory / "include" / "limits.h").write_text("#define LIMIT 5\n")
    assert main(["build", str(directory)]) == 0, capsys.readouterr().err
    config = json.loads((directory / "build" / "config.json").read_text())
    [obj] = config["objects"]
    assert [(p["name"], p["default"]) for p in obj["parameters"]] == [("threshold", 7)]
    flags = config["build"]["flags"]
    assert "-DTUNED_EXTRA=2" in flags and "-Iinclude" in flags and "-Werror" in flags
    assert not any(str(tmp_path) in flag for flag in flags)


def test_werror_can_be_turned_off_and_warnings_still_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "\tint unused = 1;"
    directory = package_dir(tmp_path, "sloppy", program(body=body))
    assert main(["build", str(directory)]) == 1
    assert "unused variable 'unused'" in capsys.readouterr().err
    text = (directory / "ebpf-hub.yaml").read_text()
    (directory / "ebpf-hub.yaml").write_text(text + "compile: {werror: false}\n")
    assert main(["build", str(directory)]) == 0
    assert "unused variable 'unused'" in capsys.readouterr().err  # shown, not fatal
    config = json.loads((directory / "build" / "config.json").read_text())
    assert "-Werror" not in config["build"]["flags"] and "-Wall" in config["build"]["flags"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("compile: {include: ['../elsewhere']}", "compile.include[0]"),
        ("compile: {include: [.hidden]}", "compile.include[0]"),
        ("compile: {defines: {__KERNEL__: '1'}}", "compile.defines"),
        ("compile: {defines: {X: 'a b'}}", "compile.defines.X"),
        ("compile: {flags: ['-fplugin=x.so']}", "compile"),
    ],
)
def test_build_settings_are_bounded_by_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str, message: str
) -> None:
    directory = package_dir(tmp_path, "bounded", program(), settings + "\n")
    assert main(["build", str(directory)]) == 1
    assert message in capsys.readouterr().err


def test_an_include_directory_that_is_a_link_or_missing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = "compile: {include: [headers]}\n"
    directory = package_dir(tmp_path, "linked", program(), settings)
    assert main(["build", str(directory)]) == 1
    assert "compile.include: headers is not a directory of the source" in one_error(capsys)
    (directory / "headers").symlink_to("/usr/include")
    assert main(["build", str(directory)]) == 1
    assert "is a link; include directories must be real directories" in one_error(capsys)


# --- 3. init --from: the manifest written from the object ---


def test_init_from_writes_the_manifest_the_object_proves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = imported(tmp_path, "sigsnoop", capsys)
    data = manifest(directory)
    assert data["programs"] == [
        {"name": f"{call}_{end}", "section": f"tracepoint/syscalls/sys_{way}_{call}"}
        for call in ("kill", "tkill")
        for end, way in (("entry", "enter"), ("exit", "exit"))
    ]
    assert data["permissions"] == {"attach": ["tracepoint"]}
    assert data["output"] == {"events": True}
    assert data["license"] == "GPL-2.0-only"  # the SPDX line, not the object's "Dual BSD/GPL"
    assert data["requires"] == {
        "kernel": "5.4",  # a perf event array: no ring buffer needed
        "btf": True,
        "architectures": [toolchain().arch, *sorted({"x86_64", "aarch64"} - {toolchain().arch})],
        "capabilities": ["CAP_BPF", "CAP_PERFMON"],
    }
    ringbuf = manifest(imported(tmp_path, "exitsnoop", capsys))["requires"]
    assert isinstance(ringbuf, dict) and ringbuf["kernel"] == "5.8"


def test_init_from_declares_the_dangerous_calls_and_hooks_the_object_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What users are shown before they run it comes from the code: a signal sent, process
    memory read, packets decided, and the capabilities those hooks need."""
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "guard.bpf.c").write_text(
        "// SPDX-License-Identifier: GPL-2.0\n"
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n\n'
        "const volatile __u32 victim = 0;\n\n"
        'SEC("tracepoint/syscalls/sys_enter_execve")\n'
        "int on_exec(struct trace_event_raw_sys_enter *ctx)\n{\n\tchar path[32];\n\n"
        "\tbpf_probe_read_user_str(path, sizeof(path), (void *)ctx->args[0]);\n"
        "\tif (victim && victim == bpf_get_current_pid_tgid() >> 32)\n"
        "\t\tbpf_send_signal(9);\n\treturn 0;\n}\n\n"
        'SEC("xdp")\nint on_packet(struct xdp_md *ctx)\n{\n\treturn XDP_PASS;\n}\n\n'
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    directory = tmp_path / "guard"
    assert main(["init", str(directory), "--from", str(tool)]) == 0, capsys.readouterr().err
    data = manifest(directory)
    assert data["programs"] == [
        {"name": "on_exec", "section": "tracepoint/syscalls/sys_enter_execve"},
        {"name": "on_packet", "section": "xdp"},
    ]
    assert data["permissions"] == {
        "attach": ["tracepoint", "xdp"],
        "helpers": ["bpf_send_signal"],
        "reads_user_memory": True,
        "drops_packets": True,
    }
    requires = data["requires"]
    assert isinstance(requires, dict)
    assert requires["capabilities"] == ["CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"]
    assert data["categories"] == ["networking"] and "output" not in data
    assert "note: no `events` map: list the maps to print under output.maps" in (
        capsys.readouterr().err
    )


def test_init_from_keeps_warnings_as_warnings_and_shows_real_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libbpf-tools builds with -Wall alone: a tool with a warning imports, with
    compile.werror false and a note; one with an error is refused with clang's words."""
    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "warned.bpf.c").write_text(program(body="\tint unused = 1;"))
    directory = tmp_path / "warned"
    assert main(["init", str(directory), "--from", str(tool)]) == 0
    assert "the C has compiler warnings" in capsys.readouterr().err
    assert manifest(directory)["compile"] == {"werror": False}
    assert main(["build", str(directory)]) == 0
    assert "unused variable 'unused'" in capsys.readouterr().err

    (tool / "warned.bpf.c").write_text(program(body="\tundeclared = 1;"))
    assert main(["init", str(tmp_path / "broken"), "--from", str(tool)]) == 1
    err = capsys.readouterr().err  # clang's lines as lines, then the one error line
    assert "warned.bpf.c:8:2: error: use of undeclared identifier 'undeclared'\n" in err
    assert err.splitlines()[-1].startswith("ebpf-hub: error: broken: warned.bpf.c does not")
    assert not (tmp_path / "broken").exists()


def test_init_from_takes_one_tool_of_a_directory_of_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libbpf-tools keeps every tool in one directory: --program picks one, and only the
    headers it includes travel with it."""
    tools = tmp_path / "libbpf-tools"
    tools.mkdir()
    for tool in ("sigsnoop", "exitsnoop"):
        for path in (TOOLS / tool).glob(f"{tool}.*"):
            shutil.copy(path, tools / path.name)
    directory = tmp_path / "exits"
    assert main(["init", str(directory), "--from", str(tools), "--program", "exitsnoop"]) == 0
    assert sorted(p.name for p in directory.iterdir()) == [
        "LICENSE", "README.md", "ebpf-hub.yaml", "exitsnoop.bpf.c", "exitsnoop.h"
    ]  # fmt: skip
    assert manifest(directory)["name"] == "exits"
    assert main(["init", str(tmp_path / "other"), "--from", str(tools), "--program", "nope"]) == 1
    assert "no program 'nope'; one of: exitsnoop, sigsnoop" in capsys.readouterr().err


def test_init_from_refuses_linked_and_outside_headers_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "tool"
    tools.mkdir()
    shutil.copy(TOOLS / "exitsnoop" / "exitsnoop.bpf.c", tools)
    (tools / "exitsnoop.h").symlink_to(TOOLS / "exitsnoop" / "exitsnoop.h")
    target = tmp_path / "pkg"
    assert main(["init", str(target), "--from", str(tools)]) == 1
    assert f"{tools / 'exitsnoop.h'} is a link; replace it with the file" in one_error(capsys)
    assert not target.exists()

    (tools / "exitsnoop.h").unlink()
    shutil.copy(TOOLS / "exitsnoop" / "exitsnoop.h", tmp_path / "exitsnoop.h")
    source = tools / "exitsnoop.bpf.c"
    source.write_text(source.read_text().replace('"exitsnoop.h"', '"../exitsnoop.h"'))
    assert main(["init", str(target), "--from", str(tools)]) == 1
    assert "includes ../exitsnoop.h, outside the directory" in one_error(capsys)
    assert not target.exists() and not list(tmp_path.glob(".ebpf-hub-init-*"))


def test_init_from_a_tool_whose_records_cannot_be_named_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = tmp_path / "tool"
    tools.mkdir()
    source = (TOOLS / "exitsnoop" / "exitsnoop.bpf.c").read_text()
    (tools / "exitsnoop.bpf.c").write_text(source.replace("struct event", "struct record"))
    header = (TOOLS / "exitsnoop" / "exitsnoop.h").read_text()
    (tools / "exitsnoop.h").write_text(header.replace("struct event", "struct record"))
    assert main(["init", str(tmp_path / "pkg"), "--from", str(tools)]) == 1
    assert "name their struct `struct event`" in one_error(capsys)
    assert not (tmp_path / "pkg").exists()


# --- 8. contribution: dry run against a local hub, licenses, placeholders ---


def test_submit_refuses_what_a_template_or_init_from_left_for_the_author(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = make_hub(tmp_path / "hub")
    directory = imported(tmp_path, "sigsnoop", capsys)
    assert main(["submit", str(directory), "--local", "--hub-root", str(hub)]) == 1
    err = capsys.readouterr().err
    assert "summary: still the template's text" in err
    assert "description: still the template's text" in err
    assert "README.md: still describes the template's program" in err
    assert not (hub / "index" / "packages" / "sigsnoop.yaml").exists()
    assert not (hub / "sources" / "sigsnoop").exists()

    template = tmp_path / "from-template"
    assert main(["init", str(template), "--template", "tp_btf"]) == 0
    describe_package(template, "Process exits")
    (template / "README.md").write_text(
        (REPO / "templates" / "tp_btf" / "ABOUT.md").read_text().replace("{{name}}", "x")
    )
    capsys.readouterr()
    assert main(["submit", str(template), "--local", "--hub-root", str(hub)]) == 1
    err = capsys.readouterr().err
    assert "README.md: still describes the template's program" in err
    assert "summary" not in err


def test_submit_local_is_a_dry_run_the_local_hub_builds_and_publishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No commit, no remote: the sources go into the hub's sources/NAME, pinned by their tree
    hash, and the hub validates, builds and publishes them as scripts/up does."""
    hub = make_hub(tmp_path / "hub")
    directory = imported(tmp_path, "sigsnoop", capsys)
    describe_package(directory, "Signals sent with kill() and tkill()")
    assert main(["submit", str(directory), "--local", "--hub-root", str(hub)]) == 0
    assert "ebpf-hub run sigsnoop" in capsys.readouterr().err
    entry = yaml.safe_load((hub / "index" / "packages" / "sigsnoop.yaml").read_text())
    assert entry["source"] == {"path": "sources/sigsnoop"}
    assert entry["versions"][-1]["tree"].startswith("sha256:")
    assert sorted(p.name for p in (hub / "sources" / "sigsnoop").iterdir()) == [
        "LICENSE", "README.md", "sigsnoop.bpf.c", "sigsnoop.h", "trigger"
    ]  # fmt: skip
    # again, after an edit: the dry run's version is replaced, not refused
    (directory / "README.md").write_text("# sigsnoop\n\nSignals, as sent.\n")
    assert main(["submit", str(directory), "--local", "--hub-root", str(hub)]) == 0
    again = yaml.safe_load((hub / "index" / "packages" / "sigsnoop.yaml").read_text())
    assert len(again["versions"]) == 1
    assert again["versions"][0]["tree"] != entry["versions"][-1]["tree"]

    assert main(["validate", "--root", str(hub)]) == 0
    key = tmp_path / "hub-key"
    assert main(["keygen", str(key)]) == 0
    publish = [
        "publish", "--all", "--root", str(hub), "--registry", f"oci:{tmp_path / 'oci'}",
        "--sign-key", f"{key}.key", "--ledger", str(tmp_path / "digests.json"),
    ]  # fmt: skip
    assert main(publish) == 0, capsys.readouterr().err
    assert "sigsnoop" in json.loads((tmp_path / "digests.json").read_text())


@pytest.mark.parametrize(
    ("license_section", "license_text", "expected"),
    [
        ("MIT", None, "its license section says 'MIT', which the package's license"),
        ("GPL", "Permission is hereby granted, free of charge, to any person", "MIT license"),
    ],
)
def test_the_license_must_be_the_same_in_the_metadata_the_object_and_license_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    license_section: str,
    license_text: str | None,
    expected: str,
) -> None:
    directory = package_dir(tmp_path, "licensed", program(license=license_section))
    if license_text is not None:
        (directory / "LICENSE").write_text(license_text)
    assert main(["build", str(directory)]) == 1
    error = one_error(capsys)
    assert "licensed@0.1.0: the license is not the same everywhere" in error
    assert expected in error and "ebpf-hub.yaml" in error


def test_libbpf_tools_license_pairs_are_consistent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GPL-2.0 source with a "Dual BSD/GPL" object and the GPL text is libbpf-tools' norm."""
    directory = package_dir(tmp_path, "dual", program(license="Dual BSD/GPL"))
    shutil.copy(REPO / "templates" / "common" / "LICENSE", directory / "LICENSE")
    assert main(["build", str(directory)]) == 0, capsys.readouterr().err


def test_build_settings_read_back_and_reach_the_json_index_valid(tmp_path: Path) -> None:
    """`compile` is package metadata: the model gives it back as written, and the JSON
    index, which copies the package, still fits its schema."""
    from ebpf_hub.index.jsonindex import package_entry
    from ebpf_hub.model.package import Package
    from ebpf_hub.schemas import first_error

    document = yaml.safe_load(
        (package_dir(tmp_path, "indexed", program(), _SETTINGS) / "ebpf-hub.yaml").read_text()
    )
    document["versions"][0]["commit"] = "0" * 40
    package = Package.from_json(document)
    assert package.to_json() == document
    assert package.compile.defines == (("A", "1"), ("B", ""))
    assert package.compile.include == ("include",) and package.compile.werror is False
    entry = package_entry(package, "127.0.0.1:5000/hub", {})
    assert entry["compile"] == document["compile"]
    assert first_error("package-index.schema.json", entry) is None


_SETTINGS = "compile: {defines: {A: '1', B: ''}, include: [include], werror: false}\n"


@pytest.mark.parametrize(
    ("spdx", "section", "text", "agrees"),
    [
        ("GPL-2.0-only", "GPL", "GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991", True),
        ("LGPL-2.1 OR BSD-2-Clause", "Dual BSD/GPL", None, True),
        ("GPL-2.0-only WITH Linux-syscall-note", "GPL v2", None, True),
        ("MIT OR GPL-2.0-only", "Dual MIT/GPL", "Permission is hereby granted, free of", True),
        ("MIT", "GPL", None, False),
        ("GPL-2.0-only", "Proprietary", None, True),  # no family to compare with
        ("GPL-2.0-only", "GPL", "Apache License\nVersion 2.0, January 2004", False),
        ("Apache-2.0", "Dual BSD/GPL", None, False),
    ],
)
def test_license_families_agree_as_the_kernel_and_spdx_spell_them(
    spdx: str, section: str, text: str | None, agrees: bool
) -> None:
    from ebpf_hub.build.licensing import license_mismatches

    assert (not list(license_mismatches(spdx, {"x.bpf.o": section}, text))) is agrees


def test_every_templates_text_is_recognised_until_the_author_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author git knows nobody as (outside a repository, no user configuration) gets
    the placeholder maintainer too."""
    from ebpf_hub.develop.project import load_project
    from ebpf_hub.develop.scaffold import kinds
    from ebpf_hub.develop.submit import placeholder_problems

    (tmp_path / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    for kind in kinds():
        directory = tmp_path / kind.name.replace("_", "-")
        assert main(["init", str(directory), "--template", kind.name]) == 0
        found = [p.field for p in placeholder_problems(load_project(directory))]
        assert found == ["summary", "description", "maintainers[0].name", "README.md"], kind.name
        describe_package(directory, f"What {kind.name} shows here")
        assert placeholder_problems(load_project(directory)) == [], kind.name
    capsys.readouterr()
