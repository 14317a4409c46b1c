"""The base every typed config stands on: frozen, strict, camelCase on the wire.

Kubernetes resources spell fields in camelCase; Python spells them in
snake_case. Aliases bridge the two, so one model serves the CRD schema, the
ConfigMap a pod reads and the CLI's local runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


def to_camel(name: str) -> str:
    """snake_case to camelCase the Kubernetes way: only an underscore starts a word.

    pydantic's own `to_camel` also capitalises after a digit (`a2c` -> `a2C`),
    which would put `a2C` in the CRD while the CEL rules say `a2c`.
    """
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


class Frozen(BaseModel):
    """An immutable config model: unknown fields fail fast, aliases are camelCase."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=True,
        use_attribute_docstrings=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """Render as the JSON a CR or a pod config file carries (camelCase, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def cel(rule: str, message: str, field_path: str | None = None) -> dict[str, str]:
    """A CEL validation rule for `x-kubernetes-validations`.

    The same constraint is also checked in Python by a model validator, so a
    local run rejects what the API server rejects; the message names the field.
    """
    entry = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def validations(*rules: dict[str, str]) -> dict[str, Any]:
    """JSON-schema extra carrying CEL rules for a model."""
    return {"x-kubernetes-validations": list(rules)}


# Symbols like AAPL, BRK.B, BTC/USDT, ETH-USD.
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9./:_-]{0,31}$")]
# A DNS-1123 name of a Kubernetes object.
ObjectName = Annotated[
    str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
