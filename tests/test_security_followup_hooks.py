"""A program that changes the system with no call at all: its kind of hook is the danger.

An ``fmod_ret`` program replaces the return value of kernel functions, an XDP program decides
the fate of every packet, through nothing but the value it returns. Each test compiles real
C with the hub's own build (this kernel refuses to load fmod_ret programs; compiling them
works) and checks that the metadata cannot pass such a kind off as one that only observes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.schemas import load_schema
from hubrepo import make_hub
from test_security_kfuncs import add_package, build, source

RETURN = "changes the return value of kernel functions, skipping their code"
FMOD_RET = ("deny_open", "fmod_ret/security_file_open")
# what the program does: every open() fails with EACCES
DENY_OPEN = f'SEC("{FMOD_RET[1]}")\nint {FMOD_RET[0]}(void *ctx)\n{{\n\treturn -13;\n}}\n'
XDP = ("drop_all", "xdp")
DROP_ALL = f'SEC("xdp")\nint {XDP[0]}(struct xdp_md *ctx)\n{{\n\treturn XDP_DROP;\n}}\n'


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    return make_hub(tmp_path / "hub")


def declare(hub: Path, name: str, permissions: str) -> None:
    """Make the package's permissions say `PERMISSIONS` instead of `attach: [tracepoint]`."""
    path = hub / "index" / "packages" / f"{name}.yaml"
    text = path.read_text()
    path.write_text(text.replace("  attach: [tracepoint]\n", f"{permissions}\n"))


def test_an_fmod_ret_program_declared_as_fexit_is_refused(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_package(hub, "quietfs", source(DENY_OPEN, extern=""), programs=(FMOD_RET,))
    declare(hub, "quietfs", "  attach: [fexit]")
    status, errors = build(hub, "quietfs", capsys)
    assert status == 1
    assert len(errors) == 1
    assert (
        "program 'deny_open' attaches to fmod_ret, which permissions.attach does not list"
    ) in errors[0]


def test_a_declared_fmod_ret_program_builds_and_the_prompt_says_what_it_does(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_package(hub, "quietfs", source(DENY_OPEN, extern=""), programs=(FMOD_RET,))
    declare(hub, "quietfs", "  attach: [fmod_ret]")
    assert build(hub, "quietfs", capsys) == (0, [])
    # this kernel refuses fmod_ret before the prompt: ask the prompt's own lines
    from ebpf_hub.bpfobj.inspect import inspect_object
    from ebpf_hub.run.attach import AttachTargets
    from ebpf_hub.run.permissions import describe

    [obj] = (hub / "build" / "objects" / "quietfs@1.0.0").glob("*.bpf.o")
    lines = describe(None, [inspect_object(obj)], AttachTargets())
    assert f"attach to fmod_ret, which {RETURN}" in lines


def test_an_xdp_program_must_declare_that_it_may_drop_packets(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_package(hub, "dropper", source(DROP_ALL, extern=""), programs=(XDP,))
    declare(hub, "dropper", "  attach: [xdp]")
    capsys.readouterr()
    assert main(["validate", "--root", str(hub)]) == 1
    assert "permissions.drops_packets: a program attached to xdp passes" in capsys.readouterr().out
    status, errors = build(hub, "dropper", capsys)
    assert status == 1
    assert "which drops_packets does not declare" in errors[0]

    shutil.rmtree(hub / "sources" / "dropper")
    add_package(hub, "dropper", source(DROP_ALL, extern=""), programs=(XDP,))
    declare(hub, "dropper", "  attach: [xdp]\n  drops_packets: true")
    assert build(hub, "dropper", capsys) == (0, [])


def test_the_table_covers_the_schemas_and_only_libbpf_kinds() -> None:
    from ebpf_hub.bpfobj.kinds import HOOK_KINDS, UNPUBLISHABLE, section_effect
    from ebpf_hub.bpfobj.sections import SECTION_DEFS

    for name in ("package.schema.json", "package-index.schema.json"):
        schema = load_schema(name)
        permissions = (
            schema.get("$defs", {}).get("permissions") or (schema["properties"]["permissions"])
        )
        assert permissions["properties"]["attach"]["items"]["enum"] == list(HOOK_KINDS), name
    libbpf = {row.kind for row in SECTION_DEFS}
    for kind in HOOK_KINDS.values():
        assert set(kind.sections) <= libbpf, kind.name
        assert kind.effect is not None or not kind.drops_packets, kind.name
    # what no package may ship is shown as able to change the system
    assert section_effect("struct_ops") == ("struct_ops", UNPUBLISHABLE)
    assert section_effect("fmod_ret.s") == ("fmod_ret", RETURN)


def test_no_prefix_pattern_holds_a_slash() -> None:
    """classify_section looks a `+` pattern up by the part of a section before its first `/`:
    a pattern with a `/` of its own would never be found."""
    from ebpf_hub.bpfobj.sections import SECTION_DEFS

    assert not [
        row.pattern for row in SECTION_DEFS if row.pattern.endswith("+") and "/" in row.pattern
    ]
