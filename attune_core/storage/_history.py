"""Entity history: field-level change records for executions and workers.

Where it is done:

- PostgreSQL: row triggers on ``execution`` and ``worker`` (migration 0006) write the history
  rows in the statement that changes the row, so a tracked change costs no extra round trip.
  The Python path below records nothing there (``HISTORY_IN_DATABASE``).
- SQLite: the repository that changes a tracked row builds the history row here
  (:func:`history_row`) and the unit of work writes the queued rows before its commit.

Rules of this file (the triggers follow them too; a test compares both backends):

- Only the tracked fields count. An UPDATE that changes none of them records nothing (this is
  how heartbeat-only worker updates are skipped). An INSERT lists the tracked fields that are
  not null and records all of them; a DELETE records all of them as old values.
- History records the changes the repositories make: rows removed by the retention purge and
  the database's own cascades (a deleted worker's ``ON DELETE SET NULL``) are not recorded.
- ``time`` is the changed row's ``updated`` stamp (the store's clock); a DELETE's is the time
  of the deletion.
- Timestamps are ISO 8601 text in UTC (``datetime.isoformat()``: ``+00:00``, microseconds
  only when non-zero); enums are their string values.
- Large values are summarised: ``result`` is recorded as ``{"digest": "md5:<hex>", "size":
  <bytes>, "type": <JSON type name>}``, never copied whole. Digest and size are those of the
  value's text as PostgreSQL prints a ``jsonb`` (``md5(value::text)``), which
  :func:`jsonb_text` reproduces, so both backends give the same digest for the same value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs
import orjson

from attune_core.model import HistoryOperation

__all__ = ["HISTORY_IN_DATABASE", "HistorySpec", "digest_summary", "history_row", "jsonb_text"]

# The dialects whose database records history itself (triggers of migration 0006).
HISTORY_IN_DATABASE = frozenset({"postgresql"})


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
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _number(text: str) -> str:
    # PostgreSQL keeps a JSON number as numeric: printed in positional notation with as many
    # decimals as the text had after its exponent is applied (1e20 -> 100000000000000000000,
    # 1.5e-7 -> 0.00000015, 1.0 -> 1.0), and no negative zero. Decimal does the same.
    number = Decimal(text)
    printed = format(number, "f")
    return printed[1:] if printed.startswith("-") and not number else printed


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        # orjson escapes as PostgreSQL does: \" \\ \b \f \n \r \t, other controls as \u00xx.
        out.append(orjson.dumps(value).decode())
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(orjson.dumps(value).decode()))  # the text the database received
    elif isinstance(value, Decimal):
        out.append(_number(str(value)))
    elif isinstance(value, dict):
        # jsonb orders keys by length in bytes, then bytewise.
        items = sorted(value.items(), key=lambda item: (len(k := item[0].encode()), k))
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(", ")
            out.append(orjson.dumps(key).decode())
            out.append(": ")
            _encode(item, out)
        out.append("}")
    else:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(", ")
            _encode(item, out)
        out.append("]")


def _as_stored(value: Any) -> Any:
    """``value`` as the database holds it: its JSON text (the engine's ``json_dumps``) parsed
    back, so datetimes are strings, keys are strings, NaN is null, as on either backend."""
    try:
        return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # json_dumps's fallback (integers beyond 64 bits): keep numbers exact
        return json.loads(json.dumps(value), parse_float=Decimal)


def _stored_text(value: Any) -> tuple[Any, bytes]:
    stored = _as_stored(value)
    out: list[str] = []
    _encode(stored, out)
    return stored, "".join(out).encode()


def jsonb_text(value: Any) -> str:
    """The text PostgreSQL prints for ``value`` stored as ``jsonb`` (``value::text``)."""
    return _stored_text(value)[1].decode()


def digest_summary(value: Any) -> dict[str, Any]:
    """The compact stand-in for a large JSON value in history rows: digest and size (bytes) of
    its ``jsonb`` text, and its JSON type (what the PostgreSQL triggers record)."""
    stored, text = _stored_text(value)
    return {
        "digest": "md5:" + hashlib.md5(text, usedforsecurity=False).hexdigest(),
        "size": len(text),
        "type": _json_type(stored),
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
