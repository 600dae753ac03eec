"""Run a command with its stderr on a real terminal (a pty), as a person would see it."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence


def stderr_on_terminal(
    command: Sequence[str], env: Mapping[str, str], columns: int
) -> tuple[int, str]:
    """Run `command` with stderr on a `columns`-wide pty: (exit status, what it showed)."""
    control, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=terminal, env=dict(env)
    ) as process:
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(control, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=60)
    os.close(control)
    return code, shown.decode(errors="replace")
