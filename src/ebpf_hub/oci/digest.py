"""sha256 digests, and verification of content against the digest and size that pin it.

Content fetched from a registry or read from disk is trusted only once its bytes hash to the
digest that named it. A digest is also used as a file name, so anything that is not exactly
``sha256:`` + 64 lowercase hex digits is refused before it can reach a path.
"""

from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

from ebpf_hub.oci.errors import IntegrityError, InvalidReferenceError
from ebpf_hub.progress import Progress

SHA256_PREFIX = "sha256:"
CHUNK_SIZE = 1 << 20
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


def is_digest(value: str) -> bool:
    """Tell a digest from a tag (a tag can never contain ``:``)."""
    return ":" in value


def check_digest(digest: str) -> str:
    """Return the hex part of ``digest``, or raise if it is not a well-formed sha256 digest."""
    if not _DIGEST_RE.fullmatch(digest):
        raise InvalidReferenceError(
            f"invalid digest {digest!r}: expected 'sha256:' followed by 64 lowercase hex digits"
        )
    return digest[len(SHA256_PREFIX) :]


def sha256_digest(data: bytes) -> str:
    """Digest of in-memory content, in ``sha256:HEX`` form."""
    return SHA256_PREFIX + hashlib.sha256(data).hexdigest()


def file_digest(source: BinaryIO) -> tuple[str, int]:
    """Digest and size of an open file, read in chunks so large files use little memory."""
    hasher = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        hasher.update(chunk)
        size += len(chunk)
    return SHA256_PREFIX + hasher.hexdigest(), size


class Verifier:
    """Hash a stream while it is written and check it against the expected digest and size.

    ``update`` refuses a byte beyond the declared size at once, so an endless or oversized
    stream stops early instead of filling the disk; ``finish`` checks size and digest.
    """

    def __init__(self, digest: str, size: int, what: str) -> None:
        check_digest(digest)
        self.digest = digest
        self.size = size
        self.what = what
        self.received = 0
        self._hasher = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        """Account for one chunk of the stream."""
        self.received += len(chunk)
        if self.received > self.size:
            raise IntegrityError(
                f"{self.what}: more than the declared {self.size} bytes received; "
                "the store serves content that does not match its descriptor"
            )
        self._hasher.update(chunk)

    def reset(self) -> None:
        """Forget what was received, for a download that restarts from the first byte."""
        self.received = 0
        self._hasher = hashlib.sha256()

    def finish(self) -> None:
        """Raise unless exactly the declared bytes, with the declared digest, were received."""
        if self.received != self.size:
            raise IntegrityError(
                f"{self.what}: received {self.received} bytes, expected {self.size}; "
                "the store serves truncated content, try again or repair the store"
            )
        actual = SHA256_PREFIX + self._hasher.hexdigest()
        if actual != self.digest:
            raise IntegrityError(
                f"{self.what}: content has digest {actual}, expected {self.digest}; "
                "the store holds corrupted or tampered content, do not use it"
            )


def copy_verified(
    source: BinaryIO, target: BinaryIO, verifier: Verifier, progress: Progress | None = None
) -> None:
    """Copy ``source`` to ``target`` in chunks, verifying the bytes on the way; each chunk
    is reported to ``progress``, if any."""
    while chunk := source.read(CHUNK_SIZE):
        verifier.update(chunk)
        target.write(chunk)
        if progress is not None:
            progress.advance(len(chunk))
    verifier.finish()
