"""The kernel matrix recorded and used: `publish --matrix` on a real 5.10 boot, the results
file and the JSON index, and the client (`info`, `install`, `run`, `doctor`) refusing this
host's kernel when the record says the version fails on it, unless `--ignore-matrix`.

One boot (x86_64 5.10) tests three versions at once: argvsnoop (bpf_loop, declares 5.17:
fails on 5.10 with the verifier's reason, and is published), the same sources declaring 5.8
(refused by publish with that reason) and unlinksnoop (a kprobe: passes in the guest, is
refused on this host, which has no kprobes).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from ebpf_hub.cli import main
from ebpf_hub.index.jsonindex import to_json_bytes
from ebpf_hub.matrix.record import (
    PREDICATE_TYPE,
    KernelOutcome,
    ProgramOutcome,
    VersionMatrix,
    minimum_kernel_problem,
)
from ebpf_hub.matrix.results import Status
from ebpf_hub.model.matrix import HostResult, KernelVerdict, Verdict, host_verdict
from ebpf_hub.publish import matrixledger
from ebpf_hub.run.host import has_kprobes
from ebpf_hub.schemas import first_error
from hubrepo import REPO, copy_seed, make_hub
from kernelstate import prog_ids
from test_run import Runner, run_args

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
VERIFIER_510 = "verifier: number of funcs in func_info doesn't match number of subprogs"
HOST_SERIES = ".".join(os.uname().release.split(".")[:2])
HOST_ARCH = {"aarch64": "arm64"}.get(platform.machine(), platform.machine())

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EBPF_HUB, *args], capture_output=True, text=True, timeout=600, env=env, check=False
    )


# --- publish --matrix on a real kernel ---


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A hub of argvsnoop, argvsnoop declaring 5.8 and unlinksnoop, published with the matrix
    of x86_64 5.10 into a layout; returns the work directory and the publish run."""
    work = tmp_path_factory.mktemp("matrix-publish")
    hub = make_hub(work / "hub")
    copy_seed(hub, "argvsnoop")
    copy_seed(hub, "argvsnoop", "argvsnoop-old")
    path = hub / "index" / "packages" / "argvsnoop-old.yaml"
    path.write_text(path.read_text().replace('kernel: "5.17"', 'kernel: "5.8"'))
    copy_seed(hub, "unlinksnoop")
    done = _cli(
        "publish", "--root", str(hub), "--all", "--no-sign", "--matrix",
        "--kernels", "5.10", "--arch", "x86_64",
        "--registry", f"oci:{work / 'oci'}", "--ledger", str(work / "digests.json"),
        "--matrix-dir", str(work / "matrix"), "--json",
    )  # fmt: skip
    return work, done


def test_publish_refuses_a_minimum_kernel_the_matrix_disproves(
    published: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, done = published
    assert done.returncode == 1, done.stderr
    report, end = json.JSONDecoder().raw_decode(done.stdout)
    assert json.loads(done.stdout[end:])["error"].startswith("1 version(s) failed to publish")
    assert sorted(p["package"] for p in report["published"]) == ["argvsnoop", "unlinksnoop"]
    [failed] = report["failed"]
    assert failed["package"] == "argvsnoop-old"
    assert failed["error"] == (
        "argvsnoop-old 1.0.0 declares requires.kernel 5.8 but fails on x86_64/5.10 "
        f"(5.10.0-32-cloud-amd64): trace_execve_args: {VERIFIER_510}"
    )
    assert f"REFUSED argvsnoop-old@1.0.0: {failed['error']}" in done.stderr
    assert not (work / "oci" / "argvsnoop-old").exists()


def test_the_results_file_records_every_program_deterministically(
    published: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, _done = published
    record = matrixledger.read_version(work / "matrix", "argvsnoop", "1.0.0")
    assert record is not None
    [path] = (work / "matrix" / "argvsnoop" / "1.0.0").iterdir()
    assert path.name == "x86_64-5.10.json"
    assert path.read_bytes() == to_json_bytes(record.to_json())  # one kernel: the whole record
    [kernel] = record.kernels
    assert (kernel.label, kernel.package, kernel.release, kernel.error) == (
        "x86_64/5.10",
        "linux-image-5.10.0-32-cloud-amd64",
        "5.10.0-32-cloud-amd64",
        "",
    )
    assert kernel.programs == (
        ProgramOutcome(
            "argvsnoop.bpf.o",
            "trace_execve_args",
            "tracepoint/syscalls/sys_enter_execve",
            Status.FAIL,
            VERIFIER_510,
        ),
    )
    # below its declared 5.17 the failure is the matrix saying no, not a false claim
    assert minimum_kernel_problem(record, "5.17", ["x86_64"]) is None
    unlink = matrixledger.read_version(work / "matrix", "unlinksnoop", "1.0.0")
    assert unlink is not None
    assert [(v.label, v.status) for v in unlink.verdicts()] == [("x86_64/5.10", Verdict.PASS)]
    assert unlink.predicate().predicate_type == PREDICATE_TYPE
    assert unlink.predicate().to_json() == unlink.to_json()


def test_the_json_index_summarises_the_matrix_per_version(
    published: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, _done = published
    hub = work / "hub"
    index = [
        "index", "--root", str(hub), "--out", str(work / "site"),
        "--registry", f"oci:{work / 'oci'}", "--digests", str(work / "digests.json"),
        "--matrix", str(work / "matrix"),
    ]  # fmt: skip
    assert main(index) == 0
    document = json.loads(
        (work / "site" / "api" / "v1" / "packages" / "argvsnoop.json").read_text()
    )
    assert first_error("package-index.schema.json", document) is None
    [version] = document["versions"]
    assert version["matrix"] == [
        {
            "kernel": "5.10",
            "arch": "x86_64",
            "release": "5.10.0-32-cloud-amd64",
            "status": "fail",
            "reason": f"trace_execve_args: {VERIFIER_510}",
        }
    ]


@root_only
@pytest.mark.skipif(has_kprobes(), reason="this host has kprobes: nothing to refuse")
def test_the_kprobe_package_passes_in_the_guest_and_is_refused_here(
    published: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, _done = published
    done = _cli("run", f"{work / 'hub' / 'sources' / 'unlinksnoop'}/", "--yes", "--duration", "1")
    assert done.returncode == 1
    assert "kprobe programs: this kernel has no kprobes (CONFIG_KPROBES unset)" in done.stderr
    assert not prog_ids("trace_unlink")


# --- the client against a recorded matrix ---


def _failing_here(name: str, version: str, program: str, section: str) -> VersionMatrix:
    """A record saying `program` fails on this host's kernel series and architecture."""
    return VersionMatrix(
        name,
        version,
        (
            KernelOutcome(
                HOST_SERIES,
                HOST_ARCH,
                "linux-image-test",
                "1",
                os.uname().release,
                "",
                (ProgramOutcome(f"{name}.bpf.o", program, section, Status.FAIL, "verifier: R1 !"),),
            ),
        ),
    )


@pytest.fixture(scope="module")
def refusing_hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """killsnoop, argvsnoop and unlinksnoop published signed, killsnoop's matrix saying it
    fails on this host's kernel; the environment of a user of that hub."""
    work = tmp_path_factory.mktemp("matrix-client")
    hub = make_hub(work / "hub")
    for seed in ("killsnoop", "argvsnoop", "unlinksnoop"):
        copy_seed(hub, seed)
    layout = f"oci:{work / 'oci'}"
    assert main(["keygen", str(work / "hub-key")]) == 0
    publish = ["publish", "--root", str(hub), "--registry", layout, "--all"]
    ledger = ["--ledger", str(work / "digests.json"), "--matrix-dir", str(work / "matrix")]
    assert main([*publish, "--sign-key", str(work / "hub-key.key"), *ledger]) == 0
    record = _failing_here(
        "killsnoop", "1.0.0", "trace_kill_enter", "tracepoint/syscalls/sys_enter_kill"
    )
    matrixledger.record(work / "matrix", [record])
    index = ["index", "--root", str(hub), "--out", str(work / "site"), "--registry", layout]
    assert main([*index, "--digests", str(work / "digests.json")]) == 0
    assert (
        main([*index, "--digests", str(work / "digests.json"), "--matrix", str(work / "matrix")])
        == 0
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env.update(
        EBPF_HUB_HOME=str(work / "home"),
        EBPF_HUB_URL=f"file://{work / 'site'}",
        EBPF_HUB_PUBLIC_KEY=str(work / "hub-key.pub"),
    )
    return env


REFUSAL = (
    f"killsnoop 1.0.0 is known to fail on this kernel, so nothing was done: tested on "
    f"Linux {HOST_SERIES} ({HOST_ARCH}), {os.uname().release}: FAILED: "
    "trace_kill_enter: verifier: R1 !"
)


def test_info_shows_the_matrix_and_what_it_says_of_this_host(refusing_hub: dict[str, str]) -> None:
    done = _cli("info", "killsnoop", env=refusing_hub)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("kernel matrix (version 1.0.0, booted under qemu):")
    assert lines[start + 1].split() == [
        f"{HOST_ARCH}/{HOST_SERIES}", "FAIL", os.uname().release,
        "trace_kill_enter:", "verifier:", "R1", "!",
    ]  # fmt: skip
    assert lines[start + 2].split(None, 2)[2].startswith(f"tested on Linux {HOST_SERIES}")
    shown = json.loads(_cli("info", "killsnoop", "--json", env=refusing_hub).stdout)
    assert shown["versions"][0]["matrix"][0]["status"] == "fail"


@root_only
def test_install_and_run_refuse_a_kernel_the_matrix_saw_fail(
    refusing_hub: dict[str, str],
) -> None:
    refused = _cli("install", "killsnoop", env=refusing_hub)
    assert refused.returncode == 1
    assert f"ebpf-hub: error: {REFUSAL}; use a kernel where it passed" in refused.stderr
    assert "--ignore-matrix to try anyway" in refused.stderr
    assert "installed" not in refused.stderr
    refused = _cli("run", "killsnoop", "--yes", "--duration", "1", env=refusing_hub)
    assert refused.returncode == 1 and REFUSAL in refused.stderr
    assert not prog_ids("trace_kill_enter")

    installed = _cli("install", "killsnoop", "--ignore-matrix", env=refusing_hub)
    assert installed.returncode == 0, installed.stderr
    assert "going ahead (--ignore-matrix)" in installed.stderr
    # installed now: run reads the verdicts the install recorded, with no hub
    offline = {**refusing_hub, "EBPF_HUB_URL": "http://127.0.0.1:9/"}
    refused = _cli("run", "killsnoop", "--yes", "--duration", "1", env=offline)
    assert refused.returncode == 1 and REFUSAL in refused.stderr
    ran = _cli("run", "killsnoop", "--yes", "--duration", "1", "--ignore-matrix", env=offline)
    assert ran.returncode == 0, ran.stderr
    assert "detached after" in ran.stderr
    assert not prog_ids("trace_kill_enter")

    doctor = json.loads(_cli("doctor", "--json", env=offline).stdout)
    [check] = [c for c in doctor["checks"] if c["name"] == "kernel matrix"]
    assert check["ok"] is False and check["required"] is False
    assert check["hint"] == "killsnoop: known to fail on this kernel; use another kernel"


# --- what a record says of a host ---

VERDICTS = (
    KernelVerdict("5.10", "x86_64", "5.10.0-32-cloud-amd64", Verdict.FAIL, "p: verifier: x"),
    KernelVerdict("6.1", "x86_64", "6.1.0-50-cloud-amd64", Verdict.PASS, ""),
    KernelVerdict(
        "6.1", "arm64", "6.1.0-50-cloud-arm64", Verdict.SKIP, "q: verified, not attached"
    ),
)


@pytest.mark.parametrize(
    ("release", "machine", "tested", "sentence"),
    [
        ("6.1.0-13-amd64", "x86_64", HostResult.PASSED,
         "tested on Linux 6.1 (x86_64), 6.1.0-50-cloud-amd64: passed"),
        ("5.10.0-28-amd64", "x86_64", HostResult.FAILED,
         "tested on Linux 5.10 (x86_64), 5.10.0-32-cloud-amd64: FAILED: p: verifier: x"),
        ("6.1.0-13-arm64", "aarch64", HostResult.PARTIAL,
         "tested on Linux 6.1 (arm64), 6.1.0-50-cloud-arm64: loaded, not every program "
         "attached in the test guest (q: verified, not attached)"),
        ("6.18.0-1-amd64", "x86_64", HostResult.UNTESTED,
         "not tested on Linux 6.18 (x86_64); the hub tested 5.10 fail, 6.1 pass"),
        ("6.18.0", "riscv64", HostResult.UNTESTED,
         "not tested on Linux 6.18 (riscv64): the hub recorded no test on riscv64"),
    ],
)  # fmt: skip
def test_a_host_is_tested_passed_failed_partial_or_not_tested(
    release: str, machine: str, tested: HostResult, sentence: str
) -> None:
    answer = host_verdict(VERDICTS, release, machine)
    assert (answer.tested, answer.sentence()) == (tested, sentence)


def test_a_results_file_that_is_a_link_or_names_another_version_is_refused(
    tmp_path: Path,
) -> None:
    from ebpf_hub.errors import HubError

    record = _failing_here("a", "1.0.0", "p", "tracepoint/x/y")
    [path] = matrixledger.record(tmp_path / "m", [record])
    assert matrixledger.load(tmp_path / "m") == {"a": {"1.0.0": record}}
    moved = tmp_path / "m" / "a" / "2.0.0"
    moved.mkdir()
    path.rename(moved / path.name)
    with pytest.raises(HubError, match=r"holds other results than its path names \(a 1\.0\.0\)"):
        matrixledger.load(tmp_path / "m")
    (moved / path.name).unlink()
    path.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(HubError, match="symbolic link"):
        matrixledger.load(tmp_path / "m")


def test_the_package_page_shows_a_matrix_table_per_version_with_reasons_escaped() -> None:
    from ebpf_hub.index.document import load_document
    from ebpf_hub.model.package import Package
    from ebpf_hub.site.matrixview import matrix_section

    path = Path("index", "packages", "argvsnoop.yaml")
    package = Package.from_json(load_document(REPO / path, str(path)).data)
    hostile = KernelVerdict("5.10", "x86_64", "5.10.0-32", Verdict.FAIL, "p: <script>x</script>")
    html = matrix_section(package, {"1.0.0": (hostile, *VERDICTS[1:])})
    assert html.startswith('<h2 id="matrix">Kernel matrix')
    assert "<th>Version</th><th>arm64 6.1</th><th>x86_64 5.10</th><th>x86_64 6.1</th>" in html
    assert "<script>" not in html and "p: &lt;script&gt;x&lt;/script&gt;" in html
    assert '<span class="hub-chip hub-chip--fail">FAIL</span>' in html
    assert matrix_section(package, {}) == ""


# --- the two seed packages the matrix says no to, on this host ---


@root_only
def test_argvsnoop_reports_whole_command_lines_and_says_it_is_untested(
    refusing_hub: dict[str, str],
) -> None:
    args = run_args("argvsnoop", "--param", f"target_ppid={os.getpid()}")
    with Runner(args, refusing_hub) as run:
        child = subprocess.run(["/bin/echo", "one", "two words"], check=True, capture_output=True)
        assert child.stdout == b"one two words\n"
        event = run.wait_for_event(lambda e: e["args"].startswith("/bin/echo"))
        run.stop()
    assert (event["args"], event["argc"], event["ppid"]) == (
        "/bin/echo one two words",
        3,
        os.getpid(),
    )
    assert "argvsnoop 1.0.0: not tested on the hub's kernel matrix\n" in run.err


@root_only
@pytest.mark.skipif(has_kprobes(), reason="this host has kprobes: nothing to refuse")
def test_unlinksnoop_installs_and_is_refused_by_preflight_here(
    refusing_hub: dict[str, str],
) -> None:
    done = _cli("run", "unlinksnoop", "--yes", "--duration", "1", env=refusing_hub)
    assert done.returncode == 1
    assert "this host cannot run unlinksnoop@1.0.0, nothing was loaded" in done.stderr
    assert "kprobe programs: this kernel has no kprobes (CONFIG_KPROBES unset)" in done.stderr
    assert not prog_ids("trace_unlink")


def test_publish_attaches_the_signed_matrix_record_to_the_pinned_digest(tmp_path: Path) -> None:
    """The record travels with the artifact: a DSSE-signed in-toto statement about the digest
    the index pins, attached as a referrer; publishing again attaches nothing more."""
    from ebpf_hub.oci.attestation import verified_predicates
    from ebpf_hub.oci.keys import load_public_key
    from ebpf_hub.oci.layout import LayoutStore

    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "killsnoop")
    passed = ProgramOutcome(
        "killsnoop.bpf.o", "trace_kill_enter", "tracepoint/syscalls/sys_enter_kill", Status.PASS, ""
    )
    kernel = KernelOutcome("6.1", "x86_64", "linux-image-test", "1", "6.1.0-test", "", (passed,))
    record = VersionMatrix("killsnoop", "1.0.0", (kernel,))
    matrixledger.record(tmp_path / "matrix", [record])
    assert main(["keygen", str(tmp_path / "hub-key")]) == 0
    publish = [
        "publish", "--root", str(hub), "--registry", f"oci:{tmp_path / 'oci'}", "--all",
        "--sign-key", str(tmp_path / "hub-key.key"), "--matrix-dir", str(tmp_path / "matrix"),
        "--ledger", str(tmp_path / "digests.json"),
    ]  # fmt: skip
    assert main(publish) == 0
    digest = json.loads((tmp_path / "digests.json").read_text())["killsnoop"]["1.0.0"]["digest"]
    store = LayoutStore(tmp_path / "oci" / "killsnoop")
    key = load_public_key(tmp_path / "hub-key.pub")
    [predicate] = verified_predicates(store, digest, PREDICATE_TYPE, key)
    assert predicate == record.to_json()
    stranger = tmp_path / "stranger"
    assert main(["keygen", str(stranger)]) == 0
    assert (
        verified_predicates(store, digest, PREDICATE_TYPE, load_public_key(Path(f"{stranger}.pub")))
        == []
    )

    assert main(publish) == 0  # idempotent
    assert len(verified_predicates(store, digest, PREDICATE_TYPE, key)) == 1

    index = ["index", "--root", str(hub), "--out", str(tmp_path / "site")]
    index += ["--registry", f"oci:{tmp_path / 'oci'}", "--digests", str(tmp_path / "digests.json")]
    assert main(index) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env.update(
        EBPF_HUB_HOME=str(tmp_path / "home"),
        EBPF_HUB_URL=f"file://{tmp_path / 'site'}",
        EBPF_HUB_PUBLIC_KEY=str(tmp_path / "hub-key.pub"),
    )
    done = _cli("verify", "killsnoop", env=env)
    assert done.returncode == 0, done.stderr
    assert "kernel matrix" in done.stderr and "1 kernels (x86_64/6.1 pass)" in done.stderr


def test_the_matrix_ledger_is_the_hubs_not_the_current_directorys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records in the current directory's build/matrix may be another hub's versions of the
    same names: publish reads the hub checkout's, or the --matrix-dir it is given."""
    hub = make_hub(tmp_path / "hub")
    copy_seed(hub, "killsnoop")
    elsewhere = tmp_path / "elsewhere"
    record = _failing_here(
        "killsnoop", "1.0.0", "trace_kill_enter", "tracepoint/syscalls/sys_enter_kill"
    )
    matrixledger.record(elsewhere / "build" / "matrix", [record])
    monkeypatch.chdir(elsewhere)
    publish = ["publish", "--root", str(hub), "--all", "--no-sign"]
    publish += ["--registry", f"oci:{tmp_path / 'oci'}", "--ledger", str(tmp_path / "d.json")]
    assert main(publish) == 0
    assert main([*publish, "--matrix-dir", str(elsewhere / "build" / "matrix")]) == 1
