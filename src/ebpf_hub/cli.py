"""The `ebpf-hub` command line: parsing and output only; each command calls one function."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ebpf_hub import __version__
from ebpf_hub.errors import HubError

Handler = Callable[[argparse.Namespace], int]


def _hub_config(args: argparse.Namespace) -> Any:
    from ebpf_hub.index.config import find_root, load_config

    root = Path(args.root).resolve() if args.root else find_root(Path.cwd().resolve())
    return load_config(root)


def cmd_validate(args: argparse.Namespace) -> int:
    from ebpf_hub.index.validate import validate

    report = validate(_hub_config(args), files=[Path(f) for f in args.files], base=args.base)
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
            print(problem)
        verdict = f"{len(report.problems)} problem(s)" if report.problems else "all valid"
        print(f"checked {len(report.checked)} package file(s): {verdict}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_index(args: argparse.Namespace) -> int:
    from ebpf_hub.index.jsonindex import build_index, load_digests, write_index
    from ebpf_hub.index.validate import validate

    config = _hub_config(args)
    report = validate(config)
    if not report.ok:
        for problem in report.problems:
            print(problem, file=sys.stderr)
        raise HubError(
            f"the index has {len(report.problems)} problem(s); "
            "fix them (ebpf-hub validate) before building the JSON index"
        )
    out = Path(args.out)
    files = build_index(
        report.packages,
        args.registry or config.registry,
        load_digests(Path(args.digests) if args.digests else None),
    )
    write_index(files, out)
    print(f"wrote {len(files)} file(s) under {out / 'api' / 'v1'}", file=sys.stderr)
    return 0


def cmd_hash(args: argparse.Namespace) -> int:
    from ebpf_hub.index.srchash import tree_hash

    print(tree_hash(Path(args.directory)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ebpf-hub",
        description="Publish, find, install and run eBPF programs as OCI artifacts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str, handler: Handler, help_text: str, description: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=description)
        sub.set_defaults(handler=handler)
        return sub

    def add_root(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--root",
            metavar="DIR",
            help="hub checkout to work on (default: the one containing the current directory)",
        )

    validate = add(
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

    index = add(
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
    add_root(index)

    hash_cmd = add(
        "hash",
        cmd_hash,
        "print the content hash that pins an in-repo source directory",
        "Print sha256:HEX over every file of DIR; an in-repo package version pins it as `tree`.",
    )
    hash_cmd.add_argument("directory", metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except HubError as exc:
        print(f"ebpf-hub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ebpf-hub: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
