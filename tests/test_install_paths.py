"""The install paths users take (site/install.md), built as the release builds them
(scripts/build-dist, once per run): the wheel installed with pipx into a clean environment, and
the single-file executable copied into a bin directory, each running `search`, `install` and a
real `run` as root against the registry fixture and a served index. Then the oldest Python the
client supports: the wheel installed with pip into a venv of Debian bullseye's 3.9
(scripts/fetch-old-python) does the same, and the executable, which carries its own
interpreter, ignores that Python's environment. The floor requires-python states is the one
vermin measures on the client's code, and the release workflow uploads with the least
privilege trusted publishing needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import test_run
from ebpf_hub import __version__
from httpserver import StaticServer
from hubrepo import REPO, copy_seed, make_hub
from kernelstate import held_prog_ids, links_of
from registry import RegistryServer
from test_completion import bash_completions
from test_install import keys, publish, write_index
from test_run import Runner, run_args
from test_workflows import WORKFLOWS, load

__all__ = ["keys"]  # the fixture of test_install this module uses

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root")

BIN = Path(sys.executable).parent
OLD_PYTHON = REPO / ".tools" / "python3.9"
OLD_LIBS = OLD_PYTHON / "usr" / "lib" / "x86_64-linux-gnu"  # OpenSSL 1.1, libffi 7 of bullseye
# The wheels a Python 3.9 venv installs, kept between runs: a rerun downloads nothing.
OLD_WHEELS = Path(tempfile.gettempdir()) / "ebpf-hub-tests-py39-wheels"
SOURCES = REPO / "src" / "ebpf_hub"  # templates/ are files `init` copies, not modules
# What root's PATH holds under sudo (Debian's secure_path, /usr/local/bin among it): the
# install directory is put first, as /usr/local/bin is there.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# The oldest glibc the executable runs on, as built here (Debian 12): site/install.md names
# the distributions that have it.
GLIBC_FLOOR = (2, 35)


@dataclass(frozen=True)
class Dist:
    """What scripts/build-dist made: the wheel and the single-file executable."""

    wheel: Path
    executable: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """Built once for the module (the one that uses them), as the release workflow builds."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [str(REPO / "scripts" / "build-dist"), "--executable", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [wheel, sdist, executable] = map(Path, result.stdout.split())
    assert wheel.name == f"ebpf_hub-{__version__}-py3-none-any.whl"
    assert sdist.name == f"ebpf_hub-{__version__}.tar.gz"
    assert executable == out / "ebpf-hub" and os.access(executable, os.X_OK)
    return Dist(wheel=wheel, executable=executable)


@pytest.fixture(scope="module")
def hub_env(
    registry: RegistryServer, keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A user's environment whose hub serves execsnoop, published signed to the registry."""
    work = tmp_path_factory.mktemp("install-paths")
    root = make_hub(work / "hub")
    copy_seed(root, "execsnoop")
    namespace = f"{registry.host}/install-paths"
    publish(root, namespace, work / "digests.json", keys["hub"])
    site = write_index(root, namespace, work / "digests.json", work / "site")
    with StaticServer(site) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EBPF_HUB_", "PYTHON"))}
        yield env | {"EBPF_HUB_URL": server.url, "EBPF_HUB_PUBLIC_KEY": f"{keys['hub']}.pub"}


@pytest.fixture(scope="module")
def old_python() -> Path:
    """Debian bullseye's python3.9, unpacked by scripts/fetch-old-python (idempotent)."""
    subprocess.run([str(REPO / "scripts" / "fetch-old-python")], check=True, timeout=300)
    return OLD_PYTHON / "bin" / "python3.9"


def pipx_install(wheel: Path, work: Path) -> Path:
    """`sudo pipx install --global WHEEL` (the page's command: the script lands in
    /usr/local/bin, on root's PATH), with pipx's global directories moved into `work`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPX_", "PYTHON"))}
    for variable, directory in (("HOME", "pipx"), ("BIN_DIR", "bin"), ("MAN_DIR", "man")):
        env[f"PIPX_GLOBAL_{variable}"] = str(work / directory)
    env["PIPX_GLOBAL_COMPLETION_DIR"] = str(work / "completion")
    result = subprocess.run(
        [str(BIN / "pipx"), "install", "--global", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "bin" / "ebpf-hub"


def copy_install(executable: Path, work: Path) -> Path:
    """What `install -m 0755 ebpf-hub /usr/local/bin/` does, into a directory of the test's."""
    (work / "bin").mkdir()
    target = work / "bin" / "ebpf-hub"
    shutil.copyfile(executable, target)
    target.chmod(0o755)
    return target


def glibc_wanted(pid: int) -> tuple[int, ...]:
    """The newest glibc symbol version asked for by what a process of the executable mapped
    from its unpacked bundle (the interpreter, its extension modules, the libraries beside)."""
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    files = sorted({line.split(maxsplit=5)[5] for line in maps if "/_MEI" in line})
    assert any("libpython3" in name for name in files), files
    symbols = subprocess.run(["objdump", "-T", *files], capture_output=True, text=True, check=True)
    versions = re.findall(r"GLIBC_(\d+(?:\.\d+)+)", symbols.stdout)
    return max(tuple(int(part) for part in version.split(".")) for version in versions)


def ebpf_hub(command: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(command), *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def search_install_run(
    command: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, bootloader: bool
) -> None:
    """As a user would: find execsnoop, install it verified, run it and see an exec traced;
    the run ends cleanly, leaving nothing loaded or attached."""
    searched = ebpf_hub(command, env, "search", "exec", "--json")
    assert searched.returncode == 0, searched.stderr
    assert [match["name"] for match in json.loads(searched.stdout)] == ["execsnoop"]

    installed = ebpf_hub(command, env, "install", "execsnoop")
    assert installed.returncode == 0, installed.stderr
    [listed] = json.loads(ebpf_hub(command, env, "list", "--json").stdout)
    assert (listed["name"], listed["version"], listed["verified"]) == ("execsnoop", "1.0.0", True)

    monkeypatch.setattr(test_run, "EBPF_HUB", str(command))
    with Runner(run_args("execsnoop", "--param", f"target_ppid={os.getpid()}"), env) as run:
        if bootloader:  # PyInstaller's one-file bootloader runs the client in its child
            children = Path(f"/proc/{run.proc.pid}/task/{run.proc.pid}/children").read_text()
            run.progs = held_prog_ids(int(children))
            run.links = links_of(run.progs)
            assert glibc_wanted(int(children)) <= GLIBC_FLOOR
        subprocess.run(["/bin/true"], check=True)
        event = run.wait_for_event(lambda e: e["filename"] == "/bin/true")
        run.stop()  # exits 0, detached, its programs and links gone from the kernel
    assert event["ppid"] == os.getpid() and event["uid"] == 0


@pytest.mark.root
@pytest.mark.slow
@needs_root
def test_the_wheel_installed_with_pipx_searches_installs_and_runs(
    dist: Dist, hub_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = pipx_install(dist.wheel, tmp_path)
    # The console script runs the interpreter of pipx's venv for the wheel, not the test's.
    assert command.read_text().splitlines()[0] == f"#!{tmp_path}/pipx/venvs/ebpf-hub/bin/python -E"
    env = hub_env | {
        "PATH": f"{command.parent}:{SYSTEM_PATH}",
        "EBPF_HUB_HOME": str(tmp_path / "home"),
    }
    assert ebpf_hub(command, env, "--version").stdout.strip() == f"ebpf-hub {__version__}"
    search_install_run(command, env, monkeypatch, bootloader=False)


@pytest.mark.root
@pytest.mark.slow
@needs_root
def test_the_executable_ignores_the_environment_of_the_hosts_python(
    dist: Dist,
    hub_env: dict[str, str],
    old_python: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host's `python3` is bullseye's 3.9, and its PYTHONHOME and PYTHONPATH point at
    that Python's library, which would break a program run by any other Python (the
    executable's own is the build machine's): it carries its interpreter and library, and
    ignores them."""
    command = copy_install(dist.executable, tmp_path)
    host_bin = tmp_path / "host-bin"
    host_bin.mkdir()
    (host_bin / "python3").symlink_to(old_python)
    stdlib = OLD_PYTHON / "usr" / "lib" / "python3.9"
    env = hub_env | {
        "PATH": f"{command.parent}:{host_bin}:{SYSTEM_PATH}",
        "PYTHONHOME": str(OLD_PYTHON / "usr"),
        "PYTHONPATH": str(stdlib),
        "EBPF_HUB_HOME": str(tmp_path / "home"),
    }
    assert ebpf_hub(host_bin / "python3", env, "--version").stdout.startswith("Python 3.9.")
    assert ebpf_hub(command, env, "--version").stdout.strip() == f"ebpf-hub {__version__}"
    search_install_run(command, env, monkeypatch, bootloader=True)
    # TAB, through the script the executable prints (argcomplete, imported only then, is in)
    assert bash_completions(env, "ebpf-hub install exec") == ["execsnoop"]


def old_pip(python: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The 3.9 venv's pip, offline: only the wheels of OLD_WHEELS (and the ones named)."""
    command = [str(python), "-m", "pip", *args, "--no-index", "--find-links", str(OLD_WHEELS)]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.fixture(scope="module")
def old_venv(dist: Dist, old_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv of bullseye's Python 3.9 with the wheel installed by a current pip, as a
    user of Debian 11 or RHEL 9 would (`python3 -m venv`, `pip install`). Its dependencies come
    from OLD_WHEELS, filled from the package index on the first run only."""
    venv = tmp_path_factory.mktemp("py39") / "venv"
    subprocess.run([str(old_python), "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env["LD_LIBRARY_PATH"] = str(OLD_LIBS)
    OLD_WHEELS.mkdir(exist_ok=True)
    pips = sorted(OLD_WHEELS.glob("pip-*.whl"))
    if not pips:  # bullseye's python3.9 comes without ensurepip's wheels: pip's own wheel
        download = [str(BIN / "pip"), "download", "--no-deps", "--only-binary=:all:"]
        download += ["--python-version", "3.9", "--dest", str(OLD_WHEELS), "pip<26"]
        subprocess.run(download, check=True, capture_output=True, timeout=300)
        pips = sorted(OLD_WHEELS.glob("pip-*.whl"))
    # A wheel is a zip archive Python can run pip from, to install pip itself.
    subprocess.run(
        [str(python), f"{pips[-1]}/pip", "install", "-q", "--no-index", str(pips[-1])],
        env=env,
        check=True,
        timeout=300,
    )
    installed = old_pip(python, env, "install", str(dist.wheel))
    if installed.returncode != 0:  # first run, or a dependency's range moved: fetch, offline again
        download = [str(python), "-m", "pip", "download", "--dest", str(OLD_WHEELS)]
        fetched = subprocess.run(
            [*download, "--only-binary=:all:", str(dist.wheel)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert fetched.returncode == 0, fetched.stderr[-3000:]
        installed = old_pip(python, env, "install", str(dist.wheel))
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


@pytest.mark.root
@pytest.mark.slow
@needs_root
def test_the_wheel_on_python_3_9_searches_installs_and_runs(
    old_venv: Path, hub_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client on the oldest Python it supports, bullseye's own 3.9, from the wheel."""
    command = old_venv / "bin" / "ebpf-hub"
    env = hub_env | {
        "PATH": f"{command.parent}:{SYSTEM_PATH}",
        "EBPF_HUB_HOME": str(tmp_path / "home"),
        "LD_LIBRARY_PATH": str(OLD_LIBS),
    }
    python = old_venv / "bin" / "python"
    version = ebpf_hub(python, env, "-c", "import sys; print(sys.version)")
    assert version.stdout.startswith("3.9."), version.stdout + version.stderr
    # What 3.9 has instead of 3.11's StrEnum and tomllib: values that print and encode as
    # their text, and tomli.
    check = (
        "import json; from ebpf_hub import tomlparse; from ebpf_hub.model.matrix import Verdict; "
        "print(str(Verdict.PASS), f'{Verdict.FAIL}', json.dumps(Verdict.SKIP), "
        "tomlparse.loads('timeout = 30')['timeout'])"
    )
    checked = ebpf_hub(python, env, "-c", check)
    assert checked.stdout.split() == ["pass", "fail", '"skip"', "30"], checked.stderr
    # jsonschema-rs 0.34, the last for 3.9, takes no integer beyond 64 bits: one line, no trace
    check = (
        "from ebpf_hub.schemas import first_error; print(first_error('index.schema.json', 2**64))"
    )
    checked = ebpf_hub(python, env, "-c", check)
    assert checked.stdout == "a number does not fit in 64 bits\n", checked.stderr
    assert ebpf_hub(command, env, "--version").stdout.strip() == f"ebpf-hub {__version__}"
    search_install_run(command, env, monkeypatch, bootloader=False)


def test_requires_python_is_what_the_code_needs() -> None:
    """vermin's minimum over the client's modules is the floor pyproject.toml states: the
    wheel neither admits a Python it cannot run on nor refuses one it could."""
    result = subprocess.run(
        [str(BIN / "vermin"), "--no-tips", "--exclude-regex", "templates/", str(SOURCES)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    [minimum] = re.findall(r"^Minimum required versions: (\S+)$", result.stdout, re.MULTILINE)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={minimum}"


def test_the_release_uploads_with_trusted_publishing_and_least_privilege() -> None:
    """Only the upload job may ask for an OIDC token, and it runs none of the project's code:
    the build job, which does, can read the repository and nothing more."""
    text = (WORKFLOWS / "release.yml").read_text()
    workflow = load(WORKFLOWS / "release.yml")
    assert workflow["on"] == {"release": {"types": ["published"]}}
    assert workflow["permissions"] == {}
    build, upload = workflow["jobs"]["build"], workflow["jobs"]["upload"]
    assert build["permissions"] == {"contents": "read"}
    assert [step["run"] for step in build["steps"] if "run" in step] == [
        "scripts/build-dist --out dist"
    ]
    assert upload["permissions"] == {"id-token": "write"}
    assert (upload["needs"], upload["environment"]) == ("build", "pypi")
    assert not any("run" in step for step in upload["steps"])
    [publish_step] = [s for s in upload["steps"] if s["uses"].startswith("pypa/gh-action-pypi-")]
    assert "with" not in publish_step  # no password nor token: trusted publishing
    assert "secrets." not in text
