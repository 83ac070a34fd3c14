"""The output of running executions (table ``execution_log``), as the worker streams it.

Rules of this file:

1. Rows hold masked text only: the worker masks secrets before it appends (the database never
   sees a secret an action printed).
2. A chunk is identified by ``(execution, stream, position)``, ``position`` being the offset of
   its first character in the stream's text: appending the same chunk twice is harmless, and a
   reader that has the first ``n`` characters asks for the chunks from ``n`` on.
3. The rows are transient: the worker deletes them once the outcome is recorded; rows left by
   a worker that died mid-run stay, so the API can still show what the run printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from attune_core.model import LogChunk
from attune_core.storage._errors import translate_errors
from attune_core.storage.tables import execution_log as _table

if TYPE_CHECKING:
    from attune_core.storage._store import UnitOfWork

__all__ = ["ExecutionLogRepository"]


class ExecutionLogRepository:
    """Statements on the ``execution_log`` table, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def append(self, execution_id: int, chunks: Sequence[LogChunk]) -> None:
        """Store ``chunks`` of ``execution_id``'s output (one statement)."""
        if not chunks:
            return
        now = self._uow.now()
        rows = [
            {
                "execution": execution_id,
                "stream": chunk.stream,
                "position": chunk.position,
                "content": chunk.content,
                "created": now,
            }
            for chunk in chunks
        ]
        with translate_errors("execution_log"):
            await self._uow.connection.execute(_table.insert(), rows)

    async def read(self, execution_id: int, stream: str, start: int = 0) -> list[LogChunk]:
        """The chunks of ``stream`` that end after offset ``start``, in order (the first one
        may begin before ``start``)."""
        c = _table.c
        statement = (
            sa.select(c.position, c.content)
            .where(
                c.execution == execution_id,
                c.stream == stream,
                c.position + sa.func.length(c.content) > start,
            )
            .order_by(c.position)
        )
        with translate_errors("execution_log"):
            rows = (await self._uow.connection.execute(statement)).all()
        return [LogChunk(stream, int(row.position), str(row.content)) for row in rows]

    async def delete(self, execution_id: int) -> None:
        """Forget the streamed output of ``execution_id``."""
        with translate_errors("execution_log"):
            await self._uow.connection.execute(
                sa.delete(_table).where(_table.c.execution == execution_id)
            )
