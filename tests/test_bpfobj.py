"""ebpf_hub.bpfobj on real objects: C from tests/data/bpfobj compiled by clang, never loaded."""

from __future__ import annotations

import json
import random
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import ebpf_hub
from ebpf_hub.bpfobj.btf import (
    VMLINUX_BTF,
    Btf,
    BtfArray,
    BtfComposite,
    BtfDatasec,
    BtfDeclTag,
    BtfEnum,
    BtfEnum64,
    BtfFloat,
    BtfFunc,
    BtfFuncProto,
    BtfFwd,
    BtfInt,
    BtfRef,
    BtfStruct,
    BtfType,
    BtfVar,
)
from ebpf_hub.bpfobj.capabilities import DANGEROUS_HELPERS
from ebpf_hub.bpfobj.decode import compile_decoder, decode
from ebpf_hub.bpfobj.errors import ObjectError
from ebpf_hub.bpfobj.helpers import HELPER_NAMES
from ebpf_hub.bpfobj.inspect import ObjectInfo, inspect_object
from ebpf_hub.bpfobj.layout import describe_type
from ebpf_hub.bpfobj.maps import MAP_TYPES, MapInfo
from ebpf_hub.bpfobj.programs import ProgramInfo

DATA = Path(__file__).parent / "data" / "bpfobj"
INCLUDE = Path(ebpf_hub.__file__).parent / "build" / "include"
CFLAGS = ["-target", "bpf", "-O2", "-D__TARGET_ARCH_x86"]


def _compile(source: Path, output: Path, include: Path, debug: bool = True) -> Path:
    flags = [*CFLAGS, "-g"] if debug else CFLAGS
    command = [
        "clang",
        *flags,
        f"-I{include}",
        f"-I{INCLUDE}",
        "-c",
        str(source),
        "-o",
        str(output),
    ]
    subprocess.run(command, check=True, capture_output=True)
    subprocess.run(["llvm-strip", "-g", str(output)], check=True, capture_output=True)
    return output


@pytest.fixture(scope="session")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every tests/data/bpfobj/*.bpf.c compiled with the hub's flags, plus one without BTF."""
    out = tmp_path_factory.mktemp("bpfobj")
    with (out / "vmlinux.h").open("wb") as header:
        subprocess.run(
            ["bpftool", "btf", "dump", "file", str(VMLINUX_BTF), "format", "c"],
            stdout=header,
            check=True,
        )
    jobs = {src.name.removesuffix(".bpf.c"): src for src in DATA.glob("*.bpf.c")}
    with ThreadPoolExecutor() as pool:
        built = {
            name: pool.submit(_compile, src, out / f"{name}.bpf.o", out)
            for name, src in jobs.items()
        }
        no_btf = pool.submit(_compile, jobs["kinds"], out / "no_btf.bpf.o", out, debug=False)
        result = {name: future.result() for name, future in built.items()}
        result["no_btf"] = no_btf.result()
    return result


@pytest.fixture(scope="session")
def events(objects: dict[str, Path]) -> ObjectInfo:
    return inspect_object(objects["events"])


@pytest.fixture(scope="session")
def calls(objects: dict[str, Path]) -> ObjectInfo:
    return inspect_object(objects["calls"])


def _program(info: ObjectInfo, name: str) -> ProgramInfo:
    return next(p for p in info.programs if p.name == name)


def _map(info: ObjectInfo, name: str) -> MapInfo:
    return next(m for m in info.maps if m.name == name)


# --- programs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "section", "kind", "target", "prog_type", "attach_type"),
    [
        ("handle_exec", "tp/syscalls/sys_enter_execve", "tracepoint", "syscalls/sys_enter_execve",
         "tracepoint", None),
        ("handle_exit", "tracepoint/sched/sched_process_exit", "tracepoint",
         "sched/sched_process_exit", "tracepoint", None),
        ("raw_enter", "raw_tp/sys_enter", "raw_tracepoint", "sys_enter", "raw_tracepoint", None),
        ("btf_switch", "tp_btf/sched_switch", "tp_btf", "sched_switch", "tracing", "trace_raw_tp"),
        ("bash_readline", "uprobe//bin/bash:readline", "uprobe", "/bin/bash:readline", "kprobe",
         None),
        ("any_uretprobe", "uretprobe", "uretprobe", None, "kprobe", None),
        ("unlink_entry", "fentry/do_unlinkat", "fentry", "do_unlinkat", "tracing", "trace_fentry"),
        ("open_kprobe", "kprobe/do_sys_openat2", "kprobe", "do_sys_openat2", "kprobe", None),
        ("xdp_pass", "xdp", "xdp", None, "xdp", "xdp"),
        ("xdp_drop", "xdp", "xdp", None, "xdp", "xdp"),
        ("tc_ok", "tc", "tc", None, "sched_cls", None),
        ("cls_ok", "classifier", "tc", None, "sched_cls", None),
        ("cg_ingress", "cgroup_skb/ingress", "cgroup_skb/ingress", None, "cgroup_skb",
         "cgroup_inet_ingress"),
        ("sock_filter", "socket", "socket", None, "socket_filter", None),
        ("on_sample", "perf_event", "perf_event", None, "perf_event", None),
        ("lsm_open", "lsm/file_open", "lsm", "file_open", "lsm", "lsm_mac"),
        ("dump_task", "iter/task", "iter", "task", "tracing", "trace_iter"),
        ("mystery", "not_a_known/section", None, None, None, None),
    ],
)  # fmt: skip
def test_programs_are_classified_like_libbpf(
    events: ObjectInfo,
    name: str,
    section: str,
    kind: str | None,
    target: str | None,
    prog_type: str | None,
    attach_type: str | None,
) -> None:
    program = _program(events, name)
    assert (program.section, program.kind, program.target) == (section, kind, target)
    assert (program.prog_type, program.attach_type) == (prog_type, attach_type)
    assert program.insn_count >= 2


def test_every_program_is_found_once_and_sorted(events: ObjectInfo) -> None:
    names = [p.name for p in events.programs]
    assert names == sorted(names)
    assert len(names) == 18
    assert "count_call" not in names  # a .text function is a subprogram, not a program


def test_helpers_of_subprograms_count_for_their_callers(
    events: ObjectInfo, calls: ObjectInfo
) -> None:
    exec_ = _program(events, "handle_exec")
    assert exec_.subprograms == ("count_call",)
    assert exec_.helpers == (
        "bpf_get_current_comm", "bpf_get_current_pid_tgid", "bpf_ktime_get_ns",
        "bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_ringbuf_reserve",
        "bpf_ringbuf_submit",
    )  # fmt: skip
    # kill_caller -> punish (relocated call into .text) -> pick (pc-relative call in .text)
    killer = _program(calls, "kill_caller")
    assert killer.subprograms == ("pick", "punish")
    assert killer.helpers == ("bpf_get_prandom_u32", "bpf_send_signal")
    assert killer.insn_count == 3  # its own instructions only
    # a bpf_loop callback is reached through an ld_imm64 of its address
    scribble = _program(calls, "scribble")
    assert scribble.subprograms == ("loop_body",)
    assert scribble.helpers == (
        "bpf_get_current_task", "bpf_loop", "bpf_probe_write_user", "bpf_trace_printk",
    )  # fmt: skip
    taker = _program(calls, "take_task")
    assert taker.kfuncs == ("bpf_task_acquire", "bpf_task_release")
    assert taker.helpers == ()


def test_dangerous_helpers_are_caught(calls: ObjectInfo, events: ObjectInfo) -> None:
    found = {p.name: sorted(DANGEROUS_HELPERS.keys() & set(p.helpers)) for p in calls.programs}
    assert found == {
        "kill_caller": ["bpf_send_signal"],
        "scribble": ["bpf_probe_write_user"],
        "take_task": [],
    }
    assert not any(DANGEROUS_HELPERS.keys() & set(p.helpers) for p in events.programs)


def test_helper_ids_past_the_table(objects: dict[str, Path]) -> None:
    (program,) = inspect_object(objects["kinds"]).programs
    # the object's own enum bpf_func_id names 300, but that name is only its author's claim
    assert program.helpers == ("unknown_helper_300", "unknown_helper_301")


def test_helper_table_is_the_kernels(vmlinux: Btf) -> None:
    enum = vmlinux.find("bpf_func_id", BtfEnum)
    assert enum is not None
    kernel = {
        v.value: "bpf_" + v.name.removeprefix("BPF_FUNC_")
        for v in enum.values
        if v.name.startswith("BPF_FUNC_")
    }
    assert kernel == dict(enumerate(HELPER_NAMES))
    assert HELPER_NAMES[109] == "bpf_send_signal"


def test_map_type_table_is_the_kernels(vmlinux: Btf) -> None:
    enum = vmlinux.find("bpf_map_type", BtfEnum)
    assert enum is not None
    kernel: dict[int, set[str]] = {}
    for value in enum.values:
        if value.name.startswith("BPF_MAP_TYPE_"):
            kernel.setdefault(value.value, set()).add(value.name[13:].lower())
    assert set(kernel) == set(range(len(MAP_TYPES)))
    for number, name in enumerate(MAP_TYPES):
        assert name in kernel[number]


# --- maps, parameters, event -------------------------------------------------------------


def test_maps(events: ObjectInfo) -> None:
    rows = {
        m.name: (m.type, m.section, m.key_size, m.value_size, m.max_entries, m.key_type,
                 m.value_type)
        for m in events.maps
    }  # fmt: skip
    assert rows == {
        "events": ("ringbuf", ".maps", 0, 0, 256 * 1024, None, None),
        "counts": ("hash", ".maps", 4, 8, 1024, "__u32", "__u64"),
        "stats": ("percpu_array", ".maps", 4, 224, 4, "__u32", "struct op_stat"),
        "perf_out": ("perf_event_array", ".maps", 4, 4, 0, None, None),
        ".rodata": ("array", ".rodata", 4, 32, 1, None, ".rodata"),
        ".data": ("array", ".data", 4, 4, 1, None, ".data"),
        ".bss": ("array", ".bss", 4, 8, 1, None, ".bss"),
    }
    stats = _map(events, "stats")
    assert stats.value_type_id is not None
    histogram = describe_type(events.btf, stats.value_type_id)
    assert histogram["fields"][1]["length"] == 27


def test_parameters_are_the_const_volatile_globals(events: ObjectInfo) -> None:
    found = {p.name: (p.default, p.type.kind, p.size, p.offset) for p in events.parameters}
    assert found == {
        "target_pid": (0, "uint", 4, 0),
        "min_delta": (-5, "int", 8, 8),
        "verbose": (True, "bool", 1, 16),
        "prefix": ("abc", "string", 8, 17),
        "default_kind": ("KIND_EXEC", "enum", 4, 28),
    }
    assert {p.section for p in events.parameters} == {".rodata"}
    assert _param_json(events, "prefix") == {
        "default": "abc", "name": "prefix", "offset": 17, "section": ".rodata", "size": 8,
        "type": {"kind": "string", "length": 8, "size": 8, "type": "const volatile char[8]"},
    }  # fmt: skip


def _param_json(info: ObjectInfo, name: str) -> dict[str, Any]:
    return next(p.to_json() for p in info.parameters if p.name == name)


def test_license(events: ObjectInfo, calls: ObjectInfo) -> None:
    assert (events.license, calls.license) == ("Dual BSD/GPL", "GPL")


EVENT_FIELDS = [
    ("pid", "uint", 0, 4),
    ("ret", "int", 4, 4),
    ("ts", "uint", 8, 8),
    ("comm", "string", 16, 16),
    ("saddr", "ipv4", 32, 4),
    ("daddr", "ipv6", 36, 16),
    ("kind", "enum", 52, 4),
    ("inner", "struct", 56, 4),
    ("counts", "array", 60, 12),
    ("raw", "array", 72, 4),
    ("flag_a", "uint", 76, 4),
    ("flag_b", "int", 76, 4),
    ("ok", "bool", 77, 1),
    ("", "union", 80, 4),
]


def test_event_layout(events: ObjectInfo) -> None:
    layout = events.to_json()["event"]
    assert (layout["type"], layout["kind"], layout["size"]) == ("struct event", "struct", 88)
    fields = {f["name"]: f for f in layout["fields"]}
    assert [
        (f["name"], f["kind"], f["offset"], f["size"]) for f in layout["fields"]
    ] == EVENT_FIELDS
    assert (fields["flag_a"]["bit_offset"], fields["flag_a"]["bits"]) == (0, 3)
    assert (fields["flag_b"]["bit_offset"], fields["flag_b"]["bits"]) == (3, 5)
    assert "bits" not in fields["pid"]
    assert fields["comm"]["length"] == 16
    assert fields["kind"]["values"] == [
        {"name": "KIND_OPEN", "value": 1},
        {"name": "KIND_EXEC", "value": 2},
        {"name": "KIND_NEGATIVE", "value": 0xFFFFFFFD},  # clang 14 stores enums unsigned
    ]
    assert fields["counts"]["element"] == {"kind": "uint", "size": 4, "type": "__u32"}
    assert fields["raw"]["element"]["type"] == "__u8"
    assert [(f["name"], f["offset"]) for f in fields["inner"]["fields"]] == [
        ("port", 0),
        ("delta", 2),
    ]
    assert [f["name"] for f in fields[""]["fields"]] == ["as_u32", "as_bytes"]


def test_json_is_deterministic_and_serialisable(objects: dict[str, Path]) -> None:
    first = json.dumps(inspect_object(objects["events"]).to_json())
    again = json.dumps(inspect_object(objects["events"]).to_json())
    assert first == again
    assert first == json.dumps(json.loads(first), sort_keys=True)
    assert "btf" not in json.loads(first) and "event_type_id" not in json.loads(first)


# --- decoding -----------------------------------------------------------------------------


def _event_bytes(comm: bytes, kind: int, flags: int) -> bytes:
    return struct.pack(
        "<Iiq16s4s16sIHbx3I4sB?2x4s4x",
        4242, -2, 1_700_000_000_123, comm,
        socket.inet_aton("192.168.1.20"), socket.inet_pton(socket.AF_INET6, "2001:db8::7"),
        kind, 443, -7, 1, 2, 3, b"\x00\x01\xfe\xff", flags, True, b"\x78\x56\x34\x12",
    )  # fmt: skip


def test_decode_hand_packed_event(events: ObjectInfo) -> None:
    assert events.event_type_id is not None
    decoder = compile_decoder(events.btf, events.event_type_id)
    flags = 5 | (-3 & 0x1F) << 3  # flag_a = 5 (3 bits), flag_b = -3 (signed, 5 bits)
    data = _event_bytes(b"bash\0stale bytes", 2, flags)
    assert len(data) == 88
    assert decoder(data) == {
        "pid": 4242,
        "ret": -2,
        "ts": 1_700_000_000_123,
        "comm": "bash",
        "saddr": "192.168.1.20",
        "daddr": "2001:db8::7",
        "kind": "KIND_EXEC",
        "inner": {"port": 443, "delta": -7},
        "counts": [1, 2, 3],
        "raw": [0, 1, 254, 255],
        "flag_a": 5,
        "flag_b": -3,
        "ok": True,
        "as_u32": 0x12345678,
        "as_bytes": [0x78, 0x56, 0x34, 0x12],
    }
    # a negative enumerator, an unknown enum value, invalid UTF-8 and a full-length string
    odd = decoder(_event_bytes(b"\xffab" + b"x" * 13, 0xFFFFFFFD, 0) + b"ring-buffer padding")
    assert (odd["kind"], odd["comm"]) == ("KIND_NEGATIVE", "\ufffdab" + "x" * 13)
    assert decoder(_event_bytes(b"", 7, 0))["kind"] == 7


def test_decode_map_value_and_short_input(events: ObjectInfo) -> None:
    stats = _map(events, "stats")
    assert stats.value_type_id is not None
    value = struct.pack("<28Q", 99, *range(27))
    assert decode(events.btf, stats.value_type_id, value) == {"calls": 99, "slots": list(range(27))}
    with pytest.raises(ObjectError, match=r"'struct op_stat' needs 224 bytes, got 10"):
        decode(events.btf, stats.value_type_id, value[:10])


def test_decode_floats_and_pointers(objects: dict[str, Path]) -> None:
    info = inspect_object(objects["kinds"])
    assert info.event_type_id is not None
    data = struct.pack("<f4xdQ", 0.5, -2.25, 0xFFFF888812345678)
    assert decode(info.btf, info.event_type_id, data) == {
        "ratio": 0.5,
        "mean": -2.25,
        "where": 0xFFFF888812345678,
    }


# --- BTF ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vmlinux() -> Btf:
    return Btf.from_file(VMLINUX_BTF)


def test_vmlinux_btf_parses_quickly() -> None:
    start = time.perf_counter()
    btf = Btf.from_file(VMLINUX_BTF)
    enum = btf.find("bpf_func_id", BtfEnum)
    elapsed = time.perf_counter() - start
    assert enum is not None and len(btf) > 10_000
    assert elapsed < 3, f"parsing vmlinux BTF and finding an enum took {elapsed:.2f}s"


def test_btf_lookups(vmlinux: Btf) -> None:
    task = vmlinux.find("task_struct", BtfStruct)
    assert task is not None and task.size > 1000
    assert vmlinux.find("task_struct", BtfEnum) is None
    assert vmlinux.find("no such type, surely", BtfStruct) is None
    pid = next(m for m in task.members if m.name == "pid")
    assert vmlinux.type_name(pid.type) == "pid_t"
    assert vmlinux.size_of(pid.type) == 4
    assert isinstance(vmlinux[vmlinux.resolve(pid.type)], BtfInt)
    func = vmlinux.find("bpf_send_signal", BtfFunc)
    assert func is not None and isinstance(vmlinux[func.type], BtfFuncProto)
    with pytest.raises(ObjectError, match="has no size"):
        vmlinux.size_of(func.type_id)
    with pytest.raises(ObjectError, match="out of range"):
        vmlinux[len(vmlinux)]
    assert vmlinux[0].to_json() == {"kind": "void", "name": "", "type_id": 0}


def _bpftool_types(path: Path) -> list[dict[str, Any]]:
    output = subprocess.run(
        ["bpftool", "-j", "btf", "dump", "file", str(path)], check=True, capture_output=True
    ).stdout
    types: list[dict[str, Any]] = json.loads(output)["types"]
    for t in types:
        if t["kind"] == "ENUM" and t["encoding"] == "UNSIGNED":
            for value in t["values"]:  # bpftool 7.1 sign-extends these in JSON (not in text)
                value["val"] &= 0xFFFFFFFF
    return types


def _as_bpftool(t: BtfType) -> dict[str, Any]:
    """Our parse of one type, spelled the way ``bpftool -j btf dump`` prints it."""
    out: dict[str, Any] = {"id": t.type_id, "kind": t.kind.upper(), "name": t.name or "(anon)"}
    if isinstance(t, BtfInt):
        flags = t.signed | t.is_char << 1 | t.is_bool << 2
        encoding = {0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL"}[flags]
        out.update(size=t.size, bits_offset=t.bit_offset, nr_bits=t.bits, encoding=encoding)
    elif isinstance(t, BtfFunc | BtfVar):
        out.update(type_id=t.type, linkage=t.linkage)
    elif isinstance(t, BtfDeclTag):
        out.update(type_id=t.type, component_idx=t.component_idx)
    elif isinstance(t, BtfRef):
        out.update(type_id=t.type)
    elif isinstance(t, BtfArray):
        out.update(type_id=t.element_type, index_type_id=t.index_type, nr_elems=t.nelems)
    elif isinstance(t, BtfComposite):
        members = []
        for m in t.members:
            member = {"name": m.name or "(anon)", "type_id": m.type, "bits_offset": m.bit_offset}
            members.append(member | ({"bitfield_size": m.bitfield_size} if m.bitfield_size else {}))
        out.update(size=t.size, vlen=len(members), members=members)
    elif isinstance(t, BtfEnum):
        values = [{"name": v.name, "val": v.value} for v in t.values]
        encoding = "SIGNED" if t.signed else "UNSIGNED"
        out.update(encoding=encoding, size=t.size, vlen=len(values), values=values)
    elif isinstance(t, BtfFwd):
        out.update(fwd_kind="union" if t.is_union else "struct")
    elif isinstance(t, BtfFuncProto):
        params = [{"name": p.name or "(anon)", "type_id": p.type} for p in t.params]
        out.update(ret_type_id=t.return_type, vlen=len(params), params=params)
    elif isinstance(t, BtfDatasec):
        variables = [{"type_id": v.type, "offset": v.offset, "size": v.size} for v in t.vars]
        out.update(size=t.size, vlen=len(variables), vars=variables)
    elif isinstance(t, BtfFloat):
        out.update(size=t.size)
    return out


@pytest.mark.parametrize("name", ["events", "calls", "kinds"])
def test_btf_matches_bpftool_for_objects(objects: dict[str, Path], name: str) -> None:
    info = inspect_object(objects[name])
    expected = _bpftool_types(objects[name])
    assert len(info.btf) == len(expected) + 1
    assert [_as_bpftool(info.btf[t["id"]]) for t in expected] == expected


def test_btf_matches_bpftool_for_vmlinux(vmlinux: Btf) -> None:
    # Every type of the rare kinds, and every 10th of the rest, to stay fast.
    expected = _bpftool_types(VMLINUX_BTF)
    assert len(vmlinux) == len(expected) + 1
    common = {"FUNC", "FUNC_PROTO", "PTR", "STRUCT", "CONST", "ARRAY", "TYPEDEF", "UNION"}
    sample = [t for t in expected if t["kind"] not in common or t["id"] % 10 == 0]
    assert {t["kind"] for t in sample} >= {"ENUM64", "RESTRICT", "TYPE_TAG", "DECL_TAG", "FWD"}
    assert [_as_bpftool(vmlinux[t["id"]]) for t in sample] == sample
    assert isinstance(vmlinux.find("perf_callchain_context", BtfEnum), BtfEnum64)


def test_malformed_btf_is_an_object_error(objects: dict[str, Path], tmp_path: Path) -> None:
    raw = _btf_section(objects["calls"], tmp_path)
    assert Btf(raw).find("punish", BtfFunc) is not None
    header_len, type_len = struct.unpack_from("<I4xI", raw, 4)
    cases = {
        b"\x9f": "truncated",
        b"\xeb\x9f" + raw[2:]: "big-endian",
        b"\x00\x00" + raw[2:]: "not BTF",
        raw[:header_len + type_len - 5]: "outside the data",
        raw[:2] + b"\x02" + raw[3:]: "version 2",
    }  # fmt: skip
    for data, message in cases.items():
        with pytest.raises(ObjectError, match=message):
            Btf(data)
    # Shorten the type section by one word: the last type's trailer no longer fits.
    shorter = bytearray(raw)
    struct.pack_into("<I", shorter, 12, type_len - 4)
    with pytest.raises(ObjectError, match="type section is truncated"):
        Btf(bytes(shorter))


def _btf_section(path: Path, tmp_path: Path) -> bytes:
    dump = tmp_path / "btf.raw"
    command = ["llvm-objcopy", f"--dump-section=.BTF={dump}", str(path), str(tmp_path / "copy.o")]
    subprocess.run(command, check=True, capture_output=True)
    return dump.read_bytes()


# --- errors -------------------------------------------------------------------------------


def _object_error(path: Path) -> ObjectError:
    with pytest.raises(ObjectError) as caught:
        inspect_object(path)
    error = caught.value
    assert "\n" not in str(error) and str(error).startswith(f"{path}: ")
    assert error.__cause__ is None and error.__suppress_context__
    return error


def test_clear_errors(objects: dict[str, Path], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.o"
    garbage.write_bytes(random.Random(7).randbytes(4096))  # noqa: S311 - test data
    assert str(_object_error(garbage)).endswith("not an ELF file")
    assert "No such file" in str(_object_error(tmp_path / "missing.o"))
    host_binary = Path(shutil.which("true") or "/bin/true")
    assert "not a BPF object (ELF machine EM_X86_64)" in str(_object_error(host_binary))
    assert "no BTF (.BTF section)" in str(_object_error(objects["no_btf"]))
    data = objects["calls"].read_bytes()
    for cut in (20, 64, len(data) // 2, len(data) - 1):
        truncated = tmp_path / f"cut{cut}.o"
        truncated.write_bytes(data[:cut])
        assert "malformed ELF file" in str(_object_error(truncated))


def _mutations(data: bytes, count: int) -> Iterator[bytes]:
    rng = random.Random(1234)  # noqa: S311 - reproducible test data
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        yield bytes(mutated)


def test_corrupted_objects_fail_only_with_object_error(
    objects: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "mutant.o"
    outcomes = {"ok": 0, "error": 0}
    for mutant in _mutations(objects["calls"].read_bytes(), 200):
        target.write_bytes(mutant)
        try:
            inspect_object(target)
            outcomes["ok"] += 1
        except ObjectError as err:
            assert "\n" not in str(err)
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0
