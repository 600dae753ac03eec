"""Deterministic JSON form of this package's dataclasses.

The builder writes these dicts into an OCI artifact config whose digest must not change
between builds, so keys are always sorted and tuples become lists.
"""

from dataclasses import fields
from typing import Any

#: Field metadata that keeps a field out of the JSON form (type ids, parsed BTF).
NOT_JSON = {"json": False}


def jsonable(value: object) -> Any:
    """``value`` as JSON-able data: objects by their ``to_json()``, sequences as lists."""
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, (tuple, list)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in sorted(value.items())}
    return value


def dataclass_json(obj: Any) -> dict[str, Any]:
    """A dataclass instance's fields, sorted by name, minus those marked :data:`NOT_JSON`."""
    return {
        f.name: jsonable(getattr(obj, f.name))
        for f in sorted(fields(obj), key=lambda f: f.name)
        if f.metadata.get("json", True)
    }


class JsonMixin:
    """Gives a dataclass ``to_json()``."""

    def to_json(self) -> dict[str, Any]:
        """The sorted, JSON-able dict of this object's public fields."""
        return dataclass_json(self)
