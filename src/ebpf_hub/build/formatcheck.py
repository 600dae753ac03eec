"""Declared output formats vs. the compiled objects, for `ebpf-hub validate` and `build`.

Each declared event field must exist in the event struct of an object with an `events` map,
with a type its format can read; named sets, union tags and members must exist too. Each
output map's `fields` must name parts of that map's BTF key or value type, as well. The
runner resolves the same declarations (ebpf_hub.formats.plan, .mapplan), so what passes here
prints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.layout import build_layout
from ebpf_hub.formats.mapplan import resolve_map
from ebpf_hub.formats.plan import resolve
from ebpf_hub.model.package import Output


def format_mismatches(
    output: Output | None, objects: Sequence[tuple[str, ObjectInfo]]
) -> Iterator[str]:
    """One sentence per declaration that does not fit an object's event struct or maps."""
    if output is None:
        return
    yield from _map_mismatches(output, objects)
    if not (output.fields or output.unions or output.columns):
        return
    events = [(file, info.event) for file, info in objects if info.event is not None]
    if not events:
        yield "output.fields/unions/columns are declared but no object has an event struct"
        return
    for file, layout in events:
        _plan, problems = resolve(output, layout, layout.type)
        for problem in problems:
            yield f"{file}: {problem}"


def _map_mismatches(output: Output, objects: Sequence[tuple[str, ObjectInfo]]) -> Iterator[str]:
    for index, declared in enumerate(output.output_maps):
        if not declared.fields:
            continue
        where = f"output.maps[{index}]"
        found = [(f, i, m) for f, i in objects for m in i.maps if m.name == declared.map]
        if not found:
            yield f"{where}.map: no map {declared.map!r} in the objects (name one they define)"
            continue
        file, info, shown = found[0]
        key, value = (
            None if type_id is None else build_layout(info.btf, type_id)
            for type_id in (shown.key_type_id, shown.value_type_id)
        )
        _plan, problems = resolve_map(declared, key, value, where)
        yield from (f"{file}: {problem}" for problem in problems)
