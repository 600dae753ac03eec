"""A package's output declarations (`fields`, `unions`, `columns`) checked against and
resolved in the layout of its event struct.

The same resolution serves `ebpf-hub validate`/`build` (every problem as one sentence naming
the field and the fix) and the runner (where the paths in the decoded event are). A field is
named as in C, dotted inside nested structs (`mount.flags`); an anonymous struct or union
member adds no name, as in C and in the decoded event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ebpf_hub.bpfobj.layout import Layout
from ebpf_hub.errors import HubError
from ebpf_hub.formats import sets as formatsets
from ebpf_hub.formats.sets import value_names
from ebpf_hub.model.outputformat import FORMAT_OPTIONS, FieldFormat, UnionChoice
from ebpf_hub.model.package import Output

_INTEGER_KINDS = frozenset({"int", "uint", "enum", "char", "bool"})


@dataclass(frozen=True)
class FieldPlan:
    """A declared field: its name, where it is in the decoded event, its layout and format."""

    name: str
    path: tuple[str, ...]
    layout: Layout
    spec: FieldFormat
    family: tuple[str, ...] | None = None  # ip: the path of the family field
    offset: int = -1  # bytes from the event's start; -1: a bitfield


@dataclass(frozen=True)
class UnionPlan:
    """A union shown as its chosen member: `container` holds the member values (the union's
    own dict, or its parent's when it is anonymous); `choose` maps a decoded tag value to
    the member it selects."""

    column: str
    tag: tuple[str, ...]
    container: tuple[str, ...]
    members: tuple[str, ...]
    choose: tuple[tuple[Any, str], ...]
    layout: Layout


@dataclass(frozen=True)
class FormatPlan:
    fields: tuple[FieldPlan, ...] = ()
    unions: tuple[UnionPlan, ...] = ()
    columns: tuple[str, ...] = ()


def find(layout: Layout, name: str) -> tuple[Layout, tuple[str, ...]] | None:
    """The layout of field `name` (dotted) in a struct/union layout, and its decoded path."""
    found = locate(layout, name)
    return None if found is None else (found[0], found[1])


def locate(layout: Layout, name: str) -> tuple[Layout, tuple[str, ...], int] | None:
    """`find`, with the field's byte offset in the event (-1 for a bitfield)."""
    current, offset = layout, 0
    path: list[str] = []
    for part in name.split("."):
        found = _member(current, part)
        if found is None:
            return None
        current, at = found
        offset = -1 if at < 0 or offset < 0 else offset + at
        path.append(part)
    return current, tuple(path), offset


def _member(layout: Layout, name: str) -> tuple[Layout, int] | None:
    for field in layout.fields:
        if field.name == name:
            return field.layout, -1 if field.bits else field.offset
        if not field.name and (inner := _member(field.layout, name)) is not None:
            return inner[0], -1 if inner[1] < 0 else field.offset + inner[1]
    return None


def field_names(layout: Layout) -> list[str]:
    """The names of a struct's fields, those of anonymous members included."""
    names: list[str] = []
    for field in layout.fields:
        names.extend([field.name] if field.name else field_names(field.layout))
    return names


def _compatible(spec: FieldFormat, layout: Layout) -> str | None:
    """Why `layout` cannot carry `spec`, or None."""
    kind = layout.kind
    if spec.format == "hidden":
        return None
    if spec.format == "ip":
        element = layout.element
        if kind in ("ipv4", "ipv6") or (kind in ("int", "uint") and layout.size == 4):
            return None
        if kind == "array" and element is not None and element.kind in ("int", "uint"):
            return None if layout.size in (4, 16) else "a 4- or 16-byte array"
        return "an address field (4 or 16 bytes: __u32, __u8[16], __u32[4], ipv4/ipv6_addr_t)"
    if kind not in _INTEGER_KINDS or layout.size > 8:
        return "an integer field"
    if spec.format == "enum" and spec.set is None and spec.values is None and kind != "enum":
        # A C enum names its values itself; `set:`/`values:` rename them when given.
        return "a C enum field (its enumerators name the values), or `set:`/`values:`"
    if spec.format == "port" and spec.byte_order == "network" and layout.size != 2:
        return "a 2-byte integer (__u16) for byte_order: network"
    return None


def option_problems(where: str, spec: FieldFormat) -> Iterator[str]:
    """The problems of a declaration's options on their own; what depends on the field's
    type (an `enum` with neither `set:` nor `values:` reads a C enum's names) is checked
    with the field (`field_plan`), by build and run alike."""
    allowed = FORMAT_OPTIONS[spec.format]
    given = {
        key
        for key in ("set", "values", "family", "unit", "byte_order", "clock", "sign")
        if getattr(spec, key) is not None
    }
    for key in sorted(given - allowed):
        yield f"{where}: {spec.format} takes no `{key}` (remove it)"
    if spec.format in ("flags", "enum") and spec.set is not None and spec.values is not None:
        yield f"{where}: {spec.format} takes `set:` or `values:`, not both (keep one)"
    if spec.format == "flags" and spec.set is None and spec.values is None:
        yield f"{where}: flags needs `set:` (a named set) or `values:` (name: bit)"
    known = formatsets.flag_sets() if spec.format == "flags" else formatsets.enum_sets()
    if spec.format in ("flags", "enum") and spec.set is not None and spec.set not in known:
        yield f"{where}: no {spec.format} set {spec.set!r} (known: {', '.join(sorted(known))})"
    units = {"duration": ("ns", "us", "ms", "s"), "bytes": ("B", "KiB")}.get(spec.format)
    if units and spec.unit is not None and spec.unit not in units:
        yield f"{where}: unit {spec.unit!r} is not one of {', '.join(units)}"
    if spec.values is not None and len({v for _, v in spec.values}) != len(spec.values):
        yield f"{where}: two names have the same value in `values:`"


def resolve(output: Output, layout: Layout, type_name: str) -> tuple[FormatPlan, list[str]]:
    """The plan of `output` over the event `layout`, and every problem found (sentences
    starting with the declaration's place, e.g. `output.fields.ret: ...`)."""
    problems: list[str] = []
    known = ", ".join(field_names(layout))
    fields: list[FieldPlan] = []
    for name, spec in output.fields or ():
        where = f"output.fields.{name}"
        problems.extend(option_problems(where, spec))
        found = locate(layout, name)
        if found is None:
            problems.append(f"{where}: no field {name!r} in {type_name}; name one of: {known}")
            continue
        field = field_plan(where, name, spec, found, root=layout, problems=problems)
        if field is not None:
            fields.append(field)
    unions = []
    for index, choice in enumerate(output.unions or ()):
        plan = _union(
            choice,
            layout,
            type_name,
            dict(output.fields or ()),
            problems,
            where=f"output.unions[{index}]",
        )
        if plan is not None:
            unions.append(plan)
    column_names = _column_names(layout, unions)
    for name in output.columns or ():
        if name not in column_names and find(layout, name) is None:
            problems.append(
                f"output.columns: no column {name!r} in {type_name} (columns: "
                f"{', '.join(column_names)})"
            )
    return FormatPlan(tuple(fields), tuple(unions), tuple(output.columns or ())), problems


def field_plan(
    where: str,
    name: str,
    spec: FieldFormat,
    found: tuple[Layout, tuple[str, ...], int],
    *,
    root: Layout,
    problems: list[str],
) -> FieldPlan | None:
    """The plan of field `name` found in `root` (its type fits the format, its `family`
    field is an integer of `root`), or None with the problem added."""
    field_layout, path, offset = found
    if (wanted := _compatible(spec, field_layout)) is not None:
        problems.append(
            f"{where}: {spec.format} needs {wanted}, but {name!r} is {field_layout.type} "
            "(choose another format, or remove it)"
        )
        return None
    family = None
    if spec.family is not None:
        tag = _integer_field(root, spec.family, root.type, problems, f"{where}: family field")
        if tag is None:
            return None
        family = tag[1]
    return FieldPlan(name, path, field_layout, spec, family, offset)


def _integer_field(
    layout: Layout, name: str, type_name: str, problems: list[str], what: str
) -> tuple[Layout, tuple[str, ...]] | None:
    """Field `name` of `layout` when it is an integer (what an ip format's family or a
    union's tag must be), else None with the problem, `what` first, added."""
    found = find(layout, name)
    if found is None or found[0].kind not in _INTEGER_KINDS:
        problems.append(
            f"{what} {name!r} is not an integer field of {type_name} "
            f"(fields: {', '.join(field_names(layout))})"
        )
        return None
    return found


def event_plan(output: Output, layout: Layout, label: str) -> FormatPlan:
    """The plan the runner prints with; declarations that do not fit the event refuse the
    run (a package built by the hub was checked: this catches a hand-edited config)."""
    plan, problems = resolve(output, layout, layout.type)
    if problems:
        raise HubError(
            f"{label}: {problems[0]}",
            hint="fix the package's output declarations, or pass --raw to print raw values",
        )
    return plan


def _column_names(layout: Layout, unions: list[UnionPlan]) -> list[str]:
    return [*field_names(layout), *(u.column for u in unions)]


def _union(
    choice: UnionChoice,
    layout: Layout,
    type_name: str,
    formats: dict[str, FieldFormat],
    problems: list[str],
    *,
    where: str,
) -> UnionPlan | None:
    tag = _integer_field(layout, choice.tag, type_name, problems, f"{where}.tag:")
    if tag is None:
        return None
    members = [name for name, _ in choice.members]
    found = _find_union(layout, set(members), ())
    if found is None:
        problems.append(
            f"{where}.members: no union of {type_name} has members {', '.join(members)} "
            "(name the members of one union, as in C)"
        )
        return None
    union, container, column = found
    tag_layout, tag_path = tag
    names = {v.name: v.value for v in tag_layout.values}  # a C enum's enumerators
    if (spec := formats.get(choice.tag)) is not None and spec.format == "enum":
        names.update(value_names(spec, formatsets.host_arch()))
    enumerators = {v.value: v.name for v in tag_layout.values}
    choose: list[tuple[Any, str]] = []
    for member, values in choice.members:
        for value in values:
            number = names.get(value) if isinstance(value, str) else value
            if number is None:
                problems.append(
                    f"{where}.members.{member}: tag value {value!r} is not a name of "
                    f"{choice.tag!r} (names: {', '.join(names) or 'none: use numbers'})"
                )
                continue
            # A C enum tag decodes to its enumerator's name.
            choose.append((enumerators.get(number, number), member))
    member_names = tuple(f.name for f in union.fields if f.name)
    return UnionPlan(column, tag_path, container, member_names, tuple(choose), union)


def _find_union(
    layout: Layout, members: set[str], path: tuple[str, ...]
) -> tuple[Layout, tuple[str, ...], str] | None:
    """The union holding `members`, the decoded path of the dict holding its members, and its
    column name."""
    for field in layout.fields:
        inner = field.layout
        if inner.kind == "union" and members <= {f.name for f in inner.fields}:
            if field.name:
                return inner, (*path, field.name), ".".join((*path, field.name))
            return inner, path, ".".join((*path, "details"))
        if inner.kind in ("struct", "union"):
            found = _find_union(inner, members, (*path, field.name) if field.name else path)
            if found is not None:
                return found
    return None
