"""`ebpf-hub run NAME` of an installed package starts from its record alone: no settings, no
network stack (HTTP, OCI, signatures), no YAML or JSON Schema. Installing is what needs them,
and a run that must install still loads them (benchmarks/first_event.py measures the start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from artifactconfig import artifact_config

# What a run of an installed package must not import: each is a start-up cost it has no use for.
NOT_ON_THE_WARM_PATH = (
    "ebpf_hub.client.settings",
    "ebpf_hub.client.hubindex",
    "ebpf_hub.httpclient",
    "ebpf_hub.oci.registry",
    "http.client",
    "cryptography",
    "yaml",
    "jsonschema_rs",
)
SETTINGS_CALLED = "settings were loaded"

# Opens `sys.argv[1]` as `ebpf-hub run` does; settings raise, to show whether they were needed.
PROBE = f"""
import json, sys
from ebpf_hub.run.target import open_target

def settings():
    raise SystemExit({SETTINGS_CALLED!r})

with open_target(sys.argv[1], settings) as target:
    loaded = [name for name in {NOT_ON_THE_WARM_PATH!r} if name in sys.modules]
    print(json.dumps({{"label": target.label, "loaded": loaded}}))
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A user with `demo` 1.0.0 installed (a record as `ebpf-hub install` commits it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBPF_HUB_")}
    env["EBPF_HUB_HOME"] = str(tmp_path / "home")
    code = """
import json, sys
from ebpf_hub.client.installed import version_dir, write_record
from ebpf_hub.model.artifact import ArtifactConfig

config = ArtifactConfig.from_json(json.loads(sys.argv[1]))
directory = version_dir("demo", "ab" * 32)
directory.mkdir()
(directory / "demo.bpf.o").write_bytes(b"not loaded by this test")
write_record(
    directory, config, [directory / "demo.bpf.o"], name="demo", version="1.0.0",
    digest="sha256:" + "ab" * 32, installed="2026-01-01T00:00:00Z",
    reference="oci:/nowhere/demo@sha256:" + "ab" * 32, verified=True,
)
"""
    config = json.dumps(artifact_config("demo", "1.0.0", ("demo.bpf.o",)))
    subprocess.run([sys.executable, "-c", code, config], env=env, check=True)
    return env


def _open(spec: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, spec], env=env, capture_output=True, text=True, check=False
    )


def test_an_installed_package_opens_without_settings_or_network_stack(
    home: dict[str, str],
) -> None:
    for spec in ("demo", "demo@1", "demo@1.0.0"):
        result = _open(spec, home)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"label": "demo@1.0.0", "loaded": []}
        assert "demo 1.0.0: not tested on the hub's kernel matrix" in result.stderr


def test_a_version_not_installed_needs_the_settings_to_install(home: dict[str, str]) -> None:
    result = _open("demo@2", home)
    assert result.returncode != 0
    assert SETTINGS_CALLED in result.stderr
