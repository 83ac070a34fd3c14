"""Column types that behave the same on SQLite and PostgreSQL.

- ``Id``: BIGINT on PostgreSQL; INTEGER on SQLite, because only ``INTEGER PRIMARY KEY`` is an
  auto-incrementing rowid alias there (both hold 64-bit values).
- ``Json``: JSONB on PostgreSQL, JSON text on SQLite; Python ``None`` is stored as SQL NULL.
- ``UtcDateTime``: timezone-aware in, timezone-aware (UTC) out. PostgreSQL keeps TIMESTAMPTZ;
  SQLite has no time zones, so values are normalised to UTC and stored without an offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = ["Id", "Json", "UtcDateTime", "enum_type"]

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

Json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp with time zone, always returned as an aware UTC datetime."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Attune stores aware timestamps only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a hand-written query
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_cls: type[Enum], name: str) -> sa.Enum:
    """A native PostgreSQL enum (VARCHAR on SQLite) storing the members' string values."""
    return sa.Enum(
        enum_cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
