"""Inserts held back and written together: one statement for rows of several tables.

An event's rows (the event, its enforcements, their executions) reference each other by id.
Inserted one table at a time they cost a statement each, and a transaction around them
(``BEGIN`` ... ``COMMIT``): five round trips to PostgreSQL for one event. Held back here, with
ids reserved beforehand, they are written by one statement (``WITH i0 AS (INSERT ...), i1 AS
(INSERT ...) INSERT ...``): atomic by itself, so a unit of work in autocommit costs that one
round trip.

Rules of this file:

1. Only on PostgreSQL (SQLite's inserts are calls in the process; nothing to save).
2. Ids come from the tables' own sequences, reserved in blocks per process
   (:class:`IdReservations`): a block costs one round trip for :data:`BLOCK` rows. Ids of one
   process increase; across processes they interleave by block, which no order depends on
   (lists are ordered by ``created``, then ``id``; api-contract.md "Ordering").
3. Held rows are written before any statement that reads or writes their tables, and at the
   end of the unit of work, in the order they were held (parents first). Foreign keys are
   checked at the end of the statement, so one statement may insert a row and its children.
4. A statement carries at most :data:`MAX_PARAMETERS` bind parameters (the wire protocol's
   limit is 32,767). More rows take several statements.
5. In an autocommit unit of work, the held rows and what comes after them land together or
   not at all: when they take several statements, or a later statement of the unit forces
   them out, the unit of work opens a transaction on its connection first (``BEGIN``, then
   ``COMMIT`` or ``ROLLBACK`` when it ends; ``UnitOfWork.flush_inserts``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.util import find_tables

from attune_core.storage._errors import translate_errors

if TYPE_CHECKING:
    from attune_core.storage._connections import DriverConnection, InlineConnection

__all__ = [
    "BEGIN",
    "BLOCK",
    "COMMIT",
    "MAX_PARAMETERS",
    "ROLLBACK",
    "DeferredInserts",
    "IdReservations",
]

BLOCK = 64
MAX_PARAMETERS = 30_000

BEGIN = sa.text("BEGIN")
COMMIT = sa.text("COMMIT")
ROLLBACK = sa.text("ROLLBACK")


class IdReservations:
    """Ids reserved from the tables' sequences, per table, for this process (rule 2)."""

    def __init__(self) -> None:
        self._free: dict[str, list[int]] = {}

    async def take(
        self, connection: DriverConnection | InlineConnection, table: sa.Table, count: int
    ) -> list[int]:
        """``count`` unused ids of ``table``, increasing; a block is reserved when short."""
        free = self._free.setdefault(table.name, [])
        if len(free) < count:
            wanted = max(BLOCK, count - len(free))
            statement = sa.select(
                sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id"))
            ).select_from(sa.func.generate_series(1, wanted))
            with translate_errors(table.name):
                result = await connection.execute(statement)
            free += [row[0] for row in result.all()]
            free.sort()  # concurrent reservations may have appended out of order
        taken, free[:count] = free[:count], []
        return taken


class DeferredInserts:
    """Rows held back by one unit of work, by table, in the order first held (rule 3)."""

    def __init__(self) -> None:
        self._rows: dict[sa.Table, list[dict[str, Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self._rows)

    def hold(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        self._rows.setdefault(table, []).extend(rows)

    def concern(self, statement: sa.Executable) -> bool:
        """Whether ``statement`` reads or writes a table with rows held back."""
        if not self._rows:
            return False
        if not isinstance(statement, (sa.Select, sa.UpdateBase)):
            return True  # text, or another kind: what it concerns is not known, write first
        touched = {table.name for table in find_tables(statement, include_crud=True)}
        return any(table.name in touched for table in self._rows)

    def take(self) -> tuple[str, list[tuple[sa.Executable, dict[str, Any]]]]:
        """The statements writing the held rows (rule 4), with their parameters, and the
        names of their tables (for errors); nothing is held afterwards."""
        held, self._rows = list(self._rows.items()), {}
        if not held:
            return "", []
        return ", ".join(table.name for table, _ in held), _statements(held)


def _statements(
    held: list[tuple[sa.Table, list[dict[str, Any]]]],
) -> list[tuple[sa.Executable, dict[str, Any]]]:
    """As few INSERT statements as the parameter limit allows (one when it fits), each with
    its parameters."""
    chunks: list[tuple[sa.Table, list[dict[str, Any]]]] = []
    for table, rows in held:
        size = max(1, MAX_PARAMETERS // max(1, len(rows[0])))
        chunks += [(table, rows[i : i + size]) for i in range(0, len(rows), size)]
    statements: list[tuple[sa.Executable, dict[str, Any]]] = []
    group: list[tuple[sa.Table, list[dict[str, Any]]]] = []
    parameters = 0
    for table, rows in chunks:
        count = len(rows) * len(rows[0])
        if group and parameters + count > MAX_PARAMETERS:
            statements.append(_combined(group))
            group, parameters = [], 0
        group.append((table, rows))
        parameters += count
    statements.append(_combined(group))
    return statements


def _combined(
    group: list[tuple[sa.Table, list[dict[str, Any]]]],
) -> tuple[sa.Executable, dict[str, Any]]:
    """One statement inserting every row of ``group`` (the last INSERT, the others as CTEs),
    and its parameters. Statements are built once per shape (tables, rows, columns): a
    multi-row VALUES of literal values would be compiled anew every time."""
    shape = tuple((table, len(rows), tuple(rows[0])) for table, rows in group)
    parameters = {
        f"h{index}_{number}_{column}": value
        for index, (_, rows) in enumerate(group)
        for number, row in enumerate(rows)
        for column, value in row.items()
    }
    return _statement(shape), parameters


@functools.lru_cache(maxsize=256)
def _statement(shape: tuple[tuple[sa.Table, int, tuple[str, ...]], ...]) -> sa.TextClause:
    """The statement of one shape, as SQL text with typed bind parameters: SQLAlchemy does
    not cache a multi-row INSERT (it would compile the same statement for every flush), and
    text with typed parameters is cached, the values still converted by the columns' types."""
    quote = _PREPARER.quote
    inserts: list[str] = []
    binds: list[sa.BindParameter[Any]] = []
    for index, (table, count, columns) in enumerate(shape):
        rows = []
        for number in range(count):
            names = [f"h{index}_{number}_{column}" for column in columns]
            binds += [
                sa.bindparam(name, type_=table.c[column].type)
                for name, column in zip(names, columns, strict=True)
            ]
            rows.append("(" + ", ".join(f":{name}" for name in names) + ")")
        inserts.append(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES {', '.join(rows)}"
        )
    *first, last = inserts
    ctes = ", ".join(f"held_{index} AS ({insert})" for index, insert in enumerate(first))
    return sa.text(f"WITH {ctes} {last}" if ctes else last).bindparams(*binds)


_PREPARER = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
