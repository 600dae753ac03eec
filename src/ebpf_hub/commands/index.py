"""Commands on the index: validate, index, hash."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import say, show
from ebpf_hub.commands.common import add_command, add_root, hub_config
from ebpf_hub.errors import HubError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

    from ebpf_hub.index.config import HubConfig
    from ebpf_hub.index.jsonindex import Digests
    from ebpf_hub.model.matrix import Matrices
    from ebpf_hub.model.package import Package
    from ebpf_hub.publish.pipeline import Destination


def cmd_validate(args: argparse.Namespace) -> int:
    from ebpf_hub.index.validate import validate

    report = validate(hub_config(args), files=[Path(f) for f in args.files], base=args.base)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "problems": [p.to_json() for p in report.problems],
                },
                indent=2,
            )
        )
    else:
        for problem in report.problems:
            show(str(problem))
        verdict = f"{len(report.problems)} problem(s)" if report.problems else "all valid"
        say(f"checked {len(report.checked)} package file(s): {verdict}")
    return 0 if report.ok else 1


def published_digests(
    args: argparse.Namespace, config: HubConfig, packages: Iterable[Package]
) -> Digests:
    """The ledger `--digests` names, completed from the registry with `--digests-from-registry`
    (each version's signer and provenance verified with the hub's public key, if configured).

    The registry is the truth: a ledger only saves asking it again, so an index built from the
    registry alone is the same as one built from a complete ledger.
    """
    from ebpf_hub.index.jsonindex import load_digests

    known = load_digests(Path(args.digests) if args.digests else None)
    if not args.digests_from_registry:
        return known
    from ebpf_hub.publish.ledger import from_registry

    return from_registry(packages, _destination(args, config), known, _public_key(args))


def recorded_matrices(
    args: argparse.Namespace, config: HubConfig, packages: Iterable[Package], digests: Digests
) -> Matrices:
    """The kernel verdicts of the matrix ledger `--matrix` names (none without it), completed
    with `--digests-from-registry` from the signed record attached to each version `digests`
    pins: CI's ledger holds only the versions of one merge, and the index lists them all."""
    from ebpf_hub.publish import matrixledger

    records = matrixledger.load(Path(args.matrix) if args.matrix else None)
    if args.digests_from_registry:
        published = {p.name: digests[p.name] for p in packages if p.name in digests}
        key = _public_key(args)
        destination = _destination(args, config)
        records = matrixledger.from_registry(published, destination, records, key)
    return matrixledger.summaries(records)


def _destination(args: argparse.Namespace, config: HubConfig) -> Destination:
    """The registry `--digests-from-registry` reads: --registry, else index/hub.yaml's."""
    from ebpf_hub.publish.pipeline import Destination

    return Destination(args.registry or config.registry, insecure=args.insecure)


def _public_key(args: argparse.Namespace) -> ec.EllipticCurvePublicKey | None:
    """The hub's public key, configured as the client's is (--public-key, the environment,
    the config file); None when none is."""
    from ebpf_hub.client.settings import Settings
    from ebpf_hub.oci.keys import load_public_key

    configured = Settings.load(public_key=args.public_key).public_key
    return None if configured is None else load_public_key(configured)


def add_matrix_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--matrix",
        metavar="DIR",
        help="matrix ledger written by `ebpf-hub publish --matrix` (e.g. build/matrix): adds "
        "each tested version's kernel verdicts",
    )


def add_digest_options(sub: argparse.ArgumentParser) -> None:
    """`--digests-from-registry` and how to reach the registry, for index and site commands."""
    sub.add_argument(
        "--digests-from-registry",
        action="store_true",
        help="read the digest, size and parameters of every version the ledger lacks from "
        "the registry, and the signed kernel-matrix record of every published version the "
        "matrix ledger lacks (the index can be built from the registry alone)",
    )
    sub.add_argument(
        "--insecure",
        action="store_true",
        help="plain HTTP to the registry (credentials go over it only to a loopback address)",
    )
    sub.add_argument(
        "--public-key",
        metavar="FILE",
        help="the hub's public key, which the kernel-matrix records, signatures and "
        "provenance read back from the registry must verify with (default: "
        "$EBPF_HUB_PUBLIC_KEY, else the config file's)",
    )


def cmd_index(args: argparse.Namespace) -> int:
    from ebpf_hub.index.jsonindex import build_index, write_index
    from ebpf_hub.index.validate import validate

    config = hub_config(args)
    report = validate(config)
    if not report.ok:
        for problem in report.problems:
            say(str(problem))
        raise HubError(
            f"the index has {len(report.problems)} problem(s); "
            "fix them (ebpf-hub validate) before building the JSON index"
        )
    out = Path(args.out)
    digests = published_digests(args, config, report.packages)
    files = build_index(
        report.packages,
        args.registry or config.registry,
        digests,
        recorded_matrices(args, config, report.packages, digests),
    )
    write_index(files, out)
    say(f"wrote {len(files)} file(s) under {out / 'api' / 'v1'}")
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    from ebpf_hub.index.srchash import tree_hash

    show(tree_hash(Path(args.directory)))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    validate = add_command(
        commands,
        "validate",
        cmd_validate,
        "check package files against the schema and the hub's rules",
        "Check index/packages/*.yaml: the JSON Schema, names, SemVer order, SPDX licenses, "
        "categories, pinned sources, and with --base that published versions did not change. "
        "Every problem is printed as PATH:LINE: FIELD: MESSAGE (hint: ...); exit 1 if any.",
    )
    validate.add_argument(
        "files", nargs="*", metavar="FILE", help="package files to check (default: all)"
    )
    validate.add_argument(
        "--base",
        metavar="REF",
        help="check only what changed since this git ref, and that no published "
        "version changed (for pull requests)",
    )
    validate.add_argument("--json", action="store_true", help="print the report as JSON")
    add_root(validate)

    index = add_command(
        commands,
        "index",
        cmd_index,
        "write the JSON index (api/v1) from the package files",
        "Validate the whole index, then write OUT/api/v1/index.json and "
        "OUT/api/v1/packages/NAME.json. Output is deterministic and replaced atomically.",
    )
    index.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (e.g. build/site)"
    )
    index.add_argument(
        "--digests",
        metavar="FILE",
        help="digest ledger written by `ebpf-hub publish` (adds digests to versions)",
    )
    index.add_argument(
        "--registry",
        metavar="REGISTRY/NAMESPACE",
        help="registry the references point to (default: index/hub.yaml's)",
    )
    add_digest_options(index)
    add_matrix_option(index)
    add_root(index)

    hash_cmd = add_command(
        commands,
        "hash",
        cmd_hash,
        "print the content hash that pins an in-repo source directory",
        "Print sha256:HEX over every file of DIR; an in-repo package version pins it as `tree`.",
    )
    hash_cmd.add_argument("directory", metavar="DIR")
