"""Building package versions: build."""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from ebpf_hub.client.console import say
from ebpf_hub.commands.common import add_command, add_root, hub_config
from ebpf_hub.errors import HubError


def cmd_build(args: argparse.Namespace) -> int:
    from ebpf_hub.commands.develop import cmd_build_dir, hub_target, is_package_dir

    if is_package_dir(args.package):
        return cmd_build_dir(args)
    from ebpf_hub.build.platforms import build_platforms
    from ebpf_hub.publish.select import select_targets

    config = hub_config(args)
    if args.changed:
        targets = select_targets(config, args.changed)
    else:
        if not args.package:
            raise HubError("name a package (NAME[@VERSION]) or pass --changed BASE..HEAD")
        targets = [hub_target(config, args.package)]
    out = Path(args.out or "build/objects")
    results = []
    for target in targets:
        builds = build_platforms(config.root, target.package, target.version, out / target.label)
        if args.load_test:
            from ebpf_hub.run.smoke import load_test

            for built in builds:
                if built.config.build.arch == platform.machine():  # this kernel loads them
                    load_test(target.label, built.files)
        files = [f for built in builds for f in built.files]
        results.append(
            {
                "package": target.package.name,
                "version": target.version.version,
                "files": [str(f) for f in files],
            }
        )
        arches = ", ".join(built.config.build.arch for built in builds)
        say(f"built {target.label} ({arches}): {', '.join(f.name for f in builds[0].files)}")
    if args.json:
        print(json.dumps(results, indent=2))
    if not targets:
        say("nothing to build: no version added or changed")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    build = add_command(
        commands,
        "build",
        cmd_build,
        "compile a package version into CO-RE objects and check them",
        "Compile NAME[@VERSION] (default: newest) from its pinned sources with clang's BPF "
        "target, strip DWARF (BTF kept), and check that the object holds no program, hook or "
        "dangerous helper the metadata does not declare. Builds are reproducible.",
    )
    build.add_argument("package", nargs="?", metavar="NAME[@VERSION] | DIR")
    build.add_argument(
        "--changed",
        metavar="BASE..HEAD",
        help="build every version added or changed between two commits",
    )
    build.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: build/objects, or DIR/build for a package directory)",
    )
    build.add_argument(
        "--load-test",
        action="store_true",
        help="load each built object into the kernel, then unload it (root)",
    )
    build.add_argument("--json", action="store_true", help="print what was built as JSON")
    add_root(build)
