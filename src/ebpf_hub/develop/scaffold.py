"""`ebpf-hub init`: a new package directory from a template.

A package is assembled from layers of `templates/`: `common/` (README, LICENSE, .gitignore,
the author's CI workflow), the kind (`tracepoint/`, `xdp/`, ...: the eBPF program, its header,
the manifest, a trigger), and for a user-space loader `userspace/<language>/` with the kind's
own `<kind>/<language>/` files, both placed under `<language>/`. Text and file names may hold
`{{placeholder}}`s; a placeholder this module does not know is a template bug and fails.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from ebpf_hub import __version__
from ebpf_hub.develop.project import MANIFEST
from ebpf_hub.errors import HubError
from ebpf_hub.schemas import load_schema

# The repository's templates/, shipped in the package through the ebpf_hub/templates link.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
USERSPACES = ("none", "c", "go", "python", "typescript", "java", "rust")
_LAYER_FILES = ("ABOUT.md", "USAGE.md")  # pieces of the README, not files of the package
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_KEEP = frozenset({".git"})  # what an "empty" target directory may already hold


@dataclass(frozen=True)
class Kind:
    """One template kind, as `init --list` shows it."""

    name: str
    summary: str
    sections: tuple[str, ...]
    output: str


def _templates() -> Path:
    if not TEMPLATES.is_dir():
        raise HubError(f"templates not found at {TEMPLATES}; reinstall ebpf-hub from its sources")
    return TEMPLATES


def kinds() -> list[Kind]:
    """Every template kind, described by its manifest."""
    found = []
    for manifest in sorted(_templates().glob(f"*/{MANIFEST}")):
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        output = data.get("output", {})
        shown = (["events"] if output.get("events") else []) + [
            f"{m['kind']} map {m['map']}" for m in output.get("maps", [])
        ]
        sections = tuple(p["section"] for p in data["programs"])
        found.append(Kind(manifest.parent.name, data["summary"], sections, ", ".join(shown)))
    return found


# The maintainer's name a package gets when git knows none; `submit` refuses it.
PLACEHOLDER_AUTHOR = "Your Name"


def author_name() -> str:
    """The author's name from git's configuration, safe inside a quoted YAML string."""
    result = subprocess.run(
        ["git", "config", "user.name"], capture_output=True, text=True, check=False
    )
    name = re.sub(r'["\\\x00-\x1f]', "", result.stdout).strip()
    return name or PLACEHOLDER_AUTHOR


def check_name(name: str) -> str:
    """A package name as the index schema allows it."""
    pattern = load_schema("package.schema.json")["properties"]["name"]["pattern"]
    if not re.fullmatch(pattern, name):
        raise HubError(
            f"{name!r} is not a valid package name: use 2-64 lowercase letters, digits and "
            "single hyphens, starting with a letter or digit (pass --name NAME)"
        )
    return name


def _render(text: str, values: dict[str, str], where: Path) -> str:
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise HubError(f"template {where}: unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(fill, text)


def _layer(source: Path, prefix: str, skip: frozenset[str]) -> list[tuple[Path, str]]:
    """The files of one layer: (template file, relative path in the package, unrendered)."""
    if not source.is_dir():
        return []
    return [
        (path, f"{prefix}{path.relative_to(source).as_posix()}")
        for path in sorted(source.rglob("*"))
        if path.is_file() and path.relative_to(source).parts[0] not in skip
    ]


def check_target(directory: Path) -> None:
    if directory.exists() and (
        not directory.is_dir() or any(p.name not in _KEEP for p in directory.iterdir())
    ):
        raise HubError(f"{directory} exists and is not empty; choose a new directory")


def init_package(
    directory: Path, kind: str, userspace: str = "none", name: str | None = None
) -> list[Path]:
    """Create the package `name` (default: the directory's name) in `directory`.

    Returns the files written. Nothing is written unless every template renders.
    """
    root = _templates()
    known = [k.name for k in kinds()]
    if kind not in known:
        raise HubError(f"unknown template {kind!r}; one of: {', '.join(known)}")
    if userspace not in USERSPACES:
        raise HubError(f"unknown user space {userspace!r}; one of: {', '.join(USERSPACES)}")
    check_target(directory)
    name = check_name(name or directory.resolve().name)
    today = dt.datetime.now(dt.timezone.utc).date()
    values = {
        "name": name,
        "ident": name.replace("-", "_"),
        "kind": kind,
        "date": today.isoformat(),
        "year": str(today.year),
        "author": author_name(),
        "hub_version": __version__,
    }
    about, usage = root / kind / "ABOUT.md", root / "userspace" / userspace / "USAGE.md"
    values["about"] = _render(about.read_text(encoding="utf-8"), values, about).strip()
    values["userspace"] = _render(usage.read_text(encoding="utf-8"), values, usage).strip()
    languages = frozenset(USERSPACES)
    files = [
        *_layer(root / "common", "", frozenset()),
        *_layer(root / kind, "", languages | frozenset(_LAYER_FILES)),
    ]
    if userspace != "none":
        files += _layer(root / "userspace" / userspace, f"{userspace}/", frozenset(_LAYER_FILES))
        files += _layer(root / kind / userspace, f"{userspace}/", frozenset())
    rendered: dict[str, tuple[str, int]] = {}
    for template, relative in files:
        target = _render(relative, values, template)
        if target in rendered:
            raise HubError(f"template {template}: {target} comes from two layers")
        text = _render(template.read_text(encoding="utf-8"), values, template)
        rendered[target] = (text, template.stat().st_mode & 0o755)
    written = []
    for relative, (text, mode) in rendered.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode | 0o644)
        written.append(path)
    return written
