"""The executor: moves executions from ``requested`` to a worker, and orchestrates workflows.

Rules of this file:

1. Every change is a conditional transition on the execution row; a message that finds the
   row in another status does nothing (duplicates and late messages are harmless).
2. Messages decided inside a transaction are published after it commits (``Publish`` lists),
   and a handler's message is acknowledged only after that.
3. Workflows are orchestrated here, never on a worker: the conductor (pure) decides, this file
   carries out its commands on the database, in the same transaction as the conductor's new
   state. The ``workflow_execution`` row is locked while a workflow advances, so two children
   finishing at once advance it one after the other.
4. Nothing here raises on bad user input: an unknown action, invalid parameters or a broken
   workflow definition end the execution ``failed`` with the reason in ``result.error``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import anyio
import anyio.abc
import attrs

from attune_core.bus import RoutingKey, worker_dispatch_key
from attune_core.engine._inquiries import ASK_ACTION, ask, cancel_inquiries
from attune_core.engine._keys import keystore_for, resolve_config
from attune_core.engine._messages import (
    ANY_RUNTIME,
    EXECUTOR_COMPLETIONS,
    EXECUTOR_REQUESTS,
    NOTHING_TO_FOLLOW,
    VERSIONS_CAPABILITY,
    Publish,
    consume_forever,
    follow_up_needed,
    publish_all,
)
from attune_core.engine.worker import version_order
from attune_core.errors import NotFound
from attune_core.model import (
    Action,
    Execution,
    ExecutionStatus,
    PolicyMethod,
    QueueStats,
    Worker,
    WorkerStatus,
    WorkflowExecution,
)
from attune_core.packs import VersionConstraint, parse_version
from attune_core.ports import Bus, Clock
from attune_core.schema import ParameterValidationError, validate_parameters
from attune_core.security import SecretBox
from attune_core.storage import Store, UnitOfWork
from attune_core.workflow import (
    CancelRequested,
    CancelTasks,
    Command,
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    Event,
    FailWorkflow,
    PauseRequested,
    PublishVariables,
    ReleaseItem,
    ResumeRequested,
    SetWorkflowStatus,
    SkipItems,
    TaskFinished,
    WorkflowDefinition,
    WorkflowDefinitionError,
    WorkflowStatus,
    parse_workflow,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Executor",
    "LocalWorker",
    "completion_message",
    "finish_execution",
]

log = logging.getLogger(__name__)

# Statuses that hold a concurrency slot of their action.
ACTIVE_STATUSES = (
    ExecutionStatus.SCHEDULING,
    ExecutionStatus.SCHEDULED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.CANCELING,
)
# How long an execution waits before scheduling is tried again when no worker is active.
NO_WORKER_RETRY = timedelta(seconds=2)
NOT_STARTED = (ExecutionStatus.REQUESTED, ExecutionStatus.SCHEDULING, ExecutionStatus.SCHEDULED)
UNFINISHED = (*NOT_STARTED, ExecutionStatus.RUNNING, ExecutionStatus.CANCELING)

_WORKFLOW_TO_EXECUTION = {
    WorkflowStatus.COMPLETED: ExecutionStatus.COMPLETED,
    WorkflowStatus.FAILED: ExecutionStatus.FAILED,
    WorkflowStatus.CANCELLED: ExecutionStatus.CANCELLED,
}


async def finish_execution(
    uow: UnitOfWork,
    execution: Execution,
    status: ExecutionStatus,
    result: Any,
    *,
    expected: Sequence[ExecutionStatus] = UNFINISHED,
    **changes: Any,
) -> tuple[Execution | None, list[Publish]]:
    """Move an execution to a terminal status; returns it and the messages to publish."""
    assert execution.id is not None
    done = await uow.executions.transition(
        execution.id, expected=expected, new=status, result=result, **changes
    )
    if done is None:
        return None, []
    return done, [completion_message(done)]


def completion_message(done: Execution) -> Publish:
    """The ``execution.completed`` message of an execution in a terminal status."""
    return (
        RoutingKey.EXECUTION_COMPLETED,
        {
            "execution_id": done.id,
            "status": done.status.value,
            # Never change after creation: the executor's completion handler uses them to
            # see without a database round trip that there is nothing to do.
            "parent": done.parent,
            "action_ref": done.action_ref,
        },
    )


# How long a process sharing the database with others schedules from the workers it read,
# and from the loads it counted: executions end without this process hearing of it, so a
# count taken in the middle of a burst would, kept longer, steer the next burst away from
# a worker that has since drained.
WORKER_VIEW_TTL = 1.0
WORKER_LOADS_TTL = 0.25


@attrs.define
class _WorkerView:
    """The active workers as read at ``read_at`` (monotonic clock), after ``writes`` writes of
    this process to the worker table; ``loads``: their active executions, once counted (at
    ``counted_at``), plus those placed since."""

    workers: list[Worker]
    writes: int
    read_at: float
    loads: dict[int, int] | None = None
    counted_at: float = 0.0

    def candidates(
        self, runtime_ref: str | None, constraint: str | None = None, *, cordoned: bool = False
    ) -> list[int]:
        """The uncordoned workers advertising the runtime (native: any worker) with a verified
        version satisfying ``constraint`` (:func:`_can_run`); with ``cordoned``, the cordoned
        ones as well."""
        wanted = _parse_constraint(constraint)
        return [
            w.id
            for w in self.workers
            if (cordoned or not w.cordoned)
            and w.id is not None
            and _can_run(w.capabilities, runtime_ref, wanted)
        ]

    def versions_found(self, runtime_ref: str) -> str:
        """The versions of ``runtime_ref`` each worker verified, for an error message."""
        found = [
            f"{w.name} {', '.join(_verified(w.capabilities, runtime_ref)) or 'none'}"
            for w in self.workers
            if isinstance(w.capabilities.get(VERSIONS_CAPABILITY), Mapping)
        ]
        return "; ".join(found) or "no worker reported its versions yet"


class LocalWorker(Protocol):
    """A worker in the executor's own process, which the executor hands executions to directly
    (embedded mode): scheduled and claimed in one transaction, no dispatch message."""

    worker_id: int | None

    def try_reserve(self) -> bool:
        """Take one of the worker's free slots now, or say there is none."""
        ...

    async def claim(self, uow: UnitOfWork, execution_id: int) -> tuple[Any, list[Publish]]:
        """Move a scheduled execution to running in ``uow`` and prepare its run."""
        ...

    def start(self, claimed: Any) -> None:
        """After the commit: run a claimed execution (``None``: give the slot back)."""
        ...

    def abort(self, claimed: Any) -> None:
        """The transaction rolled back: forget the claim and give the slot back."""
        ...

    def follow_completions(self, executor: Executor) -> None:
        """Let ``executor`` follow up each completion in the transaction recording it."""
        ...


# Running workflows whose conductor is kept in memory between events (the oldest go first).
MAX_LIVE_WORKFLOWS = 10_000


@attrs.define
class _LiveWorkflow:
    """A running workflow's conductor kept between two events, with what it was built from.

    Only where this process is the database's only writer (SQLite): the saved state then
    never changes behind the executor's back, so rebuilding the conductor from it (parsing a
    state that grows with every task and item) is skipped. ``generation`` is the catalogue's
    when the conductor last got its pack config and keys.
    """

    record: WorkflowExecution
    conductor: Conductor
    items: dict[str, list[int | None]]
    generation: int


def _error(message: str) -> dict[str, Any]:
    return {"succeeded": False, "error": message}


class Executor:
    """Schedules executions and advances workflows. Run it with ``await executor.run()``.

    Args:
        store: The database.
        bus: The message bus.
        clock: Time (delays and retries wait on it).
        prefetch: Messages handled at once per queue.
        secret_box: Decrypts keys for the ``keystore`` namespace of workflows (and
            ``{{ keystore.x }}`` references in pack config); without it workflows see none.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        prefetch: int = 32,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._store = store
        self._box = secret_box
        self._bus = bus
        self._clock = clock
        self._prefetch = prefetch
        self._definitions: dict[tuple[int, datetime | None], WorkflowDefinition] = {}
        self._last_pick: dict[int, int] = {}
        self._pick_sequence = itertools.count()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._local: LocalWorker | None = None
        # Conductors of running workflows by parent execution id, between events (embedded).
        self._live: dict[int, _LiveWorkflow] = {}
        # The active workers as last read (see _worker_view).
        self._view: _WorkerView | None = None

    def attach_local_worker(self, worker: LocalWorker) -> None:
        """Hand executions scheduled to ``worker`` (same process) to it directly."""
        self._local = worker
        worker.follow_completions(self)

    # -- service ----------------------------------------------------------------------------

    async def declare(self) -> None:
        """Declare the executor's queues (idempotent)."""
        await self._bus.declare_queue(EXECUTOR_REQUESTS, [RoutingKey.EXECUTION_REQUESTED])
        # Completions that say there is nothing to do here are kept out of the queue: not
        # received, decoded and acknowledged only to be dropped (one per execution).
        await self._bus.declare_queue(
            EXECUTOR_COMPLETIONS, [RoutingKey.EXECUTION_COMPLETED], unless=NOTHING_TO_FOLLOW
        )

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Consume requests and completions until cancelled."""
        await self.declare()
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            tg.start_soon(self._consume_requests)
            tg.start_soon(self._consume_completions)
            await self.recover()
            task_status.started()

    async def _consume_requests(self) -> None:
        await consume_forever(
            self._bus,
            EXECUTOR_REQUESTS,
            self._on_requested,
            prefetch=self._prefetch,
            name="executor",
        )

    async def _consume_completions(self) -> None:
        await consume_forever(
            self._bus,
            EXECUTOR_COMPLETIONS,
            self._on_completed,
            prefetch=self._prefetch,
            name="executor",
        )

    async def recover(self) -> None:
        """Look again at work a previous run left half done (requested, claimed, scheduled)."""
        async with self._store.read() as uow:
            pending = await uow.executions.list_in_status(
                [ExecutionStatus.REQUESTED, ExecutionStatus.SCHEDULING, ExecutionStatus.SCHEDULED]
            )
        messages: list[Publish] = []
        for execution in pending:
            if execution.status is ExecutionStatus.SCHEDULED and execution.worker is not None:
                messages.append(
                    (worker_dispatch_key(execution.worker), {"execution_id": execution.id})
                )
            else:
                messages.append((RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id}))
        await publish_all(self._bus, messages)

    # -- requested -> scheduled ------------------------------------------------------------

    async def submit(
        self,
        create: Callable[[UnitOfWork], Awaitable[Execution]],
        *,
        created: Callable[[int], None] | None = None,
    ) -> Execution:
        """Create an execution with ``create(uow)`` and have it scheduled.

        With a worker in this process (embedded), the execution is scheduled (and claimed by
        that worker) in the transaction that creates it: no request message, one commit. Else
        ``execution.requested`` is published after the commit. ``created(id)`` is called after
        the commit and before anything can run, so a waiter cannot miss the end. Returns the
        execution as created (``requested``).
        """
        made: list[Execution] = []

        async def create_and_request(uow: UnitOfWork, _handoff: list[Any] | None) -> list[Publish]:
            execution = await create(uow)
            made.append(execution)
            return [(RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id})]

        def committed() -> None:
            if created is not None and made[0].id is not None:
                created(made[0].id)

        await self._unit(create_and_request, committed=committed)
        return made[0]

    async def _unit(
        self,
        work: Callable[[UnitOfWork, list[Any] | None], Awaitable[list[Publish]]],
        *,
        committed: Callable[[], None] | None = None,
    ) -> None:
        """Run ``work(uow, handoff)`` in a transaction, then publish the messages it returned.

        With a worker in this process, the executions ``work`` requested are scheduled (and
        claimed by that worker when it has a free slot) in the same transaction instead of
        being published as ``execution.requested``: one commit where a request would cost
        another message and transaction. ``committed()`` is called after the commit, before
        anything claimed starts.
        """
        async with self._store.transaction() as uow:
            if committed is not None:
                uow.after_commit(committed)
            handoff = self._handoff(uow)
            messages = await work(uow, handoff)
            if handoff is not None:
                messages = await self._schedule_requested(uow, messages, handoff)
        await publish_all(self._bus, messages)

    def _handoff(self, uow: UnitOfWork) -> list[Any] | None:
        """The list through which scheduling in ``uow`` hands executions to the worker of this
        process (``None`` without one): what it claimed starts once ``uow`` has committed and
        is given back if ``uow`` rolls back."""
        local = self._local if self._task_group is not None else None
        if local is None:
            return None
        handoff: list[Any] = []

        def start() -> None:
            for claimed in handoff:
                local.start(claimed)

        def give_back() -> None:
            for claimed in handoff:
                local.abort(claimed)

        uow.after_commit(start)
        uow.after_rollback(give_back)
        return handoff

    async def _schedule_requested(
        self, uow: UnitOfWork, messages: list[Publish], handoff: list[Any]
    ) -> list[Publish]:
        """Schedule in ``uow`` the executions ``messages`` request; the other messages."""
        out: list[Publish] = []
        pending = deque(messages)
        while pending:
            key, payload = pending.popleft()
            if key == RoutingKey.EXECUTION_REQUESTED:
                # What scheduling decides (a workflow's first tasks, a failure) goes on too.
                pending.extend(await self._schedule(uow, int(payload["execution_id"]), handoff))
            else:
                out.append((key, payload))
        return out

    async def place(self, uow: UnitOfWork, executions: list[Execution]) -> list[Execution]:
        """The executions a process without an executor of its own (the API, a sensor host,
        in distributed mode) is about to create in ``uow``, as it should create them: those
        that need nothing but a worker are created ``scheduled`` on one, with their validated
        parameters, and their dispatch (:func:`created_message`) replaces
        ``execution.requested``, saving the executor a message and a transaction and the
        creator an UPDATE. Anything else stays ``requested``, for the executor service, which
        alone starts workflows and inquiries, applies policies, fails invalid parameters with
        the reason, and waits for a worker when none is active.
        """
        placed: list[Execution] = []
        for execution in executions:
            ready = await self._ready_to_dispatch(uow, execution)
            worker = None
            if ready is not None:
                runtime_ref, constraint, parameters = ready
                worker = await self._pick_worker(uow, runtime_ref, constraint, fresh_if_none=False)
            if worker is None:
                placed.append(execution)
            else:
                placed.append(
                    attrs.evolve(
                        execution,
                        status=ExecutionStatus.SCHEDULED,
                        worker=worker,
                        config=parameters,
                    )
                )
        return placed

    async def _ready_to_dispatch(
        self, uow: UnitOfWork, execution: Execution
    ) -> tuple[str | None, str | None, dict[str, Any]] | None:
        """The runtime, runtime version constraint and validated parameters of a new execution
        that needs only a worker (see :meth:`place`), else ``None``."""
        if execution.status is not ExecutionStatus.REQUESTED or execution.workflow_task:
            return None
        action = await uow.actions.find_by_ref_cached(execution.action_ref)
        if action is None or action.workflow_def is not None or action.ref == ASK_ACTION:
            return None
        if await uow.policies.list_for_action_cached(action.ref):
            return None
        try:
            parameters = validate_parameters(action.param_schema, execution.config or {})
        except ParameterValidationError:
            return None
        runtime_ref = None
        if action.runtime is not None:
            runtime = await uow.runtimes.find_cached(action.runtime)
            if runtime is None:
                return None
            runtime_ref = runtime.ref
        return runtime_ref, action.runtime_version_constraint, parameters

    async def schedule_here(self, uow: UnitOfWork, messages: list[Publish]) -> list[Publish]:
        """Schedule in ``uow`` the executions ``messages`` request, as :meth:`_unit` does for
        the work of this executor, when its worker is in this process (embedded): for the
        event intake, so an event's executions are claimed in the transaction that stores it.
        Without a local worker the messages go out as they are."""
        handoff = self._handoff(uow)
        if handoff is None:
            return messages
        return await self._schedule_requested(uow, messages, handoff)

    async def _on_requested(self, payload: Mapping[str, Any]) -> None:
        execution_id = int(payload["execution_id"])
        await self._unit(lambda uow, handoff: self._schedule(uow, execution_id, handoff))

    async def _schedule(
        self, uow: UnitOfWork, execution_id: int, handoff: list[Any] | None = None
    ) -> list[Publish]:
        execution = await uow.executions.find_for_update(execution_id)
        if execution is None or execution.status is not ExecutionStatus.REQUESTED:
            return []
        task = execution.workflow_task or {}
        if task.get("held"):
            # A with_items item created up front: the workflow releases it when a slot frees.
            return []
        due_text = task.get("next_retry_at")
        if due_text is not None:
            due = datetime.fromisoformat(due_text)
            if due > self._clock.now():
                self._later(due, execution_id)
                return []
        action = await uow.actions.find_by_ref_cached(execution.action_ref)
        if action is None:
            _, messages = await finish_execution(
                uow,
                execution,
                ExecutionStatus.FAILED,
                _error(f"action {execution.action_ref!r} not found"),
            )
            return messages
        if action.workflow_def is not None:
            return await self._start_workflow(uow, execution, action)
        try:
            parameters = validate_parameters(action.param_schema, execution.config or {})
        except ParameterValidationError as exc:
            _, messages = await finish_execution(
                uow, execution, ExecutionStatus.FAILED, _error(str(exc))
            )
            return messages
        if action.ref == ASK_ACTION:
            # An inquiry, not a process: the execution waits without holding a worker.
            return await ask(uow, execution, parameters, self._clock)
        verdict = await self._apply_policies(uow, execution, action, parameters)
        if verdict is not None:
            return verdict
        runtime_ref, runtime = None, None
        if action.runtime is not None:
            runtime = await uow.runtimes.find_cached(action.runtime)
            runtime_ref = runtime.ref if runtime else None
        constraint = action.runtime_version_constraint if runtime_ref is not None else None
        worker = await self._pick_worker(uow, runtime_ref, constraint)
        if worker is None:
            view = await self._worker_view(uow)
            if view.candidates(
                runtime_ref, constraint, cordoned=True
            ) or not await uow.workers.count(status=[WorkerStatus.ACTIVE, WorkerStatus.BUSY]):
                # No worker at all right now (one restarting, a deployment rolling), or every
                # one that can run it is cordoned (drained for maintenance): the execution
                # waits in `requested` and is looked at again shortly.
                self._later(self._clock.now() + NO_WORKER_RETRY, execution_id)
                return []
            reason = f"no active worker can run runtime {runtime_ref or 'native'!r}"
            if runtime is not None and view.candidates(runtime_ref, cordoned=True):
                assert runtime.id is not None
                registered = await uow.runtime_versions.list_for_runtime_cached(runtime.id)
                listed = ", ".join(v.version for v in sorted(registered, key=version_order))
                reason = (
                    f"no active worker has a version of runtime {runtime.ref!r} satisfying "
                    f"{constraint!r} (versions registered: {listed or 'none'}; verified on "
                    f"{view.versions_found(runtime.ref)})"
                )
            _, messages = await finish_execution(
                uow, execution, ExecutionStatus.FAILED, _error(reason)
            )
            return messages
        local = self._local
        reserved = (
            handoff is not None
            and local is not None
            and local.worker_id == worker
            and local.try_reserve()
        )
        scheduled = await uow.executions.transition(
            execution_id,
            expected=ExecutionStatus.REQUESTED,
            new=ExecutionStatus.SCHEDULED,
            worker=worker,
            config=parameters,
        )
        if reserved:
            # Co-located fast path: the worker of this process claims it in this transaction.
            assert local is not None and handoff is not None
            if scheduled is None:
                handoff.append(None)
                return []
            claimed, messages = await local.claim(uow, execution_id)
            handoff.append(claimed)
            return messages
        if scheduled is None:
            return []
        return [(worker_dispatch_key(worker), {"execution_id": execution_id})]

    def _later(self, due: datetime, execution_id: int) -> None:
        """Publish ``execution.requested`` again once the clock reaches ``due``."""

        async def wake() -> None:
            # Measured when the timer starts, not when it was asked for: a clock that moved
            # on in between (a test advancing a FakeClock) must not push the wake-up further.
            await self._clock.sleep((due - self._clock.now()).total_seconds())
            await self._bus.publish(RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution_id})

        if self._task_group is None:
            raise RuntimeError("the executor is not running")
        self._task_group.start_soon(wake)

    async def _pick_worker(
        self,
        uow: UnitOfWork,
        runtime_ref: str | None,
        constraint: str | None = None,
        *,
        fresh_if_none: bool = True,
    ) -> int | None:
        """An active, uncordoned worker advertising the runtime (native: any worker), with a
        verified version of it satisfying ``constraint`` when there is one: the
        least loaded, counting the executions this process placed since the loads were read;
        among equals the one this process picked least recently (concurrent schedulings do
        not see each other's uncommitted rows, so in a burst all loads read equal: the
        rotation is what spreads the burst over the workers).

        With ``fresh_if_none``, a remembered view of the workers that has no candidate is read
        again before ``None`` is returned (a worker may have registered since).
        """
        view = await self._worker_view(uow)
        candidates = view.candidates(runtime_ref, constraint)
        if not candidates and fresh_if_none and view is self._view:
            self._view = None
            view = await self._worker_view(uow)
            candidates = view.candidates(runtime_ref, constraint)
        if not candidates:
            return None
        if len(candidates) > 1 and (
            view.loads is None or time.monotonic() - view.counted_at >= WORKER_LOADS_TTL
        ):
            view.loads = await uow.executions.count_by_worker(
                [w.id for w in view.workers if w.id is not None], ACTIVE_STATUSES
            )
            view.counted_at = time.monotonic()
        loads = view.loads if view.loads is not None else {}
        chosen = min(candidates, key=lambda w: (loads.get(w, 0), self._last_pick.get(w, -1)))
        loads[chosen] = loads.get(chosen, 0) + 1
        self._last_pick[chosen] = next(self._pick_sequence)
        return chosen

    async def _worker_view(self, uow: UnitOfWork) -> _WorkerView:
        """The active workers (and, once asked, their loads) as this process last read them.

        Embedded (this process is the database's only writer), the view holds until one of
        its transactions writes to the worker table (a registration, heartbeat, cordon or
        status change), and the loads are counted for each pick. Shared with other processes
        (distributed mode), it holds for ``WORKER_VIEW_TTL`` seconds and its loads for
        ``WORKER_LOADS_TTL``: reading the workers and counting their executions for every
        execution cost two round trips each, and a worker that registers, stops or is cordoned
        is seen at most that much later (an execution sent to a worker that just stopped is
        handed back like any other it held).
        """
        shared = self._store.catalogue.shared
        writes = self._store.writes("worker")
        view = self._view
        if (
            view is None
            or view.writes != writes
            or "worker" in uow.written
            or (shared and time.monotonic() - view.read_at >= WORKER_VIEW_TTL)
        ):
            workers = await uow.workers.list(status=[WorkerStatus.ACTIVE, WorkerStatus.BUSY])
            view = _WorkerView(workers, writes, time.monotonic())
            if "worker" in uow.written:  # this transaction's own change: not for the others
                return view
            self._view = view
        elif not shared:
            view.loads = None  # counted again for each pick
        return view

    # -- policies -----------------------------------------------------------------------------

    async def _apply_policies(
        self, uow: UnitOfWork, execution: Execution, action: Action, parameters: dict[str, Any]
    ) -> list[Publish] | None:
        """Enforce concurrency policies; ``None`` lets the execution through."""
        policies = await uow.policies.list_for_action_cached(action.ref)
        if not policies:
            return None
        # Two executors (or two concurrent handlers) must not both see a free slot.
        assert action.id is not None
        await uow.actions.lock(action.id)
        active = await uow.executions.list(action_ref=action.ref, status=list(ACTIVE_STATUSES))
        waiting = await uow.executions.list(action_ref=action.ref, status=ExecutionStatus.REQUESTED)
        for policy in policies:
            group = {name: parameters.get(name) for name in policy.parameters}
            running = [e for e in active if _in_group(e, group)]
            # FIFO: an older execution of the same group waiting for a slot goes first.
            older = [
                e
                for e in waiting
                if _in_group(e, group)
                and e.id != execution.id
                and (e.created, e.id or 0) < (execution.created, execution.id or 0)
            ]
            if len(running) < policy.threshold and not older:
                continue
            if policy.method is PolicyMethod.CANCEL:
                _, messages = await finish_execution(
                    uow,
                    execution,
                    ExecutionStatus.CANCELLED,
                    _error(
                        f"cancelled by policy {policy.ref}: {len(running)} of at most "
                        f"{policy.threshold} executions already running"
                    ),
                )
                return messages
            await self._record_queue(uow, action, len(running), policy.threshold, waiting)
            return []
        return None

    async def _record_queue(
        self, uow: UnitOfWork, action: Action, active: int, limit: int, waiting: list[Execution]
    ) -> None:
        assert action.id is not None
        current = await uow.queue_stats.find(action.id)
        oldest = min((e.created for e in waiting if e.created), default=None)
        await uow.queue_stats.upsert(
            QueueStats(
                action_id=action.id,
                queue_length=len(waiting),
                active_count=active,
                max_concurrent=limit,
                oldest_enqueued_at=oldest,
                total_enqueued=(current.total_enqueued if current else 0) + 1,
                total_completed=current.total_completed if current else 0,
            )
        )

    async def _release_slot(self, uow: UnitOfWork, finished: Execution) -> list[Publish]:
        """A finished execution frees a slot: wake the oldest waiting one of its action."""
        policies = await uow.policies.list_for_action_cached(finished.action_ref)
        if not policies:
            return []
        if finished.action is not None:
            # The order _apply_policies locks in (action, then its queue figures): the slot
            # may be taken again in this transaction, while another schedules the action.
            await uow.actions.lock(finished.action)
        waiting = await uow.executions.list_in_status([ExecutionStatus.REQUESTED])
        same_action = [e for e in waiting if e.action_ref == finished.action_ref]
        if finished.action is not None:
            current = await uow.queue_stats.find(finished.action)
            if current is not None:
                await uow.queue_stats.update(
                    finished.action,
                    queue_length=len(same_action),
                    total_completed=current.total_completed + 1,
                )
        return [(RoutingKey.EXECUTION_REQUESTED, {"execution_id": e.id}) for e in same_action[:1]]

    # -- completions --------------------------------------------------------------------------

    async def _on_completed(self, payload: Mapping[str, Any]) -> None:
        execution_id = int(payload["execution_id"])
        # Followed in the transaction that recorded it (completed_here), or a top-level
        # execution whose action had no policy as the run started: usually kept out of the
        # queue already (NOTHING_TO_FOLLOW), not when a publisher did not say so.
        if not follow_up_needed(payload):
            return
        # Not a workflow task: only a concurrency policy of its action has work to do.
        if (
            "parent" in payload
            and payload["parent"] is None
            and not await self._has_policies(str(payload.get("action_ref")))
        ):
            return

        async def advance(uow: UnitOfWork, _handoff: list[Any] | None) -> list[Publish]:
            execution = await uow.executions.find(execution_id)
            if execution is None or not execution.status.is_terminal:
                return []
            messages = await self._release_slot(uow, execution)
            if (
                execution.parent is not None
                and execution.workflow_task
                and not execution.workflow_task.get("skipped")
            ):
                messages += await self._advance_on_child(uow, execution)
            return messages

        await self._unit(advance)

    async def completing_here(self, uow: UnitOfWork, execution: Execution) -> None:
        """The worker of this process is about to record the end of ``execution`` in ``uow``
        and then call :meth:`completed_here`: on a database shared with other processes, lock
        its workflow first, the order in which every other path locks a workflow and its
        children (a child first could deadlock with a workflow cancelling it)."""
        if execution.parent is not None and self._store.catalogue.shared:
            await uow.workflow_executions.lock_of_execution(execution.parent)

    async def completed_here(self, uow: UnitOfWork, done: Execution) -> list[Publish]:
        """The worker of this process recorded ``done`` in ``uow``: do in that transaction
        what handling its ``execution.completed`` would (free a policy slot, advance its
        workflow, schedule what that requests). The completion message then says ``followed``,
        and :meth:`_on_completed` leaves it alone."""
        messages = await self._release_slot(uow, done)
        if done.parent is not None and done.workflow_task and not done.workflow_task.get("skipped"):
            messages += await self._advance_on_child(uow, done)
        return await self.schedule_here(uow, messages)

    async def _has_policies(self, action_ref: str) -> bool:
        catalogue = self._store.catalogue
        if not catalogue.shared:
            # One process owns the database: the cache is current without asking it.
            known = catalogue.peek(("policy", "action", action_ref))
            if known is not None:
                return bool(known)
        async with self._store.read() as uow:
            return bool(await uow.policies.list_for_action_cached(action_ref))

    # -- workflows ----------------------------------------------------------------------------

    async def _definition(self, uow: UnitOfWork, workflow_def: int) -> WorkflowDefinition:
        row = await uow.workflow_definitions.find_cached(workflow_def)
        if row is None:
            raise NotFound(f"workflow {workflow_def} not found")
        key = (workflow_def, row.updated)
        cached = self._definitions.get(key)
        if cached is None:
            cached = parse_workflow(row.definition)
            self._definitions[key] = cached
        return cached

    async def _conductor_context(self, uow: UnitOfWork, action: Action) -> dict[str, Any]:
        pack = await uow.packs.find_by_ref_cached(action.pack_ref)
        config = dict(pack.config) if pack else {}
        if self._box is None:
            return {"config": config, "keystore": {}}
        keystore = await keystore_for(
            uow, self._box, pack_id=pack.id if pack else None, action_id=action.id
        )
        return {"config": resolve_config(config, keystore), "keystore": keystore}

    async def _start_workflow(
        self, uow: UnitOfWork, execution: Execution, action: Action
    ) -> list[Publish]:
        assert execution.id is not None and action.workflow_def is not None
        try:
            definition = await self._definition(uow, action.workflow_def)
        except WorkflowDefinitionError as exc:
            _, messages = await finish_execution(
                uow, execution, ExecutionStatus.FAILED, _error(f"invalid workflow: {exc}")
            )
            return messages
        try:
            parameters = validate_parameters(action.param_schema, execution.config or {})
        except ParameterValidationError as exc:
            _, messages = await finish_execution(
                uow, execution, ExecutionStatus.FAILED, _error(str(exc))
            )
            return messages
        running = await uow.executions.transition(
            execution.id,
            expected=ExecutionStatus.REQUESTED,
            new=ExecutionStatus.RUNNING,
            config=parameters,
        )
        if running is None:
            return []
        context = await self._conductor_context(uow, action)
        conductor = Conductor(
            definition,
            config=context["config"],
            keystore=context["keystore"],
            items_up_front=True,
        )
        now = self._clock.now()
        commands = conductor.start(
            parameters,
            {
                "workflow_start": now.isoformat(),
                "execution_id": execution.id,
                "workflow_ref": action.ref,
                "rule_ref": execution.rule_ref,
                "trigger_ref": execution.trigger_ref,
            },
        )
        record = await uow.workflow_executions.create(
            WorkflowExecution(
                execution=execution.id,
                workflow_def=action.workflow_def,
                status=ExecutionStatus.RUNNING,
                task_graph={"tasks": [t.name for t in definition.tasks]},
            )
        )
        return await self._carry_out(uow, running, record, conductor, commands, finished=None)

    async def _advance_on_child(self, uow: UnitOfWork, child: Execution) -> list[Publish]:
        task = child.workflow_task or {}
        event = TaskFinished(
            task=str(task.get("task_name")),
            status=child.status.value,
            result=child.result,
            item_index=task.get("task_index"),
            timed_out=bool(task.get("timed_out")),
            run=task.get("run"),
            attempt=task.get("retry_count"),
        )
        assert child.parent is not None
        return await self.signal_workflow(uow, child.parent, event, finished=child)

    async def signal_workflow(
        self,
        uow: UnitOfWork,
        parent_id: int,
        event: Event,
        *,
        finished: Execution | None = None,
    ) -> list[Publish]:
        """Feed one event to the conductor of workflow execution ``parent_id``."""
        # Taken out while in use: a transaction that rolls back leaves no entry behind.
        live = self._live.pop(parent_id, None)
        if live is None:
            record = await uow.workflow_executions.find_by_execution(parent_id, lock=True)
        else:
            record = live.record
        parent = await uow.executions.find(parent_id)
        if record is None or parent is None or parent.status.is_terminal:
            return []
        if record.workflow_def is None:
            return []
        generation = self._store.catalogue.generation
        if live is not None and live.generation == generation:
            conductor, items = live.conductor, live.items
        else:
            action = await uow.actions.find_by_ref_cached(parent.action_ref)
            context = (
                await self._conductor_context(uow, action)
                if action
                else {"config": {}, "keystore": {}}
            )
            if live is not None:
                # Keys or pack config may have changed: render with the current ones.
                conductor, items = live.conductor, live.items
                conductor.use_context(config=context["config"], keystore=context["keystore"])
            else:
                definition = await self._definition(uow, record.workflow_def)
                conductor = Conductor.from_state(
                    definition,
                    record.state["conductor"],
                    config=context["config"],
                    keystore=context["keystore"],
                    items_up_front=True,
                )
                items = {run: list(ids) for run, ids in (record.state.get("items") or {}).items()}
        commands = conductor.handle(event)
        return await self._carry_out(
            uow, parent, record, conductor, commands, finished=finished, items=items
        )

    async def _carry_out(
        self,
        uow: UnitOfWork,
        parent: Execution,
        record: WorkflowExecution,
        conductor: Conductor,
        commands: list[Command],
        *,
        finished: Execution | None,
        items: dict[str, list[int | None]] | None = None,
    ) -> list[Publish]:
        """Apply the conductor's commands; save its state; return the messages to publish."""
        assert parent.id is not None and record.id is not None
        messages: list[Publish] = []
        decisions: list[dict[str, Any]] = []
        # with_items children created up front but not started: ids by run, by item index
        # (None once released or ended).
        if items is None:
            items = {}
        # Items released in the same breath as they are created start at once.
        releases: dict[tuple[int, int | None], ReleaseItem] = {
            (c.run, c.item_index): c for c in commands if isinstance(c, ReleaseItem)
        }
        changes: dict[str, Any] = {}
        for command in commands:
            decisions.append(_decision(command))
            if isinstance(command, DispatchTask):
                release = releases.pop((command.run, command.item_index), None)
                if command.held and release is not None:
                    command = attrs.evolve(
                        command, held=False, delay=release.delay, why=release.why
                    )
                child_messages, child_id = await self._dispatch(
                    uow, parent, record, command, finished
                )
                messages += child_messages
                if command.held:
                    assert command.item_index is not None
                    ids = items.setdefault(str(command.run), [])
                    ids.extend([None] * (command.item_index + 1 - len(ids)))
                    ids[command.item_index] = child_id
            elif isinstance(command, ReleaseItem):
                if (command.run, command.item_index) in releases:
                    releases.pop((command.run, command.item_index))
                    messages += await self._release_item(uow, items, command)
            elif isinstance(command, SkipItems):
                ids = items.get(str(command.run)) or []
                for index in command.item_indexes:
                    held_id = ids[index] if index < len(ids) else None
                    if held_id is not None:
                        messages += await _skip_item(uow, held_id, command.why.message)
                        ids[index] = None
            elif isinstance(command, PublishVariables):
                changes["variables"] = dict(conductor.variables)
            elif isinstance(command, CancelTasks):
                messages += await self._cancel_runs(uow, parent, command)
            elif isinstance(command, SetWorkflowStatus):
                changes.update(_status_changes(command.status))
                if command.status is WorkflowStatus.CANCELING:
                    await uow.executions.transition(
                        parent.id, expected=ExecutionStatus.RUNNING, new=ExecutionStatus.CANCELING
                    )
            elif isinstance(command, CompleteWorkflow):
                status = _WORKFLOW_TO_EXECUTION.get(command.status, ExecutionStatus.COMPLETED)
                changes.update(status=status, paused=False)
                _, done = await finish_execution(uow, parent, status, command.output)
                messages += done
            elif isinstance(command, FailWorkflow):
                changes.update(status=ExecutionStatus.FAILED, error_message=command.reason)
                result = {
                    "succeeded": False,
                    "error": command.reason,
                    "errors": list(command.reasons),
                    "output": command.output,
                }
                _, done = await finish_execution(uow, parent, ExecutionStatus.FAILED, result)
                messages += done
            if isinstance(command, (CompleteWorkflow, FailWorkflow)):
                # The workflow is over: no held item will ever start.
                for ids in items.values():
                    for index, held_id in enumerate(ids):
                        if held_id is not None:
                            messages += await _skip_item(
                                uow, held_id, "the workflow ended before this item started"
                            )
                            ids[index] = None
        items = {run: ids for run, ids in items.items() if any(i is not None for i in ids)}
        outstanding = conductor.outstanding
        state: dict[str, Any] = {"conductor": conductor.state}
        if "decisions" in record.state:
            # Started by a version that kept the log here: it stays, the new entries go on.
            state["decisions"] = record.state["decisions"]
        if items:
            state["items"] = items
        await uow.workflow_executions.add_decisions(record.id, decisions)
        values = {"state": state, "current_tasks": sorted({ref.task for ref in outstanding})}
        if changes:
            await uow.workflow_executions.update(record.id, **values, **changes)
        else:
            # Neither status nor variables changed: nothing to announce or compare.
            await uow.workflow_executions.overwrite(record.id, **values)
        if not conductor.status.is_terminal and not self._store.catalogue.shared:
            # The only process writing this database: keep the conductor for the next event.
            live = _LiveWorkflow(record, conductor, items, self._store.catalogue.generation)
            parent_id = parent.id
            uow.after_commit(lambda: self._keep_live(parent_id, live))
        return messages

    def _keep_live(self, parent_id: int, live: _LiveWorkflow) -> None:
        if len(self._live) >= MAX_LIVE_WORKFLOWS:
            self._live.pop(next(iter(self._live)))
        self._live[parent_id] = live

    async def _dispatch(
        self,
        uow: UnitOfWork,
        parent: Execution,
        record: WorkflowExecution,
        command: DispatchTask,
        finished: Execution | None,
    ) -> tuple[list[Publish], int]:
        workflow_task: dict[str, Any] = {
            "workflow_execution": record.id,
            "task_name": command.task,
            "task_index": command.item_index,
            "retry_count": command.attempt,
            "max_retries": command.max_retries,
            "timeout_seconds": command.timeout,
            "timed_out": False,
            "next_retry_at": None,
            "run": command.run,
            "why": command.why.to_dict(),
        }
        if command.delay > 0:
            due = self._clock.now() + timedelta(seconds=command.delay)
            workflow_task["next_retry_at"] = due.isoformat()
        if command.held:
            # Created now, started by a ReleaseItem: the executor leaves it in `requested`.
            workflow_task["held"] = True
        original = None
        if command.attempt > 0 and finished is not None:
            original = finished.original_execution or finished.id
        child = await uow.executions.create(
            Execution(
                action_ref=command.action,
                config=command.input,
                parent=parent.id,
                rule_ref=parent.rule_ref,
                trigger_ref=parent.trigger_ref,
                workflow_task=workflow_task,
                original_execution=original,
            )
        )
        assert child.id is not None
        if command.held:
            return [], child.id
        return [(RoutingKey.EXECUTION_REQUESTED, {"execution_id": child.id})], child.id

    async def _release_item(
        self, uow: UnitOfWork, items: dict[str, list[int | None]], command: ReleaseItem
    ) -> list[Publish]:
        """Start the held child of a with_items item."""
        ids = items.get(str(command.run)) or []
        child_id = ids[command.item_index] if command.item_index < len(ids) else None
        if child_id is None:
            return []
        ids[command.item_index] = None
        child = await uow.executions.find_for_update(child_id)
        if child is None or child.status is not ExecutionStatus.REQUESTED:
            return []
        task = dict(child.workflow_task or {})
        task.update(held=False, why=command.why.to_dict())
        if command.delay > 0:
            due = self._clock.now() + timedelta(seconds=command.delay)
            task["next_retry_at"] = due.isoformat()
        await uow.executions.update(child_id, workflow_task=task)
        return [(RoutingKey.EXECUTION_REQUESTED, {"execution_id": child_id})]

    async def _cancel_runs(
        self, uow: UnitOfWork, parent: Execution, command: CancelTasks
    ) -> list[Publish]:
        assert parent.id is not None
        wanted = {(r.task, r.run, r.item_index) for r in command.runs}
        messages: list[Publish] = []
        for child in await uow.executions.list_children(parent.id):
            task = child.workflow_task or {}
            key = (task.get("task_name"), task.get("run"), task.get("task_index"))
            if key in wanted and not child.status.is_terminal:
                messages += await cancel_in(uow, child)
        return messages

    # -- operations -------------------------------------------------------------------------

    async def cancel(self, execution_id: int) -> Execution:
        """Cancel an execution (a workflow cancels its running children first)."""
        async with self._store.transaction() as uow:
            execution = await uow.executions.get(execution_id)
            record = await uow.workflow_executions.find_by_execution(execution_id)
            if record is not None and not execution.status.is_terminal:
                messages = await self.signal_workflow(uow, execution_id, CancelRequested())
            else:
                messages = await cancel_in(uow, execution)
            current = await uow.executions.get(execution_id)
        await publish_all(self._bus, messages)
        return current

    async def pause(self, execution_id: int) -> None:
        """Pause a workflow: running tasks finish, nothing new starts until resumed."""
        await self._signal(execution_id, PauseRequested())

    async def resume(self, execution_id: int) -> None:
        """Resume a paused workflow."""
        await self._signal(execution_id, ResumeRequested())

    async def _signal(self, execution_id: int, event: Event) -> None:
        async with self._store.transaction() as uow:
            await uow.executions.get(execution_id)
            messages = await self.signal_workflow(uow, execution_id, event)
        await publish_all(self._bus, messages)


async def _skip_item(uow: UnitOfWork, child_id: int, reason: str) -> list[Publish]:
    """End the held child of a with_items item that will never start (``cancelled``)."""
    child = await uow.executions.find_for_update(child_id)
    if child is None or child.status is not ExecutionStatus.REQUESTED:
        return []
    task = dict(child.workflow_task or {})
    task.update(held=False, skipped=True)
    _, messages = await finish_execution(
        uow,
        child,
        ExecutionStatus.CANCELLED,
        _error(f"not started: {reason}"),
        expected=[ExecutionStatus.REQUESTED],
        workflow_task=task,
    )
    return messages


async def cancel_in(uow: UnitOfWork, execution: Execution) -> list[Publish]:
    """Cancel one non-workflow execution inside a unit of work."""
    assert execution.id is not None
    if execution.status in NOT_STARTED:
        _, messages = await finish_execution(
            uow,
            execution,
            ExecutionStatus.CANCELLED,
            _error("cancelled before it started"),
            expected=NOT_STARTED,
        )
        return messages
    if execution.status is ExecutionStatus.RUNNING and execution.action_ref == ASK_ACTION:
        # No process to stop: the inquiry is withdrawn and the execution ends at once.
        await cancel_inquiries(uow, execution.id)
        _, messages = await finish_execution(
            uow,
            execution,
            ExecutionStatus.CANCELLED,
            _error("cancelled while waiting for a response"),
            expected=[ExecutionStatus.RUNNING],
        )
        return messages
    if execution.status is ExecutionStatus.RUNNING:
        canceling = await uow.executions.transition(
            execution.id, expected=ExecutionStatus.RUNNING, new=ExecutionStatus.CANCELING
        )
        if canceling is not None:
            return [
                (
                    RoutingKey.EXECUTION_CANCEL,
                    {"execution_id": execution.id, "worker": execution.worker},
                )
            ]
    return []


def _parse_constraint(constraint: str | None) -> VersionConstraint | None:
    """A ``runtime_version`` constraint to place by; ``None`` when there is none, or when it
    cannot be parsed (it then filters nothing: the worker fails the execution with the parse
    error)."""
    if not constraint or not constraint.strip():
        return None
    try:
        return VersionConstraint.parse(constraint)
    except ValueError:
        return None


def _can_run(
    capabilities: Mapping[str, Any], runtime_ref: str | None, wanted: VersionConstraint | None
) -> bool:
    """Whether a worker with ``capabilities`` can run ``runtime_ref`` (None: native), with a
    version satisfying ``wanted`` when given (:func:`_parse_constraint`).

    A worker advertises the runtimes it runs (``runtimes``, ``*`` for any) and the versions of
    each it verified on its machine (``runtime_versions``: ``{runtime ref: [version]}``,
    reported once its verification ran). A worker that reported no versions (yet) is taken
    at its word for any constraint: the claim then fails the execution with the reason if
    its machine lacks the version.
    """
    runtimes = capabilities.get("runtimes") or []
    if not (runtime_ref is None or ANY_RUNTIME in runtimes or runtime_ref in runtimes):
        return False
    if runtime_ref is None or wanted is None:
        return True
    if not isinstance(capabilities.get(VERSIONS_CAPABILITY), Mapping):
        return True
    for version in _verified(capabilities, runtime_ref):
        try:
            if wanted.matches(parse_version(version)):
                return True
        except ValueError:
            continue
    return False


def _verified(capabilities: Mapping[str, Any], runtime_ref: str) -> list[str]:
    """The versions of ``runtime_ref`` a worker's capabilities say it verified."""
    versions = capabilities.get(VERSIONS_CAPABILITY)
    found = versions.get(runtime_ref) if isinstance(versions, Mapping) else None
    return [str(v) for v in found] if isinstance(found, list) else []


def _in_group(execution: Execution, group: Mapping[str, Any]) -> bool:
    """Whether an execution's parameters hold the values of a policy's parameter group."""
    config = execution.config or {}
    return all(config.get(name) == value for name, value in group.items())


def _status_changes(status: WorkflowStatus) -> dict[str, Any]:
    if status in (WorkflowStatus.PAUSING, WorkflowStatus.PAUSED):
        return {"paused": True, "pause_reason": status.value}
    if status is WorkflowStatus.RUNNING:
        return {"paused": False, "pause_reason": None, "status": ExecutionStatus.RUNNING}
    if status is WorkflowStatus.CANCELING:
        return {"status": ExecutionStatus.CANCELING}
    return {}


def _decision(command: Command) -> dict[str, Any]:
    """The stored trace of one conductor decision: what it did and why."""
    entry: dict[str, Any] = {"command": type(command).__name__, "why": command.why.to_dict()}
    for field in ("task", "run", "item_index", "attempt", "delay", "status"):
        value = getattr(command, field, None)
        if value is not None:
            entry[field] = value.value if hasattr(value, "value") else value
    if isinstance(command, PublishVariables):
        entry["variables"] = sorted(command.variables)
    if isinstance(command, FailWorkflow):
        entry["reason"] = command.reason
    return entry
