"""Every seed package with a trigger, as its author and its user meet it (root).

Each seed is built once from `sources/NAME` with its index entry; `ebpf-hub test`'s check
(load, attach, run ./trigger, see output) must pass on the built objects; then the unpacked
artifact runs through `ebpf-hub run --json` in each of its modes while the trigger runs, and
what it prints must be readable: a field with an errno, signal or flags format never shows
the raw number, and no column is empty in every event. Nothing may stay loaded.

A seed built on kprobes meets a kernel without them here: both commands must then refuse it
with that reason, having loaded nothing (the kernel-matrix guests run it for real).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebpf_hub.build.package import BuiltVersion, build_sources
from ebpf_hub.develop.livetest import TRIGGER, live_test
from ebpf_hub.errors import HubError
from ebpf_hub.index.config import PACKAGES_DIR
from ebpf_hub.index.document import load_document
from ebpf_hub.model.outputformat import FieldFormat
from ebpf_hub.model.package import Package
from ebpf_hub.run.host import has_kprobes
from ebpf_hub.run.target import ARTIFACT_CONFIG_FILE
from hubrepo import REPO
from test_run import EBPF_HUB, Runner

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading eBPF needs root"),
]

SEEDS = sorted(
    path.parent.name
    for path in (REPO / "sources").glob(f"*/{TRIGGER}")
    if (REPO / PACKAGES_DIR / f"{path.parent.name}.yaml").is_file()
)

# Formats whose whole point is to replace a number by a name: a raw number left in their
# text means the reader gets 4096 instead of MS_BIND. Zero may stay "0" (no flag, no signal),
# and an errno field's non-negative values are counts or descriptors, not errors.
NAMING_FORMATS = {"errno", "signal", "flags"}
NUMBER = re.compile(r"-?\d+")
NETWORK_HOOKS = {"xdp", "tc"}  # attached to an interface: the loopback sees the triggers


@pytest.fixture(scope="module", params=SEEDS)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BuiltVersion, Path]]:
    """One build per seed from `sources/NAME` and its index entry, as `ebpf-hub build NAME`
    does, into an unpacked artifact (objects and config.json) that `run` reads."""
    entry = REPO / PACKAGES_DIR / f"{request.param}.yaml"
    package = Package.from_json(load_document(entry, str(PACKAGES_DIR / entry.name)).data)
    out = tmp_path_factory.mktemp(request.param)
    sources = REPO / "sources" / package.name
    version = build_sources(sources, package, package.versions[-1], out, metadata=entry)
    (out / ARTIFACT_CONFIG_FILE).write_text(json.dumps(version.config.to_json()))
    yield version, out


def _sources(version: BuiltVersion) -> Path:
    return REPO / "sources" / version.package.name


def _refused_here(version: BuiltVersion) -> bool:
    """Whether this host lacks a hook kind the seed needs (kprobes: this kernel has none)."""
    permissions = version.config.permissions
    return permissions is not None and "kprobe" in permissions.attach and not has_kprobes()


def test_the_seed_passes_ebpf_hub_test(built: tuple[BuiltVersion, Path]) -> None:
    version, _ = built
    if _refused_here(version):
        with pytest.raises(HubError, match="no kprobes"):
            live_test(_sources(version), version)
        return
    result = live_test(_sources(version), version)
    assert result.ok, f"{result.label}: no output in {result.seconds:.1f} s: {result.to_json()}"


def _modes(version: BuiltVersion) -> list[str | None]:
    modes = version.config.choices.modes
    return [mode.name for mode in modes] if modes else [None]


def _run_args(version: BuiltVersion, out: Path, mode: str | None) -> list[str]:
    attach = set(version.config.permissions.attach if version.config.permissions else ())
    iface = ["--iface", "lo"] if attach & NETWORK_HOOKS else []
    return [f"{out}/", "--json", "--yes", *iface, *(["--mode", mode] if mode else [])]


_ABSENT = object()


def _lookup(event: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path (`mount.flags`), or _ABSENT when a part is missing."""
    value: Any = event
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _raw_number_left(fmt: FieldFormat, raw: Any, text: str) -> bool:
    if fmt.format not in NAMING_FORMATS or not isinstance(raw, int) or raw == 0:
        return False
    if fmt.format == "errno" and (raw > 0) != (fmt.sign == "positive"):
        return False  # a count or a descriptor, printed as such
    return NUMBER.fullmatch(text.strip()) is not None


def _assert_readable(
    label: str, records: list[dict[str, Any]], formats: dict[str, FieldFormat]
) -> None:
    """Each formatted field has its text, never the raw number a naming format replaces;
    no string or array column is empty in every event."""
    shown = {name: fmt for name, fmt in formats.items() if fmt.format != "hidden"}
    for record in records:
        texts = record.get("formatted", {})
        for name, fmt in shown.items():
            raw = _lookup(record["event"], name)
            if raw is _ABSENT:
                continue  # a member of a union its tag did not choose
            assert name in texts, f"{label}: {name} has a format but no text: {record}"
            assert not _raw_number_left(fmt, raw, str(texts[name])), (
                f"{label}: {name} printed as the raw number {texts[name]!r}: {record}"
            )
    events = [record["event"] for record in records]
    for field, value in events[0].items():
        if field in formats.keys() - shown.keys() or not isinstance(value, (str, list)):
            continue
        assert any(event.get(field) not in (None, "", []) for event in events), (
            f"{label}: column {field} is empty in all {len(events)} events"
        )


def test_the_seed_prints_readable_output(built: tuple[BuiltVersion, Path], tmp_path: Path) -> None:
    version, out = built
    output = version.config.output
    assert output is not None
    trigger = _sources(version) / TRIGGER
    env = {**os.environ, "EBPF_HUB_HOME": str(tmp_path / "home")}
    if _refused_here(version):
        refused = subprocess.run(
            [EBPF_HUB, "run", f"{out}/", "--yes"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode == 1, refused.stderr
        assert "nothing was loaded" in refused.stderr and "no kprobes" in refused.stderr
        return
    for mode in _modes(version):
        label = f"{version.package.name} (mode {mode or 'default'})"
        with Runner(_run_args(version, out, mode), env) as run:
            subprocess.run([str(trigger)], cwd=trigger.parent, check=True, capture_output=True)
            if output.events:
                run.wait_until(lambda: bool(run.events()), 15, f"an event of {label}")
            run.stop()
        if output.events:
            records = [record for record in run.records() if "event" in record]
            _assert_readable(label, records, dict(output.fields or ()))
        else:
            finals = [run.maps(m.map)[-1]["entries"] for m in output.output_maps]
            assert any(finals), f"{label}: every output map is empty at the end"
