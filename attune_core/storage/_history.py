"""Entity history: field-level change records for executions and workers.

One mechanism on both backends: the repository that changes a tracked row writes the history
row in the same transaction (the original used PostgreSQL triggers; SQLite has no JSON diffing
triggers worth maintaining, and a single Python implementation behaves identically on both).

Rules:
- Only the tracked fields count. An UPDATE that changes none of them records nothing (this is
  how heartbeat-only worker updates are skipped).
- Large values are summarised: ``result`` is recorded as ``{"digest": "md5:<hex>", "size":
  <bytes of its JSON text>, "type": <JSON type name>}``, never copied whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import attrs
import orjson

from attune_core.model import HistoryOperation

__all__ = ["HistorySpec", "digest_summary", "history_row"]


@attrs.frozen
class HistorySpec:
    """What to record for one table."""

    table_name: str
    tracked: Sequence[str]
    ref_field: str
    digested: frozenset[str] = frozenset()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def digest_summary(value: Any) -> dict[str, Any]:
    """The compact stand-in for a large JSON value in history rows (digest and size of its
    compact JSON text, keys sorted, UTF-8)."""
    try:
        text = orjson.dumps(
            value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        )
    except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        ).encode()
    return {
        "digest": "md5:" + hashlib.md5(text, usedforsecurity=False).hexdigest(),
        "size": len(text),
        "type": _json_type(value),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _snapshot(
    spec: HistorySpec, values: Mapping[str, Any], fields: Sequence[str]
) -> dict[str, Any]:
    return {
        name: digest_summary(values[name]) if name in spec.digested else _plain(values[name])
        for name in fields
    }


def history_row(
    spec: HistorySpec,
    operation: HistoryOperation,
    *,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    time: datetime,
) -> dict[str, Any] | None:
    """The history row for a change, or ``None`` when no tracked field changed."""
    source = new if new is not None else old
    assert source is not None
    if operation is HistoryOperation.UPDATE:
        assert old is not None and new is not None
        changed = [name for name in spec.tracked if old[name] != new[name]]
        if not changed:
            return None
        old_values: dict[str, Any] | None = _snapshot(spec, old, changed)
        new_values: dict[str, Any] | None = _snapshot(spec, new, changed)
    elif operation is HistoryOperation.INSERT:
        changed = [name for name in spec.tracked if source[name] is not None]
        old_values, new_values = None, _snapshot(spec, source, spec.tracked)
    else:
        changed = []
        old_values, new_values = _snapshot(spec, source, spec.tracked), None
    return {
        "time": time,
        "operation": operation.value,
        "entity_id": source["id"],
        "entity_ref": source[spec.ref_field],
        "changed_fields": changed,
        "old_values": old_values,
        "new_values": new_values,
    }
