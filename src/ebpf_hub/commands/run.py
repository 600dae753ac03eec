"""Commands that run packages on this host: run, doctor."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ebpf_hub.client.console import show
from ebpf_hub.commands.client import add_client_options, add_ignore_matrix, settings_from
from ebpf_hub.commands.common import add_command


def cmd_run(args: argparse.Namespace) -> int:
    from ebpf_hub.run.attach import AttachTargets
    from ebpf_hub.run.filters import FilterValues
    from ebpf_hub.run.session import RunOptions, ask_on_terminal, run
    from ebpf_hub.run.target import open_target

    options = RunOptions(
        json=args.json,
        duration=args.duration,
        interval=args.interval,
        yes=args.yes,
        params=args.param,
        extra=args.extra,
        targets=AttachTargets(iface=args.iface, cgroup=args.cgroup, uprobe=args.uprobe),
        mode=args.mode,
        filters=FilterValues(args.pid, args.tid, args.uid, args.comm, args.cgroup),
        metrics=args.metrics,
        timestamp=args.timestamp,
        raw=args.raw,
    )
    with open_target(
        args.target, lambda: settings_from(args), args.allow_unsigned, args.ignore_matrix
    ) as target:
        return run(target, options, ask_on_terminal(), sys.stdout, sys.stderr)


def cmd_doctor(args: argparse.Namespace) -> int:
    from ebpf_hub.run.preflight import host_checks

    checks = host_checks()
    healthy = all(check.ok for check in checks if check.required)
    if args.json:
        print(json.dumps({"ok": healthy, "checks": [c.to_json() for c in checks]}, indent=2))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            mark = "ok" if check.ok else ("FAIL" if check.required else "no")
            hint = f"  ({check.hint})" if check.hint and not check.ok else ""
            show(f"{mark:<4}  {check.name:<{width}}  {check.detail}{hint}")
        show("")
        show(
            "This host can run eBPF Hub packages, except those that need a 'no' above."
            if healthy
            else "This host cannot run eBPF Hub packages until the FAIL lines are fixed."
        )
    return 0 if healthy else 1


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (a const volatile global of the package) in the form `info` "
        "shows: target_signals=KILL,TERM, min_lat=10ms; repeatable",
    )
    parser.add_argument(
        "-T",
        "--timestamp",
        action="store_true",
        help='add a TIME column (HH:MM:SS; --json: a "time" key): when each event printed',
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="print event fields as the kernel wrote them, ignoring the package's formats",
    )
    parser.add_argument("--iface", metavar="NAME", help="network interface for XDP and TC")
    parser.add_argument(
        "--mode", metavar="NAME", help="attach this mode's programs (`info` lists the modes)"
    )
    parser.add_argument("--pid", metavar="PID", help="only this process (if the package filters)")
    parser.add_argument("--tid", metavar="TID", help="only this thread (if the package filters)")
    parser.add_argument("--uid", metavar="UID", help="only this user, by ID or name (ditto)")
    parser.add_argument("--comm", metavar="NAME", help="only this command name (ditto)")
    parser.add_argument(
        "--cgroup",
        metavar="DIR",
        help="only tasks in this cgroup v2 directory (if the package filters), or where its "
        "cgroup programs attach",
    )
    parser.add_argument(
        "--uprobe", metavar="BINARY:SYMBOL", help="function for a uprobe whose section names none"
    )
    parser.add_argument("--duration", type=_positive, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--interval",
        type=_positive,
        metavar="S",
        help="print the output maps every S seconds (default: only at the end)",
    )
    parser.add_argument(
        "--metrics",
        metavar="ADDR:PORT",
        help="also serve the output maps and event counts to Prometheus at "
        "http://ADDR:PORT/metrics (port 0: any free one, printed on stderr)",
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="run without asking to confirm the permissions"
    )
    add_ignore_matrix(parser)
    add_client_options(parser, registry=True, trust=True)


def _split_rest(late: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """argparse fills a positional once, where it first can, so the words after the target
    are taken whole and sorted here: options of `run` are parsed, any other `--NAME VALUE`
    is a package parameter, and every word after `--` is one."""

    def handler(args: argparse.Namespace) -> int:
        rest = list(args.rest)
        cut = rest.index("--") if "--" in rest else len(rest)
        _, unknown = late.parse_known_args(rest[:cut], namespace=args)
        args.extra = [*unknown, *rest[cut + 1 :]]
        return cmd_run(args)

    return handler


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    late = argparse.ArgumentParser(prog="ebpf-hub run", add_help=False, allow_abbrev=False)
    _add_run_options(late)
    run = add_command(
        commands,
        "run",
        _split_rest(late),
        "run a package: install if needed, check the host, load, attach, show its output",
        "Run NAME[@VERSION] (installed first if needed) or a PATH with a '/' in it (an object, "
        "a directory of objects, or a package's sources, compiled first). The host is checked "
        "first (kernel, BTF, capabilities, each program type probed), then the package's "
        "permissions are shown and confirmed: on a terminal you are asked, elsewhere --yes is "
        "required. Events print as aligned columns, fields in the formats the package "
        "declares (errno and signal names, flags...; --raw: the numbers), --json: one JSON "
        'object per line, {"event": {...raw...}, "formatted": {FIELD: TEXT}}; output maps '
        'every --interval and at the end ({"map": {...}}). '
        "Ctrl-C or SIGTERM stops it; everything is detached, nothing is pinned. Parameters: "
        "--param NAME=VALUE, or --NAME VALUE after the target (after '--' when a name is "
        "also an option of run), e.g. `ebpf-hub run opensnoop -- --target-pid 1234`.",
    )
    run.add_argument("target", metavar="NAME[@VERSION]|PATH")
    run.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    _add_run_options(run)

    doctor = add_command(
        commands,
        "doctor",
        cmd_doctor,
        "check what this host can run: kernel, BTF, privileges, program types",
        "Report the host facts `run` depends on, probing the kernel for each kind of program "
        "(tracepoints, tp_btf, fentry, kprobes, uprobes, XDP, TC, cgroup) and ring buffers. "
        "Exits 1 when something every package needs is missing. `run` and `doctor` load the "
        "system's libbpf.so.1, or the library that $EBPF_HUB_LIBBPF names (a path).",
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
