"""`publish --matrix`: test the versions about to be published on the hub's kernel matrix.

Each version is built for every architecture it declares, as publish builds it, the
objects of all versions go into one boot per kernel of that architecture, and each version's
results are written to the matrix ledger. Then the declared minimum kernel is
held against the record: a version that fails on a kernel it claims to support
(requires.kernel 5.8, verifier error on 5.10) is refused with the verifier's words, and is
not pushed. The publish workflow runs this once per kernel (`--matrix-only --kernels K
--arch A`) and the publishing job checks the merged record with `refusals` alone, so a
failure found by any kernel's job stops the version. Once a version is pushed, `attest`
attaches its record, signed with the hub's key, to the digest the index pins: an OCI
referrer anyone can verify (`cosign verify-attestation --type` with the predicate type).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from ebpf_hub.fsutil import is_regular_file
from ebpf_hub.matrix.config import KernelSpec
from ebpf_hub.matrix.record import (
    VersionMatrix,
    from_runs,
    minimum_kernel_problem,
)
from ebpf_hub.model.matrix import MATRIX_ARCH
from ebpf_hub.publish import matrixledger
from ebpf_hub.publish.pipeline import Destination, Outcome
from ebpf_hub.publish.select import Target


def run_on_matrix(
    root: Path,
    targets: Sequence[Target],
    kernels: Sequence[KernelSpec],
    guest_suite: str,
    ledger: Path,
    *,
    progress: Callable[[str], None],
) -> None:
    """Build `targets` for each architecture they declare, boot each of `kernels` once with
    the objects of its architecture, and record each version's results in the matrix ledger
    at `ledger`. A version is not tested on an architecture it does not declare."""
    from ebpf_hub.build.platforms import build_platforms
    from ebpf_hub.matrix.engine import MatrixPackage, run_matrix

    by_arch: dict[str, list[MatrixPackage]] = {}
    versions = {target.label: (target.package.name, target.version.version) for target in targets}
    records: list[VersionMatrix] = []
    with tempfile.TemporaryDirectory(prefix="ebpf-hub-matrix-") as scratch:
        for target in targets:
            out = Path(scratch) / target.label
            for built in build_platforms(root, target.package, target.version, out):
                objects = tuple(path for path in built.files if path.name.endswith(".bpf.o"))
                arch = MATRIX_ARCH.get(built.config.build.arch, built.config.build.arch)
                trigger = _trigger(root, target)
                optional = built.config.choices.optional
                package = MatrixPackage(target.label, objects, trigger, optional)
                by_arch.setdefault(arch, []).append(package)
        for arch, packages in sorted(by_arch.items()):
            chosen = [kernel for kernel in kernels if kernel.arch == arch]
            if chosen:
                runs = run_matrix(packages, chosen, guest_suite, progress)
                booted = {package.label: versions[package.label] for package in packages}
                records += from_runs(runs, booted)
    matrixledger.record(ledger, records)


def _trigger(root: Path, target: Target) -> Path | None:
    """The trigger script of an in-repo source (`ebpf-hub test`'s), if it has one."""
    path = target.package.source.path
    trigger = root / path / "trigger" if path is not None else None
    return trigger if trigger is not None and is_regular_file(trigger) else None


def refusals(targets: Sequence[Target], ledger: Path) -> dict[str, str]:
    """Target label -> why it may not be published: its record in the matrix ledger shows a
    failure on a kernel at or above its declared minimum. A version not recorded passes."""
    refused = {}
    for target in targets:
        record = matrixledger.read_version(ledger, target.package.name, target.version.version)
        requires = target.package.requires
        if record is None or requires.kernel is None:
            continue
        problem = minimum_kernel_problem(record, requires.kernel, requires.architectures)
        if problem is not None:
            refused[target.label] = problem
    return refused


def attest(
    outcomes: Sequence[Outcome],
    destination: Destination,
    key: ec.EllipticCurvePrivateKey,
    ledger: Path,
) -> int:
    """Attach to each published version the signed statement of its matrix record (when the
    ledger holds one); how many were attached now (publishing again attaches nothing)."""
    from ebpf_hub.oci.attestation import attach_statement
    from ebpf_hub.oci.manifest import Descriptor
    from ebpf_hub.oci.reference import parse_reference
    from ebpf_hub.oci.store import open_store

    attached = 0
    for outcome in outcomes:
        name, version = outcome.target.package.name, outcome.target.version.version
        record = matrixledger.read_version(ledger, name, version)
        if record is None:
            continue
        reference = parse_reference(destination.repository(name))
        store = open_store(reference, insecure=destination.insecure)
        pinned = store.get_manifest(outcome.digest)
        subject = Descriptor(pinned.media_type, outcome.digest, len(pinned.data))
        predicate = record.predicate()
        attached += attach_statement(
            store,
            subject,
            predicate.predicate_type,
            predicate.to_json(),
            key,
            name=f"{name}@{version}",
        )
    return attached
