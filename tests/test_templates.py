"""Templates and the author's commands, used as a new package author would use them.

For every template kind: `init`, `build`, `test` (the program really loads, and its trigger
really produces an event or a count), commit, `publish` to a real registry, `submit` to a
copy of the hub (which `ebpf-hub validate` then accepts), the hub's JSON index, `install`
from it, and `run` the installed package to see its output. For every kind and user-space
language, the loader is built (gcc, go, cargo, or nothing for Python) and run against the
kernel.
Needs root; everything attached is detached by the end of each test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ebpf_hub.cli import main
from ebpf_hub.develop.gitsource import https_url
from ebpf_hub.develop.scaffold import USERSPACES, kinds
from hubrepo import REPO, describe_package, git
from registry import RegistryServer

pytestmark = pytest.mark.root

KINDS = [kind.name for kind in kinds()]
LANGUAGES = [language for language in USERSPACES if language != "none"]
EBPF_HUB = str(Path(sys.executable).with_name("ebpf-hub"))
# Stable across runs, so cilium/ebpf is compiled once per machine, not once per test run.
GOCACHE = Path(tempfile.gettempdir()) / "ebpf-hub-tests-gocache"
# The same for cargo: yaml-rust once per machine, each package's loader on top of it. The
# Rust toolchain is Debian's, as scripts/bootstrap installs it (not a rustup one on PATH).
CARGO_TARGET = Path(tempfile.gettempdir()) / "ebpf-hub-tests-cargo-target"
RUST_TOOLCHAIN = {"CARGO": "/usr/bin/cargo", "RUSTC": "/usr/bin/rustc"}
JSON_LOADERS = ("python", "rust", "typescript", "java")  # JSON lines rather than columns
# npm's cache for the TypeScript loader's packages: filled from the registry once per machine
# (and checked once per run), then every build installs from it alone, with `npm ci --offline`.
NPM_CACHE = Path(tempfile.gettempdir()) / "ebpf-hub-tests-npm-cache"
PLACEHOLDER = re.compile(r"\{\{[a-z_]+\}\}")
OUTPUT_TIMEOUT = 20.0


def _udp_to_discard() -> None:
    """Datagrams to the loopback discard port: the xdp and tc templates count or show them."""
    subprocess.run(
        ["bash", "-c", "for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/9; done"], check=True
    )


def _total(value: Any) -> int:
    """The sum of the numbers in a decoded map value (a histogram's bucket counts only)."""
    if isinstance(value, dict) and "buckets" in value:
        return sum(bucket["count"] for bucket in value["buckets"])
    if isinstance(value, dict):
        return sum(_total(v) for v in value.values())
    if isinstance(value, list):
        return sum(_total(v) for v in value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Expected:
    """What each kind shows once triggered, in every form its output takes."""

    trigger: Callable[[], object]
    text: str  # a regex over what the C and Go loaders print
    event: Callable[[dict[str, Any]], bool] | None = None  # for kinds that send events
    map_entry: Callable[[Any, Any], bool] | None = None  # (key, value) of the output map
    iface: bool = False

    def seen_in(self, record: dict[str, Any]) -> bool:
        """Whether one JSON record of `run --json`, the Python loader or `test --json`
        shows it: `{"event": {...}}`, `{"map": {"entries": [...]}}`, an event itself, or
        `{"map": NAME, "key": K, "value": V}`."""
        if self.event is not None:
            event = record.get("event", record)
            return isinstance(event, dict) and self.event(event)
        assert self.map_entry is not None
        shown = record.get("map")
        if isinstance(shown, dict):
            return any(self.map_entry(e["key"], e) for e in shown.get("entries", []))
        return "key" in record and self.map_entry(record["key"], record["value"])


EXPECTED = {
    "tracepoint": Expected(
        lambda: subprocess.run(["/bin/true"], check=True),
        r"/bin/true",
        event=lambda e: e["filename"] == "/bin/true",
    ),
    "tp_btf": Expected(
        lambda: subprocess.run(["sh", "-c", "exit 3"], check=False),
        r"(?m)\s3\s+sh$",
        event=lambda e: e["exit_code"] == 3 and e["comm"] == "sh",
    ),
    "uprobe": Expected(
        lambda: subprocess.run(["getent", "ahosts", "localhost"], capture_output=True, check=True),
        r"getent\s+localhost",
        event=lambda e: e["comm"] == "getent" and e["host"] == "localhost",
    ),
    "tc": Expected(
        _udp_to_discard,
        r"UDP\s+127\.0\.0\.1:\d+\s+->\s+127\.0\.0\.1:9\s",
        event=lambda e: (e["daddr"], e["dport"], e["proto"]) == ("127.0.0.1", 9, 17),
        iface=True,
    ),
    "xdp": Expected(
        _udp_to_discard,
        r"(?m)^17\s+[1-9]\d*\s+[1-9]",
        map_entry=lambda key, value: key == 17 and _total(value) > 0,
        iface=True,
    ),
    "histogram": Expected(
        lambda: subprocess.run(
            ["head", "-c", "65536", "/dev/zero"], capture_output=True, check=True
        ),
        r"\|\*+ *\|",
        map_entry=lambda key, value: key == 0 and _total(value) > 0,
    ),
}


def test_every_kind_has_its_expectations() -> None:
    assert sorted(EXPECTED) == sorted(KINDS)
    assert {"tracepoint", "tp_btf", "uprobe", "xdp", "tc", "histogram"} <= set(KINDS)


# --- helpers ---


def init(parent: Path, kind: str, userspace: str = "none") -> Path:
    """`ebpf-hub init` a package named after its kind and language."""
    directory = parent / f"{kind.replace('_', '-')}-{userspace}"
    assert main(["init", str(directory), "--template", kind, "--userspace", userspace]) == 0
    return directory


def commit(directory: Path, owner: str = "alice") -> str:
    """Make the package a committed git repository with an https remote; its HEAD."""
    git(directory, "init", "-q", "-b", "main")
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "First release")
    git(directory, "remote", "add", "origin", f"git@github.com:{owner}/{directory.name}.git")
    return git(directory, "rev-parse", "HEAD").strip()


def loaded_programs() -> dict[int, str]:
    listing = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True)
    return {entry["id"]: entry.get("name", "") for entry in json.loads(listing.stdout)}


def left_loaded(before: dict[int, str], names: set[str]) -> dict[int, str]:
    """Programs named `names` loaded since `before` that are still there after a grace period:
    the kernel frees a program shortly after the last file descriptor closes, not at once."""
    deadline = time.monotonic() + 5
    while True:
        kept = {i: n for i, n in loaded_programs().items() if i not in before and n in names}
        if not kept or time.monotonic() > deadline:
            return kept
        time.sleep(0.1)


def lo_attachments() -> dict[str, Any]:
    listing = subprocess.run(
        ["bpftool", "-j", "net", "show", "dev", "lo"], capture_output=True, check=True
    )
    [found] = json.loads(listing.stdout)
    return {hook: found.get(hook) for hook in ("xdp", "tc") if found.get(hook)}


def program_names(directory: Path) -> set[str]:
    """The names of the package's programs as the kernel shows them (15 characters)."""
    manifest = yaml.safe_load((directory / "ebpf-hub.yaml").read_text())
    return {program["name"][:15] for program in manifest["programs"]}


def watch(
    command: list[str],
    expected: Expected,
    seen: Callable[[str], bool],
    env: dict[str, str],
    programs: set[str],
) -> str:
    """Start `command`, trigger until `seen(output)` or the timeout, stop it with SIGTERM.

    Returns its output; asserts it stopped cleanly and left none of `programs` loaded and
    nothing attached to lo.
    """
    before = loaded_programs()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + OUTPUT_TIMEOUT
        try:
            while time.monotonic() < deadline and process.poll() is None:
                expected.trigger()
                time.sleep(0.3)
                out.seek(0)
                if seen(out.read()):
                    break
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=20)
        out.seek(0)
        output = out.read()
    assert seen(output), f"{command}: no expected output in {OUTPUT_TIMEOUT} s\n{output}\n{errors}"
    assert process.returncode == 0, errors
    assert left_loaded(before, programs) == {}
    assert lo_attachments() == {}
    return output


def text_seen(expected: Expected) -> Callable[[str], bool]:
    def seen(output: str) -> bool:
        return re.search(expected.text, output) is not None

    return seen


def json_seen(expected: Expected) -> Callable[[str], bool]:
    def seen(output: str) -> bool:
        records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        return any(expected.seen_in(record) for record in records)

    return seen


def make_loader(
    directory: Path, language: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`make` the package's loader in `language` (and the object first, if stale)."""
    return subprocess.run(
        ["make", "-C", str(directory / language), f"EBPF_HUB={EBPF_HUB}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def toolchain_env(language: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment a loader in `language` builds in (npm's filled cache for TypeScript)."""
    env: dict[str, str] = request.getfixturevalue(
        "npm_env" if language == "typescript" else "loader_env"
    )
    return env


# --- fixtures ---


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The author's signing key pair: PREFIX.key and PREFIX.pub."""
    prefix = tmp_path_factory.mktemp("author-keys") / "cosign"
    assert main(["keygen", str(prefix)]) == 0
    return prefix


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the hub repository (its index and the sources its seed packages pin)."""
    root = tmp_path_factory.mktemp("hub")
    for part in ("index", "sources"):
        shutil.copytree(REPO / part, root / part)
    return root


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-home")


@pytest.fixture
def user_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A user's environment: their own EBPF_HUB_HOME, nothing configured."""
    for variable in ("EBPF_HUB_URL", "EBPF_HUB_REGISTRY", "EBPF_HUB_PUBLIC_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EBPF_HUB_HOME", str(home))
    return dict(os.environ)


@pytest.fixture(scope="module")
def loader_env() -> Iterator[dict[str, str]]:
    """What the loaders' Makefiles need: ebpf-hub on PATH, build caches that stay (Go's,
    cargo's target directory) and Debian's Rust toolchain."""
    GOCACHE.mkdir(exist_ok=True)
    path = f"{Path(EBPF_HUB).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "GOCACHE": str(GOCACHE), "EBPF_HUB": EBPF_HUB}
    yield {**env, **RUST_TOOLCHAIN, "CARGO_TARGET_DIR": str(CARGO_TARGET)}


@pytest.fixture(scope="module")
def npm_env(loader_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The loaders' environment with npm's cache holding the TypeScript template's locked
    packages: one `npm ci` per run fetches what the cache lacks; the builds then run offline."""
    env = {**loader_env, "npm_config_cache": str(NPM_CACHE)}
    directory = init(tmp_path_factory.mktemp("npm"), "tracepoint", "typescript") / "typescript"
    fetch = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"]
    done = subprocess.run(
        fetch, cwd=directory, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {**env, "NPM_FLAGS": "--offline"}


# --- init ---


def test_init_list_describes_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--list"]) == 0
    listing = capsys.readouterr().out
    for kind in KINDS:
        assert re.search(rf"(?m)^{kind}\s+\S", listing), listing
    assert "tp_btf/sched_process_exit" in listing and "histogram map hist" in listing
    assert "none, c, go, python" in listing
    assert re.search(r"user space \(--userspace\): .*\brust\b", listing), listing


@pytest.mark.parametrize("userspace", USERSPACES)
@pytest.mark.parametrize("kind", KINDS)
def test_init_writes_a_complete_package(kind: str, userspace: str, tmp_path: Path) -> None:
    directory = init(tmp_path, kind, userspace)
    name = directory.name
    files = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    common = {
        "README.md",
        "LICENSE",
        ".gitignore",
        ".github/workflows/ebpf.yml",
        "ebpf-hub.yaml",
        "trigger",
        f"{name}.bpf.c",
        f"{name}.h",
    }
    assert common <= files
    assert {f for f in files - common if "/" not in f.removeprefix(".github/")} == set()
    languages = {f.split("/")[0] for f in files if f.split("/")[0] in LANGUAGES}
    assert languages == ({userspace} - {"none"})
    for relative in files:
        text = (directory / relative).read_text()
        assert not PLACEHOLDER.search(text), f"{relative}: unfilled placeholder"
    assert os.access(directory / "trigger", os.X_OK)
    readme = (directory / "README.md").read_text()
    for step in ("ebpf-hub build .", "sudo ebpf-hub test .", "ebpf-hub publish .", "submit"):
        assert step in readme
    assert f'name: "{name}"' in (directory / "ebpf-hub.yaml").read_text()


def test_init_refuses_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    cases = [
        (["init", str(tmp_path / "taken"), "--template", "xdp"], "exists and is not empty"),
        (["init", str(tmp_path / "a"), "--template", "xdp"], "not a valid package name"),
        (["init", str(tmp_path / "Bad_Name"), "--template", "xdp"], "not a valid package name"),
        (["init", str(tmp_path / "ok"), "--template", "kprobe"], "unknown template 'kprobe'"),
        (
            ["init", str(tmp_path / "ok"), "--template", "xdp", "--userspace", "cobol"],
            "unknown user space 'cobol'",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "ok").exists()


@pytest.mark.slow
def test_the_authors_workflow_passes_actionlint_and_zizmor(tmp_path: Path) -> None:
    directory = init(tmp_path, "tracepoint")
    workflows = directory / ".github" / "workflows"
    lint = subprocess.run(
        [str(REPO / "scripts" / "lint-workflows"), str(workflows)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "No findings to report" in lint.stdout


# --- build errors ---


def test_broken_c_shows_the_compilers_message_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = init(tmp_path, "tracepoint")
    source = directory / f"{directory.name}.bpf.c"
    lines = source.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "bpf_ringbuf_submit(e, 0);" in line)
    lines[at] = "\tbpf_ringbuf_submit(e, 0)"  # the semicolon is gone
    source.write_text("\n".join(lines) + "\n")

    assert main(["build", str(directory)]) == 1
    err = capsys.readouterr().err
    assert f"{source.name}:{at + 1}:" in err and "error: expected ';'" in err, err
    assert "does not compile" in err
    assert not (directory / "build" / f"{directory.name}.bpf.o").exists()

    cli = subprocess.run(
        [EBPF_HUB, "build", str(directory)], capture_output=True, text=True, check=False
    )
    assert cli.returncode == 1 and f"{source.name}:{at + 1}:" in cli.stderr


@pytest.mark.parametrize(
    ("language", "source", "message"),
    [
        ("typescript", "src/main.ts", r"src/main\.ts\((\d+),\d+\): error TS2554: Expected 0 arg"),
        ("java", "src/Main.java", r"src/Main\.java:(\d+): error: method load in class BpfObject"),
        ("rust", "src/main.rs", r"error\[E0061\]: .*\n +--> src/main\.rs:(\d+):"),
    ],
)
def test_a_broken_loader_shows_the_compilers_message_with_file_and_line(
    language: str, source: str, message: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    directory = init(tmp_path, "tracepoint", language)
    path = directory / language / source
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "obj.load()" in line)
    lines[at] = lines[at].replace("obj.load()", "obj.load(42)")  # load takes no argument
    path.write_text("\n".join(lines) + "\n")

    make = make_loader(directory, language, toolchain_env(language, request))
    assert make.returncode != 0
    found = re.search(message, make.stdout + make.stderr)
    assert found is not None and int(found[1]) == at + 1, make.stdout + make.stderr
    assert not (directory / language / directory.name).exists()


def test_an_undeclared_program_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = init(tmp_path, "tracepoint")
    manifest = directory / "ebpf-hub.yaml"
    manifest.write_text(manifest.read_text().replace("name: handle_execve", "name: other"))
    assert main(["build", str(directory)]) == 1
    assert "'handle_execve'" in capsys.readouterr().err


@pytest.fixture
def quiet_iface() -> Iterator[str]:
    """One end of a veth pair left down: nothing ever arrives on it."""
    name = "ebpfhubq0"
    subprocess.run(
        ["ip", "link", "add", name, "type", "veth", "peer", "name", "ebpfhubq1"], check=True
    )
    try:
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=True)


def test_test_says_why_nothing_appeared(
    tmp_path: Path, quiet_iface: str, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = init(tmp_path, "xdp")
    trigger = directory / "trigger"
    quiet = ["test", str(directory), "--iface", quiet_iface, "--timeout", "1"]

    assert main(quiet) == 1
    assert "no event and no count in 1." in capsys.readouterr().err

    trigger.write_text("#!/bin/sh\necho 'no route to the moon' >&2\nexit 4\n")
    assert main(quiet) == 1
    assert "exited with 4: no route to the moon" in capsys.readouterr().err

    trigger.chmod(0o644)
    assert main(quiet) == 1
    assert "is not an executable file" in capsys.readouterr().err

    trigger.unlink()
    assert main(quiet) == 1
    assert "add an executable ./trigger" in capsys.readouterr().err

    manifest = directory / "ebpf-hub.yaml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("output:")] + text[text.index("# Newest last") :])
    assert main(quiet) == 1
    assert "declares no output" in capsys.readouterr().err


# --- the whole path, per kind ---


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_new_author_ships_a_package(
    kind: str,
    tmp_path: Path,
    registry: RegistryServer,
    keys: Path,
    hub: Path,
    user_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = EXPECTED[kind]
    directory = init(tmp_path, kind)
    name = directory.name
    capsys.readouterr()

    # build: the object, the documents and the artifact config, as the artifact holds them
    assert main(["build", str(directory)]) == 0
    built = {p.name for p in (directory / "build").iterdir()}
    assert built == {f"{name}.bpf.o", "README.md", "LICENSE", "config.json"}
    assert "pins no commit" in capsys.readouterr().err

    # test: loads, attaches, triggers, and something appears
    assert main(["test", str(directory), "--json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["triggered"] >= 1
    [obj] = result["objects"]
    if expected.event is not None:
        assert obj["events"] >= 1 and isinstance(obj["firstEvent"], dict), obj  # any event
    else:
        assert all(count > 0 for count in obj["counts"].values()) and obj["counts"], obj

    # publish: refused until committed, then pushed, signed; a second run pushes nothing
    namespace = f"{registry.host}/authors"
    ledger = tmp_path / "digests.json"
    publish = [
        "publish",
        str(directory),
        "--registry",
        namespace,
        "--insecure",
        "--sign-key",
        f"{keys}.key",
        "--ledger",
        str(ledger),
    ]
    assert main(publish) == 1
    assert "not in a git repository" in capsys.readouterr().err
    describe_package(directory, f"What the {kind} package of a new author shows")
    head = commit(directory)
    assert main([*publish, "--json"]) == 0
    pushed = json.loads(capsys.readouterr().out)
    assert pushed["pushed"] and pushed["reference"] == f"{namespace}/{name}:0.1.0"
    assert json.loads(ledger.read_text())[name]["0.1.0"]["digest"] == pushed["digest"]
    assert main(publish) == 0
    assert f"unchanged {namespace}/{name}:0.1.0 {pushed['digest']}" in capsys.readouterr().err

    # submit: the index entry, pinned to HEAD with the remote's https URL, valid in the hub
    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 0
    assert "is on no branch of origin" in capsys.readouterr().err  # never pushed here
    entry = (hub / "index" / "packages" / f"{name}.yaml").read_text()
    assert f"git: https://github.com/alice/{name}.git" in entry and f"commit: {head}" in entry
    assert main(["validate", "--root", str(hub)]) == 0, capsys.readouterr().out

    # install and run it from the registry, through the hub's JSON index
    site = tmp_path / "site"
    index = ["index", "--root", str(hub), "--out", str(site), "--registry", namespace]
    assert main([*index, "--digests", str(ledger)]) == 0
    client = ["--hub", str(site), "--registry", namespace, "--public-key", f"{keys}.pub"]
    assert main(["install", name, *client]) == 0, capsys.readouterr().err
    run = [EBPF_HUB, "run", name, *client, "--json", "--yes", "--interval", "0.5"]
    output = watch(
        [*run, *(["--iface", "lo"] if expected.iface else [])],
        expected,
        json_seen(expected),
        user_env,
        program_names(directory),
    )
    assert output.strip()


# --- user-space loaders, per kind and language ---


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_loader_builds_and_shows_the_output(
    kind: str,
    language: str,
    tmp_path: Path,
    loader_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    expected = EXPECTED[kind]
    directory = init(tmp_path, kind, language)
    name = directory.name
    if language == "python":
        subprocess.run([EBPF_HUB, "build", str(directory)], check=True, capture_output=True)
        command = [sys.executable, str(directory / "python" / f"{name.replace('-', '_')}.py")]
        seen = json_seen(expected)
    else:
        make = make_loader(directory, language, toolchain_env(language, request))
        assert make.returncode == 0, make.stdout + make.stderr
        command = [str(directory / language / name)]
        seen = json_seen(expected) if language in JSON_LOADERS else text_seen(expected)

    command += ["-t", "0.3", *(["-i", "lo"] if expected.iface else [])]
    watch(command, expected, seen, loader_env, program_names(directory))


# --- the Rust loader: parameters, bad input, TC beside a qdisc it did not make ---


@pytest.mark.slow
def test_the_rust_loader_sets_parameters_and_refuses_bad_input(
    tmp_path: Path, loader_env: dict[str, str]
) -> None:
    expected = EXPECTED["tracepoint"]
    directory = init(tmp_path, "tracepoint", "rust")
    commit(directory)
    made = make_loader(directory, "rust", loader_env)
    assert made.returncode == 0, made.stdout + made.stderr
    assert git(directory, "status", "--porcelain") == ""  # what it built is ignored: publishable
    loader = str(directory / "rust" / directory.name)

    # -p sets a `const volatile` global before load: only this process's children show
    own = [loader, "-p", f"target_ppid={os.getpid()}"]
    output = watch(own, expected, json_seen(expected), loader_env, program_names(directory))
    events = [json.loads(line) for line in output.splitlines()]
    assert events and all(e["filename"] == "/bin/true" for e in events), output

    for argv, status, message in [
        (["-p", "nope=1"], 1, "-p nope: no such parameter; the object has: target_ppid"),
        (["-p", "target_ppid=pid"], 1, "-p target_ppid=pid: not a value of its type (4 bytes)"),
        (["-p", "target_ppid"], 2, "-p target_ppid: write NAME=VALUE"),
        (["-i", "ebpfhub-none"], 2, "-i ebpfhub-none: no such interface"),
        (["-x"], 2, "unknown option -x"),
    ]:
        run = subprocess.run([loader, *argv], capture_output=True, text=True, check=False)
        assert (run.returncode, run.stdout) == (status, ""), run.stderr
        assert message in run.stderr.splitlines()[0], run.stderr


@pytest.mark.slow
def test_the_rust_loader_attaches_tc_beside_what_was_there(
    tmp_path: Path, quiet_iface: str, loader_env: dict[str, str]
) -> None:
    directory = init(tmp_path, "tc", "rust")
    made = make_loader(directory, "rust", loader_env)
    assert made.returncode == 0, made.stdout + made.stderr
    loader = str(directory / "rust" / directory.name)
    before = loaded_programs()

    run = subprocess.run([loader, "-d", "0.2"], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "tc_ingress attaches to an interface: give it with -i IFACE" in run.stderr

    # a clsact qdisc someone else made: the loader adds its filter, then removes only that
    subprocess.run(["tc", "qdisc", "add", "dev", quiet_iface, "clsact"], check=True)
    run = subprocess.run(
        [loader, "-i", quiet_iface, "-d", "0.2"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr

    def tc(*args: str) -> str:
        return subprocess.run(["tc", *args], capture_output=True, text=True, check=True).stdout

    assert tc("filter", "show", "dev", quiet_iface, "ingress") == ""
    assert "qdisc clsact" in tc("qdisc", "show", "dev", quiet_iface)
    assert left_loaded(before, program_names(directory)) == {}


# --- submit ---


def test_submit_adds_a_version_and_keeps_the_published_ones(
    tmp_path: Path, hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "submitted"
    directory = tmp_path / name
    assert main(["init", str(directory), "--template", "tp_btf"]) == 0
    manifest = directory / "ebpf-hub.yaml"
    describe_package(directory, "Process exits as bob sees them")
    first = commit(directory, owner="bob")
    git(directory, "update-ref", "refs/remotes/origin/main", first)  # as if pushed
    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 0
    assert "warning" not in capsys.readouterr().err

    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 1
    assert "0.1.0 is already in the hub" in capsys.readouterr().err

    created = re.search(r'created: "([0-9-]+)"', manifest.read_text())
    assert created is not None
    release = f'  - version: 0.2.0\n    created: "{created[1]}"\n    changes: Shows more.\n'
    manifest.write_text(manifest.read_text() + release)
    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 1
    assert "uncommitted changes" in capsys.readouterr().err
    git(directory, "commit", "-q", "-am", "0.2.0")
    second = git(directory, "rev-parse", "HEAD").strip()
    entry = hub / "index" / "packages" / f"{name}.yaml"
    before = entry.read_text()
    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 0
    after = entry.read_text()
    assert after.startswith(before.split("  - version: 0.1.0")[0])
    assert f"commit: {first}" in after and f"commit: {second}" in after
    assert after.index("0.1.0") < after.index("0.2.0")
    assert main(["validate", "--root", str(hub), str(entry)]) == 0


def test_submit_leaves_the_hub_as_it_was_when_the_entry_is_invalid(
    tmp_path: Path, hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "miscategorised"
    assert main(["init", str(directory), "--template", "xdp"]) == 0
    manifest = directory / "ebpf-hub.yaml"
    manifest.write_text(manifest.read_text().replace("[networking]", "[packets]"))
    commit(directory)
    assert main(["submit", str(directory), "--hub-root", str(hub)]) == 1
    err = capsys.readouterr().err
    assert "categories[0]: unknown category 'packets'" in err and "was not written" in err
    assert not (hub / "index" / "packages" / f"{directory.name}.yaml").exists()


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("https://github.com/alice/x.git", "https://github.com/alice/x.git"),
        ("git@github.com:alice/x.git", "https://github.com/alice/x.git"),
        ("ssh://git@gitlab.com:2222/group/x", "https://gitlab.com/group/x"),
    ],
)
def test_remote_urls_become_https(remote: str, url: str) -> None:
    assert https_url(remote) == url


def test_a_local_remote_is_refused() -> None:
    from ebpf_hub.errors import HubError

    with pytest.raises(HubError, match="not https or ssh"):
        https_url("/srv/git/x.git")
