"""The one cattrs converter between entities and JSON-compatible values.

Datetimes travel as ISO 8601 with an offset (naive datetimes are taken as UTC, the only zone
Attune stores); bytes travel as base64; enums as their string values.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import cattrs

from attune_core.model import _enums

__all__ = ["converter", "from_json", "to_json"]

T = TypeVar("T")


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _enum_value(member: Enum) -> Any:
    return member.value


def _make() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(datetime, _structure_datetime)
    # StrEnum members are str instances, which cattrs would pass through untouched; the wire
    # format wants the plain value, so every enum of the model gets an explicit hook.
    for enum_cls in vars(_enums).values():
        if isinstance(enum_cls, type) and issubclass(enum_cls, Enum) and enum_cls is not Enum:
            conv.register_unstructure_hook(enum_cls, _enum_value)
    conv.register_unstructure_hook(bytes, lambda b: base64.b64encode(b).decode("ascii"))
    conv.register_structure_hook(
        bytes, lambda v, _: v if isinstance(v, bytes) else base64.b64decode(v)
    )
    return conv


converter = _make()


def to_json(entity: Any) -> Any:
    """Turn an entity (or a list of them) into JSON-compatible values."""
    return converter.unstructure(entity)


def from_json(data: Any, cls: type[T]) -> T:
    """Build an entity of type ``cls`` from JSON-compatible values; unknown keys are an error."""
    return converter.structure(data, cls)
