"""arm64 builds: the vmlinux.h of a pinned arm64 kernel, read out of it under qemu; every
version built for x86_64 and arm64 with the same checks; the arm64 object loads in an arm64
guest of the kernel matrix, where the x86_64 one fails on its pt_regs layout.

The publishing and pulling of both builds as one OCI image index is in test_arm64_index.py.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ebpf_hub.build.crossbtf import HEADER_KERNELS, kernel_btf
from ebpf_hub.build.package import BuiltVersion, build_sources
from ebpf_hub.build.platforms import build_platforms
from ebpf_hub.build.toolchain import VMLINUX_BTF, toolchain_for
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import load_config
from ebpf_hub.index.validate import validate
from ebpf_hub.matrix.kernels import cached_image
from ebpf_hub.model.artifact import ArtifactConfig
from ebpf_hub.model.package import Package, Program
from ebpf_hub.paths import cache_dir
from hubrepo import REPO

EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))


def seed(name: str) -> Package:
    config = load_config(REPO)
    [package] = validate(config, [config.packages_dir / f"{name}.yaml"]).packages
    return package


def by_arch(builds: tuple[BuiltVersion, ...]) -> dict[str, BuiltVersion]:
    return {built.config.build.arch: built for built in builds}


def objects_of(built: BuiltVersion) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in built.files if path.suffix == ".o"}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, BuiltVersion]]:
    """bashreadline (a uretprobe: reads pt_regs) and execsnoop (a tracepoint), both
    architectures each, as `ebpf-hub publish` builds them."""
    out = tmp_path_factory.mktemp("arm64-builds")
    found = {}
    for name in ("bashreadline", "execsnoop"):
        package = seed(name)
        found[name] = by_arch(build_platforms(REPO, package, package.versions[-1], out / name))
    return found


def test_the_arm64_vmlinux_h_comes_from_the_pinned_arm64_kernel(
    builds: dict[str, dict[str, BuiltVersion]],
) -> None:
    btf = kernel_btf("aarch64")
    assert hashlib.sha256(btf.path.read_bytes()).hexdigest() == btf.sha256
    header = (toolchain_for("aarch64").vmlinux_dir / "vmlinux.h").read_text()
    # arm64's register file, which PT_REGS_RC() reads with __TARGET_ARCH_arm64
    assert "struct user_pt_regs {\n\t__u64 regs[31];\n\t__u64 sp;" in header
    kernel = HEADER_KERNELS["aarch64"]
    arm, x86 = builds["bashreadline"]["aarch64"].config, builds["bashreadline"]["x86_64"].config
    assert arm.build.to_json() == {
        "compiler": x86.build.compiler,
        "flags": [*x86.build.flags[:-1], "-D__TARGET_ARCH_arm64"],
        "arch": "aarch64",
        "vmlinuxBtfSha256": btf.sha256,
        "vmlinuxSource": f"debian:{kernel.suite}/{kernel.package}={kernel.version}",
    }
    # The host's architecture keeps today's header: the running kernel's BTF.
    assert x86.build.flags[-1] == "-D__TARGET_ARCH_x86"
    host_btf = hashlib.sha256(VMLINUX_BTF.read_bytes()).hexdigest()
    assert (x86.build.vmlinux_btf_sha256, x86.build.vmlinux_source) == (host_btf, None)
    assert ArtifactConfig.read(arm.to_json(), "the arm64 config") == arm


def test_both_builds_hold_the_same_programs_and_the_arm64_one_is_reproducible(
    builds: dict[str, dict[str, BuiltVersion]], tmp_path: Path
) -> None:
    for name, pair in builds.items():
        arm, x86 = pair["aarch64"], pair["x86_64"]
        assert arm.files[0].parent == x86.files[0].parent / "aarch64", name
        programs = [
            [
                (p["name"], p["section"])
                for o in built.config.objects
                for p in o.description["programs"]
            ]
            for built in (arm, x86)
        ]
        assert programs[0] == programs[1], name
        assert objects_of(arm) != objects_of(x86), name
    package = seed("bashreadline")
    again = by_arch(build_platforms(REPO, package, package.versions[-1], tmp_path))
    assert objects_of(again["aarch64"]) == objects_of(builds["bashreadline"]["aarch64"])
    assert again["aarch64"].config == builds["bashreadline"]["aarch64"].config


def test_the_declarations_are_checked_on_the_arm64_object(tmp_path: Path) -> None:
    package = seed("execsnoop")
    renamed = replace(
        package, programs=(Program("other_name", "tracepoint/syscalls/sys_enter_execve"),)
    )
    newest = package.versions[-1].version.replace(".", r"\.")
    with pytest.raises(HubError, match=rf"execsnoop@{newest} \(aarch64\).*trace_execve_enter"):
        build_sources(
            REPO / "sources" / "execsnoop",
            renamed,
            package.versions[-1],
            tmp_path,
            arch="aarch64",
        )


def test_a_cached_btf_that_changed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    btf = kernel_btf("aarch64")  # in the user's cache
    image = cached_image(HEADER_KERNELS["aarch64"])
    assert image is not None
    real = cache_dir()
    home = tmp_path / "home"
    wanted = [
        btf.path,
        real / "vmlinux" / "kernels" / image.sha256,
        image.path,
        *(path for _, path in image.modules),
        real
        / "kernels"
        / image.spec.debian_arch
        / f"{image.spec.package}_{image.spec.version}.json",
    ]
    for path in wanted:
        copy = home / "cache" / path.relative_to(real)
        copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(path, copy)
    monkeypatch.setenv("EBPF_HUB_HOME", str(home))
    assert kernel_btf("aarch64").sha256 == btf.sha256  # the copy is whole: no download, no boot
    damaged = home / "cache" / btf.path.relative_to(real)
    data = damaged.read_bytes()
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(HubError, match="is damaged or was changed"):
        kernel_btf("aarch64")


def test_the_arm64_object_loads_on_arm64_where_the_x86_64_one_fails(
    builds: dict[str, dict[str, BuiltVersion]],
) -> None:
    arm_readline = builds["bashreadline"]["aarch64"].files[0].parent
    x86_readline = builds["bashreadline"]["x86_64"].files[0].parent
    arm_execsnoop = builds["execsnoop"]["aarch64"].files[0].parent
    command = [EBPF_HUB, "matrix", "--root", str(REPO), "--arch", "arm64", "--kernels", "6.1"]
    targets = [str(arm_readline), str(x86_readline), str(arm_execsnoop)]
    done = subprocess.run(
        [*command, *targets, "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr  # the x86_64 object fails
    report = json.loads(done.stdout)
    ((kernel),) = report["kernels"]
    assert (kernel["arch"], kernel["kernel"], kernel["error"]) == ("arm64", "6.1", None)
    results = {result["package"]: result for result in report["results"]}
    assert set(results) == set(targets)
    # The arm64 tracepoint program loads and attaches.
    assert (results[str(arm_execsnoop)]["status"], results[str(arm_execsnoop)]["reason"]) == (
        "pass",
        "",
    )
    # The arm64 uretprobe program passes the verifier; only the binary it probes is missing
    # from the guest (busybox alone), so it is not attached.
    arm = results[str(arm_readline)]
    assert arm["status"] == "skip"
    assert arm["reason"].startswith("verified, not attached: the guest lacks its program")
    # The x86_64 one reads x86's pt_regs.ax, which arm64's kernel does not have.
    x86 = results[str(x86_readline)]
    assert x86["status"] == "fail"
    assert "failed to resolve CO-RE relocation" in x86["reason"]
    assert "struct pt_regs.ax" in x86["reason"]
