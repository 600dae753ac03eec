"""URL fields are URLs (issue #11): `format: uri` enforced by both validators, then explained.

`format` is only an annotation in JSON Schema 2020-12 unless the validator is told to check
it, so `https://x.example/"><script>` used to pass the `^https://` pattern and validate.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from ebpf_hub.cli import main
from ebpf_hub.index import schema as index_schema
from ebpf_hub.index.document import parse_document
from ebpf_hub.index.jsonindex import package_entry
from ebpf_hub.model.package import Package
from ebpf_hub.schemas import compiled_validator as hubindex_validator
from ebpf_hub.schemas import load_schema
from hubrepo import SAMPLE, make_hub, write_package

BREAKOUT = 'https://x.example/"><script>alert(1)</script>'
HOMEPAGE = "homepage: https://example.org/sample"
GIT = "  git: https://example.org/sample.git"
HINT = "Percent-encode spaces, quotes and angle brackets (%20, %22, %3C, %3E)"


def _validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    hub = make_hub(tmp_path / "hub")
    write_package(hub, "sample", text)
    code = main(["validate", "--root", str(hub)])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        (6, "homepage", BREAKOUT),
        (6, "homepage", "https://x.example/a b"),
        (6, "homepage", "https://x.example/<svg/onload=alert(1)>"),
        (14, "source.git", BREAKOUT),
        (14, "source.git", 'https://x.example/a"onmouseover="alert(1)'),
    ],
)
def test_a_url_that_breaks_out_of_an_attribute_fails_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: int, field: str, value: str
) -> None:
    old = HOMEPAGE if field == "homepage" else GIT
    key = old.split(":", 1)[0]
    code, output = _validate(tmp_path, capsys, SAMPLE.replace(old, f"{key}: {value!r}"))
    assert code == 1
    expected = f"index/packages/sample.yaml:{line}: {field}: {value!r} is not a valid URL (hint: "
    [problem] = [o for o in output.splitlines() if o.startswith(expected)]
    assert problem.endswith(f"{HINT})")


@pytest.mark.parametrize("value", ["javascript:alert(1)", "http://example.org/", "data:,x"])
def test_a_homepage_must_be_https(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, output = _validate(tmp_path, capsys, SAMPLE.replace(HOMEPAGE, f"homepage: {value!r}"))
    assert code == 1
    assert f"sample.yaml:6: homepage: {value!r} is not in the expected form" in output


def test_an_ordinary_url_with_query_fragment_and_escapes_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://example.org/a%20b/c?d=e&f=g#h"
    code, output = _validate(tmp_path, capsys, SAMPLE.replace(HOMEPAGE, f"homepage: {url}"))
    assert code == 0, output


def _entry(**changes: object) -> dict[str, object]:
    """The JSON index entry (api/v1/packages/NAME.json) of SAMPLE with `changes`."""
    package = Package.from_json({**yaml.safe_load(SAMPLE), **changes})
    return package_entry(package, "registry.example/hub", {})


@pytest.mark.parametrize(
    "changes",
    [{"homepage": BREAKOUT}, {"source": {"git": BREAKOUT}}],
    ids=["homepage", "git"],
)
def test_the_client_refuses_an_index_entry_whose_url_breaks_out(changes: dict[str, object]) -> None:
    """The client checks what a hub serves with the same schema formats as `validate`."""
    validator = hubindex_validator("package-index.schema.json")
    assert validator.is_valid(_entry())
    assert not validator.is_valid(_entry(**changes))


def test_a_file_the_fast_validator_refuses_is_never_passed_unexplained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the reference validator miss what jsonschema-rs refuses (say, without the
    package that checks URLs for it), the file still fails, with the fast validator's reason."""
    data = yaml.safe_load(SAMPLE.replace(HOMEPAGE, f"homepage: {BREAKOUT!r}"))
    text = yaml.safe_dump(data, sort_keys=False)
    document = parse_document(text.encode(), "index/packages/sample.yaml")
    blind = Draft202012Validator(load_schema("package.schema.json"))
    monkeypatch.setattr(index_schema, "validator", lambda name: blind)
    [problem] = index_schema.schema_problems(document)
    assert problem.field == "homepage" and '"uri"' in problem.message
