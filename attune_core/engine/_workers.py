"""The worker monitor: notices dead workers and settles what they held.

Rules of this file:

1. A worker is dead when its last heartbeat is older than ``worker.heartbeat_stale_after``.
   Marking it ``inactive`` is a conditional update, so when several executors watch at once
   exactly one settles each dead worker.
2. Executions it was running (or cancelling) end ``abandoned`` with the reason; they are not
   run again (an action may not be safe to repeat; a workflow's retry policy decides, since
   the conductor sees the abandoned child as a failure).
3. Executions dispatched to it but not started go back to ``requested`` and are scheduled
   again on a live worker.
4. The database being unreachable is not a death: after rounds that failed, workers get
   ``heartbeat_stale_after`` seconds of a working database before any is judged. A worker
   judged dead that beats again makes itself ``active`` again (WorkerService's heartbeat).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from attune_core.bus import RoutingKey
from attune_core.engine._executor import finish_execution
from attune_core.engine._messages import Publish, publish_all
from attune_core.model import ExecutionStatus, WorkerStatus
from attune_core.ports import Bus, Clock
from attune_core.storage import Store, UnitOfWork

__all__ = ["WorkerMonitor", "settle_held"]

log = logging.getLogger(__name__)


class WorkerMonitor:
    """Checks worker heartbeats every ``interval`` seconds (run it in an executor process).

    Args:
        store: The database.
        bus: The message bus.
        clock: Time.
        stale_after: Seconds without a heartbeat after which a worker is dead.
        interval: Seconds between checks.
    """

    def __init__(
        self, store: Store, bus: Bus, clock: Clock, *, stale_after: float, interval: float
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._stale_after = stale_after
        self._interval = interval
        self._failing = False
        self._resumed_at: datetime | None = None

    async def run(self) -> None:
        """Check, sleep, repeat until cancelled."""
        while True:
            try:
                await self.check()
            except Exception:  # a failed round must not stop the monitor
                log.exception("worker monitor round failed")
                self._failing = True
            await self._clock.sleep(self._interval)

    async def check(self) -> int:
        """Settle every worker found dead now; returns how many.

        After rounds that failed (the database was unreachable), workers get ``stale_after``
        seconds of a working database to beat again before any is judged: their heartbeats
        failed for the same reason, and they are not dead.
        """
        now = self._clock.now()
        if self._failing:
            self._failing = False
            self._resumed_at = now
        if self._resumed_at is not None:
            if now - self._resumed_at < timedelta(seconds=self._stale_after):
                async with self._store.read() as uow:  # still reachable: the grace goes on
                    await uow.workers.count()
                return 0
            self._resumed_at = None
        cutoff = now - timedelta(seconds=self._stale_after)
        messages: list[Publish] = []
        settled = 0
        async with self._store.transaction() as uow:
            for worker in await uow.workers.list_stale(cutoff):
                assert worker.id is not None
                gone = await uow.workers.transition(
                    worker.id,
                    expected=[WorkerStatus.ACTIVE, WorkerStatus.BUSY],
                    new=WorkerStatus.INACTIVE,
                )
                if gone is None:
                    continue  # another executor got there first
                settled += 1
                log.warning(
                    "worker %s missed its heartbeats since %s: settling its executions",
                    worker.name,
                    worker.last_heartbeat,
                    extra={"worker": worker.name},
                )
                _, handed = await settle_held(
                    uow, worker.id, f"worker {worker.name} stopped responding while running it"
                )
                messages += handed
        await publish_all(self._bus, messages)
        return settled


async def settle_held(uow: UnitOfWork, worker_id: int, error: str) -> tuple[int, list[Publish]]:
    """Settle what a worker that is gone held (rules 2 and 3): its running (or cancelling)
    executions end ``abandoned`` with ``error``, those dispatched to it and not started go back
    to ``requested``. Returns how many it held and the messages to publish after the commit."""
    held = await uow.executions.list(
        worker=worker_id,
        status=[ExecutionStatus.SCHEDULED, ExecutionStatus.RUNNING, ExecutionStatus.CANCELING],
    )
    messages: list[Publish] = []
    for execution in held:
        assert execution.id is not None
        if execution.status is ExecutionStatus.SCHEDULED:
            back = await uow.executions.transition(
                execution.id,
                expected=ExecutionStatus.SCHEDULED,
                new=ExecutionStatus.REQUESTED,
                where={"worker": worker_id},
                worker=None,
            )
            if back is not None:
                messages.append((RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id}))
            continue
        _, done = await finish_execution(
            uow,
            execution,
            ExecutionStatus.ABANDONED,
            {"succeeded": False, "error": error},
            expected=(ExecutionStatus.RUNNING, ExecutionStatus.CANCELING),
        )
        messages += done
    return len(held), messages
