"""Issue #11 item 1: a package may not hide a destructive call, helper or kfunc.

Each attack is performed as an attacker would: real C compiled by the hub's own build, a
package published signed to a real registry with the build's check skipped (a publisher
that lies), an install tampered with on disk. The build must refuse every undeclared
dangerous call, however the code reaches it; the client must show what the objects can do
(`install`, `info`, the `run` prompt) whatever the metadata or the artifact config claims.
The kfunc is never run: the runner is always refused consent before it loads anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.schemas import load_schema
from httpserver import StaticServer
from hubrepo import make_hub, write_package
from registry import RegistryServer

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
SIGNALS = "sends signals to processes"
KILL = "bpf_send_signal_task(bpf_get_current_task_btf(), 9, PIDTYPE_PID, 0)"
KFUNC = (
    "extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, "
    "u64 value) __ksym;\n"
)
EXEC = ("handle_exec", "tracepoint/syscalls/sys_enter_execve")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the run prompt follows a root preflight")

PACKAGE = """\
name: {name}
summary: Watches exec() calls, it says
description: |
  A package whose metadata says less than its code does.
license: GPL-2.0-only
maintainers:
  - name: Mallory
    github: mallory
categories: [observability]
source:
  path: sources/{name}
requires:
  kernel: "5.8"
  btf: true
  architectures: [x86_64]
  capabilities: [CAP_BPF, CAP_PERFMON]
programs:
{programs}
permissions:
  attach: [tracepoint]
{declared}
versions:
  - version: 1.0.0
    tree: {tree}
    created: "2026-11-28"
    changes: First release.
"""


def source(body: str, extern: str = KFUNC) -> str:
    """A complete eBPF C file: the includes, a GPL license, ``extern`` and ``body``."""
    return (
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n\n'
        f'char LICENSE[] SEC("license") = "GPL";\n\n{extern}\n{body}'
    )


def tracepoint(body: str, name: str = EXEC[0], section: str = EXEC[1], tag: str = "") -> str:
    return f'SEC("{section}"){tag}\nint {name}(void *ctx)\n{{\n{body}\n}}\n'


def add_package(
    hub: Path,
    name: str,
    code: str,
    declared: str = "",
    programs: tuple[tuple[str, str], ...] = (EXEC,),
) -> None:
    """sources/NAME (the C file, README, LICENSE) and its metadata, pinned to them."""
    directory = hub / "sources" / name
    directory.mkdir(parents=True)
    (directory / f"{name}.bpf.c").write_text(code)
    (directory / "README.md").write_text(f"# {name}\n")
    (directory / "LICENSE").write_text("GPL-2.0-only\n")
    listed = "\n".join(f"  - name: {p}\n    section: {s}" for p, s in programs)
    text = PACKAGE.format(name=name, programs=listed, declared=declared, tree=tree_hash(directory))
    write_package(hub, name, text)


def build(hub: Path, name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`ebpf-hub build NAME` in the hub: its exit status and its error lines."""
    capsys.readouterr()
    code = main(["build", name, "--root", str(hub), "--out", str(hub / "build" / "objects")])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("ebpf-hub: error: ")]


def refused_run(target: str, env: dict[str, str]) -> str:
    """`ebpf-hub run TARGET` with nobody to say yes: what it showed before refusing."""
    result = subprocess.run(
        [EBPF_HUB, "run", target],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "no terminal to confirm on" in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    return make_hub(tmp_path / "hub")


# The build: every way of reaching a dangerous call is refused unless declared.


def test_build_refuses_an_undeclared_kfunc_in_one_clear_line(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_package(hub, "killer", source(tracepoint(f"\t{KILL};\n\treturn 0;")))
    code, errors = build(hub, "killer", capsys)
    assert code == 1
    assert errors == [
        "ebpf-hub: error: killer@1.0.0: the object does not match the package metadata: "
        "killer.bpf.o: program 'handle_exec' (section tracepoint/syscalls/sys_enter_execve) "
        "calls bpf_send_signal_task, which permissions.kfuncs does not declare: it sends "
        "signals to processes (declare it in index/packages/killer.yaml, or remove it from "
        "the code)"
    ]


ATTACKS = {
    "subprogram": source(
        f"static __noinline int punish(void)\n{{\n\treturn {KILL};\n}}\n\n"
        + tracepoint("\treturn punish();")
    ),
    "bpf_loop-callback": source(
        f"static int punish(__u32 index, void *data)\n{{\n\t{KILL};\n\treturn 0;\n}}\n\n"
        + tracepoint("\tbpf_loop(1, punish, NULL, 0);\n\treturn 0;")
    ),
    "weak-ksym": source(
        tracepoint(f"\tif (bpf_send_signal_task)\n\t\t{KILL};\n\treturn 0;"),
        extern=KFUNC.replace("__ksym;", "__ksym __weak;"),
    ),
    "flavoured-name": source(
        tracepoint(f"\t{KILL.replace('task(', 'task___quiet(')};\n\treturn 0;"),
        extern=KFUNC.replace("bpf_send_signal_task(", "bpf_send_signal_task___quiet("),
    ),
    "exception-callback": source(
        f"__noinline int punish(u64 cookie)\n{{\n\treturn {KILL};\n}}\n\n"
        + tracepoint(
            "\tbpf_throw(0);\n\treturn 0;",
            tag=' __attribute__((btf_decl_tag("exception_callback:punish")))',
        ),
        extern=KFUNC + "extern void bpf_throw(u64 cookie) __ksym;\n",
    ),
}


@pytest.mark.parametrize("code", ATTACKS.values(), ids=ATTACKS.keys())
def test_build_refuses_a_kfunc_however_the_code_reaches_it(
    hub: Path, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    add_package(hub, "killer", code)
    status, errors = build(hub, "killer", capsys)
    assert status == 1
    assert len(errors) == 1
    assert "killer.bpf.o: " in errors[0]
    assert (
        "calls bpf_send_signal_task, which permissions.kfuncs does not declare: it sends "
        "signals to processes"
    ) in errors[0]


def test_build_refuses_a_kfunc_in_a_program_reached_by_tail_call(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    punisher = ("punisher", "tracepoint/syscalls/sys_enter_kill")
    code = source(
        tracepoint(f"\t{KILL};\n\treturn 0;", *punisher)
        + "\nstruct {\n\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n\t__uint(max_entries, 1);\n"
        '\t__type(key, __u32);\n\t__array(values, int (void *));\n} jump SEC(".maps") = '
        "{\n\t.values = { [0] = (void *)&punisher },\n};\n\n"
        + tracepoint("\tbpf_tail_call(ctx, &jump, 0);\n\treturn 0;")
    )
    add_package(hub, "killer", code, programs=(EXEC, punisher))
    status, errors = build(hub, "killer", capsys)
    assert status == 1
    assert (
        "program 'punisher' (section tracepoint/syscalls/sys_enter_kill) calls "
        "bpf_send_signal_task, which permissions.kfuncs does not declare"
    ) in errors[0]


def test_an_unknown_kfunc_counts_as_dangerous(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = source(
        tracepoint("\tbpf_quietly_reconfigure(1);\n\treturn 0;"),
        extern="extern int bpf_quietly_reconfigure(int how) __ksym;\n",
    )
    add_package(hub, "sneaky", code)
    status, errors = build(hub, "sneaky", capsys)
    assert status == 1
    assert (
        "calls bpf_quietly_reconfigure, which permissions.kfuncs does not declare: it may "
        "change the system (a kfunc eBPF Hub has not classified yet)"
    ) in errors[0]


def test_a_helper_id_past_the_table_counts_as_dangerous_whatever_the_object_names_it(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the object's own BTF names helper 300 after a harmless helper
    code = source(
        tracepoint("\treturn bpf_get_prandom_u32_too();"),
        extern="enum bpf_func_id___own { BPF_FUNC_get_prandom_u32_too = 300 };\n"
        "static long (*bpf_get_prandom_u32_too)(void) = (void *)BPF_FUNC_get_prandom_u32_too;\n",
    )
    add_package(hub, "sneaky", code)
    status, errors = build(hub, "sneaky", capsys)
    assert status == 1
    assert "calls unknown_helper_300, which permissions.helpers does not declare" in errors[0]


def test_a_declared_kfunc_builds_and_the_run_prompt_says_what_it_does(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_package(
        hub,
        "killer",
        source(tracepoint(f"\t{KILL};\n\treturn 0;")),
        declared="  kfuncs: [bpf_send_signal_task]",
    )
    assert build(hub, "killer", capsys) == (0, [])
    if os.geteuid() == 0:
        err = refused_run(str(hub / "build" / "objects" / "killer@1.0.0"), dict(os.environ))
        assert f"call bpf_send_signal_task, which {SIGNALS}\n" in err


@as_root
def test_the_run_prompt_shows_a_local_objects_kfuncs_and_kernel_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no metadata at all: a bare directory of sources, compiled by `run` itself
    directory = tmp_path / "loose"
    directory.mkdir()
    (directory / "loose.bpf.c").write_text(
        source(
            tracepoint(
                f"\tif (bpf_this_cpu_ptr(&runqueues))\n\t\t{KILL};\n"
                "\tbpf_quietly_reconfigure(1);\n\treturn 0;"
            ),
            extern=KFUNC
            + "extern int bpf_quietly_reconfigure(int how) __ksym;\n"
            + "extern const struct rq runqueues __ksym;\n",
        )
    )
    err = refused_run(str(directory), dict(os.environ))
    assert f"  - call bpf_send_signal_task, which {SIGNALS}\n" in err
    assert (
        "  - call bpf_quietly_reconfigure, which may change the system (a kfunc eBPF Hub has "
        "not classified yet)\n"
    ) in err
    assert "  - read kernel variables: runqueues\n" in err


# The client: the objects are the truth, whatever the artifact config or the record says.


@pytest.fixture(scope="module")
def lying_hub(
    registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """A hub whose `killer` hides bpf_send_signal_task: its publisher skipped the build's
    check, so the signed artifact's config and the index omit it. Beside it `watcher`,
    which only watches. Yields (site directory, key prefix)."""
    work = tmp_path_factory.mktemp("lying-hub")
    root = make_hub(work / "hub")
    add_package(root, "killer", source(tracepoint(f"\t{KILL};\n\treturn 0;")))
    add_package(root, "watcher", source(tracepoint("\treturn 0;"), extern=""))
    assert main(["keygen", str(work / "hub-key")]) == 0
    namespace, ledger = f"{registry.host}/lying", str(work / "digests.json")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ebpf_hub.build.package.check_declarations", lambda *args: None)
        publish = ["publish", "--root", str(root), "--registry", namespace, "--insecure"]
        assert (
            main([*publish, "--all", "--ledger", ledger, "--sign-key", f"{work}/hub-key.key"]) == 0
        )
    index = ["index", "--root", str(root), "--out", str(work / "site"), "--registry", namespace]
    assert main([*index, "--digests", ledger]) == 0
    yield work / "site", work / "hub-key"


@pytest.fixture
def user(
    lying_hub: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A user of the lying hub with an empty home; yields the environment of a subprocess."""
    site, key = lying_hub
    with StaticServer(site) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
        env.update(
            EBPF_HUB_HOME=str(tmp_path / "home"),
            EBPF_HUB_URL=server.url,
            EBPF_HUB_PUBLIC_KEY=f"{key}.pub",
            DOCKER_CONFIG=str(tmp_path / "docker"),
        )
        for variable in [v for v in os.environ if v.startswith("EBPF_HUB_")]:
            monkeypatch.delenv(variable)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        yield env


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr()


HIDDEN = f"bpf_send_signal_task, which {SIGNALS} (the package does not declare it)"


def test_an_artifact_whose_config_hides_a_kfunc_is_shown_as_it_is(
    user: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = cli(capsys, "install", "killer")
    assert f"killer 1.0.0 can call {HIDDEN}" in err
    out, _ = cli(capsys, "info", "killer")
    assert f"dangerous calls of the installed objects (1.0.0): {HIDDEN}" in out
    if os.geteuid() == 0:
        assert f"  - call {HIDDEN}\n" in refused_run("killer", user)
    # before an install, only the claim is there to show: labelled as such
    cli(capsys, "remove", "killer")
    out, _ = cli(capsys, "info", "killer")
    assert "dangerous calls the package declares (install it to read its objects): none" in out


def test_a_tampered_install_is_shown_as_it_is(
    user: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from ebpf_hub.client.installed import installed_package

    cli(capsys, "install", "killer")
    killer = installed_package("killer").objects[0].read_bytes()
    cli(capsys, "remove", "killer")
    _, err = cli(capsys, "install", "watcher")
    assert "can call" not in err
    out, _ = cli(capsys, "info", "watcher")
    assert "dangerous calls of the installed objects (1.0.0): none" in out
    # swap the object behind the record's back: the record still says it only watches
    [watcher] = installed_package("watcher").objects
    watcher.write_bytes(killer)
    out, _ = cli(capsys, "info", "watcher")
    assert f"dangerous calls of the installed objects (1.0.0): {HIDDEN}" in out
    if os.geteuid() == 0:
        assert f"  - call {HIDDEN}\n" in refused_run("watcher", user)


# The table: one list of dangerous calls, shared by the schemas.


def test_the_schemas_list_exactly_the_dangerous_calls_of_the_table() -> None:
    from ebpf_hub.bpfobj.capabilities import DANGEROUS_HELPERS, DANGEROUS_KFUNCS

    for name in ("package.schema.json", "package-index.schema.json"):
        schema = load_schema(name)
        permissions = (
            schema.get("$defs", {}).get("permissions") or (schema["properties"]["permissions"])
        )
        listed = permissions["properties"]
        assert listed["helpers"]["items"]["enum"] == list(DANGEROUS_HELPERS), name
        assert listed["kfuncs"]["items"]["examples"] == sorted(DANGEROUS_KFUNCS), name


def test_the_table_is_consistent() -> None:
    from ebpf_hub.bpfobj.capabilities import DANGEROUS_HELPERS, DANGEROUS_KFUNCS, SAFE_KFUNCS
    from ebpf_hub.bpfobj.helpers import HELPER_NAMES

    assert set(DANGEROUS_HELPERS) <= set(HELPER_NAMES)
    assert not set(DANGEROUS_KFUNCS) & set(HELPER_NAMES)
    assert not set(DANGEROUS_KFUNCS) & SAFE_KFUNCS
    assert all(effect and not effect.endswith(".") for effect in DANGEROUS_KFUNCS.values())


@pytest.mark.parametrize(
    ("extern", "kfunc"),
    [
        ("bpf_send_signal_task", "bpf_send_signal_task"),
        ("bpf_send_signal_task___quiet", "bpf_send_signal_task"),
        ("bpf_send_signal_task___a___b", "bpf_send_signal_task___a"),
        ("bpf_x____y", "bpf_x____y"),
        ("bpf_x___", "bpf_x___"),
    ],
)
def test_kfunc_flavours_resolve_as_libbpf_resolves_them(extern: str, kfunc: str) -> None:
    from ebpf_hub.bpfobj.calls import essential_name

    assert essential_name(extern) == kfunc
