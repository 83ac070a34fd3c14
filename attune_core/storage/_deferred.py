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
   limit is 32,767). More rows take several statements; in an autocommit unit of work they
   are wrapped in ``BEGIN`` / ``COMMIT`` so that they still land together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from attune_core.storage._errors import translate_errors

if TYPE_CHECKING:
    from attune_core.storage._connections import DriverConnection, InlineConnection

__all__ = ["BLOCK", "MAX_PARAMETERS", "DeferredInserts", "IdReservations"]

BLOCK = 64
MAX_PARAMETERS = 30_000

_BEGIN = sa.text("BEGIN")
_COMMIT = sa.text("COMMIT")
_ROLLBACK = sa.text("ROLLBACK")


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
        if not isinstance(statement, sa.ClauseElement):
            return True
        touched = {table.name for table in find_tables(statement, include_crud=True)}
        return any(table.name in touched for table in self._rows)

    async def flush(
        self, connection: DriverConnection | InlineConnection, *, autocommit: bool
    ) -> None:
        """Write the held rows (rules 3 and 4); nothing is held afterwards."""
        if not self._rows:
            return
        held, self._rows = list(self._rows.items()), {}
        statements = _statements(held)
        names = ", ".join(table.name for table, _ in held)
        with translate_errors(names):
            if len(statements) == 1:
                await connection.execute(statements[0])
                return
            if autocommit:
                await connection.execute(_BEGIN)
            try:
                for statement in statements:
                    await connection.execute(statement)
            except BaseException:
                if autocommit:
                    await connection.execute(_ROLLBACK)
                raise
            if autocommit:
                await connection.execute(_COMMIT)


def _statements(held: list[tuple[sa.Table, list[dict[str, Any]]]]) -> list[sa.Executable]:
    """As few INSERT statements as the parameter limit allows: one when it fits."""
    chunks: list[tuple[sa.Table, list[dict[str, Any]]]] = []
    for table, rows in held:
        per_row = max(1, len(rows[0]))
        size = max(1, MAX_PARAMETERS // per_row)
        chunks += [(table, rows[i : i + size]) for i in range(0, len(rows), size)]
    statements: list[sa.Executable] = []
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


def _combined(group: list[tuple[sa.Table, list[dict[str, Any]]]]) -> sa.Executable:
    """One statement inserting every row of ``group``: the last INSERT, the others as CTEs."""
    *first, (last_table, last_rows) = group
    statement = sa.insert(last_table).values(last_rows)
    ctes = [
        sa.insert(table).values(rows).cte(f"held_{index}")
        for index, (table, rows) in enumerate(first)
    ]
    return statement.add_cte(*ctes) if ctes else statement
