"""Reference tables generated from our JSON Schemas, so the documentation cannot drift.

One table per object: the top level first, then every nested object (or list of objects) in
the order a reader meets it, each under its own heading with a stable anchor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ebpf_hub.site.markup import code, prose, table

Schema = Mapping[str, Any]


def schema_reference(schema: Schema, anchor_prefix: str) -> str:
    """Markdown reference of `schema`; nested objects get `###` headings `#PREFIX-FIELD`."""
    pending: list[tuple[str, Schema]] = [("", schema)]
    parts = []
    while pending:
        label, node = pending.pop(0)
        nested: list[tuple[str, Schema]] = []
        if label:
            parts.append(f"### {code(label)} {{ #{_anchor(anchor_prefix, label)} }}\n")
        if node.get("description"):
            parts.append(prose(node["description"]) + "\n")
        parts.append(_table(schema, node, label, anchor_prefix, nested))
        parts += [_one_of(node)] if "oneOf" in node else []
        pending[0:0] = nested
    return "\n".join(parts)


def _anchor(prefix: str, label: str) -> str:
    return prefix + "-" + label.replace("[]", "").replace(".", "-")


def _resolve(root: Schema, node: Schema) -> Schema:
    """Follow a local `$ref` (`#/$defs/NAME`), keeping the referring node's own keywords."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _object_fields(node: Schema) -> Mapping[str, Any] | None:
    return node.get("properties") if node.get("type") == "object" or "properties" in node else None


def _table(
    root: Schema, node: Schema, label: str, prefix: str, nested: list[tuple[str, Schema]]
) -> str:
    required = set(node.get("required", []))
    rows: list[tuple[str, str, str, str]] = []
    for key, raw in node.get("properties", {}).items():
        field = _resolve(root, raw)
        path = f"{label}.{key}" if label else key
        items = _resolve(root, field["items"]) if "items" in field else None
        if _object_fields(field) is not None:
            nested.append((path, field))
            kind = f"object, see [{path}](#{_anchor(prefix, path)})"
        elif items is not None and _object_fields(items) is not None:
            nested.append((path + "[]", items))
            kind = f"list of objects, see [{path}[]](#{_anchor(prefix, path + '[]')})"
        else:
            kind = _type(field, items)
        details = [prose(field.get("description", "")), *_constraints(field, items)]
        meaning = " ".join(d for d in details if d)
        rows.append((code(key), kind, "yes" if key in required else "", meaning))
    return table(("Field", "Type", "Required", "Meaning"), rows) if rows else ""


def _type(node: Schema, items: Schema | None = None) -> str:
    if "const" in node:
        return "always " + code(json.dumps(node["const"]))
    if "enum" in node:
        return "one of " + ", ".join(code(str(value)) for value in node["enum"])
    kinds = node.get("type", "any")
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    if items is not None:
        each = _type(items)
        each = "list, each " + each if "enum" in items else "list of " + each
        names = [each if name == "array" else name for name in names]
    return " or ".join(names)


def _constraints(node: Schema, items: Schema | None) -> list[str]:
    """Limits of a field, as short phrases after its description."""
    phrases = _bounds(node, "minLength", "maxLength", "characters")
    phrases += _bounds(node, "minItems", "maxItems", "items")
    if node.get("uniqueItems"):
        phrases.append("no duplicates")
    if "minimum" in node:
        phrases.append(f"at least {node['minimum']}")
    if "pattern" in node:
        phrases.append("matches " + code(node["pattern"]))
    if "format" in node:
        phrases.append(f"format {node['format']}")
    if items is not None and "pattern" in items:
        phrases.append("each matches " + code(items["pattern"]))
    if "default" in node:
        phrases.append("default " + code(json.dumps(node["default"])))
    if not phrases:
        return []
    text = "; ".join(phrases)
    return [f"*{text[:1].upper()}{text[1:]}.*"]


def _bounds(node: Schema, low_key: str, high_key: str, unit: str) -> list[str]:
    low, high = node.get(low_key), node.get(high_key)
    if low is not None and high is not None:
        return [f"{low} to {high} {unit}"]
    if high is not None:
        return [f"at most {high} {unit}"]
    if low is not None:
        return [f"at least {low} {unit}"]
    return []


def _one_of(node: Schema) -> str:
    """`oneOf` alternatives that each require a different field: say which fields exclude."""
    names = [code(name) for option in node["oneOf"] for name in option.get("required", [])]
    return "Exactly one of " + " or ".join(names) + " must be given.\n"
