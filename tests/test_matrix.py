"""The kernel matrix on real kernels: Debian's 5.10 booted in qemu with the real guest.

One boot (x86_64 5.10, shared by the module) serves the pass, verifier-failure and
missing-hook cases; the CLI boots it once more for its exit status and JSON. The corrupted
kernel cases use the real cache and a loopback mirror serving Debian's own signed lists.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ebpf_hub.build.compile import compile_objects
from ebpf_hub.build.toolchain import toolchain
from ebpf_hub.errors import HubError
from ebpf_hub.matrix import cpio
from ebpf_hub.matrix.config import KernelSpec, load_matrix, parse_matrix
from ebpf_hub.matrix.debian import open_archive
from ebpf_hub.matrix.engine import KernelRun, MatrixPackage, run_matrix
from ebpf_hub.matrix.frames import Attempt, parse_console
from ebpf_hub.matrix.guest import GuestObject, guest_tools, initramfs
from ebpf_hub.matrix.kernels import apt_root, kernel_image, kernels_root
from ebpf_hub.matrix.report import table, to_json
from ebpf_hub.matrix.results import ProgramResult, Status, judge
from routedserver import Route, RoutedServer, answer

REPO = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "data" / "matrix"
EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cases.bpf.o, compiled by the project's toolchain, alone in a directory."""
    out = tmp_path_factory.mktemp("matrix-objects")
    compile_objects(toolchain(), CASES, out, "cases")
    return out


@pytest.fixture(scope="module")
def kernel() -> KernelSpec:
    (spec,) = load_matrix(REPO).select(["5.10"], ["x86_64"])
    return spec


@pytest.fixture(scope="module")
def run(objects: Path, kernel: KernelSpec) -> KernelRun:
    progress: list[str] = []
    package = MatrixPackage("cases", tuple(objects.glob("*.bpf.o")))
    (done,) = run_matrix([package], [kernel], load_matrix(REPO).guest_suite, progress.append)
    assert progress[-1].startswith("x86_64/5.10: FAILED in"), progress
    return done


def _result(run: KernelRun, program: str) -> ProgramResult:
    (found,) = [result for result in run.results if result.program == program]
    return found


def test_a_program_loads_and_attaches_on_5_10(run: KernelRun) -> None:
    assert run.release.startswith("5.10.0-32-cloud-amd64")
    assert run.error == ""
    ((package, seconds),) = run.package_seconds
    assert package == "cases"
    assert 0 < seconds < run.seconds
    passed = _result(run, "passes")
    assert (passed.status, passed.reason) == (Status.PASS, "")
    assert passed.to_json() == {
        "kernel": "5.10",
        "arch": "x86_64",
        "package": "cases",
        "object": "cases.bpf.o",
        "program": "passes",
        "section": "tracepoint/syscalls/sys_enter_openat",
        "status": "pass",
        "reason": "",
    }


def test_a_tc_program_attaches_on_5_10_with_the_kernels_own_modules(run: KernelRun) -> None:
    classifies = _result(run, "classifies")
    assert (classifies.section, classifies.status) == ("tc", Status.PASS)


def test_bpf_loop_fails_on_5_10_with_the_verifiers_reason(run: KernelRun) -> None:
    loops = _result(run, "loops")
    assert loops.status is Status.FAIL
    # The 5.10 verifier knows no callback subprograms (bpf_loop, 5.17): its own words, and
    # nothing of libbpf's framing or the statistics lines.
    assert loops.reason == (
        "verifier: number of funcs in func_info doesn't match number of subprogs"
    )
    assert run.failed


def test_a_missing_tracepoint_is_a_skip_that_names_it(run: KernelRun) -> None:
    missing = _result(run, "missing")
    assert missing.status is Status.SKIP
    assert missing.reason.startswith("verified, not attached: hook missing in this kernel")
    assert "tracepoint 'nosuch/hook_here'" in missing.reason


def test_the_table_has_a_column_per_kernel_and_the_reasons_below(run: KernelRun) -> None:
    lines = table([run])
    assert lines[0].split() == ["program", "x86_64/5.10"]
    assert lines[1].split() == ["cases", "cases.bpf.o:passes", "pass"]
    assert lines[2].split() == ["cases", "cases.bpf.o:loops", "FAIL"]
    assert lines[3].split() == ["cases", "cases.bpf.o:missing", "skip"]
    assert lines[4].split() == ["cases", "cases.bpf.o:classifies", "pass"]
    assert "x86_64/5.10  cases  cases.bpf.o:loops  fail: verifier: number of funcs" in lines[6]
    assert to_json([run])["ok"] is False


def test_the_cli_prints_json_and_exits_1_when_a_kernel_fails(objects: Path) -> None:
    done = subprocess.run(
        [EBPF_HUB, "matrix", f"{objects}/", "--kernels", "5.10", "--arch", "x86_64", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [kernel["release"] for kernel in report["kernels"]] == ["5.10.0-32-cloud-amd64"]
    statuses = {result["program"]: result["status"] for result in report["results"]}
    assert statuses == {"passes": "pass", "loops": "fail", "missing": "skip", "classifies": "pass"}
    assert "matrix: x86_64/5.10: booting" in done.stderr.splitlines()


def test_the_initramfs_is_deterministic_and_a_real_cpio(objects: Path, tmp_path: Path) -> None:
    tools = guest_tools("x86_64", load_matrix(REPO).guest_suite)
    items = [GuestObject("0", "cases.bpf.o", (objects / "cases.bpf.o").read_bytes())]
    image = initramfs(tools, items)
    assert image == initramfs(tools, list(reversed(items)))
    listing = subprocess.run(
        ["busybox", "cpio", "-t"], input=image, capture_output=True, check=True
    ).stdout.decode()
    assert listing.split() == [
        "bin", "bin/busybox", "dev", "dev/console", "init", "loader",
        "proc", "sys", "modules", "objects", "objects/0", "objects/0/cases.bpf.o",
    ]  # fmt: skip
    archive = tmp_path / "image.cpio"
    archive.write_bytes(cpio.archive([cpio.regular("a/b", b"hello")]))
    subprocess.run(
        ["busybox", "cpio", "-id", "-F", str(archive)], cwd=tmp_path, check=True,
        capture_output=True,
    )  # fmt: skip
    assert (tmp_path / "a" / "b").read_bytes() == b"hello"


def _fetched(kernel: KernelSpec, home: Path) -> Path:
    """The real cache's kernel, copied into the cache under `home`; returns its image."""
    image = kernel_image(kernel)
    target = home / "cache" / "kernels"
    (target / "sha256").mkdir(parents=True)
    (target / kernel.debian_arch).mkdir()
    record = f"{kernel.package}_{kernel.version}.json"
    shutil.copy(kernels_root() / kernel.debian_arch / record, target / kernel.debian_arch)
    for path in (image.path, *(module for _name, module in image.modules)):
        shutil.copy(path, target / "sha256")
    return target / "sha256" / image.sha256


def test_a_corrupted_cached_kernel_is_refused(
    kernel: KernelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _fetched(kernel, tmp_path)
    monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path))
    intact = kernel_image(kernel)  # used as it is
    assert intact.path == image
    assert [name for name, _path in intact.modules] == ["cls_bpf.ko", "sch_ingress.ko"]
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))
    with pytest.raises(HubError) as refused:
        kernel_image(kernel)
    assert f"kernel x86_64/5.10 ({kernel.package} {kernel.version}): {image} has SHA256" in str(
        refused.value
    )
    assert refused.value.hint == f"delete {image} and run again to fetch it anew"


def _signed_lists(kernel: KernelSpec) -> tuple[bytes, bytes]:
    """Debian's signed InRelease and the Packages list it pins, as the real cache holds them."""
    with open_archive(apt_root(), kernel.suite, kernel.debian_arch) as archive:
        archive.index_entry(kernel.package, kernel.version)  # the lists are there
        lists = archive.state / "lists"
    (release,) = lists.glob(f"*_dists_{kernel.suite}_InRelease")
    (packages,) = lists.glob(f"*_dists_{kernel.suite}_main_binary-{kernel.debian_arch}_Packages*")
    plain = subprocess.run(
        ["/usr/lib/apt/apt-helper", "cat-file", str(packages)], capture_output=True, check=True
    ).stdout
    return release.read_bytes(), plain


def test_a_corrupted_kernel_download_is_refused(
    kernel: KernelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mirror serving Debian's genuine signed lists and a kernel with one byte changed."""
    import hashlib

    release, packages = _signed_lists(kernel)
    stanza = next(
        block
        for block in packages.decode().split("\n\n")
        if f"Package: {kernel.package}\n" in block and f"Version: {kernel.version}\n" in block
    )
    filename = next(line.split()[1] for line in stanza.splitlines() if line.startswith("Filename:"))
    with open_archive(apt_root(), kernel.suite, kernel.debian_arch) as archive:
        deb = bytearray(archive.download(kernel.package, kernel.version, tmp_path).read_bytes())
    deb[len(deb) // 2] ^= 0xFF
    lists = f"/debian/dists/{kernel.suite}/main/binary-{kernel.debian_arch}"
    routes: dict[str, Route] = {
        f"/debian/dists/{kernel.suite}/InRelease": answer(release),
        f"{lists}/Packages": answer(packages),
        f"{lists}/by-hash/SHA256/{hashlib.sha256(packages).hexdigest()}": answer(packages),
        f"/debian/{filename}": answer(bytes(deb)),
    }
    server = RoutedServer(routes)
    try:
        monkeypatch.setenv("EBPF_HUB_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("EBPF_HUB_DEBIAN_MIRROR", f"{server.url}debian")
        with pytest.raises(HubError) as refused:
            kernel_image(kernel)
    finally:
        server.stop()
    assert server.count("GET", f"/debian/{filename}") >= 1
    message = str(refused.value)
    assert message.startswith(f"apt refused {kernel.package} {kernel.version} (amd64)"), message
    assert "Hash Sum mismatch" in message or "unexpected size" in message, message
    cached = (tmp_path / "home" / "cache" / "kernels").rglob("*")
    assert not [path for path in cached if path.is_file()]  # nothing kept of it


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ({"guest_suite": "bookworm"}, "index/hub.yaml: matrix: needs guest_suite and a list"),
        (
            {"guest_suite": "bookworm", "kernels": [{"name": "5.10", "arch": "x86_64"}]},
            "index/hub.yaml: matrix.kernels[0].suite: missing or malformed (None)",
        ),
        (
            {"guest_suite": "bookworm", "kernels": [
                {"name": "5.10", "arch": "riscv64", "suite": "sid", "package": "p",
                 "version": "1"}]},
            "index/hub.yaml: matrix.kernels[0].arch: 'riscv64' is not supported",
        ),
        (
            {"guest_suite": "Bad Suite", "kernels": []},
            "index/hub.yaml: matrix.guest_suite: missing or malformed ('Bad Suite')",
        ),
    ],
)  # fmt: skip
def test_a_malformed_matrix_is_refused_naming_the_field(
    matrix: dict[str, object], message: str
) -> None:
    with pytest.raises(HubError) as refused:
        parse_matrix(matrix)
    assert refused.value.message.startswith(message)


def test_an_unknown_kernel_is_refused_with_the_known_ones() -> None:
    with pytest.raises(HubError) as refused:
        load_matrix(REPO).select(["4.19"])
    assert str(refused.value) == (
        "--kernels '4.19': no such kernel in index/hub.yaml's matrix; "
        "use some of 5.10, 6.1, 6.12, 6.19, 7.2"
    )


def test_the_hub_matrix_covers_five_kernels_on_each_architecture() -> None:
    kernels = load_matrix(REPO).kernels
    assert [k.name for k in kernels if k.arch == "x86_64"] == ["5.10", "6.1", "6.12", "6.19", "7.2"]
    assert [k.name for k in kernels if k.arch == "arm64"] == ["5.10", "6.1", "6.12", "6.19", "7.2"]


def test_a_kernel_without_btf_turns_a_load_failure_into_a_skip() -> None:
    """The verdict only: every kernel of Debian's matrix has BTF."""
    log = "libbpf: failed to find valid kernel BTF\nlibbpf: Error loading vmlinux BTF: -3\n"
    attempt = Attempt("/objects/0/x.bpf.o", "p", "tp_btf/x", "load", errno.ESRCH, log, 1)
    status, reason = judge(attempt, btf=False)
    assert status is Status.SKIP
    assert reason == (
        "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF): Error loading vmlinux BTF: -3"
    )


def test_a_kernel_whose_btf_is_hidden_skips_a_core_program_with_the_reason(
    kernel: KernelSpec, tmp_path: Path
) -> None:
    """`btf: false`: the guest hides /sys/kernel/btf, so libbpf finds no kernel BTF, as on a
    kernel built without it; a CO-RE program is then skipped, not failed, saying why."""
    compile_objects(toolchain(), CASES / "core", tmp_path, "core")
    package = MatrixPackage("core", tuple(tmp_path.glob("*.bpf.o")))
    hidden = dataclasses.replace(kernel, name="5.10-nobtf", btf=False)
    (done,) = run_matrix([package], [hidden], load_matrix(REPO).guest_suite, lambda _: None)
    (result,) = done.results
    assert result.status is Status.SKIP, result
    assert result.reason.startswith("this kernel has no BTF (CONFIG_DEBUG_INFO_BTF): "), result


def test_a_trigger_must_make_output_arrive(kernel: KernelSpec, tmp_path: Path) -> None:
    """With a trigger, the whole package is attached and the trigger run in the guest: output
    arriving passes the "(trigger)" row; a trigger that causes nothing fails it, saying so; one
    that cannot run there (exit 77: no block device, say) skips it. An optional program whose
    hook the kernel lacks is left out of the run, which names it; a required one ends it."""
    compile_objects(toolchain(), CASES / "triggered", tmp_path / "triggered", "triggered")
    compile_objects(toolchain(), CASES / "optional", tmp_path / "partial", "partial")
    objects = tuple((tmp_path / "triggered").glob("*.bpf.o"))
    partial = tuple((tmp_path / "partial").glob("*.bpf.o"))
    trigger = CASES / "triggered" / "trigger"
    packages = [
        MatrixPackage("triggered", objects, trigger),
        MatrixPackage("quiet", objects, CASES / "quiet-trigger"),
        MatrixPackage("diskless", objects, CASES / "cannot-trigger"),
        MatrixPackage("optional", partial, trigger, frozenset({"on_missing"})),
        MatrixPackage("required", partial, trigger),
    ]
    (done,) = run_matrix(packages, [kernel], load_matrix(REPO).guest_suite, lambda _: None)
    rows = {(r.package, r.program): r for r in done.results}
    left_out = rows["optional", "(trigger)"]
    assert (left_out.status, left_out.reason) == (
        Status.PASS,
        "optional on_missing left out: hook missing in this kernel",
    )
    assert rows["optional", "on_missing"].status is Status.PASS  # optional: skipped, as run does
    assert rows["required", "on_missing"].status is Status.SKIP
    assert ("required", "(trigger)") not in rows
    assert rows["triggered", "on_unlink"].status is Status.PASS
    assert rows["triggered", "(trigger)"].status is Status.PASS
    quiet = rows["quiet", "(trigger)"]
    assert (quiet.status, quiet.reason) == (
        Status.FAIL,
        "no output after its trigger: no event and no map entry",
    )
    diskless = rows["diskless", "(trigger)"]
    assert (diskless.status, diskless.reason) == (
        Status.SKIP,
        "loaded and attached; its trigger cannot run in the guest (exit 77)",
    )


def test_the_console_keeps_only_whole_frames() -> None:
    console = (
        "[    0.1] kernel noise\n"
        '@@ebpf-hub@@ {"kernel": "5.10", "machine": "x86_64", "btf": true}\n'
        '@@ebpf-hub@@ {"object": "/o", "program": "p", "phase": "do\n'
        "[    0.2] cut by a kernel message\n"
    )
    report = parse_console(console)
    assert (report.release, report.btf, report.attempts, report.finished) == (
        "5.10",
        True,
        (),
        False,
    )
    assert report.noise[-1] == "[    0.2] cut by a kernel message"
