"""The exception types the CLI turns into a single-line error and a non-zero exit.

Every module raises these, including ones imported on the fastest paths (`--help`, `list`)
and ones that must work on a host missing parts of the runtime (`doctor` without libbpf), so
this module imports nothing: not even the rest of `ebpf_hub`.
"""

from __future__ import annotations


class HubError(Exception):
    """An error a user can act on: `message` names the cause, `hint` (if any) the next step.

    The two are kept apart so `--json` can give the hint its own key; `str()` joins them as
    the CLI's error lines always read, `CAUSE; NEXT STEP`, for the one line on stderr.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message

    def to_json(self) -> dict[str, str | None]:
        """What a `--json` caller reads instead of the line: `{"error": ..., "hint": ...}`."""
        return {"error": self.message, "hint": self.hint}


class NothingInstallableError(HubError):
    """A well-formed package has no version that the given spec (or none) selects.

    `info` still describes such a package; any other error from resolving (a corrupt index
    entry) must reach the user instead.
    """


class LibbpfMissingError(HubError):
    """The system's libbpf cannot be loaded: `run` stops, `doctor` reports it as a line."""
