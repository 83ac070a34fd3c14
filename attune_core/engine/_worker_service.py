"""The worker service: registers a worker, takes dispatched executions and runs them.

Rules of this file:

1. The database says whether to run: an execution is run only after this worker moved it
   ``scheduled -> running`` (a conditional update); a dispatch for anything else is dropped.
2. The dispatch message is acknowledged once ``running`` committed; the outcome is written with
   a conditional update from ``running`` or ``canceling``, so a late cancel or a duplicate
   message never overwrites a finished execution.
3. Secrets reach the action through the runner (never the environment), decrypted here from
   the system-, pack- and action-owned keys.
4. Anything that goes wrong while preparing a run (unknown action, missing runtime, unusable
   secret) fails that execution with the reason; the service carries on.
"""

from __future__ import annotations

import itertools
import json
import logging
import mimetypes
import os
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.abc
import attrs

from attune_core.bus import RoutingKey
from attune_core.config import Settings
from attune_core.engine._executor import Executor, completion_message, finish_execution
from attune_core.engine._live_logs import ExecutionOutput, LiveLogs
from attune_core.engine._messages import (
    ANY_RUNTIME,
    VERSIONS_CAPABILITY,
    Publish,
    consume_forever,
    database_unavailable,
    publish_all,
    unavailable_delay,
    worker_control_queue,
    worker_queue,
)
from attune_core.engine._workers import settle_held
from attune_core.engine.worker import (
    ActionInvocation,
    ActionOutcome,
    EnvironmentResult,
    NoRuntimeVersion,
    OutputListener,
    ProcessRunner,
    ensure_environment,
    existing_environment,
    select_version,
    verify_versions,
    version_order,
)
from attune_core.engine.worker._output import secret_needles, secret_parameter_values
from attune_core.engine.worker._runtime import DependencySpec, EnvironmentSpec
from attune_core.errors import AttuneError, Conflict
from attune_core.model import (
    Action,
    Artifact,
    ArtifactType,
    Execution,
    ExecutionStatus,
    Identity,
    OwnerType,
    PackEnvironment,
    Runtime,
    Worker,
    WorkerRole,
    WorkerStatus,
    WorkerType,
)
from attune_core.packs import runner_ref
from attune_core.ports import Bus, Clock
from attune_core.resources import packs_dir
from attune_core.security import SecretBox, TokenService
from attune_core.storage import Store, UnitOfWork

__all__ = [
    "ANY_RUNTIME",
    "SYSTEM_LOGIN",
    "ActionRunner",
    "WorkerService",
    "resolve_pack_dir",
    "runtime_execution_config",
]

# The identity execution tokens are issued for; it has no password and no roles of its own
# (the API limits what an execution token may do).
SYSTEM_LOGIN = "attune:executions"

log = logging.getLogger(__name__)

RECORD_ATTEMPTS = 60  # tries to record an outcome while the database is unreachable (~10 min)
STOP_POLL = 0.05  # seconds between two looks at the runs a stopping worker waits for


class ActionRunner(Protocol):
    """The port the worker runs action processes through (``ProcessRunner`` implements it)."""

    async def run(
        self,
        invocation: ActionInvocation,
        *,
        cancel_event: anyio.Event | None = None,
        on_output: OutputListener | None = None,
    ) -> ActionOutcome:
        """Run one execution and say how it ended (``on_output`` gets it while it runs)."""
        ...

    def close(self) -> None:
        """Release the runner's resources (scratch files)."""
        ...


# (pack_ref, pack_dir, runtime_ref, execution_config, runtime version)
_EnvironmentRequest = tuple[str, Path, str, dict[str, Any], str | None]


async def runtime_execution_config(
    uow: UnitOfWork,
    runtime: Runtime | None,
    constraint: str | None,
    *,
    owner: str,
    here: Mapping[int, bool] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The ``execution_config`` to run a program (action or sensor) of ``runtime`` with.

    Args:
        uow: An open unit of work.
        runtime: The program's runtime (``None``: no runtime, an empty config).
        constraint: The program's ``runtime_version`` constraint, if any.
        owner: Who asks (``"action x.y"``), for messages.
        here: Whether each version (by id) is installed on this machine, as verified here;
            it replaces a version's own ``available`` (whether some worker has it).

    Returns:
        The runtime's own config (no constraint, or no versions), else that of the version the
        constraint selects; and that version (``None`` for the runtime's own config).

    Raises:
        NoRuntimeVersion: a constraint that no registered, available version satisfies.
    """
    if runtime is None or runtime.id is None:
        return {}, None
    versions = await uow.runtime_versions.list_for_runtime_cached(runtime.id)
    if not versions:
        if constraint:
            raise NoRuntimeVersion(
                f"{owner} needs {runtime.ref} {constraint}"
                " but the runtime has no versions registered"
            )
        return dict(runtime.execution_config), None
    if not constraint:
        # No constraint: the runtime's own configuration, as registered.
        return dict(runtime.execution_config), None
    if here:
        versions = [attrs.evolve(v, available=here.get(v.id or 0, v.available)) for v in versions]
    chosen = select_version(constraint, versions, runtime_ref=runtime.ref)
    return dict(chosen.execution_config or runtime.execution_config), chosen.version


def resolve_pack_dir(packs_base_dir: Path, pack_ref: str) -> Path | None:
    """Where a pack's files are: ``{packs_base_dir}/{ref}``, else the packs shipped with Attune."""
    for base in (packs_base_dir, packs_dir()):
        candidate = base / pack_ref
        if (candidate / "pack.yaml").is_file():
            return candidate
    return None


class _Slot:
    """One of the worker's execution slots, taken for one execution; :meth:`release` gives
    it back once, however many paths call it."""

    def __init__(self, slots: anyio.Semaphore) -> None:
        self._slots: anyio.Semaphore | None = slots

    def release(self) -> None:
        if self._slots is not None:
            self._slots.release()
            self._slots = None


@attrs.frozen
class _Claimed:
    """An execution this worker moved to running, with what to run."""

    running: Execution
    invocation: ActionInvocation
    environment: _EnvironmentRequest | None
    # Whether the action had a concurrency policy when the run started (told to the executor
    # with the completion: without one, a completion that is no workflow task needs nothing).
    policies: bool = True

    @property
    def execution_id(self) -> int:
        assert self.running.id is not None
        return self.running.id


class WorkerService:
    """Runs the actions dispatched to one worker.

    Args:
        store: The database.
        bus: The message bus.
        clock: Time.
        settings: Attune's settings (``worker`` section, directories, API address, secrets).
        name: The worker's unique name (default: ``worker.name`` or the host name).
        runner: The process runner (a fake in unit tests of callers).
        stop_grace: Seconds a stop lets the running actions finish, taking no new work
            (``attune serve worker`` passes ``worker.stop_grace_period``); those still running
            then are stopped and end ``abandoned``. 0 (embedded engines): stopped at once.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        settings: Settings,
        *,
        name: str | None = None,
        runner: ActionRunner | None = None,
        stop_grace: float = 0.0,
    ) -> None:
        self._store = store
        self._stop_grace = stop_grace
        self._bus = bus
        self._clock = clock
        self._settings = settings
        self._name = name or settings.worker.name or f"worker-{socket.gethostname()}"
        # The runtimes offered (``worker.runtimes``), as refs: ``shell``, ``bash`` -> core.shell
        # (the runner types of pack files and their aliases, as ATTUNE_WORKER_RUNTIMES took).
        self._runtimes = list(dict.fromkeys(runner_ref(r) for r in settings.worker.runtimes))
        # Whether each runtime version (by id) is installed on this machine, as this process
        # verified it: the versions a run may use here, advertised in the capabilities.
        self._versions_here: dict[int, bool] = {}
        self._runner: ActionRunner = runner or ProcessRunner()
        self._box = SecretBox(settings.security.encryption_key)
        self._tokens = TokenService(secret=settings.security.jwt_secret)
        self._system_identity: tuple[int, str] | None = None
        self._running: dict[int, anyio.Event] = {}
        # Executions whose run this process started and whose outcome is not recorded yet
        # (the ids stay when recording it failed for good): never run a second time.
        self._ran: set[int] = set()
        # Executions whose action process is running now, and those of them a stop ended.
        self._in_progress: set[int] = set()
        self._stopped: set[int] = set()
        self._live_logs = LiveLogs(store, bus, clock.now)
        # One slot per concurrent run, shared by dispatched runs and those the executor of this
        # process hands over directly (``claim``/``start``).
        self._slots = anyio.Semaphore(max(1, settings.worker.max_concurrent_executions))
        self._task_group: anyio.abc.TaskGroup | None = None
        self._stop_heard = False  # set once the task group is being cancelled
        # Around the consumer of cancel requests: a stop with a grace period lets it run on
        # until the runs are over (_until_stopped ends it).
        self._cancels_heard = anyio.CancelScope(shield=stop_grace > 0)
        self._free_artifacts_dirs: list[Path] = []
        self._artifacts_dir_numbers = itertools.count()
        self.worker_id: int | None = None
        # The executor of this process, which follows up completions in their transaction.
        self._executor: Executor | None = None

    @property
    def name(self) -> str:
        """The name this worker registers under."""
        return self._name

    # -- lifecycle ----------------------------------------------------------------------------

    async def register(self) -> Worker:
        """Create or refresh this worker's row, declare its queues, then make it active (with
        its capabilities).

        A new row is created ``inactive`` and made ``active`` only once the worker's queues
        exist: an execution placed on it in between would be dispatched to a queue not
        declared yet, and the broker would drop the dispatch (the execution would wait for the
        executors' reconcile, a minute later).
        """
        runtimes = self._runtimes or [ANY_RUNTIME]
        capabilities = {
            "runtimes": runtimes,
            "max_concurrent_executions": self._settings.worker.max_concurrent_executions,
        }
        async with self._store.transaction() as uow:
            found = await uow.workers.find_by_name(self._name)
            if found is None:
                found = await uow.workers.create(
                    Worker(
                        name=self._name,
                        worker_type=WorkerType.LOCAL,
                        worker_role=WorkerRole.ACTION,
                        host=socket.gethostname(),
                        status=WorkerStatus.INACTIVE,
                        capabilities=capabilities,
                        last_heartbeat=self._clock.now(),
                    )
                )
        assert found.id is not None
        await self._declare_queues(found.id)
        messages: list[Publish] = []
        async with self._store.transaction() as uow:
            worker = await uow.workers.update(
                found.id,
                status=WorkerStatus.ACTIVE,
                capabilities=capabilities,
                last_heartbeat=self._clock.now(),
            )
            # A previous life of this worker died mid-run: those runs are lost.
            for orphan in await uow.executions.list(
                worker=found.id,
                status=[ExecutionStatus.RUNNING, ExecutionStatus.CANCELING],
            ):
                _, done = await finish_execution(
                    uow,
                    orphan,
                    ExecutionStatus.ABANDONED,
                    {"succeeded": False, "error": "the worker running it stopped"},
                )
                messages += done
        await publish_all(self._bus, messages)
        self.worker_id = worker.id
        return worker

    async def _declare_queues(self, worker_id: int) -> None:
        """The worker's queues: dispatches (durable), cancel requests and pack news."""
        dispatch, dispatch_keys = worker_queue(worker_id)
        control, control_keys = worker_control_queue(worker_id)
        await self._bus.declare_queue(dispatch, dispatch_keys)
        await self._bus.declare_queue(control, control_keys, transient=True)
        await self._bus.declare_queue(
            _packs_queue(worker_id), [RoutingKey.PACK_REGISTERED], transient=True
        )

    async def _ensure_system_identity(self) -> tuple[int, str]:
        """The identity execution tokens are issued for (no password: nobody logs in as it)."""
        if self._system_identity is None:
            try:
                async with self._store.transaction() as uow:
                    identity = await uow.identities.find_by_login(SYSTEM_LOGIN)
                    if identity is None:
                        identity = await uow.identities.create(
                            Identity(
                                login=SYSTEM_LOGIN,
                                display_name="Attune executions",
                                attributes={"system": True},
                            )
                        )
            except Conflict:
                # Another worker starting at the same moment created it first.
                async with self._store.read() as uow:
                    identity = await uow.identities.find_by_login(SYSTEM_LOGIN)
                if identity is None:
                    raise
            assert identity is not None and identity.id is not None
            self._system_identity = (identity.id, identity.login)
        return self._system_identity

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Register, then take work until cancelled; marks the worker inactive on the way out."""
        worker = await self.register()
        assert worker.id is not None
        await self._ensure_system_identity()
        await self._clear_artifacts_dirs()
        dispatch, _ = worker_queue(worker.id)
        control, _ = worker_control_queue(worker.id)
        packs_queue = _packs_queue(worker.id)
        try:
            self._cancels_heard = anyio.CancelScope(shield=self._stop_grace > 0)
            async with anyio.create_task_group() as tg:
                self._task_group, self._stop_heard = tg, False
                tg.start_soon(self._until_stopped)
                tg.start_soon(self._heartbeat)
                tg.start_soon(self._prepare_all)
                tg.start_soon(
                    lambda: consume_forever(
                        self._bus,
                        packs_queue,
                        self._on_pack_registered,
                        prefetch=1,
                        name=self._name,
                    )
                )
                tg.start_soon(
                    lambda: consume_forever(
                        self._bus,
                        dispatch,
                        self._on_dispatch,
                        prefetch=self._settings.worker.max_concurrent_executions,
                        name=self._name,
                    )
                )
                tg.start_soon(self._hear_cancels, control)
                task_status.started()
        finally:
            self._task_group = None
            with anyio.CancelScope(shield=True):
                await self._settle_on_stop(worker.id)
            self._runner.close()

    async def _settle_on_stop(self, worker_id: int) -> None:
        """Hand back what this worker holds and mark it inactive, in one transaction.

        Its runs are over (done, or cut short by the stop): an execution still ``running`` or
        ``canceling`` on it was not finished by it (stopped at once, or stopped before its
        action started) and ends ``abandoned``; one dispatched to it and not started goes
        back to ``requested`` for the executors to schedule on a live worker (the worker
        monitor's rules, applied at once instead of after ``heartbeat_stale_after``). If the
        database cannot be reached, the worker stays ``active`` and the monitor settles it
        once its heartbeat is stale.
        """
        try:
            async with self._store.transaction() as uow:
                held, messages = await settle_held(uow, worker_id, "the worker running it stopped")
                await uow.workers.update(worker_id, status=WorkerStatus.INACTIVE)
        except Exception:
            log.exception(
                "worker %s: what it held was not handed back; the worker monitor will",
                self._name,
            )
            return
        if held:
            log.info(
                "worker %s stopped: %d execution(s) it held handed back or abandoned",
                self._name,
                held,
            )
        try:
            await publish_all(self._bus, messages)
        except Exception:  # the executors' reconcile publishes them again
            log.exception("worker %s: messages of its stop not published", self._name)

    async def _hear_cancels(self, queue: str) -> None:
        """Consume cancel requests; while a stop lets runs finish they are still heard
        (shielded until :meth:`_until_stopped` is done)."""
        with self._cancels_heard:
            await consume_forever(self._bus, queue, self._on_control, prefetch=100, name=self._name)

    async def _heartbeat(self) -> None:
        while True:
            await self._clock.sleep(self._settings.worker.heartbeat_interval)
            await self._beat()

    async def _beat(self) -> None:
        assert self.worker_id is not None
        try:
            # Two statements, each right on its own: no transaction around them.
            async with self._store.transaction(autocommit=True) as uow:
                await uow.workers.heartbeat(self.worker_id)
                # Judged dead while alive (a pause longer than heartbeat_stale_after): what
                # it ran was settled by the monitor; it takes new work again.
                back = await uow.workers.transition(
                    self.worker_id, expected=WorkerStatus.INACTIVE, new=WorkerStatus.ACTIVE
                )
            if back is not None:
                log.warning("worker %s was marked inactive while alive; active again", self._name)
        except Exception:  # the database is down: beat again next time, never stop
            log.exception("worker %s: heartbeat not recorded", self._name)

    # -- messages -----------------------------------------------------------------------------

    async def _on_control(self, payload: Mapping[str, Any]) -> None:
        event = self._running.get(int(payload["execution_id"]))
        if event is not None:
            event.set()

    async def _on_dispatch(self, payload: Mapping[str, Any]) -> None:
        execution_id = int(payload["execution_id"])
        await self._slots.acquire()
        slot = _Slot(self._slots)
        # With a stop grace period, a stop does not cut a run short once it is claimed: it
        # is let finish, or ended through its cancel event (_let_runs_finish).
        with anyio.CancelScope(shield=self._stop_grace > 0):
            if self._stop_heard:
                slot.release()
                return  # not claimed: the stop hands it back (_settle_on_stop)
            await self._claim_and_run(execution_id, slot)

    async def _claim_and_run(self, execution_id: int, slot: _Slot) -> None:
        try:
            claimed: _Claimed | None = None
            messages: list[Publish] = []
            try:
                # Each step of a claim leaves a consistent state (running, or failed while
                # being prepared), and the claim is a conditional update: no transaction.
                async with self._store.transaction(autocommit=True) as uow:
                    claimed, messages = await self.claim(uow, execution_id)
            except BaseException:
                if claimed is not None:
                    self._running.pop(claimed.execution_id, None)
                raise
            await publish_all(self._bus, messages)
            if claimed is not None:
                await self._run_claimed(claimed, slot)
        finally:
            slot.release()

    # -- the executor of this process hands executions over directly (LocalWorker) ----------

    @property
    def _stopping(self) -> bool:
        """Not running, or being stopped (:meth:`_until_stopped`): no new work starts."""
        return self._task_group is None or self._stop_heard

    async def _until_stopped(self) -> None:
        """Note when the worker's task group is cancelled (the process stops), whichever
        scope cancelled it."""
        try:
            await anyio.sleep_forever()
        finally:
            self._stop_heard = True
            try:
                if self._stop_grace > 0 and self._in_progress:
                    with anyio.CancelScope(shield=True):
                        await self._let_runs_finish()
            finally:
                self._cancels_heard.cancel()

    async def _let_runs_finish(self) -> None:
        """The worker is stopping: the actions it runs get ``stop_grace`` seconds to finish
        (their runs are shielded from the stop; heartbeats go on meanwhile), then those still
        running are stopped as a cancel would (SIGTERM, SIGKILL after ``kill_grace_period``)
        and recorded ``abandoned`` (:meth:`_run_claimed`)."""
        log.info(
            "worker %s stopping: letting %d running action(s) finish (up to %g s)",
            self._name,
            len(self._in_progress),
            self._stop_grace,
        )
        interval = self._settings.worker.heartbeat_interval
        deadline = anyio.current_time() + self._stop_grace
        beat_at = anyio.current_time() + interval
        while self._in_progress and anyio.current_time() < deadline:
            await anyio.sleep(min(STOP_POLL, max(0.0, deadline - anyio.current_time())))
            if anyio.current_time() >= beat_at:
                await self._beat()
                beat_at += interval
        if not self._in_progress:
            return
        log.warning(
            "worker %s: the stop grace period (%g s) is over; stopping %d action(s)",
            self._name,
            self._stop_grace,
            len(self._in_progress),
        )
        for execution_id in self._in_progress:
            self._stopped.add(execution_id)
            cancel = self._running.get(execution_id)
            if cancel is not None:
                cancel.set()

    def try_reserve(self) -> bool:
        """Take a free slot for an execution the executor is about to hand over; none while
        the worker stops (the execution is then dispatched through the bus instead)."""
        if self._stopping or self.worker_id is None:
            return False
        try:
            self._slots.acquire_nowait()
        except anyio.WouldBlock:
            return False
        return True

    async def claim(
        self, uow: UnitOfWork, execution_id: int
    ) -> tuple[_Claimed | None, list[Publish]]:
        """Move an execution scheduled on this worker to running in ``uow`` and prepare what
        to run (one conditional update: scheduled, and on this worker).

        Returns the claim (``None`` if the execution was not claimable or failed while being
        prepared) and the messages to publish once ``uow`` committed.
        """
        if execution_id in self._running:
            return None, []  # a repeated dispatch of what runs here
        # Registered before the claim can commit, so a cancel request arriving right after
        # it is heard (in autocommit the claim's statement commits at once).
        self._running[execution_id] = anyio.Event()
        claimed = False
        try:
            running = await uow.executions.transition(
                execution_id,
                expected=ExecutionStatus.SCHEDULED,
                new=ExecutionStatus.RUNNING,
                where={"worker": self.worker_id},
            )
            if running is None:
                running, messages = await self._claimed_unawares(uow, execution_id)
                if running is None:
                    return None, messages
            try:
                invocation, environment = await self._invocation(uow, running)
            except AttuneError as exc:
                _, messages = await finish_execution(
                    uow, running, ExecutionStatus.FAILED, {"succeeded": False, "error": str(exc)}
                )
                return None, messages
            # A cached read (the unit of work checked the catalogue for the invocation).
            policies = bool(await uow.policies.list_for_action_cached(running.action_ref))
            claimed = True
        finally:
            if not claimed:
                self._running.pop(execution_id, None)
        return _Claimed(running, invocation, environment, policies), []

    async def _claimed_unawares(
        self, uow: UnitOfWork, execution_id: int
    ) -> tuple[Execution | None, list[Publish]]:
        """An execution an earlier claim of this process moved to running though its answer
        never arrived (the connection was lost as the statement committed: a database
        restart), so nothing of it ran: its dispatch, handed back, comes again. It is run now
        (returned), or ends cancelled if a cancel was asked for meanwhile.

        Only this process claims for its worker id (a new life of the worker abandons the
        runs of the last one when it registers), so a running execution of this worker that
        this process never started (:attr:`_ran`) never ran.
        """
        if execution_id in self._ran:
            return None, []
        found = await uow.executions.find(execution_id)
        if found is None or found.worker != self.worker_id:
            return None, []
        if found.status is ExecutionStatus.CANCELING:
            _, messages = await finish_execution(
                uow,
                found,
                ExecutionStatus.CANCELLED,
                {"succeeded": False, "error": "cancelled before it started"},
                expected=(ExecutionStatus.CANCELING,),
            )
            return None, messages
        if found.status is not ExecutionStatus.RUNNING:
            return None, []
        log.warning(
            "execution %s: claimed by this worker without it knowing (its answer was lost); "
            "running it now",
            execution_id,
        )
        return found, []

    def start(self, claimed: _Claimed | None) -> None:
        """Run a claimed execution in the background; it holds its reserved slot until done."""
        if claimed is None or self._stopping:
            self.abort(claimed)
            return
        assert self._task_group is not None
        self._task_group.start_soon(self._run_reserved, claimed)

    def follow_completions(self, executor: Executor) -> None:
        """Record each outcome with ``executor``'s follow-up in the same transaction."""
        self._executor = executor

    def abort(self, claimed: _Claimed | None) -> None:
        """Give back a reserved slot whose execution will not run here."""
        if claimed is not None:
            self._running.pop(claimed.execution_id, None)
        self._slots.release()

    async def _run_reserved(self, claimed: _Claimed) -> None:
        slot = _Slot(self._slots)
        try:
            await self._run_claimed(claimed, slot)
        finally:
            slot.release()

    async def _run_claimed(self, claimed: _Claimed, slot: _Slot) -> None:
        """Run a claimed execution and record its outcome (outside any transaction).

        The slot is given back as soon as the process has ended, before the outcome is
        recorded: the executor's follow-up in that transaction (the next task of a workflow,
        the next with_items item) can then claim it for this worker at once.
        """
        running, invocation, environment = claimed.running, claimed.invocation, claimed.environment
        execution_id = claimed.execution_id
        self._in_progress.add(execution_id)
        try:
            if environment is not None:
                # Outside the transaction: building a virtualenv can take minutes.
                try:
                    invocation = attrs.evolve(
                        invocation, env_dir=await self._environment(*environment)
                    )
                except AttuneError as exc:
                    outcome = ActionOutcome(
                        status=ExecutionStatus.FAILED,
                        result={"succeeded": False, "error": str(exc)},
                    )
                    slot.release()
                    await self._record(running, outcome)
                    return
            invocation = attrs.evolve(invocation, artifacts_dir=self._take_artifacts_dir())
            self._ran.add(execution_id)
            cancel = self._running.get(execution_id)
            if cancel is None:
                cancel = self._running[execution_id] = anyio.Event()
            output = self._live_logs.output(execution_id)
            outcome = await self._runner.run(invocation, cancel_event=cancel, on_output=output)
        finally:
            self._running.pop(execution_id, None)
            self._in_progress.discard(execution_id)
        if execution_id in self._stopped:
            outcome = self._stopped_outcome(outcome)
        slot.release()
        await self._record(running, outcome, output, policies=claimed.policies)
        await output.discard()  # only if settling it with the outcome failed
        if invocation.artifacts_dir is not None:
            await self._collect_artifacts(running, invocation.artifacts_dir)

    def _stopped_outcome(self, outcome: ActionOutcome) -> ActionOutcome:
        """The outcome of a run the worker's stop ended (what it printed is kept)."""
        if outcome.status is not ExecutionStatus.CANCELLED:
            return outcome  # it ended on its own meanwhile
        error = (
            f"worker {self._name} stopped before the action finished "
            f"(worker.stop_grace_period: {self._stop_grace:g} s)"
        )
        result = {**outcome.result, "succeeded": False, "error": error}
        return attrs.evolve(outcome, status=ExecutionStatus.ABANDONED, result=result, error=error)

    async def _record(
        self,
        execution: Execution,
        outcome: ActionOutcome,
        output: ExecutionOutput | None = None,
        *,
        policies: bool = True,
    ) -> None:
        changes: dict[str, Any] = {}
        if execution.workflow_task is not None:
            task = dict(execution.workflow_task)
            task["timed_out"] = outcome.timed_out
            task["duration_ms"] = outcome.duration_ms
            changes["workflow_task"] = task
        # The process is gone: whatever happened, record it (with shielding, so a shutdown
        # in the middle does not leave the row running). While the database is unreachable
        # (a restart), try again: the outcome exists only here.
        with anyio.CancelScope(shield=True):
            # A single statement (nothing streamed, no stderr, no workflow of this process
            # to advance with it) needs no transaction around it.
            alone = self._executor is None and not (
                output is not None and (output.written or outcome.stderr)
            )
            for attempt in itertools.count():
                try:
                    async with self._store.transaction(autocommit=alone) as uow:
                        if self._executor is not None:
                            await self._executor.completing_here(uow, execution)
                        done, messages = await finish_execution(
                            uow,
                            execution,
                            outcome.status,
                            outcome.result,
                            expected=(ExecutionStatus.RUNNING, ExecutionStatus.CANCELING),
                            **changes,
                        )
                        if done is None and attempt:
                            messages = await _recorded_unawares(uow, execution, outcome)
                        if output is not None:
                            # Streamed rows give way to the final stderr, for any API to read.
                            await output.settle(uow, outcome.stderr)
                        if not policies:
                            messages = [(k, {**p, "policies": False}) for k, p in messages]
                        if done is not None and self._executor is not None:
                            messages = [
                                (key, {**payload, "followed": True}) for key, payload in messages
                            ]
                            messages += await self._executor.completed_here(uow, done)
                    break
                except Exception as exc:
                    delay = unavailable_delay(attempt)
                    if not database_unavailable(exc) or attempt >= RECORD_ATTEMPTS:
                        raise
                    log.warning(
                        "execution %s: outcome not recorded (%s); retrying in %.1f s",
                        execution.id,
                        exc,
                        delay,
                    )
                    await anyio.sleep(delay)
            self._ran.discard(execution.id or 0)
            await publish_all(self._bus, messages)

    # -- artifacts ------------------------------------------------------------------------------

    def _take_artifacts_dir(self) -> Path:
        """An empty directory for one run's ``ATTUNE_ARTIFACTS_DIR``.

        Directories are reused: most actions write no artifact, and removing a directory
        costs milliseconds on ext4 (creating one, a tenth of that). One that received files is
        removed after they were collected. Names carry the process id, so workers sharing a
        data directory never share one (see :meth:`_clear_artifacts_dirs`).
        """
        if self._free_artifacts_dirs:
            return self._free_artifacts_dirs.pop()
        directory = (
            self._settings.data_dir
            / "artifacts"
            / f"{_RUN_DIR_PREFIX}{os.getpid()}-{next(self._artifacts_dir_numbers)}"
        )
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    async def _clear_artifacts_dirs(self) -> None:
        """At start: remove the run directories of this or a dead process (a previous life
        may have died with files in one, which must not land in another execution)."""

        def clear() -> None:
            root = self._settings.data_dir / "artifacts"
            if not root.is_dir():
                return
            for entry in root.iterdir():
                if not entry.name.startswith(_RUN_DIR_PREFIX):
                    continue
                pid = entry.name[len(_RUN_DIR_PREFIX) :].split("-")[0]
                if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                    continue
                shutil.rmtree(entry, ignore_errors=True)

        await anyio.to_thread.run_sync(clear)

    async def _collect_artifacts(self, execution: Execution, directory: Path) -> None:
        """Turn the files an action wrote into ``ATTUNE_ARTIFACTS_DIR`` into artifacts.

        One artifact per file (ref ``<action ref>.<file name>``, linked to the execution),
        its content as version 1; files over the worker's output cap are recorded without
        content. The directory is removed afterwards (an empty one is kept for the next run).
        """
        limit = self._settings.worker.max_stdout_bytes
        try:
            with os.scandir(directory) as entries:
                empty = next(entries, None) is None
        except OSError:
            return  # removed under us: nothing to collect, and not reusable
        if empty:
            self._free_artifacts_dirs.append(directory)
            return
        files = await anyio.to_thread.run_sync(_artifact_files, directory, limit)
        try:
            if not files:
                return
            async with self._store.transaction() as uow:
                for path, size, content in files:
                    artifact = await uow.artifacts.create(
                        Artifact(
                            ref=f"{execution.action_ref}.{path.name}",
                            scope=OwnerType.ACTION,
                            owner=execution.action_ref,
                            type=_artifact_type(path),
                            name=path.name,
                            content_type=mimetypes.guess_type(path.name)[0]
                            or "application/octet-stream",
                            size_bytes=size,
                            execution=execution.id,
                            description=None
                            if content is not None
                            else f"{size} bytes: larger than the {limit}-byte limit, not stored",
                        )
                    )
                    assert artifact.id is not None
                    if content is not None:
                        await uow.artifact_versions.add(
                            artifact.id,
                            content=content,
                            content_type=artifact.content_type,
                            created_by=f"execution:{execution.id}",
                        )
        finally:
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(directory, ignore_errors=True))

    # -- preparing a run ---------------------------------------------------------------------

    async def _invocation(
        self, uow: UnitOfWork, execution: Execution
    ) -> tuple[ActionInvocation, _EnvironmentRequest | None]:
        """What to run, and the runtime environment it needs (prepared after the transaction)."""
        assert execution.id is not None
        action = await uow.actions.find_by_ref_cached(execution.action_ref)
        if action is None:
            raise AttuneError(f"action {execution.action_ref!r} not found")
        runtime: Runtime | None = None
        if action.runtime is not None:
            runtime = await uow.runtimes.find_cached(action.runtime)
            if runtime is None:
                raise AttuneError(f"the runtime of action {action.ref!r} no longer exists")
        runtime_ref = runtime.ref if runtime else None
        execution_config, version = await self._execution_config(uow, action, runtime)
        pack_dir = None
        if not action.is_adhoc:
            pack_dir = resolve_pack_dir(self._settings.packs_base_dir, action.pack_ref)
            if pack_dir is None:
                raise AttuneError(
                    f"pack {action.pack_ref!r} has no files under {self._settings.packs_base_dir}"
                )
        environment: _EnvironmentRequest | None = None
        if (
            pack_dir is not None
            and runtime_ref is not None
            and _needs_environment(execution_config)
        ):
            environment = (action.pack_ref, pack_dir, runtime_ref, execution_config, version)
        parameters = dict(execution.config or {})
        secrets, encrypted = await self._secrets(uow, action.pack, action.id)
        # Encrypted keys and secret parameters are hidden in everything the run produces.
        masked = secret_needles(
            [*encrypted, *secret_parameter_values(action.param_schema, parameters)]
        )
        task = execution.workflow_task or {}
        timeout = (
            task.get("timeout_seconds") or action.timeout or self._settings.worker.default_timeout
        )
        return ActionInvocation(
            execution_id=execution.id,
            action_ref=action.ref,
            pack_ref=action.pack_ref,
            pack_dir=pack_dir,
            entrypoint=action.entrypoint,
            is_adhoc=action.is_adhoc,
            runtime_ref=runtime_ref,
            execution_config=execution_config,
            parameters=parameters,
            secrets=secrets,
            parameter_delivery=action.parameter_delivery,
            parameter_format=action.parameter_format,
            output_format=action.output_format,
            timeout=float(timeout),
            env_vars={str(k): str(v) for k, v in (execution.env_vars or {}).items()},
            rule_ref=execution.rule_ref,
            trigger_ref=execution.trigger_ref,
            api_url=self._settings.server.public_url,
            api_token=self._execution_token(execution.id, float(timeout)),
            artifacts_dir=None,  # a reusable directory, taken when the run starts
            # stdout.log / stderr.log beside the result; the API serves stderr from there.
            log_dir=self._settings.data_dir / "logs" / str(execution.id),
            max_stdout_bytes=self._settings.worker.max_stdout_bytes,
            max_stderr_bytes=self._settings.worker.max_stderr_bytes,
            masked=masked,
        ), environment

    def _execution_token(self, execution_id: int, timeout: float) -> str | None:
        """An execution-scoped API token (``ATTUNE_API_TOKEN``), valid for the run's timeout."""
        if self._system_identity is None:
            return None
        identity_id, login = self._system_identity
        return self._tokens.execution_token(identity_id, login, execution_id, int(timeout))

    async def _execution_config(
        self, uow: UnitOfWork, action: Action, runtime: Runtime | None
    ) -> tuple[dict[str, Any], str | None]:
        """The runtime's execution config, or that of the version the action's constraint picks."""
        return await runtime_execution_config(
            uow,
            runtime,
            action.runtime_version_constraint,
            owner=f"action {action.ref}",
            here=self._versions_here,
        )

    async def _environment(
        self,
        pack_ref: str,
        pack_dir: Path,
        runtime_ref: str,
        execution_config: dict[str, Any],
        version: str | None,
    ) -> Path | None:
        """The pack's ready environment for the runtime, built now if it is missing."""
        found = await anyio.to_thread.run_sync(
            lambda: existing_environment(
                pack_ref=pack_ref,
                pack_dir=pack_dir,
                runtime_ref=runtime_ref,
                execution_config=execution_config,
                runtime_envs_dir=self._settings.runtime_envs_dir,
                version=version,
            )
        )
        if found is not None:
            return found
        result = await self._build_environment(
            pack_ref, pack_dir, runtime_ref, execution_config, version
        )
        if result.error:
            raise AttuneError(
                f"the {runtime_ref} environment of pack {pack_ref} could not be built: "
                f"{result.error}"
            )
        return result.env_dir

    async def _build_environment(
        self,
        pack_ref: str,
        pack_dir: Path,
        runtime_ref: str,
        execution_config: dict[str, Any],
        version: str | None = None,
    ) -> EnvironmentResult:
        """Create or refresh an environment and record the outcome in ``pack_environment``."""
        result = await ensure_environment(
            pack_ref=pack_ref,
            pack_dir=pack_dir,
            runtime_ref=runtime_ref,
            execution_config=execution_config,
            runtime_envs_dir=self._settings.runtime_envs_dir,
            version=version,
        )
        if result.env_dir is None and result.error is None:
            return result  # this runtime needs no environment for this pack
        if version is not None:
            # pack_environment holds one row per (pack, runtime): the base environment.
            # Per-version environments live beside it ({runtime}-{version}) and are logged.
            log.info(
                "environment %s for %s %s: %s",
                result.status,
                pack_ref,
                runtime_ref,
                version,
                extra={"pack_ref": pack_ref, "runtime_ref": runtime_ref, "version": version},
            )
            return result
        now = self._clock.now()
        async with self._store.transaction() as uow:
            pack = await uow.packs.find_by_ref(pack_ref)
            runtime = await uow.runtimes.find_by_ref(runtime_ref)
            if pack is None or pack.id is None or runtime is None or runtime.id is None:
                return result
            record = await uow.pack_environments.find_for(pack.id, runtime.id)
            values: dict[str, Any] = {
                "env_path": str(result.env_dir or ""),
                "status": result.status,
                "install_error": result.error,
                "last_verified": now,
            }
            if result.changed or record is None:
                # Keep the log of the install that built it; "up to date" says nothing new.
                values.update(install_log=result.log[-100_000:], installed_at=now)
            if record is None:
                await uow.pack_environments.create(
                    PackEnvironment(
                        pack=pack.id,
                        pack_ref=pack_ref,
                        runtime=runtime.id,
                        runtime_ref=runtime_ref,
                        **values,
                    )
                )
            else:
                assert record.id is not None
                await uow.pack_environments.update(record.id, **values)
        return result

    # -- preparing environments ---------------------------------------------------------------

    async def _prepare_all(self) -> None:
        """At start: verify runtime versions, then prepare every registered pack's environments.

        Ahead-of-time work only (an action prepares what it needs when it runs): a failure,
        such as the database being unreachable for a moment, is logged and never stops the
        worker.
        """
        try:
            await self._verify_runtime_versions()
            async with self._store.read() as uow:
                packs = [p.ref for p in await uow.packs.list()]
            for pack_ref in packs:
                await self._prepare_pack(pack_ref)
        except Exception:
            log.exception("worker %s: preparing runtimes and pack environments failed", self._name)

    async def _on_pack_registered(self, payload: Mapping[str, Any]) -> None:
        await self._verify_runtime_versions()
        await self._prepare_pack(str(payload["pack_ref"]))

    def _offers(self, runtime_ref: str) -> bool:
        """Whether this worker offers ``runtime_ref`` (``worker.runtimes``; empty: every one)."""
        return not self._runtimes or runtime_ref in self._runtimes

    async def _verify_runtime_versions(self) -> None:
        """Verify on this machine the versions of the runtimes this worker offers that it has
        not verified yet, and advertise those installed here in its capabilities
        (``runtime_versions``), by which the executors place actions with a
        ``runtime_version`` constraint.

        The versions' own ``available`` says whether some worker has them: set by the first
        verification of each, and made true by any worker that finds it installed. Each worker
        runs with the versions it verified itself.
        """
        async with self._store.read() as uow:
            versions = await uow.runtime_versions.list()
        new = [
            v
            for v in versions
            if v.id is not None and v.id not in self._versions_here and self._offers(v.runtime_ref)
        ]
        if not new:
            return
        checks = await verify_versions(new)
        async with self._store.transaction() as uow:
            for check in checks:
                version = check.runtime_version
                assert version.id is not None
                self._versions_here[version.id] = check.available
                if version.verified_at is None or (check.available and not version.available):
                    await uow.runtime_versions.update(
                        version.id, available=check.available, verified_at=self._clock.now()
                    )
            if self.worker_id is not None:
                worker = await uow.workers.get(self.worker_id)
                here: dict[str, list[str]] = {}
                for version in sorted(versions, key=version_order):
                    if version.id is not None and self._versions_here.get(version.id):
                        here.setdefault(version.runtime_ref, []).append(version.version)
                await uow.workers.update(
                    self.worker_id,
                    capabilities={**worker.capabilities, VERSIONS_CAPABILITY: here},
                )

    async def _prepare_pack(self, pack_ref: str) -> None:
        """Build the environments a pack's actions need (recorded in ``pack_environment``),
        for the runtimes this worker offers: another worker prepares the others."""
        pack_dir = resolve_pack_dir(self._settings.packs_base_dir, pack_ref)
        if pack_dir is None:
            return
        async with self._store.read() as uow:
            actions = await uow.actions.list(pack_ref=pack_ref)
            runtime_ids = {a.runtime for a in actions if a.runtime is not None}
            runtimes = [r for r in [await uow.runtimes.find(i) for i in runtime_ids] if r]
        for runtime in runtimes:
            if not self._offers(runtime.ref):
                continue
            await self._build_environment(
                pack_ref, pack_dir, runtime.ref, dict(runtime.execution_config)
            )

    async def _secrets(
        self, uow: UnitOfWork, pack_id: int | None, action_id: int | None
    ) -> tuple[dict[str, Any], list[Any]]:
        """System-, pack- and action-owned keys by name (narrower owners win), and the values
        of the encrypted ones among them."""
        secrets: dict[str, Any] = {}
        encrypted: dict[str, bool] = {}
        keys = await uow.keys.list_for_action_cached(pack_id, action_id)
        # Narrower owners win: system, then pack, then action.
        rank = {OwnerType.SYSTEM: 0, OwnerType.PACK: 1, OwnerType.ACTION: 2}
        for key in sorted(keys, key=lambda k: rank[k.owner_type]):
            secrets[key.name] = self._box.open(key.value) if key.encrypted else _plain(key.value)
            encrypted[key.name] = key.encrypted
        return secrets, [secrets[name] for name, sealed in encrypted.items() if sealed]


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp"}
_TABLE_SUFFIXES = {".csv", ".tsv"}
_TEXT_SUFFIXES = {".txt", ".log", ".md", ".json", ".yaml", ".yml", ".xml", ".html", ".out"}


async def _recorded_unawares(
    uow: UnitOfWork, execution: Execution, outcome: ActionOutcome
) -> list[Publish]:
    """The completion to publish for an outcome an earlier attempt recorded though its answer
    never arrived (the connection was lost as the statement committed: a database restart).

    The retry finds the execution no longer running and changes nothing; without this, nobody
    would hear that it completed until the executors' reconciler looked (a workflow waiting on
    it would wait that long). The row is taken for ours if it holds this outcome's status; one
    finished otherwise (abandoned, say) had its completion published by whoever finished it.
    A completion published twice is harmless: it is a hint to look at the committed row.
    """
    assert execution.id is not None
    found = await uow.executions.find(execution.id)
    if found is None or found.status is not outcome.status:
        return []
    log.warning(
        "execution %s: outcome recorded by an earlier attempt whose answer was lost; "
        "publishing its completion",
        execution.id,
    )
    return [completion_message(found)]


def _packs_queue(worker_id: int) -> str:
    """The queue on which a worker hears of packs registered (to prepare environments)."""
    return f"attune.worker.{worker_id}.packs"


def _artifact_type(path: Path) -> ArtifactType:
    suffix = path.suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        return ArtifactType.FILE_IMAGE
    if suffix in _TABLE_SUFFIXES:
        return ArtifactType.FILE_DATATABLE
    if suffix in _TEXT_SUFFIXES:
        return ArtifactType.FILE_TEXT
    return ArtifactType.FILE_BINARY


def _artifact_files(directory: Path, limit: int) -> list[tuple[Path, int, bytes | None]]:
    """Regular files directly in ``directory`` (no links or subdirectories): path, size and
    content (``None`` above ``limit`` bytes)."""
    if not directory.is_dir():
        return []
    found: list[tuple[Path, int, bytes | None]] = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            found.append((path, size, path.read_bytes() if size <= limit else None))
    return found


_RUN_DIR_PREFIX = ".run-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _needs_environment(execution_config: Mapping[str, Any]) -> bool:
    """Whether the runtime builds an environment per pack (a venv, node_modules)."""
    return (
        EnvironmentSpec.from_config(execution_config) is not None
        or DependencySpec.from_config(execution_config) is not None
    )


def _plain(stored: str) -> Any:
    try:
        return json.loads(stored)
    except ValueError:
        return stored
