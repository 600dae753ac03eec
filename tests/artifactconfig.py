"""A small artifact config of the shape `ebpf-hub build` writes, for tests that make artifacts
by hand: the client checks every config it pulls against schema/artifact-config.schema.json."""

from __future__ import annotations

from typing import Any


def artifact_config(name: str, version: str, objects: tuple[str, ...] = ("probe.bpf.o",)) -> Any:
    return {
        "configVersion": 1,
        "name": name,
        "version": version,
        "summary": f"The {name} package of a test",
        "license": "GPL-2.0-only",
        "created": "2026-01-01",
        "source": {"path": f"sources/{name}", "tree": "sha256:" + "0" * 64},
        "requires": {"kernel": "5.8"},
        "permissions": {"attach": ["tracepoint"]},
        "output": {"events": True},
        "objects": [{"file": file, "parameters": [], "programs": []} for file in objects],
        "build": {
            "compiler": "clang version 19",
            "flags": ["-O2"],
            "arch": "x86_64",
            "vmlinuxBtfSha256": "0" * 64,
        },
    }
