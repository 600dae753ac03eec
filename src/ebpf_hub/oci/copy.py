"""Copy a tagged manifest and its blobs between stores, byte for byte.

This is how the embedded layout default is published to a registry (or mirrored back): the
manifest keeps its bytes, hence its digest, so index entries and signatures stay valid. To carry
a signature along, copy its tag too (:func:`ebpf_hub.oci.signing.signature_tag`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ebpf_hub.oci.digest import check_digest
from ebpf_hub.oci.imageindex import ImageIndex, is_image_index
from ebpf_hub.oci.manifest import OCI_INDEX, OCI_MANIFEST, ImageManifest
from ebpf_hub.oci.store import Store


def copy_tag(source: Store, target: Store, tag: str) -> str:
    """Copy the image manifest or image index ``tag`` from ``source`` to ``target``; return
    its digest. An index's manifests are copied first, by digest.

    Blobs the target already has are not transferred, and a tag that already names the same
    manifest in the target costs one request. Every blob is verified on the way.
    """
    fetched = source.get_manifest(tag)
    if target.resolve(tag) == fetched.digest:
        return fetched.digest
    if not is_image_index(fetched.data):
        _copy_blobs(source, target, fetched.data, f"{source.name}:{tag}")
        return target.put_manifest(fetched.data, OCI_MANIFEST, tag)
    for entry in ImageIndex.parse(fetched.data, f"{source.name}:{tag}").manifests:
        child = source.get_manifest(entry.descriptor.digest)
        _copy_blobs(source, target, child.data, f"{source.name}@{child.digest}")
        target.put_manifest(child.data, OCI_MANIFEST)
    return target.put_manifest(fetched.data, OCI_INDEX, tag)


def _copy_blobs(source: Store, target: Store, data: bytes, where: str) -> None:
    """The blobs of image manifest `data` that `target` lacks, from `source`."""
    manifest = ImageManifest.parse(data, where)
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-copy-") as scratch:
        for blob in manifest.blobs():
            if target.blob_exists(blob.digest):
                continue
            path = Path(scratch) / check_digest(blob.digest)
            source.get_blob(blob, path)
            target.put_blob(blob, path)
            path.unlink()
