"""The import graph of ebpf_hub has no cycle, between modules or between packages.

The rule, as this test reads the source with `ast`:

- Module A depends on module B when A imports B anywhere: at the top or inside a function. A
  function-level import defers the cost of B (the CLI's lazy imports keep start-up fast), not
  the dependency: it still runs, so a cycle through it is still a cycle. Imports under
  `if TYPE_CHECKING:` never run and do not count.
- `from P import N` depends on the module P.N when there is one, else on P. Importing P.N also
  runs P's `__init__`, but a package is initialised before its modules, so that is not counted.
- Packages are the parts directly under ebpf_hub (`run`, `build`, `cli`, `errors`, ...): each
  module belongs to one. They must form layers too, so that a part can be understood, tested
  and installed without the ones above it: `build` may load objects with `run`'s loader or
  `run` may compile with `build`, not both; the site may document the CLI, but then it gets the
  parser from the CLI (an argument), not by importing it.

A module found by name at run time (`importlib.import_module`) is not seen; the code uses that
only inside a package, for its own modules (`bpfobj`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

import ebpf_hub

SOURCE = Path(ebpf_hub.__file__).parent
NOT_MODULES = ("templates",)  # files `ebpf-hub init` copies, not part of the package


def _modules() -> dict[str, Path]:
    """Every module of ebpf_hub by dotted name (a package by its own name)."""
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        if any(part in NOT_MODULES for part in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


class _Imports(ast.NodeVisitor):
    """Collects the import statements of a tree, nested ones included, except under
    TYPE_CHECKING."""

    def __init__(self) -> None:
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append(node)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dependencies(name: str, path: Path, modules: Set[str]) -> set[str]:
    """The modules of ebpf_hub that the module `name` (at `path`) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imports = _Imports()
    imports.visit(ast.parse(path.read_text(encoding="utf-8")))
    found: set[str] = set()
    for node in imports.found:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {imported for imported in found if imported in modules and imported != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _dependencies(name, path, modules.keys()) for name, path in modules.items()}


def _part(module: str) -> str:
    """The package directly under ebpf_hub that `module` belongs to."""
    return ".".join(module.split(".")[:2])


def _cycle(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """One cycle of `graph` as the path that closes it (first node repeated), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for following in sorted(graph[node]):
            if cycle := visit(following):
                return cycle
        path.pop()
        done.add(node)
        return None

    return next((cycle for start in sorted(graph) if (cycle := visit(start))), None)


def test_no_module_imports_itself_through_others() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_packages_form_layers() -> None:
    parts: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        parts.setdefault(_part(module), set()).update(
            _part(other) for other in imported if _part(other) != _part(module)
        )
    cycle = _cycle(parts)
    assert cycle is None, "packages import each other: " + " -> ".join(cycle or [])


def test_the_rule_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "ebpf_hub" / "run" / "target.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import loader\n"
        "if TYPE_CHECKING:\n"
        "    from ebpf_hub.client import settings\n"
        "def f():\n"
        "    try:\n"
        "        pass\n"
        "    except ValueError:\n"
        "        from ebpf_hub.build.compile import compile_objects\n"
    )
    modules = {
        "ebpf_hub.run.loader",
        "ebpf_hub.client.settings",
        "ebpf_hub.build.compile",
        "ebpf_hub.run",
    }
    assert _dependencies("ebpf_hub.run.target", source, modules) == {
        "ebpf_hub.run.loader",
        "ebpf_hub.build.compile",
    }
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
