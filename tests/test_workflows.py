"""The GitHub Actions workflows: clean under actionlint and zizmor, and held to the hub's rules.

The rules keep CI reviewable and safe: workflows only call scripts (so CI does nothing a
developer cannot run), actions are pinned by commit, tokens get the least privilege, and no
`${{ }}` expression is ever expanded into a shell script (template injection).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
LINT = REPO / "scripts" / "lint-workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))

# One script and its arguments: no chaining, pipes, redirections or command substitution.
SCRIPT_CALL = re.compile(r"scripts/[a-z][a-z0-9-]*(?: [^;&|<>`()\n]*)?")
# `uses: OWNER/REPO[/PATH]@SHA # vX.Y.Z`, the version comment saying what the SHA is.
PINNED_USES = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")
READ_ONLY = {"read", "none"}


def load(path: Path) -> dict[str, Any]:
    """The workflow as data, with its `on` key back (YAML 1.1 reads a bare `on` as True)."""
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def lint(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), str(directory)], capture_output=True, text=True, check=False, timeout=300
    )


def test_the_hub_has_its_three_workflows() -> None:
    names = [path.name for path in WORKFLOW_FILES]
    assert names == ["publish.yml", "release.yml", "validate.yml"]


def test_actionlint_and_zizmor_find_nothing() -> None:
    result = lint(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All workflow files passed lint checks" in result.stdout  # actionlint
    assert "No findings to report" in result.stdout  # zizmor


def test_an_injected_expression_fails_both_linters(tmp_path: Path) -> None:
    for path in WORKFLOW_FILES:
        shutil.copy(path, tmp_path)
    validate = tmp_path / "validate.yml"
    text = validate.read_text()
    safe_step = 'run: scripts/validate --base "$BASE"'
    assert safe_step in text
    validate.write_text(text.replace(safe_step, "run: echo ${{ github.event.pull_request.title }}"))

    result = lint(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout
    assert "template-injection" in result.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_run_step_is_one_script_call(path: Path) -> None:
    runs = [step["run"] for step in steps(load(path)) if "run" in step]
    assert runs
    for run in runs:
        assert "\n" not in run.strip(), run
        assert SCRIPT_CALL.fullmatch(run.strip()), run
        assert "${{" not in run, run


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_by_commit(path: Path) -> None:
    uses_lines = [line.strip(" -") for line in path.read_text().splitlines() if "uses:" in line]
    assert len(uses_lines) == sum("uses" in step for step in steps(load(path)))
    for line in uses_lines:
        assert PINNED_USES.fullmatch(line), line


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_checkouts_keep_no_credentials_and_jobs_time_out(path: Path) -> None:
    workflow = load(path)
    for job in workflow["jobs"].values():
        assert isinstance(job["timeout-minutes"], int)
    checkouts = [
        step for step in steps(workflow) if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_top_level_permissions_are_read_only(path: Path) -> None:
    permissions = load(path)["permissions"]
    assert isinstance(permissions, dict)
    assert set(permissions.values()) <= READ_ONLY


def test_pull_requests_get_no_secrets_and_no_write_access() -> None:
    workflow = load(WORKFLOWS / "validate.yml")
    assert "secrets." not in (WORKFLOWS / "validate.yml").read_text()
    assert all("permissions" not in job for job in workflow["jobs"].values())
    assert list(workflow["on"]) == ["pull_request"]


def test_publish_runs_one_at_a_time_with_least_privilege_per_job() -> None:
    workflow = load(WORKFLOWS / "publish.yml")
    assert workflow["concurrency"] == {"group": "publish", "cancel-in-progress": False}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["publish"]["permissions"] == {"contents": "read", "packages": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "publish"
