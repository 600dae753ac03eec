"""What the seed authors found in the declared formats (issue #15): unchosen union members
that leaked `"None"`, columns too narrow for the widest values, and an `enum` format on a
C enum field that build and run judged differently.

The events are records laid out as the real mountsnoop object's BTF says (built here from
sources/mountsnoop with its index entry's formats), printed by the runner's EventFormat
with the plan `run` makes; no kernel is needed to write the bytes a program would.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from ebpf_hub.bpfobj.inspect import inspect_object
from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.build.formatcheck import format_mismatches
from ebpf_hub.build.package import BuiltVersion, build_version
from ebpf_hub.cli import main
from ebpf_hub.errors import HubError
from ebpf_hub.formats.plan import event_plan, find, locate
from ebpf_hub.formats.sets import host_arch
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.outputformat import FORMAT_OPTIONS, FieldFormat
from ebpf_hub.model.package import Output
from ebpf_hub.run.eventfmt import row_format
from ebpf_hub.run.fieldformat import formatter, width
from ebpf_hub.run.formatted import EventFormat
from hubrepo import REPO

PROBE = REPO / "tests" / "data" / "formats" / "fmtprobe"

U32_MAX, S32_MAX = 4294967295, 2147483647


@pytest.fixture(scope="module")
def mountsnoop(tmp_path_factory: pytest.TempPathFactory) -> BuiltVersion:
    config = load_config(REPO)
    [package] = validate(config, [config.packages_dir / "mountsnoop.yaml"]).packages
    return build_version(REPO, package, package.versions[-1], tmp_path_factory.mktemp("ms"))


def _event(built: BuiltVersion) -> Layout:
    info = inspect_object(next(f for f in built.files if f.name.endswith(".bpf.o")))
    assert info.event is not None
    return info.event


def _output(built: BuiltVersion, **fields: Any) -> Output:
    """The package's output declarations, with `fields` added or replaced."""
    output = built.config.output
    declared = dict(output.fields or ())
    declared.update({k: FieldFormat.from_json(v) for k, v in fields.items()})
    return replace(output, fields=tuple(declared.items()))


def _record(layout: Layout, **values: Any) -> bytes:
    """A record of `layout` with the named (dotted) fields set: integers, or bytes for a
    char array."""
    record = bytearray(layout.size)
    for name, value in values.items():
        found = find(layout, name)
        assert found is not None, name
        offset = _offset(layout, found[1])
        field = found[0]
        if isinstance(value, bytes):
            record[offset : offset + len(value)] = value
            continue
        signed = field.kind == "int" or (field.kind == "enum" and field.signed)
        record[offset : offset + field.size] = value.to_bytes(field.size, "little", signed=signed)
    return bytes(record)


def _offset(layout: Layout, path: tuple[str, ...]) -> int:
    found = locate(layout, ".".join(path))
    assert found is not None and found[2] >= 0
    return found[2]


def _op(layout: Layout, name: str) -> int:
    op = find(layout, "op")
    assert op is not None
    return next(v.value for v in op[0].values if v.name == name)


def test_json_and_columns_leave_out_unchosen_members_for_every_format(
    mountsnoop: BuiltVersion,
) -> None:
    """Each member chosen in turn, then a tag value no member has: no `None` anywhere,
    `formatted` has the chosen member's fields only."""
    layout = _event(mountsnoop)
    shown = EventFormat(layout, event_plan(_output(mountsnoop), layout, "mountsnoop"))
    members = ["mount", "umount", "fsopen", "fsconfig", "fsmount", "move_mount"]
    for member in members:
        record = _record(layout, op=_op(layout, member.upper()), ret=-98, **{"comm": b"mount"})
        line = shown.json(record)
        data = json.loads(line)
        assert "None" not in line and "null" not in line, line
        others = [m for m in members if m != member]
        assert not any(key.startswith(tuple(f"{m}." for m in others)) for key in data["formatted"])
        assert not any(m in data["event"] for m in others) and member in data["event"]
        row = shown.row(record)
        assert "None" not in row and f"{member}." in row, row
    unknown = _record(layout, op=99, ret=0)
    data = json.loads(shown.json(unknown))
    assert sorted(data["formatted"]) == ["delta", "ret"], data
    assert not any(m in data["event"] for m in members)
    assert shown.row(unknown).rstrip().endswith(" -")


def _starts(line: str, titles: list[str]) -> list[int]:
    """Where each header title starts in the header line."""
    found, at = [], 0
    for title in titles:
        at = line.index(title, at)
        found.append(at)
        at += len(title)
    return found


def test_columns_hold_the_widest_values_of_each_type_and_format(
    mountsnoop: BuiltVersion,
) -> None:
    """MNT_NS 4026531832 (a __u32), a TID of 2147483647, the longest errno name in RET, the
    longest duration: every cell starts under its title, in a row of those widest values
    and in a row of small ones."""
    layout = _event(mountsnoop)
    shown = EventFormat(layout, event_plan(_output(mountsnoop), layout, "mountsnoop"), True)
    titles = shown.header.split()
    assert titles[:8] == ["TIME", "PID", "TID", "COMM", "MNT_NS", "LAT", "RET", "OP"]
    starts = _starts(shown.header, titles)
    widest = _record(
        layout,
        delta=(1 << 64) - 1,
        pid=U32_MAX,
        tid=S32_MAX,
        mnt_ns=4026531832,
        ret=-131,  # ENOTRECOVERABLE: the longest errno name
        op=_op(layout, "MOVE_MOUNT"),
        comm=b"x" * 15,
    )
    small = _record(layout, delta=5, pid=1, tid=1, mnt_ns=1, ret=-98, op=_op(layout, "MOUNT"))
    for record, texts in (
        (widest, [str(U32_MAX), str(S32_MAX), "x" * 15, "4026531832", None, "ENOTRECOVERABLE"]),
        (small, ["1", "1", "", "1", "5ns", "EADDRINUSE"]),
    ):
        row = shown.row(record)
        cells = _cells(row, starts)
        assert re.fullmatch(r"\d\d:\d\d:\d\d", cells[0])
        for expected, cell in zip(texts, cells[1:7], strict=True):
            if expected is not None:
                assert cell == expected, (row, cells)
        assert cells[7] in ("MOVE_MOUNT", "MOUNT")
    assert _cells(shown.row(widest), starts)[5] == "18446744073.71s"


def _cells(row: str, starts: list[int]) -> list[str]:
    """The text between one column's start and the next's; each column must begin with its
    cell (not in the middle of the one before) and be followed by a space."""
    cells = []
    for index, start in enumerate(starts):
        assert start == 0 or row[start - 1] == " ", (row, start)
        end = starts[index + 1] if index + 1 < len(starts) else len(row)
        cells.append(row[start:end].strip())
    return cells


@pytest.fixture(scope="module")
def fmtprobe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, Output]:
    """tests/data/formats/fmtprobe built: a field of every format, and its declarations."""
    out = tmp_path_factory.mktemp("fmtprobe")
    assert main(["build", str(PROBE), "--out", str(out)]) == 0
    config = ArtifactConfig.read(json.loads((out / "config.json").read_text()), "config")
    info = inspect_object(out / "fmtprobe.bpf.o")
    assert info.event is not None
    return info.event, config.output


def _samples(layout: Layout) -> list[Any]:
    """Values of every magnitude a field of `layout` holds: its bounds, each power of two
    and its neighbours, either sign."""
    if layout.kind == "array":
        return [[255] * layout.length, [0] * layout.length]
    bits = 8 * layout.size
    signed = layout.kind == "int"
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    powers = [(1 << n) + d for n in range(bits) for d in (-1, 0, 1)]
    found = {low, high, *powers, *(-v for v in powers), *(10**n - 1 for n in range(1, 20))}
    return sorted(v for v in found if low <= v <= high)


def test_every_formats_column_holds_all_its_texts(fmtprobe: tuple[Layout, Output]) -> None:
    """The width a column gets before the first row holds the text of any value of the
    field, for every format (flags: any one of its names; a combination may be wider)."""
    layout, output = fmtprobe
    plan = event_plan(output, layout, "fmtprobe")
    arch = host_arch()
    assert {p.spec.format for p in plan.fields} >= set(FORMAT_OPTIONS) - {"hidden"}
    for field in plan.fields:
        if field.spec.format == "hidden":  # no column
            continue
        family = None if field.family is None else (lambda _event: 2)
        text = formatter(field.spec, field.layout, arch, family)
        size = width(field.spec, field.layout, arch)
        values = _samples(field.layout)
        if field.spec.format == "flags":
            values = [v for v in values if v == 0 or v & (v - 1) == 0]  # one bit at a time
        widest = max(values, key=lambda v: len(text(v, None)))
        assert len(text(widest, None)) <= size, (field.name, text(widest, None), size)


def test_a_long_cell_pushes_the_next_ones_and_they_realign() -> None:
    widths = [3, 6, 6, 1]
    aligned = row_format(widths)(["a", "b", "c", "d"])
    assert aligned == "a    b       c       d\n"
    # `long-one` takes 8 of 3: `b` is pushed right, `c` and `d` are back at their columns.
    pushed = row_format(widths)(["long-one", "b", "c", "d"])
    assert pushed == "long-one  b  c       d\n"
    assert pushed.index("c") == aligned.index("c") and pushed.index("d") == aligned.index("d")


def test_enum_on_a_c_enum_field_needs_no_set_and_values_rename_it(
    mountsnoop: BuiltVersion,
) -> None:
    """build and run resolve the same plan: `{format: enum}` on the C enum `op` is accepted
    by both and prints its enumerators; `values:` is applied, not ignored; on an integer
    field it is refused at build, one line naming the field and the fix."""
    layout = _event(mountsnoop)
    objects = [("mountsnoop.bpf.o", inspect_object(mountsnoop.files[0]))]
    bare = _output(mountsnoop, op="enum")
    assert list(format_mismatches(bare, objects)) == []
    shown = EventFormat(layout, event_plan(bare, layout, "mountsnoop"))
    record = _record(layout, op=_op(layout, "UMOUNT"))
    data = json.loads(shown.json(record))
    assert data["event"]["op"] == "UMOUNT" and data["formatted"]["op"] == "UMOUNT"
    assert "umount." in shown.row(record)  # the union still chooses by the tag

    renamed = _output(mountsnoop, op={"format": "enum", "values": {"mnt": 1, "umnt": 2}})
    assert list(format_mismatches(renamed, objects)) == []
    shown = EventFormat(layout, event_plan(renamed, layout, "mountsnoop"))
    data = json.loads(shown.json(record))
    assert data["event"]["op"] == "UMOUNT" and data["formatted"]["op"] == "umnt"
    assert " umnt " in shown.row(record) and "umount.dest=" in shown.row(record)
    fsopen = _record(layout, op=_op(layout, "FSOPEN"))  # not renamed: its enumerator
    assert json.loads(shown.json(fsopen))["formatted"]["op"] == "FSOPEN"

    on_integer = _output(mountsnoop, ret="enum")
    [problem] = format_mismatches(on_integer, objects)
    assert problem == (
        "mountsnoop.bpf.o: output.fields.ret: enum needs a C enum field (its enumerators "
        "name the values), or `set:`/`values:`, but 'ret' is int (choose another format, "
        "or remove it)"
    )
    with pytest.raises(HubError, match=r"output\.fields\.ret: enum needs a C enum field"):
        event_plan(on_integer, layout, "mountsnoop")
