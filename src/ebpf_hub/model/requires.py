"""What a package needs of the host (`requires` in the package file, the index and the config).

The schema's defaults for the optional fields are written here once (a test holds them equal
to `schema/package.schema.json`); everything that reads `requires` asks a `Requires` for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_BTF = True  # schema: requires.btf.default
DEFAULT_ARCHITECTURES: tuple[str, ...] = ("x86_64",)  # schema: requires.architectures.default


@dataclass(frozen=True)
class Requires:
    """`requires`: the minimum kernel, kernel BTF, architectures and capabilities.

    The optional fields keep whether the document named them (None: it did not), so `to_json`
    writes back what was read; `btf` and `architectures` answer with the default.
    """

    kernel: str | None
    btf_field: bool | None = None
    architectures_field: tuple[str, ...] | None = None
    capabilities: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Requires:
        """From a checked `requires` object (the kernel is required by every schema but the
        artifact config of old builds, so a missing one reads as None)."""
        architectures = data.get("architectures")
        capabilities = data.get("capabilities")
        return cls(
            kernel=data.get("kernel"),
            btf_field=data.get("btf"),
            architectures_field=tuple(architectures) if architectures is not None else None,
            capabilities=tuple(capabilities) if capabilities is not None else None,
        )

    @property
    def btf(self) -> bool:
        """Whether kernel BTF is needed (the schema's default: yes)."""
        return DEFAULT_BTF if self.btf_field is None else self.btf_field

    @property
    def architectures(self) -> tuple[str, ...]:
        """The architectures the package is built for (the schema's default: x86_64)."""
        return (
            DEFAULT_ARCHITECTURES if self.architectures_field is None else self.architectures_field
        )

    def to_json(self) -> dict[str, Any]:
        """The object as it was read: defaults are not written out."""
        data: dict[str, Any] = {}
        if self.kernel is not None:
            data["kernel"] = self.kernel
        if self.btf_field is not None:
            data["btf"] = self.btf_field
        if self.architectures_field is not None:
            data["architectures"] = list(self.architectures_field)
        if self.capabilities is not None:
            data["capabilities"] = list(self.capabilities)
        return data
