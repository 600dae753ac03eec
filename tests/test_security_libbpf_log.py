"""libbpf's own warnings quote names from the object, which its author chose: escaped."""

from __future__ import annotations

import logging

import pytest

from ebpf_hub.run import loader


def test_a_libbpf_warning_outside_a_load_reaches_the_log_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile = "libbpf: prog 'x\x1b[8m': failed\x1b]0;pwned\x07\nlibbpf: second line\n"
    with caplog.at_level(logging.WARNING, logger=loader.__name__):
        loader._on_libbpf_message(0, hostile)
    (record,) = caplog.records
    assert record.getMessage() == (
        "libbpf: prog 'x\\x1b[8m': failed\\x1b]0;pwned\\x07\nlibbpf: second line"
    )
