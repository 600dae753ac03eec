"""Commands of the package manager: search, info, install, list, outdated, upgrade, remove, pull.

Each handler calls one function of `ebpf_hub.client` and prints its result: tables and
details for people on stdout, `--json` for scripts, progress and warnings on stderr. Imports
happen inside the handlers, so `list` never opens a connection (it reads the cached index)
and `search` never loads the OCI stack.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpf_hub.client.console import say, show, show_json
from ebpf_hub.commands.common import add_command
from ebpf_hub.safetext import clip, escape, quote

if TYPE_CHECKING:
    from ebpf_hub.bpfobj.capabilities import Capabilities, Danger
    from ebpf_hub.client.install import Upgrade
    from ebpf_hub.client.installed import InstalledPackage
    from ebpf_hub.client.outdated import Outdated
    from ebpf_hub.client.settings import Settings
    from ebpf_hub.model.artifact import Parameter
    from ebpf_hub.model.index import IndexPackage, IndexVersion
    from ebpf_hub.model.package import Permissions
    from ebpf_hub.model.requires import Requires

_DIGEST_SHOWN = 19  # "sha256:" and 12 hex digits, as in docker's short ids


def cmd_search(args: argparse.Namespace) -> int:
    from ebpf_hub.client.hubindex import HubIndex
    from ebpf_hub.client.search import search

    with HubIndex(settings_from(args)) as hub:
        matches = search(hub.summaries(), args.term, args.category)
    if args.json:
        show_json(
            [
                {
                    "name": m.name,
                    "latest": m.package.latest,
                    "summary": m.package.summary,
                    "categories": list(m.package.categories),
                    "keywords": list(m.package.keywords),
                    "match": m.reason,
                }
                for m in matches
            ]
        )
    elif matches:
        _print_table(
            ("NAME", "LATEST", "SUMMARY"),
            [(m.name, m.package.latest or "-", m.package.summary) for m in matches],
        )
    else:
        scope = f" in category {quote(args.category)}" if args.category else ""
        say(f"no package matches {quote(args.term)}{scope}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ebpf_hub.client.hubindex import HubIndex
    from ebpf_hub.client.installed import find_installed
    from ebpf_hub.client.resolve import parse_spec, resolve
    from ebpf_hub.errors import NothingInstallableError

    name, spec = parse_spec(args.package)
    with HubIndex(settings_from(args)) as hub:
        package = hub.package(name)
    try:
        selected: IndexVersion | None = resolve(package, spec).version
    except NothingInstallableError:
        if spec is not None:
            raise
        selected = None  # nothing installable by default: still worth describing
    installed = find_installed(name)
    if args.json:
        found = _installed_capabilities(installed)
        show_json(
            {
                **package.to_json(),
                "selected": selected.version if selected else None,
                "installed": installed.to_json() if installed else None,
                "capabilities": found.to_json() if found else None,
            }
        )
    else:
        for line in _describe(package, selected, installed):
            show(line)
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from ebpf_hub.bpfobj.capabilities import actions, object_capabilities
    from ebpf_hub.client.install import install

    outcome = install(
        settings_from(args),
        args.package,
        allow_unsigned=args.allow_unsigned,
        ignore_matrix=args.ignore_matrix,
    )
    package = outcome.package
    if outcome.changed:
        say(f"installed {package.name} {package.version} ({_short(package.digest)})")
    else:
        say(f"{package.name} {package.version} ({_short(package.digest)}) is already installed")
    # what the verified objects can do, read from their bytes: the config only claims it
    found = object_capabilities(package.objects)
    for action in actions(found.everything(), package.config.permissions):
        say(f"{package.name} {package.version} can {action}")
    if args.json:
        show_json(package.to_json())
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ebpf_hub.client.installed import list_installed

    packages = list_installed()
    newest = _cached_releases(args, packages) if packages else {}
    if args.json:
        show_json([{**p.to_json(), **_newest_json(newest.get(p.name))} for p in packages])
    elif packages:
        header: tuple[str, ...] = ("NAME", "VERSION", "DIGEST", "INSTALLED", "VERIFIED")
        rows: list[tuple[str, ...]] = [
            (
                p.name,
                p.version,
                _short(p.digest),
                p.installed.replace("T", " ").replace("Z", ""),
                "yes" if p.verified else "NO",
            )
            for p in packages
        ]
        if newest:
            header += ("NEWEST",)
            rows = [(*row, _newest_cell(newest[row[0]])) for row in rows]
        _print_table(header, rows)
    else:
        say("no package installed; find one with `ebpf-hub search TERM`")
    return 0


def cmd_outdated(args: argparse.Namespace) -> int:
    from ebpf_hub.client.installed import list_installed
    from ebpf_hub.client.outdated import compare

    found = compare(settings_from(args), list_installed())
    if args.json:
        show_json([entry.to_json() for entry in found])
    elif found:
        _print_table(
            ("NAME", "INSTALLED", "NEWEST", "UPGRADE", "STATUS"),
            [(e.name, e.installed, e.newest or "-", e.upgrade or "-", _status(e)) for e in found],
        )
    else:
        say("no package installed; nothing can be outdated")
    for entry in found:
        for note in _outdated_notes(entry):
            say(note)
    if any(entry.error for entry in found):
        return 1
    return EXIT_OUTDATED if any(entry.outdated for entry in found) else 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from ebpf_hub.bpfobj.capabilities import actions
    from ebpf_hub.client.install import plan_upgrades
    from ebpf_hub.errors import HubError

    settings = settings_from(args)
    plans = plan_upgrades(settings, args.names)
    report = []
    for plan in plans:
        error, done = plan.error, False
        gained: tuple[Danger, ...] = ()
        if plan.target is not None:
            try:
                gained = _upgrade(settings, plan, args)
                done = not args.dry_run
            except HubError as exc:
                error = str(exc)
        report.append(
            {
                "name": plan.current.name,
                "from": plan.current.version,
                "to": plan.target,
                "upgraded": done,
                "error": error,
                "gained": [danger.to_json() for danger in gained],
            }
        )
        new = f"{plan.current.name} {plan.target} can newly"
        lines = [_upgrade_line(plan, done, error)]
        lines += [f"{new} {action}" for action in actions(gained, None)]
        for line in lines:
            if args.dry_run and plan.target is not None and not args.json:
                show(line)
            else:
                say(line)
    if args.json:
        show_json(report)
    if not plans:
        say("no package installed; nothing to upgrade")
    return 1 if any(entry["error"] for entry in report) else 0


def cmd_remove(args: argparse.Namespace) -> int:
    from ebpf_hub.client.install import remove

    removed = remove(args.name)
    say(f"removed {args.name} {removed.version}" if removed else f"removed {args.name}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ebpf_hub.client.install import pull
    from ebpf_hub.oci.imageindex import Platform

    out = Path(args.out)
    platform = Platform.parse(args.platform) if args.platform else None
    fetched = pull(
        settings_from(args),
        args.reference,
        out,
        allow_unsigned=args.allow_unsigned,
        platform=platform,
    )
    artifact = fetched.artifact
    say(
        f"pulled {args.reference} ({_short(artifact.digest)}) into {out}: "
        + ", ".join(path.name for path in artifact.files)
    )
    if args.json:
        show_json(
            {
                "reference": args.reference,
                "digest": artifact.digest,
                "verified": fetched.verified,
                "arch": fetched.config.build.arch,
                "files": [str(path) for path in artifact.files],
                "config": fetched.config.to_json(),
            }
        )
    return 0


def _cached_releases(
    args: argparse.Namespace, packages: list[InstalledPackage]
) -> dict[str, Outdated]:
    """Each installed package beside its newest release, from the index as last fetched:
    `list` asks no server, so it answers at once, online or not. Empty (and said so) when
    the index is not cached; `outdated` fetches it."""
    from ebpf_hub.client.outdated import compare
    from ebpf_hub.errors import HubError

    try:
        found = compare(settings_from(args), packages, offline=True)
    except HubError as exc:  # a broken config file: `list` still lists
        say(f"ebpf-hub: newest versions unknown: {exc}")
        return {}
    unknown = [entry for entry in found if entry.error is not None]
    if unknown:
        names = ", ".join(entry.name for entry in unknown)
        say(f"ebpf-hub: newest version unknown for {names}: {unknown[0].error}")
    return {} if len(unknown) == len(found) else {entry.name: entry for entry in found}


def _newest_json(entry: Outdated | None) -> dict[str, Any]:
    """`list --json`'s fields from the cached index (null when it does not tell)."""
    known = entry is not None and entry.error is None
    return {
        "newest": entry.newest if known and entry else None,
        "outdated": entry.outdated if known and entry else None,
    }


def _newest_cell(entry: Outdated) -> str:
    if entry.error is not None:
        return "?"
    return entry.newest or "-"


def _status(entry: Outdated) -> str:
    if entry.error is not None:
        return "unknown"
    return "outdated" if entry.outdated else "up to date"


def _outdated_notes(entry: Outdated) -> list[str]:
    """What a row of `outdated` cannot say: why a package was not checked, that the installed
    version is yanked, that `upgrade` keeps to a line that has nothing newer."""
    name = entry.name
    if entry.error is not None:
        return [f"{name}: cannot check: {entry.error}"]
    notes = []
    if entry.yanked is not None:
        notes.append(
            f"{name} {entry.installed} is yanked ({clip(entry.yanked)}); "
            + (
                f"`ebpf-hub upgrade {name}` moves to {entry.upgrade}"
                if entry.upgrade
                else f"`ebpf-hub info {name}` lists the other versions"
            )
        )
    if entry.outdated and entry.upgrade is None and entry.line is not None:
        notes.append(
            f"{name} was installed as {name}@{entry.line}, and `upgrade` keeps to that line; "
            f"`ebpf-hub install {name}@{entry.newest}` moves to {entry.newest}"
        )
    return notes


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the options `add_client_options` added (flags win over everything)."""
    from ebpf_hub.client.settings import Settings

    return Settings.load(
        hub_url=getattr(args, "hub", None),
        registry=getattr(args, "registry", None),
        public_key=getattr(args, "public_key", None),
        insecure_registries=getattr(args, "insecure_registry", None),
    )


def add_client_options(
    sub: argparse.ArgumentParser,
    *,
    hub: bool = True,
    registry: bool = False,
    trust: bool = False,
) -> None:
    """The options shared by the client commands: where the hub is, what to trust, --json."""
    if hub:
        sub.add_argument(
            "--hub",
            metavar="URL",
            help="where the hub's api/v1/ is served (or a directory); default: $EBPF_HUB_URL, "
            "the config file, else the public hub",
        )
    if registry:
        sub.add_argument(
            "--registry",
            metavar="REF",
            help="pull from REGISTRY/NAMESPACE or oci:DIR instead of the registry the index "
            "names (a mirror); signatures must still name the index's; default: "
            "$EBPF_HUB_REGISTRY; $EBPF_HUB_REGISTRY_USERNAME/_PASSWORD go only to this "
            "registry (else the public hub's), other hosts use docker's credentials",
        )
        sub.add_argument(
            "--insecure-registry",
            action="append",
            metavar="HOST[:PORT]",
            help="speak plain HTTP to this registry (repeatable); only localhost and loopback "
            "IP literals get it without being listed; default: $EBPF_HUB_INSECURE_REGISTRIES "
            "(comma-separated) or the config file's insecure_registries",
        )
    if trust:
        sub.add_argument(
            "--public-key",
            metavar="FILE",
            help="the hub's signing public key (PEM); default: $EBPF_HUB_PUBLIC_KEY or the "
            "config file",
        )
        sub.add_argument(
            "--allow-unsigned",
            action="store_true",
            help="accept an artifact whose signature is missing or cannot be verified "
            "(with a warning)",
        )
    sub.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def add_ignore_matrix(sub: argparse.ArgumentParser) -> None:
    """--ignore-matrix, for the commands the kernel matrix may refuse (install, run)."""
    sub.add_argument(
        "--ignore-matrix",
        action="store_true",
        help="go ahead on a kernel where the hub's kernel matrix saw this version fail",
    )


EXIT_OUTDATED = 100  # as `dnf check-update`: 0 all up to date, 100 newer releases, 1 errors


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = add_command(
        commands,
        "search",
        cmd_search,
        "find packages by name, summary, keyword or category",
        "Rank the hub's packages against TERM: exact name, then name prefix, then words of the "
        "summary and keywords, then similar names. With no TERM, list every package (of "
        "--category). The index is cached; a repeat search costs a 304, and an unreachable hub "
        "falls back to the cache with a notice.",
    )
    search.add_argument("term", nargs="?", default="", metavar="TERM")
    search.add_argument("--category", metavar="C", help="only packages of this category")
    add_client_options(search)

    info = add_command(
        commands,
        "info",
        cmd_info,
        "show what a package does, needs and may do, before installing it",
        "Show NAME's versions (yanked ones marked), kernel requirements, programs and their "
        "attach points, permissions (dangerous helpers included), license, source and the "
        "digest of the version that `install NAME[@VERSION]` would install.",
    )
    info.add_argument("package", metavar="NAME[@VERSION]")
    add_client_options(info)

    install = add_command(
        commands,
        "install",
        cmd_install,
        "install a package version, verified",
        "Install NAME (the newest release), NAME@1.2 (the newest 1.2.x) or NAME@1.2.3 (exactly; "
        "a yanked version only this way). The artifact is pulled by the digest the hub pins, "
        "its signature checked against the hub's public key, every blob checked, and the "
        "files installed atomically. Blobs are cached: a re-install needs no network.",
    )
    install.add_argument("package", metavar="NAME[@VERSION]")
    add_ignore_matrix(install)
    add_client_options(install, registry=True, trust=True)

    listing = add_command(
        commands,
        "list",
        cmd_list,
        "list installed packages",
        "List installed packages: name, version, digest, install time, whether the "
        "signature was verified, and the newest release (NEWEST) as the hub index last "
        "fetched says: `list` asks no server, so it works offline and says when it cannot "
        "tell; `ebpf-hub outdated` asks the hub.",
    )
    add_client_options(listing)

    outdated = add_command(
        commands,
        "outdated",
        cmd_outdated,
        "show installed packages that have a newer release",
        "Compare each installed package with the hub's newest release (what `install NAME` "
        "would choose: not yanked, not a prerelease) and with what `upgrade` would move it "
        "to (a package installed as NAME@1.2 stays on 1.2.x); an installed version the hub "
        f"has yanked is said so. Exit status: 0 when every package is up to date, "
        f"{EXIT_OUTDATED} when one has a newer release, 1 when one could not be checked.",
    )
    add_client_options(outdated)

    upgrade = add_command(
        commands,
        "upgrade",
        cmd_upgrade,
        "upgrade installed packages to their newest release",
        "Upgrade each NAME (default: every installed package) to the newest release that is "
        "newer than the installed one; a package installed as NAME@1.2 stays on 1.2.x.",
    )
    upgrade.add_argument("names", nargs="*", metavar="NAME")
    upgrade.add_argument("--dry-run", action="store_true", help="only print what would change")
    add_ignore_matrix(upgrade)
    add_client_options(upgrade, registry=True, trust=True)

    remove = add_command(
        commands,
        "remove",
        cmd_remove,
        "uninstall a package",
        "Remove NAME's files and record. Cached blobs stay in the cache for a quick re-install.",
    )
    remove.add_argument("name", metavar="NAME")

    pull = add_command(
        commands,
        "pull",
        cmd_pull,
        "download an artifact, verified, into a directory",
        "Pull REF (HOST/NAMESPACE/NAME:TAG, ...@sha256:DIGEST, oci:DIR:TAG, or a hub package "
        "NAME[@VERSION]) into the empty or new directory DIR, verified as install verifies: "
        "the signature must name REF's repository. A version built for several architectures "
        "(an OCI image index) gives this machine's build, or --platform's.",
    )
    pull.add_argument("reference", metavar="REF")
    pull.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    pull.add_argument(
        "--platform",
        metavar="OS/ARCH",
        help="the build of this platform (linux/amd64, linux/arm64); default: this machine's",
    )
    add_client_options(pull, registry=True, trust=True)


def _describe(
    package: IndexPackage, selected: IndexVersion | None, installed: InstalledPackage | None
) -> list[str]:
    """The lines of `info`: the package, then its versions, then the selected version."""
    source = package.source
    rows = [
        ("license", package.license),
        ("source", source.git or f"{source.path} (in the hub repository)"),
        ("homepage", package.homepage or "-"),
        ("categories", ", ".join(package.categories)),
        ("keywords", ", ".join(package.keywords or ()) or "-"),
        ("requires", _requirements(package.requires)),
        ("permissions", _permissions(package.permissions, installed)),
        ("installed", f"{installed.version} ({_short(installed.digest)})" if installed else "no"),
    ]
    lines = [f"{package.name}: {package.summary}", ""]
    lines += [f"  {label:<12} {value}" for label, value in rows]
    lines += ["", "programs:"]
    lines += [
        f"  {p.name:<24} {p.attach or '?':<14} {p.section}" + ("  (optional)" if p.optional else "")
        for p in package.programs
    ]
    lines += _choice_lines(package)
    lines += ["", "versions (newest first):"]
    for entry in reversed(package.versions):
        state = f"yanked: {entry.yanked}" if entry.yanked else ""
        digest = _short(entry.digest) if entry.digest else "not published yet"
        lines.append(f"  {entry.version:<12} {entry.created}  {digest:<20} {state}".rstrip())
    if selected is not None:
        pin = selected.commit or selected.tree
        lines += [
            "",
            f"version {selected.version}:",
            f"  {'digest':<12} {selected.digest or 'not published yet'}",
            f"  {'reference':<12} {selected.pinned or selected.reference}",
            f"  {'source pin':<12} {pin}",
            f"  {'changes':<12} {selected.changes}",
            f"  {'install':<12} ebpf-hub install {package.name}@{selected.version}",
        ]
        parameters = selected.parameters or ()
        if parameters:
            lines += ["", f"parameters (ebpf-hub run {package.name} -p NAME=VALUE):"]
            lines += [line for p in parameters for line in _parameter_lines(p)]
        lines += ["", *_matrix_lines(selected)]
    return lines


def _choice_lines(package: IndexPackage) -> list[str]:
    """The modes (`run --mode`) and filter options (`run --pid`...) `info` lists."""
    lines = []
    if package.modes:
        lines += ["", f"modes (ebpf-hub run {package.name} --mode NAME):"]
        for mode in package.modes:
            default = " (default)" if mode.default else ""
            lines.append(f"  {mode.name + default:<24} {', '.join(mode.programs)}")
            lines.append(f"      {mode.description}")
    if package.filters:
        options = " ".join(f"--{f.option}" for f in package.filters)
        lines += ["", f"filters: {options}"]
    return lines


def _parameter_lines(param: Parameter) -> list[str]:
    """A parameter as `info` shows it: name, type (the declared one, with its unit, else the
    C type), default in that type's form; then the description, when the package gives one."""
    shown = param.kind or param.type
    shown += f" ({param.unit})" if param.unit else ""
    default = param.default_text if param.default_text is not None else json.dumps(param.default)
    line = f"  {param.name:<24} {shown:<20} default {default}"
    return [line, f"      {param.description}"] if param.description else [line]


def _matrix_lines(selected: IndexVersion) -> list[str]:
    """The kernel matrix of the selected version: a line per kernel, then this host's."""
    from ebpf_hub.client.matrixgate import this_host

    if selected.matrix is None:
        return [f"kernel matrix: version {selected.version} was not tested on the hub's kernels"]
    lines = [f"kernel matrix (version {selected.version}, booted under qemu):"]
    for verdict in selected.matrix:
        mark = {"pass": "pass", "fail": "FAIL", "skip": "partial"}[verdict.status]
        reason = " / ".join(verdict.reason.splitlines())
        lines.append(f"  {verdict.label:<14} {mark:<8} {verdict.release}  {reason}".rstrip())
    lines.append(f"  {'this host':<14} {this_host(selected.matrix).sentence()}")
    return lines


def _requirements(requires: Requires) -> str:
    parts = [f"Linux >= {requires.kernel}"]
    if requires.btf:
        parts.append("kernel BTF")
    parts.append("/".join(requires.architectures))
    capabilities = requires.capabilities
    if capabilities:
        parts.append("capabilities " + ", ".join(capabilities))
    return "; ".join(parts)


def _permissions(permissions: Permissions, installed: InstalledPackage | None) -> str:
    """The metadata's permissions; the hooks and dangerous calls of an installed package are
    read from its objects (the metadata only claims them), those of another from the metadata."""
    from ebpf_hub.bpfobj.capabilities import dangerous_calls, declared_dangers, declared_hooks

    reads = permissions.reads_user_memory
    found = _installed_capabilities(installed)
    if installed is None or found is None:
        where = "the package declares (install it to read its objects)"
        hooks, calls = declared_hooks(permissions), declared_dangers(permissions)
    else:
        where = f"of the installed objects ({installed.version})"
        hooks, calls = found.hooks, found.dangers
        reads = reads or found.reads_user_memory
    parts = ["attaches to " + ", ".join(permissions.attach)]
    if reads:
        parts.append("reads process memory")
    if permissions.drops_packets:
        parts.append("may drop or redirect packets")
    if hooks:
        shown = "; ".join(dangerous_calls(hooks, permissions))
        parts.append(f"hooks that change the system {where}: {shown}")
    parts.append(
        f"dangerous calls {where}: {'; '.join(dangerous_calls(calls, permissions)) or 'none'}"
    )
    return "; ".join(parts)


def _upgrade(settings: Settings, plan: Upgrade, args: argparse.Namespace) -> tuple[Danger, ...]:
    """Upgrade (or, dry, only fetch) the version `plan` chose; what its objects can do that
    the installed ones could not, read from both sets of objects."""
    from ebpf_hub.bpfobj.capabilities import object_capabilities
    from ebpf_hub.client.install import apply_upgrade, preview_upgrade

    before = object_capabilities(plan.current.objects)
    if args.dry_run:
        with preview_upgrade(settings, plan, allow_unsigned=args.allow_unsigned) as objects:
            after = object_capabilities(objects)
    else:
        upgraded = apply_upgrade(
            settings, plan, allow_unsigned=args.allow_unsigned, ignore_matrix=args.ignore_matrix
        )
        after = object_capabilities(upgraded.package.objects)
    return after.gained(before)


def _installed_capabilities(installed: InstalledPackage | None) -> Capabilities | None:
    """What the installed objects can do, read from their bytes (None: not installed)."""
    from ebpf_hub.bpfobj.capabilities import object_capabilities

    return object_capabilities(installed.objects) if installed else None


def _upgrade_line(plan: Upgrade, done: bool, error: str | None) -> str:
    current = plan.current
    if error:
        return f"{current.name}: cannot upgrade: {error}"
    if plan.target is None:
        return f"{current.name} {current.version} is up to date"
    verb = "upgraded" if done else "would upgrade"
    return f"{verb} {current.name} {current.version} -> {plan.target}"


def _short(digest: str) -> str:
    return digest[:_DIGEST_SHOWN] + "…"


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Aligned columns, measured on the escaped cells that will be shown."""
    table = [tuple(escape(cell) for cell in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        show("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
