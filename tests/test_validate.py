"""`ebpf-hub validate` on a good index and on a corpus of bad inputs, each with its message."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ebpf_hub.cli import main
from ebpf_hub.forked import SPLIT_AT
from ebpf_hub.index.config import load_config
from ebpf_hub.index.document import parse_document
from ebpf_hub.index.srchash import tree_hash
from ebpf_hub.index.validate import validate
from hubrepo import SAMPLE, git, in_repo_package, make_hub, write_package

REPO = Path(__file__).resolve().parent.parent


def run_validate(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", "--root", str(root), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    return make_hub(tmp_path / "hub")


def test_the_repository_index_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ebpf_hub.cli", "validate", "--root", str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all valid" in result.stderr
    assert len(list((REPO / "index" / "packages").glob("*.yaml"))) >= 3


def test_sample_is_valid(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(hub, "sample", SAMPLE)
    code, output = run_validate(hub, capsys=capsys)
    assert code == 0, output
    assert "checked 1 package file(s): all valid" in output


# (case id, text to replace in SAMPLE, replacement, expected "LINE: FIELD: MESSAGE" fragment)
CASES = [
    (
        "unknown-top-key",
        "keywords:",
        "colour: red\nkeywords:",
        "12: colour: unknown field 'colour'",
    ),
    (
        "unknown-version-key",
        "    changes: Adds the uid",
        "    changes: Adds the uid\n    arch: x",
        "36: versions[1].arch: unknown field 'arch'",
    ),
    (
        "missing-summary",
        "summary: Count sample events per process for testing\n",
        "",
        "(file): missing required field 'summary'",
    ),
    ("summary-too-long", "summary: Count", "summary: " + "x" * 90 + " Count", "2: summary: "),
    (
        "version-as-float",
        "version: 1.0.0",
        "version: 1.0",
        "versions[0].version: expected a string, got number 1.0",
    ),
    (
        "bad-semver",
        "version: 1.1.0",
        "version: 1.1.x",
        "32: versions[1].version: '1.1.x' is not a semantic version",
    ),
    (
        "semver-order",
        "version: 1.1.0",
        "version: 0.9.0",
        "versions[1].version: 0.9.0 is not newer than 1.0.0",
    ),
    (
        "duplicate-version",
        "version: 1.1.0",
        "version: 1.0.0",
        "versions[1].version: version 1.0.0 listed twice",
    ),
    (
        "build-metadata",
        "version: 1.1.0",
        "version: 1.1.0+abc",
        "build metadata (+...) is not allowed",
    ),
    (
        "bad-spdx",
        "license: GPL-2.0-only",
        "license: GPL-2 or something",
        "5: license: not a valid SPDX expression",
    ),
    (
        "unknown-spdx-id",
        "license: GPL-2.0-only",
        "license: Frobnicate-1.0",
        "5: license: not a valid SPDX expression",
    ),
    (
        "unknown-category",
        "categories: [observability]",
        "categories: [observability, gaming]",
        "11: categories[1]: unknown category 'gaming'",
    ),
    (
        "too-many-categories",
        "categories: [observability]",
        "categories: [observability, security, process, memory]",
        "11: categories: ",
    ),
    (
        "name-mismatch",
        "name: sample",
        "name: other-name",
        "1: name: name 'other-name' differs from the file name 'sample'",
    ),
    (
        "name-uppercase",
        "name: sample",
        "name: Sample",
        "1: name: 'Sample' is not in the expected form",
    ),
    (
        "short-commit",
        "commit: 0123456789abcdef0123456789abcdef01234567",
        "commit: 0123456",
        "29: versions[0].commit: expected a string, got number 0123456",
    ),
    (
        "missing-commit",
        "    commit: 0123456789abcdef0123456789abcdef01234567\n",
        "",
        "versions[0]: missing 'commit'",
    ),
    (
        "tree-on-git-source",
        "    commit: 0123456789abcdef0123456789abcdef01234567\n",
        "    commit: 0123456789abcdef0123456789abcdef01234567\n    tree: sha256:" + "a" * 64 + "\n",
        "versions[0].tree: 'tree' does not apply to this source",
    ),
    (
        "both-sources",
        "  git: https://example.org/sample.git",
        "  git: https://example.org/sample.git\n  path: sources/sample",
        "source: give exactly one of `path` or `git`",
    ),
    ("http-git", "git: https://example.org", "git: http://example.org", "source.git: "),
    (
        "bad-date",
        'created: "2026-02-01"',
        'created: "2026-02-31"',
        "versions[1].created: '2026-02-31' is not a real date",
    ),
    (
        "future-date",
        'created: "2026-02-01"',
        'created: "2999-01-01"',
        "versions[1].created: 2999-01-01 is in the future",
    ),
    (
        "date-order",
        'created: "2026-02-01"',
        'created: "2025-02-01"',
        "versions[1].created: 2025-02-01 is older than the previous version's 2026-01-10",
    ),
    (
        "unknown-section",
        "section: tracepoint/syscalls/sys_enter_execve",
        "section: fooprobe/x",
        "22: programs[0].section: unknown section 'fooprobe/x'",
    ),
    (
        "undeclared-attach",
        "section: tracepoint/syscalls/sys_enter_execve",
        "section: xdp",
        "permissions.attach: program 'handle_exec' attaches to xdp, which permissions.attach does not list",
    ),
    (
        "unknown-helper",
        "attach: [tracepoint]",
        "attach: [tracepoint]\n  helpers: [bpf_evil]",
        "permissions.helpers[0]: 'bpf_evil' is not allowed",
    ),
    (
        "bad-kernel",
        'kernel: "5.8"',
        "kernel: 5.8",
        "requires.kernel: expected a string, got number 5.8",
    ),
    (
        "bad-capability",
        "CAP_PERFMON]",
        "CAP_CHOWN]",
        "requires.capabilities[1]: 'CAP_CHOWN' is not allowed",
    ),
    (
        "wrong-type-list",
        "keywords: [sample, test]",
        "keywords: sample",
        "keywords: expected a list, got string",
    ),
    (
        "duplicate-key",
        "keywords: [sample, test]",
        "keywords: [sample]\nkeywords: [test]",
        "13: keywords: duplicate key 'keywords'",
    ),
    (
        "alias",
        "keywords: [sample, test]",
        "keywords: &k [sample]\nextra: *k",
        "13: extra: YAML aliases (*name) are not allowed",
    ),
    (
        "python-tag",
        "license: GPL-2.0-only",
        "license: !!python/object/apply:os.system [ls]",
        "5: license: unsupported YAML tag",
    ),
    ("syntax-error", "keywords: [sample, test]", "keywords: [sample, test", "YAML syntax error"),
    ("tab-indent", "  - name: Test Maintainer", "\t- name: Test Maintainer", "YAML syntax error"),
    ("top-level-list", "name: sample\n", "- name: sample\n", "YAML syntax error"),
    ("reserved-name", "name: sample", "name: api", "1: name: 'api' is a reserved name"),
    (
        "duplicate-program",
        "permissions:",
        "  - name: handle_exec\n    section: tp/syscalls/sys_enter_openat\npermissions:",
        "programs[1].name: program 'handle_exec' listed twice",
    ),
    (
        "bad-email",
        "email: test@example.org",
        "email: not-an-email",
        "9: maintainers[0].email: 'not-an-email' is not in the expected form",
    ),
    (
        "no-maintainers",
        "maintainers:\n  - name: Test Maintainer\n    email: test@example.org\n    github: tester\n",
        "maintainers: []\n",
        "maintainers: [] should be non-empty",
    ),
    (
        "yanked-empty",
        "    changes: First release",
        "    changes: First release\n    yanked: ''",
        "versions[0].yanked: '' is too short",
    ),
]


@pytest.mark.parametrize(("case", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported(
    hub: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    old: str,
    new: str,
    expected: str,
) -> None:
    assert old in SAMPLE, f"case {case} replaces text that is not in SAMPLE"
    name = "api" if case == "reserved-name" else "sample"
    write_package(hub, name, SAMPLE.replace(old, new, 1))
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    lines = [line for line in output.splitlines() if line.startswith("index/packages/")]
    assert any(expected in line for line in lines), output
    assert all("(hint: " in line for line in lines), output


def test_every_problem_is_reported_not_only_the_first(
    hub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        SAMPLE.replace("version: 1.1.0", "version: 0.1.0")
        .replace("license: GPL-2.0-only", "license: Nope-1")
        .replace("[observability]", "[nope]")
    )
    write_package(hub, "sample", text)
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert "not a valid SPDX" in output and "unknown category" in output and "not newer" in output


@pytest.mark.parametrize(
    ("case", "content", "expected"),
    [
        ("binary-garbage", bytes(range(256)) * 4, "file is binary, not YAML text"),
        ("not-utf8", b"name: caf\xe9\n", "1: (file): not UTF-8 text (byte 0xe9)"),
        (
            "huge-file",
            b"description: '" + b"x" * (50 * 1024 * 1024) + b"'\n",
            "file is larger than 1024 KiB",
        ),
        ("empty", b"", "1: (file): file is empty"),
        (
            "billion-laughs",
            b"a: &a [x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((c, c) + (c - 1,) * 9)
                for c in range(ord("b"), ord("k"))
            ),
            "YAML aliases (*name) are not allowed",
        ),
        ("deep-nesting", b"a: " + b"[" * 100 + b"]" * 100 + b"\n", "nested deeper than 32 levels"),
        (
            "multi-document",
            SAMPLE.encode() + b"---\n" + SAMPLE.encode(),
            "but found another document",
        ),
        ("scalar-document", b"just a string\n", "expected a mapping of fields at the top level"),
        ("integer-key", b"1: x\n", "1: (file): keys must be plain strings"),
    ],
)
def test_hostile_files_get_a_clear_message(
    hub: Path, capsys: pytest.CaptureFixture[str], case: str, content: bytes, expected: str
) -> None:
    (hub / "index" / "packages" / "sample.yaml").write_bytes(content)
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert expected in output, output
    assert len([line for line in output.splitlines() if line.startswith("index/")]) == 1


@pytest.mark.parametrize(
    "text",
    [
        *("0123", "0o17", "0x1F", "1_000", "+12", "-3", "1:20", "0b101", "190:20:30"),
        *(".5", "-.inf", "1e3", "6.8523015e+5", "1.0.0", "1.0", "-1.5"),
        *("", "~", "null", "Null", "NULL", "nul"),
        *("yes", "No", "on", "OFF", "true", "False", "y", "n", "tru"),
        *("x86_64", "'0123'", '"true"', "'null'", "|\n  block\n"),
        *("2026-01-10", "2001-12-14t21:59:43.10-05:00", "2026-1-1"),
    ],
)
def test_values_are_read_as_yaml_safe_load_reads_them(text: str) -> None:
    """Our tag resolution is PyYAML's, minus what a safe loader never uses: same values."""
    source = f"value: {text}\n"
    value = parse_document(source.encode(), "t.yaml").data["value"]
    expected = yaml.safe_load(source)["value"]
    if isinstance(expected, dt.date):  # dates stay text: JSON has no date type
        expected = text
    assert (type(value), value) == (type(expected), expected)


def test_other_extension_is_reported(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(hub, "sample", SAMPLE)
    (hub / "index" / "packages" / "other.yml").write_text(SAMPLE)
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert "index/packages/other.yml:1: (file): package files must end in .yaml" in output


def test_confusable_names(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(hub, "sample", SAMPLE)
    write_package(hub, "sam-ple", SAMPLE.replace("name: sample", "name: sam-ple"))
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert "is too close to existing package" in output


def test_in_repo_source_must_match_its_hash(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    in_repo_package(hub, "sample", "sha256:" + "0" * 64)
    actual = tree_hash(hub / "sources" / "sample")
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert (
        f"versions[1].tree: sources/sample does not match the pinned hash of 1.1.0 (hint: if the sources changed, add a new version with tree: {actual})"
        in output
    )
    in_repo_package(hub, "sample", actual)
    assert run_validate(hub, capsys=capsys)[0] == 0


def test_in_repo_source_must_exist(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SAMPLE.replace("  git: https://example.org/sample.git", "  path: sources/sample")
    text = text.replace(
        "commit: 0123456789abcdef0123456789abcdef01234567", "tree: sha256:" + "1" * 64
    )
    text = text.replace(
        "commit: 89abcdef0123456789abcdef0123456789abcdef", "tree: sha256:" + "1" * 64
    )
    write_package(hub, "sample", text)
    code, output = run_validate(hub, capsys=capsys)
    assert code == 1
    assert "source.path: " in output and "source directory does not exist" in output


def test_json_report(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_package(hub, "sample", SAMPLE.replace("[observability]", "[nope]"))
    code = main(["validate", "--root", str(hub), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    assert report["problems"][0]["field"] == "categories[0]"
    assert report["problems"][0]["line"] == 11


def test_only_the_given_files(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_package(hub, "sample", SAMPLE)
    write_package(hub, "broken", "name: [")
    assert run_validate(hub, str(good), capsys=capsys)[0] == 0
    assert run_validate(hub, capsys=capsys)[0] == 1


class TestAgainstBase:
    """The diff-aware checks a pull request gets, in a real temporary git repository."""

    @pytest.fixture
    def repo(self, hub: Path) -> Path:
        git(hub, "init", "-q", "-b", "main")
        write_package(hub, "sample", SAMPLE)
        write_package(hub, "broken", "name: [")  # bad, but untouched by the pull request
        git(hub, "add", "-A")
        git(hub, "commit", "-q", "-m", "base")
        return hub

    def test_only_changed_files_are_checked(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_package(repo, "newpkg", SAMPLE.replace("name: sample", "name: newpkg"))
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 0, output
        assert "checked 1 package file(s)" in output

    def test_adding_a_version_is_fine(self, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write_package(
            repo,
            "sample",
            SAMPLE
            + "  - version: 1.2.0\n    commit: "
            + "c" * 40
            + '\n    created: "2026-03-01"\n    changes: More\n',
        )
        assert run_validate(repo, "--base", "main", capsys=capsys)[0] == 0

    def test_yanking_is_fine(self, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write_package(repo, "sample", SAMPLE + "    yanked: Crashes on 5.10\n")
        assert run_validate(repo, "--base", "main", capsys=capsys)[0] == 0

    def test_changing_a_published_commit_is_refused(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_package(
            repo, "sample", SAMPLE.replace("89abcdef0123456789abcdef0123456789abcdef", "f" * 40)
        )
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 1
        assert "33: versions[1].commit: published version 1.1.0 cannot change 'commit'" in output

    def test_changing_changes_text_is_refused(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_package(repo, "sample", SAMPLE.replace("Adds the uid", "Adds the gid"))
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 1 and "cannot change 'changes'" in output

    def test_removing_a_version_is_refused(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = SAMPLE.split("  - version: 1.1.0")[0]
        write_package(repo, "sample", text)
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 1 and "published version 1.1.0 was removed" in output

    def test_removing_a_package_is_refused(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (repo / "index" / "packages" / "sample.yaml").unlink()
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 1
        assert (
            "index/packages/sample.yaml:1: (file): package 'sample' was published and cannot be removed"
            in output
        )

    def test_renaming_a_package_is_refused(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        git(repo, "mv", "index/packages/sample.yaml", "index/packages/renamed.yaml")
        code, output = run_validate(repo, "--base", "main", capsys=capsys)
        assert code == 1 and "package 'sample' was published" in output

    def test_changed_sources_select_their_package(
        self, repo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        tree = tree_hash(_sources(repo))
        in_repo_package(repo, "inrepo", tree, source="int x;\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "add inrepo")
        (repo / "sources" / "inrepo" / "inrepo.bpf.c").write_text("int y;\n")
        code, output = run_validate(repo, "--base", "HEAD", capsys=capsys)
        assert code == 1
        assert "sources/inrepo does not match the pinned hash of 1.1.0" in output

    def test_unknown_base(self, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, output = run_validate(repo, "--base", "no-such-branch", capsys=capsys)
        assert code == 1
        assert (
            output.strip()
            == f"ebpf-hub: error: --base no-such-branch: no such git ref in {repo}; fetch it first"
        )


def _sources(root: Path) -> Path:
    src = root / "sources" / "inrepo"
    src.mkdir(parents=True, exist_ok=True)
    (src / "inrepo.bpf.c").write_text("int x;\n")
    return src


def test_a_large_index_is_checked_on_two_cores_with_the_same_report(hub: Path) -> None:
    """From SPLIT_AT files on, a forked child checks the second half: every problem and every
    package still comes back, in order, whichever half found it."""
    count = SPLIT_AT + 1
    names = [f"pkg-{i:04d}" for i in range(count)]
    for name in names:
        write_package(hub, name, SAMPLE.replace("name: sample", f"name: {name}"))
    first, second = names[3], names[-3]  # one in each half
    for name in (first, second):
        write_package(hub, name, SAMPLE.replace("name: sample", f"name: {name}X"))
    report = validate(load_config(hub))
    assert [p.name for p in report.packages] == [n for n in names if n not in (first, second)]
    assert [p.path for p in report.problems] == [
        f"index/packages/{first}.yaml",
        f"index/packages/{second}.yaml",
    ]
    assert all("is not in the expected form" in p.message for p in report.problems)
