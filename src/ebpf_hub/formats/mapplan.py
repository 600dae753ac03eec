"""An output map's declared formats (`output.maps[].fields`) checked against and resolved in
the layouts of its key and value.

A name is a member of the key or the value struct (dotted inside nested structs, as for
events), or `key`/`value` for a scalar key or value: the names the map's `--json` entries
use. The same resolution serves `ebpf-hub validate`/`build` (each problem one sentence naming
the declaration and the fix) and the runner (where each formatted part of an entry is).
"""

from __future__ import annotations

from dataclasses import dataclass

from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.errors import HubError
from ebpf_hub.formats.plan import FieldPlan, field_names, field_plan, locate, option_problems
from ebpf_hub.model.package import OutputMap

_STRUCTS = frozenset({"struct", "union"})


@dataclass(frozen=True)
class MapPlan:
    """The formatted parts of a map's entries: paths inside the decoded key and value."""

    key: tuple[FieldPlan, ...] = ()
    value: tuple[FieldPlan, ...] = ()


def _locate(
    layout: Layout | None, name: str, scalar: str
) -> tuple[Layout, tuple[str, ...], int] | None:
    """Field `name` of a key or value layout: a struct member, or the scalar itself when
    `name` is `scalar` (`key` or `value`); None for a map declared by size only."""
    if layout is None:
        return None
    if layout.kind not in _STRUCTS:
        return (layout, (), 0) if name == scalar else None
    return locate(layout, name)


def _names(layout: Layout | None, scalar: str) -> str:
    """What a declaration may name in a key or value (`scalar`: `key` or `value`)."""
    if layout is None:
        return f"{scalar}: bytes only (no BTF type), nothing to format"
    if layout.kind not in _STRUCTS:
        return f"{scalar} {layout.type}: name it `{scalar}`"
    return f"{scalar} {layout.type}: name one of {', '.join(field_names(layout))}"


def resolve_map(
    declared: OutputMap, key: Layout | None, value: Layout | None, where: str
) -> tuple[MapPlan, list[str]]:
    """The plan of `declared.fields` over the map's key and value layouts, and every problem
    found (sentences starting with `where`, e.g. `output.maps[0]`)."""
    problems: list[str] = []
    plans: dict[str, list[FieldPlan]] = {"key": [], "value": []}
    for name, spec in declared.fields or ():
        at = f"{where}.fields.{name}"
        problems.extend(option_problems(at, spec))
        in_key = _locate(key, name, "key")
        in_value = _locate(value, name, "value")
        if in_key is not None and in_value is not None:
            problems.append(
                f"{at}: both the key and the value of map {declared.map!r} have a field "
                f"{name!r} (one name, two columns: rename one of them in the C source)"
            )
            continue
        if in_key is None and in_value is None:
            problems.append(
                f"{at}: no field {name!r} in map {declared.map!r} ({_names(key, 'key')}; "
                f"{_names(value, 'value')})"
            )
            continue
        if in_key is None and declared.kind == "histogram":
            problems.append(
                f"{at}: the value of histogram {declared.map!r} prints as bars: only its "
                "key's fields take formats (remove it)"
            )
            continue
        part, found, root = (
            ("key", in_key, key) if in_key is not None else ("value", in_value, value)
        )
        assert found is not None and root is not None  # noqa: S101 - one of them was found
        plan = field_plan(at, name, spec, found, root=root, problems=problems)
        if plan is not None:
            plans[part].append(plan)
    return MapPlan(tuple(plans["key"]), tuple(plans["value"])), problems


def map_plan(declared: OutputMap, key: Layout | None, value: Layout | None, label: str) -> MapPlan:
    """The plan the runner prints a map with; declarations that do not fit refuse the run
    (a package built by the hub was checked: this catches a hand-edited config)."""
    plan, problems = resolve_map(declared, key, value, f"output map {declared.map!r}")
    if problems:
        raise HubError(
            f"{label}: {problems[0]}",
            hint="fix the package's output declarations, or pass --raw to print raw values",
        )
    return plan
