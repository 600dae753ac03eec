"""Loading one YAML file safely, keeping the line of every value for error messages.

PyYAML's C composer builds the node tree; we construct plain values from it ourselves so that
we can refuse what a metadata file never needs and a hostile one uses: aliases (the
"billion laughs" bomb), duplicate keys, tags that build objects, deep nesting, huge files,
binary content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ebpf_hub.index.problems import Path_, Problem, field_name

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

_SCALARS = SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _TAG + "str", _TAG + "seq", _TAG + "map"
# Dates stay strings: the schema checks their form, and JSON has no date type.
_AS_TEXT = frozenset({_STR, _TAG + "timestamp"})
# YAML 1.1's implicit types (int, float, bool, null, timestamp...) by the first character of a
# plain scalar, as PyYAML's safe loader resolves them.
_IMPLICIT: dict[str, tuple[tuple[str, Any], ...]] = {
    first: tuple(resolvers) for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: slower, same answers
    _Loader: type[Any] = yaml.SafeLoader
else:

    class _Composer(CParser):
        """libyaml's parser and composer, with the tags PyYAML's safe loader gives.

        The composer asks for the tag of every node; `yaml.resolver.Resolver` answers in
        general terms (path resolvers, wildcard resolvers) that a safe loader never uses, at a
        cost that showed when loading 10,000 files. This gives the same tags, directly.
        """

        def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, pattern in _IMPLICIT.get(value[:1], ()):
                        if pattern.match(value):
                            return tag
                return _STR
            return _SEQ if kind is SequenceNode else _MAP

        def descend_resolver(self, current_node: Node | None, current_index: Any) -> None:
            """No path resolvers: nothing to track."""

        def ascend_resolver(self) -> None:
            """No path resolvers: nothing to track."""

    _Loader = _Composer


@dataclass
class Document:
    """A loaded file: its data, and the line where each value (by path) starts."""

    path: str
    data: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)
    # The source text of scalars YAML read as something other than a string (`0123` is an
    # octal number to YAML): messages quote what the author wrote, not what YAML made of it.
    texts: dict[Path_, str] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of the value at `path`, or of its nearest parent that has one."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path_, message: str, hint: str) -> Problem:
        return Problem(self.path, self.line_of(path), field_name(path), message, hint)


class DocumentError(Exception):
    """The file cannot be read as a metadata document; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_document(path: Path, display: str | None = None) -> Document:
    """Read and parse `path`; raise DocumentError with a one-line reason when it is unusable."""
    name = display or str(path)
    try:
        with path.open("rb") as handle:
            # A read sized by the file, not by the limit: a 1 MiB buffer per file showed at
            # 10,000 files. A file that grew since, or has no size, is read on to the limit.
            expected = min(os.fstat(handle.fileno()).st_size, MAX_FILE_BYTES)
            raw = handle.read(expected + 1)
            if len(raw) > expected:
                raw += handle.read(MAX_FILE_BYTES + 1 - len(raw))
    except OSError as exc:
        raise _error(name, 1, f"cannot read file: {exc.strerror}", "check the path") from None
    return parse_document(raw, name)


def parse_document(raw: bytes, name: str) -> Document:
    """Parse the bytes of a metadata file (already read) into a Document."""
    if len(raw) > MAX_FILE_BYTES:
        raise _error(
            name,
            1,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            "a package file holds metadata only; move long text to the package README",
        )
    if b"\0" in raw:
        raise _error(name, 1, "file is binary, not YAML text", "save it as UTF-8 YAML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _error(
            name, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", "save it as UTF-8"
        ) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise _error(name, line, f"YAML syntax error: {reason}", "fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise _error(name, 1, f"YAML error: {reason}", "fix the YAML syntax") from None
    finally:
        loader.dispose()
    if node is None:
        raise _error(name, 1, "file is empty", "start from an existing package file")
    if not isinstance(node, MappingNode):
        raise _error(
            name,
            node.start_mark.line + 1,
            "expected a mapping of fields at the top level",
            "the file starts with `name: ...`",
        )
    document = Document(name, {})
    document.data = _Builder(document).build(node, (), 0)
    return document


def _error(name: str, line: int, message: str, hint: str) -> DocumentError:
    return DocumentError(Problem(name, line, "(file)", message, hint))


class _Builder:
    """Turns a composed node tree into plain dicts, lists and scalars, recording lines."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.lines = document.lines
        self.seen: set[int] = set()

    def build(self, node: Node, path: Path_, depth: int, line: int | None = None) -> Any:
        # An alias shares its anchor's node (and mark): the caller passes the alias's own line.
        line = line or node.start_mark.line + 1
        identity = id(node)
        if identity in self.seen:
            raise self._fail(
                path, line, "YAML aliases (*name) are not allowed", "write the value out"
            )
        self.seen.add(identity)
        if depth > MAX_DEPTH:
            raise self._fail(path, line, f"nested deeper than {MAX_DEPTH} levels", "flatten it")
        self.lines[path] = line
        if isinstance(node, ScalarNode):
            # Most values are text: taken here, without a call per value of every file.
            return node.value if node.tag in _AS_TEXT else self._scalar(node, path, line)
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if not isinstance(node, SequenceNode):
            raise self._fail(path, line, "unsupported YAML node", "write plain YAML")
        if node.tag != _SEQ:
            raise self._fail(path, line, f"unsupported YAML tag {node.tag}", "remove the tag")
        return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        if node.tag != _MAP:
            raise self._fail(
                path, node.start_mark.line + 1, f"unsupported YAML tag {node.tag}", "remove the tag"
            )
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                raise self._fail(
                    path, key_line, "keys must be plain strings", "write the key as a word"
                )
            key = key_node.value
            if key in out:
                raise self._fail(
                    (*path, key), key_line, f"duplicate key {key!r}", "keep one of the two"
                )
            out[key] = self.build(value_node, (*path, key), depth + 1, key_line)
        return out

    def _scalar(self, node: ScalarNode, path: Path_, line: int) -> Any:
        """A value YAML reads as something other than text: a number, a boolean, null."""
        self.document.texts[path] = node.value
        kind = node.tag.removeprefix(_TAG)
        try:
            if kind == "int":
                return _SCALARS.construct_yaml_int(node)
            if kind == "float":
                return _SCALARS.construct_yaml_float(node)
            if kind == "bool":
                return _SCALARS.construct_yaml_bool(node)
            if kind == "null":
                return None
        except (ConstructorError, ValueError):
            raise self._fail(path, line, f"invalid {kind} value", "quote it as a string") from None
        raise self._fail(path, line, f"unsupported YAML tag {node.tag}", "remove the tag")

    def _fail(self, path: Path_, line: int, message: str, hint: str) -> DocumentError:
        return DocumentError(Problem(self.document.path, line, field_name(path), message, hint))
