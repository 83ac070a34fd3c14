"""Executions requested over the API (``POST /api/v1/executions/execute``), stored in shared
transactions.

Rules of this file:

1. Requests that arrive while a batch is being stored wait for the next batch and are stored
   together: one transaction, one INSERT of the executions (and one of their history rows),
   one ``notification.created`` message per commit. A lone request is a batch of one, stored
   at once: nothing waits for company (the same group commit as the events'
   :class:`~attune_core.engine._events.EventIntake`).
2. Each request keeps its own outcome: an unknown action or a refused permission is that
   request's error, decided before anything is written, and the others of the batch are
   stored as usual. When the transaction fails for another reason, each request of the batch
   is tried again alone.
3. ``execution.requested`` (or, with ``place``, the dispatch to a worker of what it created
   scheduled on one: ``Executor.place``) is published after the commit.
4. Once a batch has taken a request, it is stored even if its caller is cancelled meanwhile.
5. A batch is one INSERT (at most ``MAX_BATCH`` rows, within one statement of SQLAlchemy's
   multi-row insert), atomic by itself: it runs in autocommit, without ``BEGIN`` and
   ``COMMIT`` (two round trips) on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
import attrs

from attune_core.engine._events import Place
from attune_core.engine._messages import Publish, created_message, publish_all
from attune_core.errors import AttuneError, NotFound
from attune_core.model import Action, Execution
from attune_core.ports import Bus
from attune_core.storage import Store, UnitOfWork

__all__ = ["ExecutionIntake", "ExecutionRequest"]

# Rows of one batch: below SQLAlchemy's insertmanyvalues page (1,000), so that the batch is a
# single statement (rule 5).
MAX_BATCH = 500


@attrs.define(eq=False)
class ExecutionRequest:
    """One execute request: the action, its parameters and environment, and ``allow(action)``,
    which raises when the caller may not run that action."""

    action_ref: str
    parameters: Mapping[str, Any]
    env_vars: Mapping[str, str] | None
    allow: Callable[[Action], None]
    action: Action | None = None
    execution: Execution | None = None
    error: Exception | None = None
    taken: bool = False
    # Set once the messages of the request's batch are published.
    published: anyio.Event | None = None


class ExecutionIntake:
    """Stores the executions of concurrent requests in shared transactions (module rules).

    Args:
        store: The database.
        bus: The message bus.
        place: Decides how the executions of a batch are created (distributed mode:
            ``Executor.place`` creates what needs only a worker scheduled on one).
    """

    def __init__(self, store: Store, bus: Bus, *, place: Place | None = None) -> None:
        self._store = store
        self._bus = bus
        self._place = place
        self._pending: list[ExecutionRequest] = []
        self._leader = anyio.Lock()
        self.transactions = 0

    async def submit(self, request: ExecutionRequest) -> tuple[Execution, Action]:
        """Store one execution (requested); returns it and its action once published.

        Raises:
            NotFound: no action ``action_ref``.
            Exception: what ``allow`` raised, or the database's error.
        """
        self._pending.append(request)
        messages: list[Publish] | None = None  # set for the batch's leader only
        leader = False
        try:
            async with self._leader:
                if not request.taken:
                    leader = True
                    others = [r for r in self._pending if r is not request]
                    batch = [request, *others[: MAX_BATCH - 1]]
                    self._pending = others[MAX_BATCH - 1 :]
                    published = anyio.Event()
                    for taken in batch:
                        taken.taken, taken.published = True, published
                    with anyio.CancelScope(shield=True):  # rule 4
                        stored = await self._store_batch(batch)
                        if stored is None and len(batch) > 1:
                            stored = []
                            for alone in batch:
                                stored += await self._store_batch([alone]) or []
                        messages = stored or []
        except BaseException:
            if not request.taken:
                self._pending = [r for r in self._pending if r is not request]
            elif leader and messages is None and request.published is not None:
                request.published.set()  # never leave the batch waiting
            raise
        assert request.published is not None
        if messages is not None:
            # Published by the batch's leader once the next batch may begin (its transaction
            # overlaps these confirms); every request of the batch returns after that.
            try:
                with anyio.CancelScope(shield=True):
                    await publish_all(self._bus, messages)
            finally:
                request.published.set()
        else:
            await request.published.wait()
        if request.error is not None:
            raise request.error
        assert request.execution is not None and request.action is not None
        return request.execution, request.action

    async def _store_batch(self, batch: list[ExecutionRequest]) -> list[Publish] | None:
        """Store ``batch`` in one transaction; the messages to publish, or ``None`` (every
        request given the error) when the transaction failed."""
        self.transactions += 1
        accepted: list[ExecutionRequest] = []
        try:
            async with self._store.transaction(autocommit=True) as uow:  # rule 5
                for request in batch:
                    request.error = None
                    try:
                        request.action = await self._action(uow, request)
                    except AttuneError as exc:  # refused: nothing of it written (rule 2)
                        request.error = exc
                        continue
                    accepted.append(request)
                new = [
                    Execution(
                        action_ref=request.action_ref,
                        action=request.action.id if request.action else None,
                        config=dict(request.parameters),
                        env_vars=dict(request.env_vars) if request.env_vars else None,
                    )
                    for request in accepted
                ]
                if self._place is not None and new:
                    new = await self._place(uow, new)
                executions = await uow.executions.create_many(new)
                messages = [created_message(execution) for execution in executions]
        except Exception as exc:
            for request in batch:
                request.error = exc
            return None
        for request, execution in zip(accepted, executions, strict=True):
            request.execution = execution
        return messages

    @staticmethod
    async def _action(uow: UnitOfWork, request: ExecutionRequest) -> Action:
        action = await uow.actions.find_by_ref_cached(request.action_ref)
        if action is None:
            raise NotFound(f"action {request.action_ref!r} not found")
        request.allow(action)
        return action
