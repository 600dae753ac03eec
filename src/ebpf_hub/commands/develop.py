"""Commands for package authors: init, test, submit; and `build DIR` / `publish DIR`, which
the `build` and `publish` commands hand over to when given a package directory."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ebpf_hub.client.console import say, show
from ebpf_hub.commands.common import add_command, add_root, hub_config, signing_key, split_spec
from ebpf_hub.errors import HubError

if TYPE_CHECKING:
    from ebpf_hub.build.package import BuiltVersion
    from ebpf_hub.develop.project import Project
    from ebpf_hub.index.config import HubConfig
    from ebpf_hub.publish.select import Target


def is_package_dir(argument: str | None) -> bool:
    """Whether a command's argument names a package directory (one holding ebpf-hub.yaml)."""
    from ebpf_hub.develop.project import is_package_dir as check

    return argument is not None and check(Path(argument))


def _build(project: Project, out: Path) -> BuiltVersion:
    from ebpf_hub.develop.release import build_project, current_pin

    pin, reason = current_pin(project)
    if pin is None:
        say(f"note: this build pins no commit: {reason}")
    return build_project(project, out, pin)


def cmd_build_dir(args: argparse.Namespace) -> int:
    """`ebpf-hub build DIR`: compile the directory into DIR/build (or --out)."""
    from ebpf_hub.develop.project import load_project

    project = load_project(Path(args.package))
    built = _build(project, Path(args.out) if args.out else project.directory / "build")
    if args.load_test:
        from ebpf_hub.run.smoke import load_test

        load_test(f"{built.package.name}@{built.version.version}", built.files)
    files = [str(f) for f in built.files]
    say(f"built {project.name}@{built.version.version}: {', '.join(files)}")
    if args.json:
        print(
            json.dumps(
                [{"package": project.name, "version": built.version.version, "files": files}],
                indent=2,
            )
        )
    return 0


def cmd_publish_dir(args: argparse.Namespace) -> int:
    """`ebpf-hub publish DIR --registry R`: build the committed directory, push and sign it."""
    from ebpf_hub.develop.project import load_project
    from ebpf_hub.develop.release import publish_project
    from ebpf_hub.publish import ledger
    from ebpf_hub.publish.pipeline import Destination

    if args.all or args.changed:
        raise HubError(
            "--all and --changed select versions of the hub; a directory publishes itself"
        )
    if not args.registry:
        raise HubError("pass --registry HOST[:PORT]/NAMESPACE (or oci:DIR) to publish to")
    project = load_project(Path(args.directory))
    key = signing_key(args)
    outcome = publish_project(
        project, Destination(args.registry, insecure=args.insecure, sign_as=args.sign_as), key
    )
    version = outcome.target.version.version
    ledger.record(Path(args.ledger), [outcome])
    verb = "pushed" if outcome.pushed else "unchanged"
    say(f"{verb} {outcome.reference} {outcome.digest}")
    if args.json:
        print(
            json.dumps(
                {
                    "package": project.name,
                    "version": version,
                    "reference": outcome.reference,
                    "digest": outcome.digest,
                    "size": outcome.size,
                    "pushed": outcome.pushed,
                },
                indent=2,
            )
        )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from ebpf_hub.develop.scaffold import USERSPACES, init_package, kinds

    if args.list:
        for kind in kinds():
            show(f"{kind.name:<11} {kind.summary}")
            show(f"{'':<11} hooks: {', '.join(kind.sections)}; output: {kind.output}")
        show(f"user space (--userspace): {', '.join(USERSPACES)}")
        return 0
    if args.origin:
        return _init_from(args)
    if not args.directory or not args.template:
        raise HubError("pass DIR and --template KIND (ebpf-hub init --list shows the kinds)")
    directory = Path(args.directory)
    written = init_package(directory, args.template, args.userspace, args.name)
    for path in written:
        show(str(path))
    say(
        f"created {len(written)} files in {directory}; next: ebpf-hub build {directory}, "
        f"then sudo ebpf-hub test {directory} (see {directory / 'README.md'})"
    )
    return 0


def _init_from(args: argparse.Namespace) -> int:
    """`ebpf-hub init DIR --from TOOLDIR`: a package of eBPF C written elsewhere."""
    from ebpf_hub.develop.importer import import_package

    if not args.directory or args.template:
        raise HubError("pass DIR and --from TOOLDIR, without --template: the C is the tool's")
    directory = Path(args.directory)
    imported = import_package(Path(args.origin), directory, args.name, args.program)
    for path in imported.files:
        show(str(path))
    for note in imported.notes:
        say(f"note: {note}")
    say(
        f"created {len(imported.files)} files in {directory}; next: write the summary and "
        f"description in {directory / 'ebpf-hub.yaml'}, then sudo ebpf-hub test {directory}"
    )
    return 0


def hub_target(config: HubConfig, spec: str) -> Target:
    """The version `NAME[@VERSION]` names in the hub checkout (default: the newest)."""
    from ebpf_hub.publish.select import package_targets

    name, version = split_spec(spec)
    targets = [
        t for t in package_targets(config, name) if version is None or t.version.version == version
    ]
    if not targets:
        raise HubError(f"{spec}: no such package version in the index")
    return targets[-1]


def _test_build(args: argparse.Namespace, scratch: Path) -> tuple[Path, BuiltVersion]:
    """What `test` checks: a package directory built as `build DIR` builds it, or a package
    of the hub checkout built from its pinned sources (for this host), as `build NAME`
    does; and the directory holding its ./trigger."""
    if "/" in args.package or Path(args.package).is_dir():  # no package name has a slash
        from ebpf_hub.develop.project import load_project

        project = load_project(Path(args.package))
        return project.directory, _build(project, scratch / "out")
    from ebpf_hub.build.package import build_sources
    from ebpf_hub.build.source import checkout_sources

    config = hub_config(args)
    target = hub_target(config, args.package)
    source = checkout_sources(config.root, target.package, target.version, scratch / "source")
    return source, build_sources(source, target.package, target.version, scratch / "out")


def cmd_test(args: argparse.Namespace) -> int:
    import tempfile

    from ebpf_hub.develop.livetest import live_test

    with tempfile.TemporaryDirectory(prefix="ebpf-hub-test-") as scratch:
        directory, built = _test_build(args, Path(scratch))
        result = live_test(directory, built, iface=args.iface, timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    for obj in result.objects:
        say(f"{obj.file}: attached {', '.join(obj.programs)}")
        if obj.events:
            say(f"  {obj.events} event(s), the first: {json.dumps(obj.first_event)}")
        for name, count in obj.counts.items():
            say(f"  map {name}: {count} non-zero entr{'y' if count == 1 else 'ies'}")
    if not result.ok:
        hint = (
            "does ./trigger cause what the program watches?"
            if result.triggered
            else "add an executable ./trigger that causes what the program watches"
        )
        raise HubError(f"{result.label}: no event and no count in {result.seconds:.1f} s; {hint}")
    say(f"ok {result.label}: loaded, attached, produced output, detached ({result.seconds:.1f} s)")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from ebpf_hub.develop.project import load_project
    from ebpf_hub.develop.submit import submit
    from ebpf_hub.index.config import find_root

    root = Path(args.hub_root).resolve() if args.hub_root else find_root(Path.cwd().resolve())
    result = submit(load_project(Path(args.directory)), root, args.remote, local=args.local)
    for warning in result.warnings:
        say(f"warning: {warning}")
    if args.local:
        say(
            f"wrote {result.path} ({result.version}, sources copied and pinned to "
            f"{result.pin}); it passes ebpf-hub validate. Try it: scripts/up in {root}, then "
            "with the EBPF_HUB_URL and EBPF_HUB_PUBLIC_KEY it prints, "
            f"ebpf-hub run {result.path.stem}"
        )
        return 0
    say(
        f"wrote {result.path} ({result.version} at {result.pin[:12]}); it passes "
        f"ebpf-hub validate. Commit it on a branch of the hub and open a pull request."
    )
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = add_command(
        commands,
        "init",
        cmd_init,
        "create a package directory from a template",
        "Create DIR with a working package of the chosen kind: the eBPF program, its manifest "
        "ebpf-hub.yaml (the fields of an index entry), a trigger for `ebpf-hub test`, README, "
        "LICENSE, .gitignore and a GitHub workflow that builds, tests and publishes it; with "
        "--userspace, a loader of its own in C (libbpf skeleton), Go (cilium/ebpf) or Python. "
        "With --from TOOLDIR, package eBPF C written elsewhere (libbpf-tools style) instead: "
        "its programs and the headers they include are copied, built, and the manifest is "
        "written from the object.",
    )
    init.add_argument("directory", nargs="?", metavar="DIR")
    init.add_argument("--template", metavar="KIND", help="kind of package (see --list)")
    init.add_argument(
        "--userspace",
        default="none",
        metavar="LANG",
        help="none (default: ebpf-hub run shows the output), c, go or python",
    )
    init.add_argument("--name", metavar="NAME", help="package name (default: DIR's name)")
    init.add_argument("--list", action="store_true", help="describe the template kinds")
    init.add_argument(
        "--from",
        dest="origin",
        metavar="TOOLDIR",
        help="import the *.bpf.c of TOOLDIR (a libbpf-tools-style directory) unedited",
    )
    init.add_argument(
        "--program",
        metavar="NAME",
        help="with --from: import only NAME.bpf.c (libbpf-tools keeps many tools in one place)",
    )

    test = add_command(
        commands,
        "test",
        cmd_test,
        "build a package, load, attach and trigger it, check it produces output",
        "Build DIR (a package directory) or NAME[@VERSION] (a package of the hub checkout, "
        "from its pinned sources), load every object into the kernel (the verifier runs), "
        "attach every program, run its ./trigger if there is one (again each second), and "
        "pass once an event or a non-zero count of an output map appears; everything is "
        "detached on return. Root.",
    )
    test.add_argument("package", metavar="DIR | NAME[@VERSION]")
    add_root(test)
    test.add_argument(
        "--iface",
        default="lo",
        metavar="NAME",
        help="interface for XDP and TC programs (default: lo)",
    )
    test.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for output (default: 10)",
    )
    test.add_argument("--json", action="store_true", help="print the result as JSON")

    submit = add_command(
        commands,
        "submit",
        cmd_submit,
        "write the hub's index entry for a package directory, pinned and validated",
        "Write HUB/index/packages/NAME.yaml from DIR's manifest: its newest version pinned to "
        "the commit DIR is at, its source the https URL of the git remote; versions the hub "
        "already lists stay as they are. The result is checked with the hub's validator, and a "
        "summary, description or README still holding a template's text is refused; then "
        "commit it on a branch of the hub and open a pull request. With --local, a dry run: "
        "the sources are copied into HUB/sources/NAME and pinned by their tree hash, so "
        "scripts/up in HUB builds and serves the package with no commit or push.",
    )
    submit.add_argument("directory", metavar="DIR")
    submit.add_argument(
        "--hub-root",
        metavar="PATH",
        help="the hub checkout (default: the one containing the current directory)",
    )
    submit.add_argument(
        "--local",
        action="store_true",
        help="dry run against a hub of your own: copy the sources into HUB/sources/NAME and "
        "pin their tree hash instead of a commit, so scripts/up builds and serves it",
    )
    submit.add_argument(
        "--remote",
        default="origin",
        metavar="NAME",
        help="git remote the hub fetches from (default: origin)",
    )
