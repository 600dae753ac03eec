"""A contributor's source tree may not reach outside itself through a symbolic link."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebpf_hub.errors import HubError
from ebpf_hub.index.srchash import tree_hash


def _secret_dir(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "id_rsa").write_text("PRIVATE KEY\n")
    return secret


def test_a_linked_source_directory_is_refused(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "sample").symlink_to(_secret_dir(tmp_path), target_is_directory=True)
    with pytest.raises(HubError, match=r"sources/sample: symbolic links are not allowed"):
        tree_hash(sources / "sample")


def test_a_linked_file_inside_the_sources_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "sources" / "sample"
    source.mkdir(parents=True)
    (source / "README.md").symlink_to(_secret_dir(tmp_path) / "id_rsa")
    with pytest.raises(HubError, match=r"README.md: symbolic links are not allowed"):
        tree_hash(source)
