"""Putting artifacts in a registry: publish, and keygen for the key publish signs with."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import ask_secret, say
from ebpf_hub.commands.common import add_command, add_root, hub_config, signing_key
from ebpf_hub.commands.matrix import add_kernel_options
from ebpf_hub.errors import HubError

if TYPE_CHECKING:
    from ebpf_hub.publish.select import Target


MATRIX_DIR = Path("build/matrix")  # the matrix ledger, in the hub checkout


def cmd_publish(args: argparse.Namespace) -> int:
    from ebpf_hub.publish import ledger
    from ebpf_hub.publish.pipeline import Destination, Outcome, publish_all
    from ebpf_hub.publish.select import select_targets

    if args.directory:
        from ebpf_hub.commands.develop import cmd_publish_dir

        return cmd_publish_dir(args)
    if bool(args.all) == bool(args.changed):
        raise HubError("pass exactly one of --all or --changed BASE..HEAD")
    config = hub_config(args)
    targets = select_targets(config, None if args.all else args.changed)
    refused = _matrix_refusals(args, config.root, targets)
    if args.matrix_only:
        say(f"matrix: {len(targets)} version(s) tested, {len(refused)} refused")
        if refused:
            raise HubError(f"{len(refused)} version(s) refused by the kernel matrix")
        return 0
    key = signing_key(args)
    destination = Destination(
        args.registry or config.registry, insecure=args.insecure, sign_as=args.sign_as
    )

    def report(outcome: Outcome | None, target: Target, error: HubError | None) -> None:
        if outcome is not None:
            verb = "pushed" if outcome.pushed else "unchanged"
            say(f"{verb:>9} {outcome.reference} {outcome.digest}")
        else:
            say(f"   FAILED {target.label}: {error}")

    outcomes, failures = publish_all(
        config.root,
        [t for t in targets if t.label not in refused],
        destination,
        key,
        jobs=args.jobs,
        on_done=report,
    )
    failures += [(t, HubError(refused[t.label])) for t in targets if t.label in refused]
    ledger.record(Path(args.ledger), outcomes)
    matrix_dir = _matrix_dir(args, config.root)
    if key is not None and matrix_dir.is_dir():
        from ebpf_hub.publish import matrixstep

        attested = matrixstep.attest(outcomes, destination, key, matrix_dir)
        if attested:
            say(f"matrix: attached the signed kernel-matrix record of {attested} version(s)")
    if args.json:
        print(
            json.dumps(
                {
                    "published": [
                        {
                            "package": o.target.package.name,
                            "version": o.target.version.version,
                            "reference": o.reference,
                            "digest": o.digest,
                            "size": o.size,
                            "pushed": o.pushed,
                        }
                        for o in outcomes
                    ],
                    "failed": [
                        {"package": t.package.name, "version": t.version.version, "error": str(e)}
                        for t, e in failures
                    ],
                },
                indent=2,
            )
        )
    pushed = sum(o.pushed for o in outcomes)
    say(
        f"publish: {pushed} pushed, {len(outcomes) - pushed} unchanged, {len(failures)} failed "
        f"(ledger: {args.ledger})"
    )
    if failures:
        raise HubError(
            f"{len(failures)} version(s) failed to publish: "
            + ", ".join(t.label for t, _ in failures)
        )
    return 0


def _matrix_dir(args: argparse.Namespace, root: Path) -> Path:
    """The matrix ledger: --matrix-dir, else build/matrix in the hub checkout (never the
    current directory's: records there may be another hub's versions of the same names)."""
    return Path(args.matrix_dir) if args.matrix_dir else root / MATRIX_DIR


def _matrix_refusals(args: argparse.Namespace, root: Path, targets: list[Target]) -> dict[str, str]:
    """With --matrix, test `targets` on the kernel matrix first; then every version whose
    record in the matrix ledger fails at or above its declared minimum kernel, said once."""
    from ebpf_hub.commands.matrix import words
    from ebpf_hub.matrix.config import load_matrix
    from ebpf_hub.publish import matrixstep

    ledger = _matrix_dir(args, root)
    if args.matrix or args.matrix_only:
        matrix = load_matrix(root)
        kernels = matrix.select(words(args.kernels), words(args.arch))
        matrixstep.run_on_matrix(
            root,
            targets,
            kernels,
            matrix.guest_suite,
            ledger,
            progress=lambda line: say(f"matrix: {line}"),
        )
    refused = matrixstep.refusals(targets, ledger)
    for label, why in sorted(refused.items()):
        say(f"  REFUSED {label}: {why}")
    return refused


def cmd_keygen(args: argparse.Namespace) -> int:
    from ebpf_hub.fsutil import write_atomic
    from ebpf_hub.oci.keys import (
        SIGNING_KEY_PASSWORD_ENV,
        env_passphrase,
        generate_key_pair,
        write_private_key,
    )

    private, public = Path(f"{args.prefix}.key"), Path(f"{args.prefix}.pub")
    passphrase = None
    if args.passphrase:
        passphrase = env_passphrase(os.environ)
        if passphrase is None:
            passphrase = ask_secret(f"Passphrase for {private}: ", confirm=True)
        if passphrase is None:
            raise HubError(f"--passphrase: set {SIGNING_KEY_PASSWORD_ENV} or run on a terminal")
    pair = generate_key_pair(passphrase)
    write_private_key(private, pair.private_pem, replace=args.force)
    write_atomic(public, pair.public_pem)
    say(f"wrote {private} (keep it secret) and {public}")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    publish = add_command(
        commands,
        "publish",
        cmd_publish,
        "build and push versions as signed OCI artifacts",
        "Build each selected version and push it to REGISTRY/NAMESPACE/NAME:VERSION (or an OCI "
        "layout, oci:DIR), sign its digest in cosign's format, and record digests in the ledger "
        "that `ebpf-hub index --digests` reads (`--digests-from-registry` reads the rest back "
        "from the registry). A version already pushed with the same digest is skipped; one "
        "with a different digest is refused (versions are immutable). "
        "Credentials: EBPF_HUB_REGISTRY_USERNAME/PASSWORD or docker's config.json.",
    )
    publish.add_argument(
        "directory", nargs="?", metavar="DIR", help="a package directory (ebpf-hub init) to publish"
    )
    scope = publish.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="every version of every package")
    scope.add_argument(
        "--changed",
        metavar="BASE..HEAD",
        help="versions added or changed between two commits (the merge)",
    )
    publish.add_argument(
        "--registry",
        metavar="REGISTRY/NAMESPACE",
        help="HOST[:PORT]/NAMESPACE or oci:DIR (default: index/hub.yaml's)",
    )
    publish.add_argument(
        "--insecure",
        action="store_true",
        help="plain HTTP to the registry (credentials go over it only to a loopback address)",
    )
    publish.add_argument(
        "--sign-key",
        metavar="FILE",
        help="ECDSA P-256 private key (PEM); default: $EBPF_HUB_SIGNING_KEY",
    )
    publish.add_argument("--no-sign", action="store_true", help="push without signing")
    publish.add_argument(
        "--sign-as",
        metavar="REGISTRY/NAMESPACE",
        help="the registry the signatures name when it is not --registry: a layout that "
        "`ebpf-hub site serve --layout` will serve as this registry",
    )
    publish.add_argument(
        "--ledger",
        default="build/digests.json",
        metavar="FILE",
        help="digest ledger to update (default: build/digests.json)",
    )
    publish.add_argument("--jobs", type=int, default=4, metavar="N", help="parallel builds")
    publish.add_argument(
        "--matrix",
        action="store_true",
        help="first load and attach each version on the hub's kernel matrix (qemu) and record "
        "the results; a version failing on a kernel at or above its requires.kernel is refused",
    )
    publish.add_argument(
        "--matrix-only",
        action="store_true",
        help="run and record the matrix (as --matrix), push nothing: one CI job per kernel",
    )
    add_kernel_options(publish)
    publish.add_argument(
        "--matrix-dir",
        metavar="DIR",
        help="matrix ledger, a results file per version (default: build/matrix in the hub "
        "checkout); publish "
        "refuses a version whose recorded results there fail at or above its minimum kernel",
    )
    publish.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_root(publish)

    keygen = add_command(
        commands,
        "keygen",
        cmd_keygen,
        "create a signing key pair (cosign-compatible)",
        "Write PREFIX.key (ECDSA P-256, mode 0600 from its creation: PKCS#8 PEM, or with "
        "--passphrase encrypted in cosign's format) and PREFIX.pub (PKIX PEM). The passphrase "
        "comes from $EBPF_HUB_SIGNING_KEY_PASSWORD (or $COSIGN_PASSWORD), else from a prompt; "
        "publish reads it the same way.",
    )
    keygen.add_argument("prefix", metavar="PREFIX")
    keygen.add_argument("--force", action="store_true", help="replace an existing key")
    keygen.add_argument(
        "--passphrase",
        action="store_true",
        help="encrypt the private key under a passphrase, as `cosign generate-key-pair` does",
    )
