"""Copy a tagged manifest and its blobs between stores, byte for byte.

This is how the embedded layout default is published to a registry (or mirrored back): the
manifest keeps its bytes, hence its digest, so index entries and signatures stay valid. To carry
a signature along, copy its tag too (:func:`ebpf_hub.oci.signing.signature_tag`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ebpf_hub.oci.digest import check_digest
from ebpf_hub.oci.manifest import OCI_MANIFEST, ImageManifest
from ebpf_hub.oci.store import Store


def copy_tag(source: Store, target: Store, tag: str) -> str:
    """Copy the image manifest ``tag`` from ``source`` to ``target``; return its digest.

    Blobs the target already has are not transferred, and a tag that already names the same
    manifest in the target costs one request. Every blob is verified on the way.
    """
    fetched = source.get_manifest(tag)
    if target.resolve(tag) == fetched.digest:
        return fetched.digest
    manifest = ImageManifest.parse(fetched.data, f"{source.name}:{tag}")
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-copy-") as scratch:
        for blob in manifest.blobs():
            if target.blob_exists(blob.digest):
                continue
            path = Path(scratch) / check_digest(blob.digest)
            source.get_blob(blob, path)
            target.put_blob(blob, path)
            path.unlink()
    return target.put_manifest(fetched.data, OCI_MANIFEST, tag)
