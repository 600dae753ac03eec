"""Where eBPF Hub keeps its files: XDG directories, or one tree under $EBPF_HUB_HOME (tests)."""

from __future__ import annotations

import os
from pathlib import Path


def _base(xdg_variable: str, default: str, leaf: str) -> Path:
    home = os.environ.get("EBPF_HUB_HOME")
    if home:
        return Path(home) / leaf
    root = os.environ.get(xdg_variable) or str(Path.home() / default)
    return Path(root) / "ebpf-hub"


def cache_dir() -> Path:
    """Re-creatable data: downloaded blobs, the generated vmlinux.h, HTTP caches."""
    return _base("XDG_CACHE_HOME", ".cache", "cache")


def data_dir() -> Path:
    """What the user installed: packages and their state."""
    return _base("XDG_DATA_HOME", ".local/share", "data")


def config_dir() -> Path:
    """The user's configuration file lives here."""
    return _base("XDG_CONFIG_HOME", ".config", "config")
