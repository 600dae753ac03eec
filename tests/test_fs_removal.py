"""`remove_entry` removes what the client made and never what a link planted in it points to:
each level of a directory is opened relative to its parent with O_NOFOLLOW (the walk that
replaces shutil.rmtree's `dir_fd`, which Python 3.9 lacks)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebpf_hub.fsutil import remove_entry


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A directory of the client's, open, and someone else's files beside it."""
    (tmp_path / "victim" / "deep").mkdir(parents=True)
    (tmp_path / "victim" / "precious.txt").write_text("keep me\n")
    (tmp_path / "victim" / "deep" / "also.txt").write_text("keep me too\n")
    (tmp_path / "ours").mkdir()
    fd = os.open(tmp_path / "ours", os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield tmp_path, fd
    finally:
        os.close(fd)


def victim_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / "victim").rglob("*"))


def test_a_tree_with_links_planted_at_every_depth_goes_and_their_targets_stay(
    directory: tuple[Path, int],
) -> None:
    root, fd = directory
    tree = root / "ours" / "download"
    (tree / "a" / "b" / "c").mkdir(parents=True)
    (tree / "a" / "b" / "c" / "blob").write_bytes(b"x" * 4096)
    (tree / "top-file").write_text("ours\n")
    (tree / "link-to-dir").symlink_to(root / "victim")
    (tree / "a" / "link-to-file").symlink_to(root / "victim" / "precious.txt")
    (tree / "a" / "b" / "c" / "link-deep").symlink_to(root / "victim" / "deep")
    (tree / "a" / "b" / "dangling").symlink_to(root / "nowhere")
    before = victim_files(root)

    remove_entry(fd, "download")

    assert not os.path.lexists(tree)
    assert victim_files(root) == before == ["victim/deep", "victim/deep/also.txt",
                                            "victim/precious.txt"]  # fmt: skip
    assert (root / "victim" / "precious.txt").read_text() == "keep me\n"


def test_a_link_in_the_place_of_the_entry_is_unlinked_not_followed(
    directory: tuple[Path, int],
) -> None:
    root, fd = directory
    (root / "ours" / "download").symlink_to(root / "victim")
    before = victim_files(root)

    remove_entry(fd, "download")

    assert not os.path.lexists(root / "ours" / "download")
    assert victim_files(root) == before


def test_a_missing_entry_is_no_error(directory: tuple[Path, int]) -> None:
    root, fd = directory
    remove_entry(fd, "never-made")
    assert list((root / "ours").iterdir()) == []
