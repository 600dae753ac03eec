"""A deadline for every HTTP request and a minimum rate for its answer: what stops a trickle.

A read timeout bounds only the wait for the next byte, so a server that sends one byte every
few seconds (of the status line, the headers or a body) keeps a request, and `pull` or
`search` with it, alive without end. So each request gets a `Clock` when it starts:

- every socket operation of the request (connecting, sending, each read of the answer) waits
  at most what is left of its deadline, which covers its retries and redirects too;
- from the answer's first byte on, it must average `min_rate` bytes a second over each
  `window` seconds, so a trickle fails within a window or two while a large body on a slow
  but steady link goes on, for as long as the deadline allows.

`PacedSocket` puts the clock between `http.client` and the socket. It checks once per
`recv` (a chunk of up to a megabyte on a fast link), never per byte, so a download pays
nothing measurable for it.
"""

from __future__ import annotations

import io
import socket
import time
from typing import TYPE_CHECKING, NamedTuple

from ebpf_hub.errors import HubError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

DEFAULT_DEADLINE = 300.0  # seconds: packages are kilobytes, the whole hub index megabytes
DEFAULT_MIN_RATE = 1024.0  # bytes a second: slower than any link worth waiting on
DEFAULT_WINDOW = 30.0  # seconds the rate is averaged over


class Limits(NamedTuple):
    """How long one request may take, and how slowly its answer may arrive.

    `deadline` covers the whole request: connecting, sending, the status line and headers,
    the body, and the retries and redirects in between (one budget, so no retry or redirect
    restarts the clock). A `min_rate` of 0 turns the rate check off. The `*_setting` texts
    name, in error messages, what the user changes to allow more.
    """

    deadline: float = DEFAULT_DEADLINE
    min_rate: float = DEFAULT_MIN_RATE
    window: float = DEFAULT_WINDOW
    deadline_setting: str = "the deadline"
    min_rate_setting: str = "the minimum rate"


class TooSlowError(HubError):
    """A server was past a request's deadline, or below its minimum rate.

    Deliberately not a `TransferError`: it is not retried, here or by callers (a server
    that trickled will trickle again, and each retry would make the user wait another
    deadline), and its message is already the whole line, naming the host and what was slow.
    """


class Clock:
    """One request's deadline, and the rate meter of the answer being read.

    `attempt` starts each attempt (a retry, or the next hop of a redirect) on the same
    deadline, with a fresh meter; `body` marks the end of the headers, for messages.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._expires = time.monotonic() + limits.deadline
        self._host = ""
        self._stage = "connection"
        self._received = 0  # bytes of the current answer
        self._window_start = 0.0  # when the current window began: 0 until the first byte
        self._window_bytes = 0

    def attempt(self, host: str) -> None:
        """Start an attempt on `host` (``HOST:PORT``): nothing of its answer is read yet."""
        self._host = host
        self._stage = "connection"
        self._received = self._window_bytes = 0
        self._window_start = 0.0

    def sent(self) -> None:
        """The request is out: what is read from now on is the status line and headers."""
        self._stage = "headers"

    def body(self) -> None:
        """The headers are in: what is read from now on is the body."""
        self._stage = "body"

    def remaining(self) -> float:
        """Seconds left until the deadline (negative once it passed)."""
        return self._expires - time.monotonic()

    def timeout(self, cap: float) -> float:
        """The timeout of the next socket operation: `cap`, less if the deadline is closer."""
        left = self.remaining()
        if left <= 0:
            raise self._past_deadline()
        return min(cap, left)

    def timed_out(self) -> None:
        """After a socket timeout: TooSlowError if it was the deadline's (else it was `cap`)."""
        if self.remaining() <= 0:
            raise self._past_deadline() from None

    def count(self, size: int) -> None:
        """Meter `size` bytes just read; TooSlowError if the window ending now fell short."""
        now = time.monotonic()
        self._received += size
        self._window_bytes += size
        if not self._window_start:
            self._window_start = now
        elapsed = now - self._window_start
        if elapsed < self.limits.window:
            return
        if self._window_bytes < self.limits.min_rate * elapsed:
            raise TooSlowError(
                f"{self._host} sent {_amount(self._window_bytes)} of its {self._stage} in "
                f"{_seconds(elapsed)}, below the minimum {_amount(self.limits.min_rate)}/s; "
                f"check the network, or lower {self.limits.min_rate_setting}"
            )
        self._window_start, self._window_bytes = now, 0

    def _past_deadline(self) -> TooSlowError:
        if self._stage == "connection":
            progress = "had not taken the request"
        else:
            progress = f"had sent {_amount(self._received)} of its {self._stage}"
        return TooSlowError(
            f"{self._host} {progress} when the {_seconds(self.limits.deadline)} deadline "
            f"passed; check the network, or raise {self.limits.deadline_setting}"
        )


class PacedSocket:
    """A connected socket as `http.client` uses it: `sendall`, `makefile`, `close`.

    Every send and every read waits at most `timeout` seconds, or what is left of the
    current request's deadline if that is less; reads also go through the rate meter.
    `clock` is set to each request's own before the connection carries it.
    """

    def __init__(self, sock: socket.socket, timeout: float, clock: Clock) -> None:
        self.sock = sock
        self.timeout = timeout
        self.clock = clock

    def fileno(self) -> int:
        """The socket's descriptor, for `select`."""
        return self.sock.fileno()

    def close(self) -> None:
        """Close the socket (an answer still being read keeps it open until it is done)."""
        self.sock.close()

    def sendall(self, data: ReadableBuffer) -> None:
        """Send all of `data` (Python bounds a whole `sendall` by the socket timeout)."""
        self.sock.settimeout(self.clock.timeout(self.timeout))
        try:
            self.sock.sendall(data)
        except TimeoutError:
            self.clock.timed_out()
            raise

    def makefile(self, mode: str) -> io.BufferedReader:
        """A buffered reader of the answer, paced by the clock of the request it answers."""
        if mode != "rb":
            raise ValueError(f"only 'rb' is supported, not {mode!r}")
        return io.BufferedReader(_PacedReader(self, self.clock))


class _PacedReader(io.RawIOBase):
    """The raw reads under an answer's buffered reader, each one timed and metered.

    They go through the socket's own file object, which also keeps the socket open while
    the answer is read after `http.client` closed its connection (`Connection: close`).
    """

    def __init__(self, paced: PacedSocket, clock: Clock) -> None:
        super().__init__()
        self._paced = paced
        self._clock = clock
        self._file = paced.sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        self._paced.sock.settimeout(self._clock.timeout(self._paced.timeout))
        try:
            size = self._file.readinto(buffer)
        except TimeoutError:
            self._clock.timed_out()
            raise
        self._clock.count(size or 0)
        return size

    def close(self) -> None:
        self._file.close()
        super().close()


def _amount(size: float) -> str:
    """`12 bytes`, `1 KiB`, `1.5 MiB`: sizes as messages show them."""
    if size < 1024:
        return f"{size:.0f} byte{'' if size == 1 else 's'}"
    if size < 1024 * 1024:
        return f"{_number(size / 1024)} KiB"
    return f"{_number(size / 1024 / 1024)} MiB"


def _seconds(value: float) -> str:
    return f"{_number(value)} s"


def _number(value: float) -> str:
    """At most one decimal, and none when it is 0: `2`, `1.5`, `300`."""
    return f"{value:.1f}".removesuffix(".0")
