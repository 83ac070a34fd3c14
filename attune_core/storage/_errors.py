"""Translate driver exceptions into Attune's typed errors.

Rule: nothing above the storage layer ever sees a SQLAlchemy, asyncpg or sqlite3 exception.
Constraint violations become :class:`Conflict` (unique), :class:`NotFound` (a referenced row is
missing), :class:`ValidationError` (NOT NULL, CHECK); anything else from the driver becomes
:class:`StorageError` with the cause attached.
"""

from __future__ import annotations

import re
from types import TracebackType

import sqlalchemy.exc as sa_exc

from attune_core.errors import Conflict, NotFound, StorageError, ValidationError

__all__ = ["translate_errors"]

_PG_UNIQUE = "23505"
_PG_FOREIGN_KEY = "23503"
_PG_NOT_NULL = "23502"
_PG_CHECK = "23514"
_PG_RESTRICT = "23001"


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    orig = exc.orig
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None)
        if isinstance(value, str):
            return value
    cause = getattr(orig, "__cause__", None)
    value = getattr(cause, "sqlstate", None)
    return value if isinstance(value, str) else None


def _detail(exc: sa_exc.DBAPIError) -> str:
    cause = getattr(exc.orig, "__cause__", None)
    detail = getattr(cause, "detail", None)
    text = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    # asyncpg wraps as "<class 'asyncpg...'>: message"; keep the message.
    text = re.sub(r"^<class '[^']+'>:\s*", "", text)
    return f"{text} ({detail})" if detail else text


def _integrity(exc: sa_exc.IntegrityError, entity: str) -> Exception:
    state = _sqlstate(exc)
    message = _detail(exc)
    lower = message.lower()
    if state == _PG_UNIQUE or "unique constraint" in lower or "duplicate key" in lower:
        return Conflict(f"{entity} already exists: {message}")
    if state == _PG_FOREIGN_KEY or "foreign key" in lower:
        if "still referenced" in lower or "is still referenced" in lower:
            return Conflict(f"{entity} is still referenced: {message}")
        return NotFound(f"{entity} refers to a row that does not exist: {message}")
    if state == _PG_NOT_NULL or "not null" in lower:
        column = re.search(r'column "([^"]+)"|NOT NULL constraint failed: \w+\.(\w+)', message)
        field = next((g for g in column.groups() if g), None) if column else None
        return ValidationError(f"{entity}: a value is required: {message}", field=field)
    if state in (_PG_CHECK, _PG_RESTRICT) or "check constraint" in lower or "immutable" in lower:
        return ValidationError(f"{entity}: {message}")
    return ValidationError(f"{entity}: {message}")


class translate_errors:  # named like the function it replaced; used as one
    """Run a statement, turning driver errors into typed Attune errors about ``entity``.

    A plain context manager class: entered once per statement, it costs less than a
    generator-based one.
    """

    __slots__ = ("_entity",)

    def __init__(self, entity: str) -> None:
        self._entity = entity

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        entity = self._entity
        if isinstance(exc, sa_exc.IntegrityError):
            raise _integrity(exc, entity) from exc
        if isinstance(exc, sa_exc.DBAPIError):
            if "immutable" in str(exc.orig).lower():
                raise ValidationError(f"{entity}: {_detail(exc)}") from exc
            raise StorageError(f"database error on {entity}: {_detail(exc)}") from exc
