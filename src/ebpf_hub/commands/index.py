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
    from ebpf_hub.index.config import HubConfig
    from ebpf_hub.index.jsonindex import Digests
    from ebpf_hub.model.matrix import Matrices
    from ebpf_hub.model.package import Package


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
    """The ledger `--digests` names, completed from the registry with `--digests-from-registry`.

    The registry is the truth: a ledger only saves asking it again, so an index built from the
    registry alone is the same as one built from a complete ledger.
    """
    from ebpf_hub.index.jsonindex import load_digests

    known = load_digests(Path(args.digests) if args.digests else None)
    if not args.digests_from_registry:
        return known
    from ebpf_hub.publish.ledger import from_registry
    from ebpf_hub.publish.pipeline import Destination

    destination = Destination(args.registry or config.registry, insecure=args.insecure)
    return from_registry(packages, destination, known)


def recorded_matrices(args: argparse.Namespace) -> Matrices:
    """The kernel verdicts of the matrix ledger `--matrix` names (none without it)."""
    from ebpf_hub.publish.matrixledger import summaries

    return summaries(Path(args.matrix) if args.matrix else None)


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
        "the registry (the index can be built from the registry alone)",
    )
    sub.add_argument(
        "--insecure",
        action="store_true",
        help="plain HTTP to the registry (credentials go over it only to a loopback address)",
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
    files = build_index(
        report.packages,
        args.registry or config.registry,
        published_digests(args, config, report.packages),
        recorded_matrices(args),
    )
    write_index(files, out)
    say(f"wrote {len(files)} file(s) under {out / 'api' / 'v1'}")
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    from ebpf_hub.index.srchash import tree_hash

    show(tree_hash(Path(args.directory)))
    return 0


COMMANDS = ("validate", "index", "hash")  # what `register` adds


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
