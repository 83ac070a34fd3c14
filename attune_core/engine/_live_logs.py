"""Live logs: the output of running executions, streamed to the database and announced.

The runner hands a run's masked output to an :class:`ExecutionOutput` every few hundred
milliseconds (``ProcessRunner`` rule 6). Rules of this file:

1. The database is where readers find the output: each batch of chunks is one transaction on
   ``execution_log``, so every API process (on any machine) reads the same text, whichever
   worker runs the action. The worker's files are never needed.
2. Every batch is then announced on the bus as ``notification.created`` frames of type
   ``execution_log`` (entity ``execution_log:<execution id>``), one per stream: the same path
   as every other notification, so they reach the WebSocket and the SSE streams of every API
   replica with either notification source (bus, or PostgreSQL LISTEN via the notification
   table). A frame carries where the new text is (``position``, ``length``), not the text: it
   stays small whatever the action prints (PostgreSQL's NOTIFY limit is 8000 bytes), and a
   reader fetches the text from the database.
3. The transaction recording the outcome replaces the streamed rows with the final stderr
   (:meth:`ExecutionOutput.settle`): one row at position 0, none when the run printed nothing
   there. The result holds stdout; the worker's log files are local to it, so the final stderr
   stays in the database, where an API on another machine reads it. A failure to stream is
   logged and never changes the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attune_core.bus import RoutingKey
from attune_core.model import LogChunk
from attune_core.ports import Bus
from attune_core.storage import Store, UnitOfWork

__all__ = ["LOG_NOTIFICATION", "ExecutionOutput", "LiveLogs", "log_frame"]

log = logging.getLogger(__name__)

LOG_NOTIFICATION = "execution_log"


def log_frame(execution_id: int, chunk: LogChunk, now: datetime) -> dict[str, Any]:
    """The notification announcing ``chunk`` of ``execution_id``'s output (rule 2)."""
    return {
        "type": "notification",
        "notification_type": LOG_NOTIFICATION,
        "entity_type": LOG_NOTIFICATION,
        "entity_id": execution_id,
        "user_id": None,
        "payload": {
            "execution": execution_id,
            "stream": chunk.stream,
            "position": chunk.position,
            "length": len(chunk.content),
        },
        "timestamp": now.isoformat(),
    }


class ExecutionOutput:
    """The output listener of one run (an ``OutputListener``)."""

    def __init__(
        self, store: Store, bus: Bus, now: Callable[[], datetime], execution_id: int
    ) -> None:
        self._store = store
        self._bus = bus
        self._now = now
        self.execution_id = execution_id
        self.written = False

    async def __call__(self, chunks: Sequence[LogChunk]) -> None:
        """Store ``chunks``, then announce them."""
        async with self._store.transaction() as uow:
            await uow.execution_logs.append(self.execution_id, chunks)
        self.written = True
        now = self._now()
        for chunk in chunks:
            await self._bus.publish(
                RoutingKey.NOTIFICATION_CREATED, log_frame(self.execution_id, chunk, now)
            )

    async def settle(self, uow: UnitOfWork, stderr: str) -> None:
        """In the transaction recording the outcome: the streamed rows give way to the final
        stderr (rule 3); no statement for a run that streamed nothing and printed no stderr."""
        if self.written:
            await uow.execution_logs.delete(self.execution_id)
            uow.after_commit(self._settled)
        if stderr:
            await uow.execution_logs.append(self.execution_id, [LogChunk("stderr", 0, stderr)])

    def _settled(self) -> None:
        self.written = False

    async def discard(self) -> None:
        """Delete the streamed rows (once the outcome is recorded); nothing if none."""
        if not self.written:
            return
        try:
            async with self._store.transaction() as uow:
                await uow.execution_logs.delete(self.execution_id)
        except Exception:
            log.warning(
                "streamed output of execution %s not deleted",
                self.execution_id,
                exc_info=True,
                extra={"execution_id": self.execution_id},
            )
        self.written = False


class LiveLogs:
    """Makes the output listener of each run (see the rules of this module)."""

    def __init__(self, store: Store, bus: Bus, now: Callable[[], datetime]) -> None:
        self._store = store
        self._bus = bus
        self._now = now

    def output(self, execution_id: int) -> ExecutionOutput:
        """A listener for the run of ``execution_id``."""
        return ExecutionOutput(self._store, self._bus, self._now, execution_id)
