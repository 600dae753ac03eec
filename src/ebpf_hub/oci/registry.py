"""A repository on an OCI distribution registry used as a store.

Speaks the distribution API itself (see :mod:`ebpf_hub.oci.transport`) rather than
through oras-py 0.2.43, whose ``Registry`` re-serializes manifests with ``json=`` on upload (the
pushed bytes, hence the digest, differ from ours), returns fetched manifests as parsed dicts
(their bytes, needed to check the digest, are lost), reads a blob wholly into memory to upload
it, writes downloads in place without checking digest or size, sets no timeouts, and cannot
answer a ``Basic`` challenge with its default token backend.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from ebpf_hub.fsutil import atomic_writer
from ebpf_hub.httpclient import Client, Response, TooLargeError, TransferError, next_link
from ebpf_hub.httplimits import Limits
from ebpf_hub.oci.auth import Credentials
from ebpf_hub.oci.digest import CHUNK_SIZE, Verifier, check_digest, is_digest, sha256_digest
from ebpf_hub.oci.errors import (
    IntegrityError,
    RegistryError,
    RegistryUnavailableError,
    RepeatableError,
)
from ebpf_hub.oci.keychain import Keychain
from ebpf_hub.oci.manifest import (
    MAX_MANIFEST_SIZE,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    FetchedManifest,
)
from ebpf_hub.oci.reference import check_tag
from ebpf_hub.oci.transport import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Transport
from ebpf_hub.progress import Progress, Tally

MANIFEST_ACCEPT = f"{OCI_MANIFEST}, {OCI_INDEX}"
DIGEST_HEADER = "Docker-Content-Digest"


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


class RegistryStore:
    """A :class:`~ebpf_hub.oci.store.Store` for ``HOST/REPOSITORY`` on a registry."""

    def __init__(
        self,
        host: str,
        repository: str,
        *,
        insecure: bool = False,
        credentials: Credentials | None = None,
        keychain: Keychain | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        limits: Limits | None = None,
        durable: bool = True,
        client: Client | None = None,
    ) -> None:
        """`durable=False` writes downloads without syncing them, for a caller that keeps
        them in a cache verified on every read. `credentials`, `keychain` and `client`: see
        :class:`~ebpf_hub.oci.transport.Transport`."""
        self.repository = repository
        self._durable = durable
        self._transport = Transport(
            host,
            insecure=insecure,
            credentials=credentials,
            keychain=keychain,
            timeout=timeout,
            retries=retries,
            limits=limits,
            client=client,
        )

    @property
    def name(self) -> str:
        """``HOST/REPOSITORY``, used in messages."""
        return f"{self._transport.host}/{self.repository}"

    def _url(self, path: str) -> str:
        return self._transport.url(f"/v2/{self.repository}/{path}")

    def resolve(self, tag: str) -> str | None:
        """Digest of the manifest tagged ``tag`` (a HEAD request), or None."""
        what = f"manifest {self.name}:{check_tag(tag)}"
        url = self._url(f"manifests/{tag}")
        response = self._transport.request(
            "HEAD", url, what=what, headers={"Accept": MANIFEST_ACCEPT}
        )
        with response:
            if response.status == 404:
                return None
            self._transport.check(response, what)
            digest = response.headers.get(DIGEST_HEADER)
        if digest is None:  # the header is optional in the spec: hash the manifest instead
            return self.get_manifest(tag).digest
        check_digest(digest)
        return digest

    def get_manifest(self, reference: str) -> FetchedManifest:
        """Manifest by tag or digest; by digest its bytes must hash to that digest."""
        what = f"manifest {self.name}{'@' if is_digest(reference) else ':'}{reference}"
        if is_digest(reference):
            check_digest(reference)
        else:
            check_tag(reference)
        url = self._url(f"manifests/{reference}")
        response = self._transport.request(
            "GET", url, what=what, headers={"Accept": MANIFEST_ACCEPT}
        )
        with response:
            self._transport.check(response, what)
            data = _read_capped(response, MAX_MANIFEST_SIZE, what)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            announced = response.headers.get(DIGEST_HEADER)
        digest = sha256_digest(data)
        expected = reference if is_digest(reference) else announced
        if expected is not None and digest != expected:
            raise IntegrityError(
                f"{what}: content has digest {digest}, expected {expected}; the registry serves "
                "corrupted or tampered content, do not use it"
            )
        return FetchedManifest(data, media_type, digest)

    def put_manifest(self, data: bytes, media_type: str, tag: str | None = None) -> str:
        """Upload manifest bytes exactly as given, under ``tag`` or its digest."""
        digest = sha256_digest(data)
        reference = check_tag(tag) if tag is not None else digest
        what = f"upload of manifest {self.name}{':' if tag else '@'}{reference}"

        def upload() -> str | None:
            response = self._transport.request(
                "PUT",
                self._url(f"manifests/{reference}"),
                what=what,
                headers={"Content-Type": media_type},
                data=data,
            )
            with response:
                self._transport.check(response, what, expected=201)
                return response.headers.get(DIGEST_HEADER)

        announced = self._transport.retrying(upload)
        if announced is not None and announced != digest:
            raise IntegrityError(
                f"{what}: the registry stored digest {announced}, expected {digest}; "
                "it rewrote the manifest, use a registry that keeps manifests byte-identical"
            )
        return digest

    def blob_exists(self, digest: str) -> bool:
        """True if the repository has the blob (HEAD request)."""
        what = f"blob {self.name}@{digest}"
        check_digest(digest)
        with self._transport.request("HEAD", self._url(f"blobs/{digest}"), what=what) as response:
            if response.status == 404:
                return False
            self._transport.check(response, what)
            return True

    def put_blob(self, descriptor: Descriptor, source: Path | bytes) -> bool:
        """Upload a blob unless the repository has it; True if it was uploaded."""
        if self.blob_exists(descriptor.digest):
            return False
        self._transport.retrying(lambda: self._upload(descriptor, source))
        return True

    def _upload(self, descriptor: Descriptor, source: Path | bytes) -> None:
        """One monolithic upload: POST opens a session, PUT sends the bytes and the digest."""
        what = f"upload of blob {self.name}@{descriptor.digest}"
        with self._transport.request("POST", self._url("blobs/uploads/"), what=what) as started:
            self._transport.check(started, what, expected=202)
            location = started.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: the registry gave no upload location")
        url = _with_query(urljoin(self._url("blobs/uploads/"), location), digest=descriptor.digest)
        if isinstance(source, bytes):
            self._put_upload(url, what, source)
        else:
            with source.open("rb") as body:
                self._put_upload(url, what, body)

    def _put_upload(self, url: str, what: str, body: bytes | BinaryIO) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        with self._transport.request("PUT", url, what=what, headers=headers, data=body) as done:
            self._transport.check(done, what, expected=201)

    def get_blob(
        self, descriptor: Descriptor, dest: Path, progress: Progress | None = None
    ) -> None:
        """Download a blob to ``dest`` atomically, verified; a broken transfer is resumed.

        After a dropped connection the download continues with a ``Range`` request from the
        bytes already received; a registry that ignores ranges answers 200 and the download
        restarts from zero. Nothing reaches ``dest`` unless size and digest match. Each chunk
        read is reported to ``progress``; bytes received again after a restart are not.
        """
        what = f"blob {self.name}@{descriptor.digest}"
        verifier = Verifier(descriptor.digest, descriptor.size, what)
        tally = Tally(progress)
        with atomic_writer(dest, durable=self._durable) as target:
            download = partial(self._download, descriptor, target, verifier, tally)
            self._transport.retrying(download)
            verifier.finish()

    def _download(
        self, descriptor: Descriptor, target: BinaryIO, verifier: Verifier, tally: Tally
    ) -> None:
        what = f"blob {self.name}@{descriptor.digest}"
        offset = verifier.received
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self._transport.request(
            "GET", self._url(f"blobs/{descriptor.digest}"), what=what, headers=headers
        )
        with response:
            if response.status == 206 and _range_start(response) == offset:
                pass  # resumed where the last attempt stopped
            else:
                self._transport.check(response, what)
                if offset:  # the registry ignored the range: start again
                    target.seek(0)
                    target.truncate()
                    verifier.reset()
            try:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    verifier.update(chunk)
                    target.write(chunk)
                    tally.reach(verifier.received)
            except TransferError as exc:  # after the client returned: not retried there
                raise RepeatableError(
                    f"{what}: the transfer broke at byte {verifier.received} of "
                    f"{descriptor.size} ({exc.reason}); try again later"
                ) from None

    def referrers(self, digest: str) -> bytes | None:
        """The image index the OCI 1.1 referrers API lists for ``digest``, or None when the
        registry has no such API (it answers 404, as distribution 2.8 does)."""
        what = f"referrers of {self.name}@{check_digest(digest)}"
        response = self._transport.request(
            "GET", self._url(f"referrers/{digest}"), what=what, headers={"Accept": OCI_INDEX}
        )
        with response:
            if response.status == 404:
                return None
            self._transport.check(response, what)
            return _read_capped(response, MAX_MANIFEST_SIZE, what)

    def list_tags(self) -> list[str]:
        """Every tag of the repository, sorted (following pagination links)."""
        what = f"tag list of {self.name}"
        url: str | None = self._url("tags/list")
        tags: list[str] = []
        while url:
            with self._transport.request("GET", url, what=what) as response:
                if response.status == 404:
                    return []
                self._transport.check(response, what)
                try:
                    page = response.json().get("tags") or []
                except (ValueError, AttributeError, TooLargeError, TransferError):
                    raise RegistryError(f"{what}: the registry answered no tag list") from None
                tags.extend(tag for tag in page if isinstance(tag, str))
                following = next_link(response.headers.get("Link", ""))
            url = urljoin(url, following) if following else None
        return sorted(tags)


def _read_capped(response: Response, limit: int, what: str) -> bytes:
    """The body of a small response, refusing one longer than ``limit``."""
    try:
        return response.read(limit)
    except TooLargeError:
        raise IntegrityError(f"{what} is larger than {limit} bytes; refusing it") from None
    except TransferError as exc:
        raise RegistryUnavailableError(
            f"{what}: the transfer broke ({exc.reason}); try again later"
        ) from None


def _range_start(response: Response) -> int | None:
    """First byte of a 206 response (``Content-Range: bytes START-END/SIZE``)."""
    value = response.headers.get("Content-Range", "")
    unit, _, span = value.partition(" ")
    start = span.split("-", 1)[0]
    return int(start) if unit == "bytes" and start.isdigit() else None
