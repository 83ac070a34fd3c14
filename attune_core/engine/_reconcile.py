"""The reconciler: publishes again the messages that a commit decided but that never left.

A service commits a change, then publishes the message that tells the next service to look
(DESIGN.md "Reliability rules"). A process killed between the two, or a broker that refuses the
publish at that moment, leaves the change committed and nobody told: an execution stays
``requested`` or ``scheduled``, a workflow never hears that its child ended. The executor's
``recover()`` covers this when an executor starts; the reconciler covers it while executors run.

Rules of this file:

1. The database says what is overdue; nothing is remembered across rounds except which hints
   this process already sent, so that one execution waiting in a busy worker's queue is not
   sent again every round.
2. It only publishes hints. Every handler re-reads the row and acts only if the row still
   needs it, so a hint sent for work that was merely slow is harmless.
3. Work waiting for a reason of its own is left alone: a with_items item held by its workflow,
   an execution whose retry delay has not passed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from attune_core.bus import RoutingKey, worker_dispatch_key
from attune_core.engine._messages import Publish, database_unavailable, publish_all
from attune_core.model import Execution, ExecutionStatus
from attune_core.ports import Bus, Clock
from attune_core.storage import Store

__all__ = ["Reconciler"]

log = logging.getLogger(__name__)

# At most this many executions per kind and round: a backlog is worked off over rounds
# instead of loading thousands of rows at once.
BATCH = 500


class Reconciler:
    """Every ``interval`` seconds, sends again the hints of work unchanged for ``stale_after``.

    Args:
        store: The database.
        bus: The message bus.
        clock: Time.
        stale_after: Seconds an execution may sit in ``requested``/``scheduling``/
            ``scheduled``, or a finished child wait for its workflow, before its message is
            taken as lost. Longer than a busy worker's queue usually holds work is best: a hint
            for work that is only waiting costs a message and a read.
        interval: Seconds between rounds.
    """

    def __init__(
        self, store: Store, bus: Bus, clock: Clock, *, stale_after: float, interval: float
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._stale_after = timedelta(seconds=stale_after)
        self._interval = interval
        # (execution id, status, updated) -> when this process last sent its hint.
        self._sent: dict[tuple[int, str, datetime | None], datetime] = {}

    async def run(self) -> None:
        """Reconcile, sleep, repeat until cancelled."""
        while True:
            await self._clock.sleep(self._interval)
            try:
                await self.check()
            except Exception as exc:  # a failed round must not stop the reconciler
                if database_unavailable(exc):
                    log.warning("reconcile round skipped: the database is unavailable (%s)", exc)
                else:
                    log.exception("reconcile round failed")

    async def check(self) -> list[Publish]:
        """One round: publish the hints found missing; returns them."""
        now = self._clock.now()
        since = now - self._stale_after
        async with self._store.read() as uow:
            waiting = await uow.executions.list_unchanged(
                [ExecutionStatus.REQUESTED, ExecutionStatus.SCHEDULING, ExecutionStatus.SCHEDULED],
                since=since,
                limit=BATCH,
            )
            unhandled = await uow.executions.list_unhandled_children(since=since, limit=BATCH)
        messages: list[Publish] = []
        sent: dict[tuple[int, str, datetime | None], datetime] = {}
        for execution in [*waiting, *unhandled]:
            assert execution.id is not None
            key = (execution.id, execution.status.value, execution.updated)
            last = self._sent.get(key)
            if last is not None and now - last < self._stale_after:
                sent[key] = last  # sent recently: give it time
                continue
            message = _hint(execution, now)
            if message is None:
                continue
            messages.append(message)
            sent[key] = now
        self._sent = sent  # rows no longer overdue are forgotten
        if messages:
            log.warning(
                "reconcile: %d executions unchanged for %s s, their messages sent again",
                len(messages),
                self._stale_after.total_seconds(),
                extra={"execution_ids": [m[1]["execution_id"] for m in messages]},
            )
            await publish_all(self._bus, messages)
        return messages


def _hint(execution: Execution, now: datetime) -> Publish | None:
    """The message that makes the next service look at ``execution`` (None: leave it)."""
    task = execution.workflow_task or {}
    status = execution.status
    if status.is_terminal:
        return (
            RoutingKey.EXECUTION_COMPLETED,
            {
                "execution_id": execution.id,
                "status": status.value,
                "parent": execution.parent,
                "action_ref": execution.action_ref,
            },
        )
    if task.get("held"):
        return None  # its workflow releases it when a slot frees
    due = task.get("next_retry_at")
    if due is not None and datetime.fromisoformat(due) > now:
        return None  # a retry delay: the executor that set it wakes it up
    if status is ExecutionStatus.SCHEDULED and execution.worker is not None:
        return worker_dispatch_key(execution.worker), {"execution_id": execution.id}
    return RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id}
