"""The eBPF Hub package artifact: build its manifest, push it, and read it back safely.

An OCI 1.1-style artifact: an image manifest with ``artifactType``, a JSON config blob (the
version's metadata, supplied by the caller) and one layer per file (``*.bpf.o`` objects,
README.md, LICENSE), each titled with its base name. Building is deterministic: layers are
sorted by name and JSON is canonical, so the same inputs give the same manifest bytes and
digest. Reading trusts nothing: the manifest must have the expected digest, every type must be
known, every title must be a plain file name, every blob is verified, and files only appear in
the output directory, all together, once everything checked out.
"""

from __future__ import annotations

import errno
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ebpf_hub.oci.digest import check_digest, file_digest, sha256_digest
from ebpf_hub.oci.errors import IntegrityError, OCIError, TagConflictError, UnsafeArtifactError
from ebpf_hub.oci.manifest import (
    OCI_MANIFEST,
    TITLE_ANNOTATION,
    Descriptor,
    ImageManifest,
    canonical_json,
)
from ebpf_hub.oci.store import Store, read_blob
from ebpf_hub.parallel import run_concurrently

ARTIFACT_TYPE = "application/vnd.ebpf-hub.package.v1"
# The config blob of a package artifact: its version's metadata (site/reference/artifact.md).
ARTIFACT_CONFIG_MEDIA_TYPE = "application/vnd.ebpf-hub.package.config.v1+json"
BPF_OBJECT_MEDIA_TYPE = "application/vnd.ebpf-hub.bpf.object.v1"
BPF_OBJECT_SUFFIX = ".bpf.o"
FILE_MEDIA_TYPES = {"README.md": "text/markdown", "LICENSE": "text/plain"}
CONFIG_LIMIT = 1024 * 1024
_ANNOTATION_PREFIX = "org.opencontainers.image."
_OCCUPIED_ERRNOS = (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR)


def media_type_for(name: str) -> str | None:
    """The layer media type of a file name, or None if packages cannot contain such a file."""
    if name.endswith(BPF_OBJECT_SUFFIX) and len(name) > len(BPF_OBJECT_SUFFIX):
        return BPF_OBJECT_MEDIA_TYPE
    return FILE_MEDIA_TYPES.get(name)


def _allowed_names() -> str:
    return ", ".join([f"*{BPF_OBJECT_SUFFIX}", *FILE_MEDIA_TYPES])


@dataclass(frozen=True)
class BuiltArtifact:
    """A manifest ready to push, with the content of every blob it references."""

    manifest: bytes
    digest: str
    config: bytes
    layers: tuple[tuple[Descriptor, Path], ...]

    @property
    def config_descriptor(self) -> Descriptor:
        """Descriptor of the config blob."""
        return Descriptor(ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(self.config), len(self.config))


def build_artifact(
    files: Sequence[Path],
    config: Mapping[str, Any],
    *,
    title: str,
    version: str,
    description: str | None = None,
    licenses: str | None = None,
    source: str | None = None,
    revision: str | None = None,
    created: str | None = None,
) -> BuiltArtifact:
    """Build the manifest of a package version from its files and metadata.

    Annotation values left as None are omitted; ``created`` is the only time stamp, so a
    reproducible build passes one derived from the source (``SOURCE_DATE_EPOCH``).
    """
    layers: dict[str, tuple[Descriptor, Path]] = {}
    for path in files:
        media_type = media_type_for(path.name)
        if media_type is None:
            raise UnsafeArtifactError(
                f"{path}: a package holds only {_allowed_names()}; remove or rename this file"
            )
        if path.name in layers:
            raise UnsafeArtifactError(f"{path}: two files are named {path.name!r}; keep one")
        with path.open("rb") as handle:
            digest, size = file_digest(handle)
        descriptor = Descriptor(media_type, digest, size, {TITLE_ANNOTATION: path.name})
        layers[path.name] = (descriptor, path)
    if not layers:
        raise UnsafeArtifactError(f"package {title!r} has no files; add its {BPF_OBJECT_SUFFIX}")
    config_bytes = canonical_json(dict(config))
    values = {
        "title": title,
        "version": version,
        "description": description,
        "licenses": licenses,
        "source": source,
        "revision": revision,
        "created": created,
    }
    ordered = tuple(layers[name] for name in sorted(layers))
    manifest = ImageManifest(
        config=Descriptor(
            ARTIFACT_CONFIG_MEDIA_TYPE, sha256_digest(config_bytes), len(config_bytes)
        ),
        layers=tuple(descriptor for descriptor, _ in ordered),
        artifact_type=ARTIFACT_TYPE,
        annotations={_ANNOTATION_PREFIX + k: v for k, v in values.items() if v is not None},
    ).to_bytes()
    return BuiltArtifact(manifest, sha256_digest(manifest), config_bytes, ordered)


@dataclass(frozen=True)
class PushResult:
    """What a push did: a re-run of an identical push uploads nothing."""

    digest: str
    blobs_uploaded: int
    manifest_pushed: bool


def push_artifact(store: Store, artifact: BuiltArtifact, tag: str) -> PushResult:
    """Push blobs then the manifest under ``tag``; a tag never moves to different content.

    If ``tag`` already names this exact manifest nothing is sent; if it names another one the
    push is refused, because published versions are immutable.
    """
    if tag_holds(store, tag, artifact.digest):
        return PushResult(artifact.digest, 0, manifest_pushed=False)
    uploaded = push_blobs(store, artifact)
    store.put_manifest(artifact.manifest, OCI_MANIFEST, tag)
    return PushResult(artifact.digest, uploaded, manifest_pushed=True)


def tag_holds(store: Store, tag: str, digest: str) -> bool:
    """True if `tag` already names `digest`; False if it is free; refused if it names
    anything else, because published versions are immutable."""
    current = store.resolve(tag)
    if current is not None and current != digest:
        raise TagConflictError(
            f"{store.name}:{tag} already holds {current}, not {digest}; published "
            "versions are immutable, release a new version instead"
        )
    return current == digest


def push_blobs(store: Store, artifact: BuiltArtifact) -> int:
    """Push the config and every layer of `artifact`; the number actually uploaded."""
    uploaded = int(store.put_blob(artifact.config_descriptor, artifact.config))
    for descriptor, path in artifact.layers:
        uploaded += store.put_blob(descriptor, path)
    return uploaded


@dataclass(frozen=True)
class PulledArtifact:
    """A verified package version written to disk."""

    digest: str
    config: dict[str, Any]
    annotations: Mapping[str, str]
    files: tuple[Path, ...]


def _check_title(ref: str, layer: Descriptor) -> str:
    title = layer.title or ""
    unsafe = not title or "/" in title or "\\" in title or "\0" in title or ".." in title
    if unsafe:
        raise UnsafeArtifactError(
            f"{ref}: layer {layer.digest} has unsafe file name {title!r}; refusing the artifact"
        )
    if media_type_for(title) != layer.media_type:
        raise UnsafeArtifactError(
            f"{ref}: layer {title!r} has media type {layer.media_type!r}; a package holds only "
            f"{_allowed_names()} with their own types, refusing the artifact"
        )
    return title


def _check_manifest(ref: str, manifest: ImageManifest, max_size: int) -> list[str]:
    """Refuse what a package must not contain; return the layer file names."""
    if manifest.artifact_type != ARTIFACT_TYPE:
        raise UnsafeArtifactError(
            f"{ref} is not an eBPF Hub package (artifactType {manifest.artifact_type!r}, "
            f"expected {ARTIFACT_TYPE!r}); check the reference"
        )
    if manifest.config.media_type != ARTIFACT_CONFIG_MEDIA_TYPE:
        raise UnsafeArtifactError(
            f"{ref}: unknown config media type {manifest.config.media_type!r}; "
            "upgrade ebpf-hub or check the reference"
        )
    titles = [_check_title(ref, layer) for layer in manifest.layers]
    if len(set(titles)) != len(titles):
        raise UnsafeArtifactError(f"{ref}: two layers have the same file name; refusing it")
    total = sum(blob.size for blob in manifest.blobs())
    if total > max_size:
        raise IntegrityError(
            f"{ref} is {total} bytes, more than the {max_size} allowed; raise the limit "
            "only if you trust this package"
        )
    return titles


def _occupied(ref: str, out_dir: Path) -> OCIError:
    return OCIError(
        f"cannot pull {ref} into {out_dir}: it exists and is not an empty directory; "
        "remove it or choose another one"
    )


def _prepare_output(ref: str, out_dir: Path) -> None:
    """Refuse an output that is a link (it would not be the directory written) or in use.

    Files are never written into `out_dir` itself: they go to a new directory beside it
    that is renamed onto it, and a rename fails rather than follow a link planted meanwhile.
    """
    if out_dir.is_symlink():
        raise OCIError(
            f"cannot pull {ref} into {out_dir}: it is a symbolic link; name the directory "
            "it points to, or a new one"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise _occupied(ref, out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)


def read_artifact(
    store: Store, ref: str, expected_digest: str, out_dir: Path, max_size: int
) -> PulledArtifact:
    """Pull the package manifest ``expected_digest`` from ``store`` into ``out_dir``.

    ``ref`` names the artifact in messages. ``out_dir`` must not exist or be empty; it
    receives every layer file at once (a temporary directory beside it is renamed onto it)
    or, on any error, nothing. The layers are fetched concurrently: each waits mostly on
    its own round trip to the registry.
    """
    check_digest(expected_digest)
    _prepare_output(ref, out_dir)
    fetched = store.get_manifest(expected_digest)
    actual = sha256_digest(fetched.data)
    if actual != expected_digest:
        raise IntegrityError(
            f"{ref}: manifest has digest {actual}, expected {expected_digest}; "
            "the store serves other content than the index pins, do not use it"
        )
    manifest = ImageManifest.parse(fetched.data, ref)
    titles = _check_manifest(ref, manifest, max_size)
    try:
        config = json.loads(read_blob(store, manifest.config, min(max_size, CONFIG_LIMIT)))
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise UnsafeArtifactError(f"{ref}: the config blob is not a JSON object; refusing it")
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        run_concurrently(
            [
                partial(store.get_blob, layer, scratch / title)
                for title, layer in zip(titles, manifest.layers)
            ]
        )
        scratch.chmod(0o755)
        try:
            scratch.replace(out_dir)
        except OSError as exc:  # filled, or made a link or a file, since `_prepare_output`
            if exc.errno not in _OCCUPIED_ERRNOS:
                raise
            raise _occupied(ref, out_dir) from None
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return PulledArtifact(
        expected_digest,
        config,
        dict(manifest.annotations),
        tuple(out_dir / title for title in titles),
    )
