"""Declared parameters vs. the object: each declaration must name a `const volatile` global
whose C type can hold what the declared type writes (see ebpf_hub.model.paramdecl).

Without this check a declaration could promise `10ms` for a `char[16]`, and only `run`
would find out (`ebpf_hub.bpfobj.params.unfit` is the rule both apply); the build refuses such
a package before it is published.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ebpf_hub.bpfobj.inspect import ObjectInfo
from ebpf_hub.bpfobj.params import type_name, unfit
from ebpf_hub.model.paramdecl import ParameterDecl


def parameter_mismatches(
    declarations: Sequence[ParameterDecl], objects: Sequence[tuple[str, ObjectInfo]]
) -> Iterator[str]:
    """One sentence for each declaration no object's parameter can hold."""
    for decl in declarations:
        found = [
            (file, param.type)
            for file, info in objects
            for param in info.parameters
            if param.name == decl.name
        ]
        if not found:
            yield (
                f"parameters.{decl.name} is declared but no object has a const volatile global "
                f"{decl.name!r} (the declaration's key must be the C name)"
            )
        for file, layout in found:
            needs = unfit(decl.type, layout, values=decl.values is not None, items=decl.items)
            if needs is not None:
                yield (
                    f"{file}: parameters.{decl.name} is declared type {decl.type}, which needs "
                    f"{needs}, but the object's {decl.name} is a {type_name(layout)}"
                )
