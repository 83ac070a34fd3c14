"""The pack author's test kit: an embedded Attune with a fake clock and mockable actions.

Rules of this file:

1. Everything runs for real (database, executor, worker, processes) except what the test
   explicitly mocks: :meth:`AttuneTestEnvironment.mock_action` answers for one action ref, the
   rest of the pack's actions still run as processes.
2. The mock sits at the worker's process-runner port (:class:`MockingRunner` has the runner's
   ``run`` method), so executions, workflow children, retries and results flow through the
   engine exactly as they would for a real process.
3. Time is a :class:`~attune_core.clock.FakeClock`: delays, retry backoffs and the timeouts of
   real action processes wait until the test calls :meth:`AttuneTestEnvironment.advance`. A
   process whose fake deadline passes is killed like a real timeout (SIGTERM, then SIGKILL to
   its process group) and its execution fails with "Execution timed out after N seconds".
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import anyio
import anyio.abc
import attrs

from attune_core.app import Attune
from attune_core.bus import InMemoryBus
from attune_core.clock import FakeClock
from attune_core.engine._inquiries import ASK_ACTION
from attune_core.engine.worker import ActionInvocation, ActionOutcome, OutputListener, ProcessRunner
from attune_core.model import Execution, ExecutionStatus
from attune_core.ports import Clock

__all__ = ["ActionMock", "AttuneTestEnvironment", "MockingRunner", "TaskRun"]

_BUSY = [
    ExecutionStatus.REQUESTED,
    ExecutionStatus.SCHEDULING,
    ExecutionStatus.SCHEDULED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.CANCELING,
]

MockAnswer = Mapping[str, Any] | Callable[[dict[str, Any]], Any]


@attrs.define
class ActionMock:
    """How a mocked action answers, and the parameters of every call (state to inspect).

    Attributes:
        ref: The action ref.
        answer: A fixed ``execution.result``, or a callable ``(parameters) -> data`` whose
            return value becomes ``result.data`` (raising makes the execution fail with the
            exception's message).
        status: ``completed`` or ``failed`` for fixed answers.
        calls: The parameters of each call, in order.
    """

    ref: str
    answer: MockAnswer
    status: ExecutionStatus = ExecutionStatus.COMPLETED
    calls: list[dict[str, Any]] = attrs.Factory(list)

    def outcome(self, parameters: dict[str, Any]) -> ActionOutcome:
        self.calls.append(parameters)
        if callable(self.answer):
            try:
                data = self.answer(parameters)
            except Exception as exc:
                return ActionOutcome(
                    status=ExecutionStatus.FAILED,
                    result={
                        "succeeded": False,
                        "exit_code": 1,
                        "duration_ms": 0,
                        "error": str(exc) or type(exc).__name__,
                    },
                    exit_code=1,
                    error=str(exc),
                )
            return ActionOutcome(
                status=ExecutionStatus.COMPLETED,
                result={
                    "succeeded": True,
                    "exit_code": 0,
                    "duration_ms": 0,
                    "stdout": "",
                    "data": data,
                },
                exit_code=0,
            )
        succeeded = self.status is ExecutionStatus.COMPLETED
        result = {"succeeded": succeeded, "exit_code": 0 if succeeded else 1, "duration_ms": 0}
        result.update(self.answer)
        return ActionOutcome(
            status=self.status, result=result, exit_code=int(result["exit_code"] or 0)
        )


class MockingRunner:
    """The process runner with per-action mocks; unmocked actions run for real.

    Args:
        real: The runner of unmocked actions (a :class:`ProcessRunner` by default).
        clock: When set (the test kit sets its FakeClock), a real action's timeout is measured
            on this clock instead of the wall clock: the process is killed when the clock moves
            past its deadline, and only then.

    Attributes:
        running: Ids of the executions whose real process runs now with its deadline on
            ``clock`` (state to inspect).
    """

    def __init__(self, real: ProcessRunner | None = None, *, clock: Clock | None = None) -> None:
        self._real = real or ProcessRunner()
        self.clock = clock
        self.mocks: dict[str, ActionMock] = {}
        self.running: set[int] = set()

    async def run(
        self,
        invocation: ActionInvocation,
        *,
        cancel_event: anyio.Event | None = None,
        on_output: OutputListener | None = None,
    ) -> ActionOutcome:
        mock = self.mocks.get(invocation.action_ref)
        if mock is None:
            if self.clock is None or invocation.timeout is None or invocation.timeout <= 0:
                return await self._real.run(
                    invocation, cancel_event=cancel_event, on_output=on_output
                )
            return await self._run_on_clock(invocation, self.clock, cancel_event, on_output)
        await anyio.lowlevel.checkpoint()
        return mock.outcome(dict(invocation.parameters))

    async def _run_on_clock(
        self,
        invocation: ActionInvocation,
        clock: Clock,
        cancel_event: anyio.Event | None,
        on_output: OutputListener | None,
    ) -> ActionOutcome:
        """Run for real with no wall-clock limit; the deadline is ``clock`` time. The kill goes
        through the runner's cancel path (same SIGTERM/SIGKILL of the group), then the outcome
        is reported as the timeout it is."""
        assert invocation.timeout is not None
        kill = anyio.Event()
        deadline_passed = False

        async def forward_cancel(event: anyio.Event) -> None:
            await event.wait()
            kill.set()

        async def deadline(*, task_status: anyio.abc.TaskStatus[None]) -> None:
            nonlocal deadline_passed
            task_status.started()
            # The sleeper is registered with the clock before ``tg.start`` returns.
            await clock.sleep(invocation.timeout or 0)
            deadline_passed = True
            kill.set()

        unlimited = attrs.evolve(invocation, timeout=None)
        try:
            async with anyio.create_task_group() as tg:
                if cancel_event is not None:
                    tg.start_soon(forward_cancel, cancel_event)
                await tg.start(deadline)
                self.running.add(invocation.execution_id)
                outcome = await self._real.run(unlimited, cancel_event=kill, on_output=on_output)
                tg.cancel_scope.cancel()
        finally:
            self.running.discard(invocation.execution_id)
        user_cancelled = cancel_event is not None and cancel_event.is_set()
        if not deadline_passed or user_cancelled or outcome.status is not ExecutionStatus.CANCELLED:
            return outcome
        seconds = invocation.timeout
        text = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
        error = f"Execution timed out after {text} seconds"
        result = {**outcome.result, "succeeded": False, "error": error}
        return attrs.evolve(
            outcome, status=ExecutionStatus.FAILED, result=result, error=error, timed_out=True
        )

    def close(self) -> None:
        self._real.close()


@attrs.frozen
class TaskRun:
    """One child of a workflow execution, as a test looks at it."""

    task: str
    status: ExecutionStatus
    result: Any
    item_index: int | None
    retry_count: int
    execution: Execution


class AttuneTestEnvironment:
    """An embedded Attune for tests: core pack, the pack under test, fake time, mocks.

    Build it with :meth:`start`::

        async with AttuneTestEnvironment.start(packs=["."]) as env:
            env.mock_action("mypack.deploy", {"data": {"url": "https://x"}})
            execution = await env.run("mypack.release", {"version": "1.2"})
            assert [t.task for t in await env.children(execution)] == ["build", "deploy"]
    """

    def __init__(self, attune: Attune, runner: MockingRunner, clock: FakeClock) -> None:
        self.attune = attune
        self.runner = runner
        self.clock = clock
        if runner.clock is None:
            runner.clock = clock  # real actions' timeouts follow the fake clock

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        *,
        packs: Sequence[str | os.PathLike[str]] = (),
        data_dir: str | os.PathLike[str] | None = None,
        clock: FakeClock | None = None,
    ) -> AsyncIterator[AttuneTestEnvironment]:
        """Start an embedded Attune on a temporary SQLite database with these packs."""
        clock = clock or FakeClock()
        runner = MockingRunner(clock=clock)
        try:
            async with Attune.embedded(
                data_dir=data_dir, packs=packs, clock=clock, runner=runner
            ) as attune:
                yield cls(attune, runner, clock)
        finally:
            runner.close()

    def mock_action(
        self,
        ref: str,
        result: MockAnswer | None = None,
        *,
        status: ExecutionStatus | str = ExecutionStatus.COMPLETED,
    ) -> ActionMock:
        """Make action ``ref`` answer ``result`` instead of running.

        Args:
            ref: The action to mock.
            result: The ``execution.result`` to report (merged over ``{"succeeded",
                "exit_code", "duration_ms"}``; put parsed output under ``"data"``), or a
                callable taking the parameters and returning ``result.data``.
            status: ``completed`` or ``failed`` (for a fixed ``result``).

        Returns:
            The mock; its ``calls`` list the parameters it was called with.
        """
        mock = ActionMock(ref, result if result is not None else {}, ExecutionStatus(status))
        self.runner.mocks[ref] = mock
        return mock

    async def register_pack(self, path: str | os.PathLike[str]) -> Any:
        """Register (or re-register) a pack."""
        return await self.attune.register_pack(path)

    async def run(
        self, ref: str, parameters: Mapping[str, Any] | None = None, *, timeout: float = 60
    ) -> Execution:
        """Execute ``ref`` and wait for it to finish (``timeout`` in real seconds)."""
        return await self.attune.run(ref, parameters, timeout=timeout)

    async def execute(self, ref: str, parameters: Mapping[str, Any] | None = None) -> Execution:
        """Request an execution without waiting (then :meth:`advance` or :meth:`wait`)."""
        return await self.attune.execute(ref, parameters)

    async def wait(self, execution: Execution | int, *, timeout: float = 60) -> Execution:
        """Wait for an execution to finish."""
        return await self.attune.wait(_id(execution), timeout)

    async def children(self, execution: Execution | int) -> list[TaskRun]:
        """A workflow's children in the order they were created, as :class:`TaskRun`."""
        runs = []
        for child in await self.attune.executions(parent=_id(execution)):
            task = child.workflow_task or {}
            runs.append(
                TaskRun(
                    task=str(task.get("task_name")),
                    status=child.status,
                    result=child.result,
                    item_index=task.get("task_index"),
                    retry_count=int(task.get("retry_count") or 0),
                    execution=child,
                )
            )
        return runs

    async def advance(
        self, seconds: float, *, timeout: float = 60, wait_for_actions: bool = True
    ) -> None:
        """Let the engine finish what it can do now, then move the fake clock.

        Work already under way (running actions, the workflow steps they lead to) completes
        first, so a test's ``advance(10)`` always means "10 seconds after everything
        currently possible has happened", whatever the speed of the machine.

        Args:
            seconds: How far to move the clock.
            timeout: Real seconds to wait for the engine to settle, before and after.
            wait_for_actions: With ``False``, action processes that are running are not
                waited for (only until they have started): the clock moves while they run,
                so moving it past an action's timeout kills the process and the execution
                fails as timed out, without waiting for the action in real time.
        """
        await self.settle(timeout=timeout, wait_for_actions=wait_for_actions)
        await self.clock.advance(seconds)
        await self.settle(timeout=timeout, wait_for_actions=wait_for_actions)

    async def settle(self, *, timeout: float = 60, wait_for_actions: bool = True) -> None:
        """Wait until nothing is left to do but wait for the clock (or for nothing at all).

        With ``wait_for_actions=False``, a running action process counts as waiting for the
        clock (its timeout) once it has started.
        """
        with anyio.fail_after(timeout):
            quiet_checks = 0
            while quiet_checks < 2:  # twice in a row: a woken task may still be on its way
                await anyio.sleep(0.01)
                quiet = await self._quiet(wait_for_actions=wait_for_actions)
                quiet_checks = quiet_checks + 1 if quiet else 0

    async def _quiet(self, *, wait_for_actions: bool = True) -> bool:
        bus = self.attune.bus
        if isinstance(bus, InMemoryBus) and bus.in_flight:
            # A worker holds its dispatch message until the action ends: with
            # wait_for_actions=False the processes timing on the clock do not count.
            clocked: set[int] = set() if wait_for_actions else self.runner.running
            holding = sum(1 for e in bus.handed_out() if e.payload.get("execution_id") in clocked)
            if bus.in_flight > holding:
                return False
        if self.attune.busy:
            return False
        now = self.clock.now()
        async with self.attune.store.read() as uow:
            for execution in await uow.executions.list_in_status(_BUSY):
                assert execution.id is not None
                due = (execution.workflow_task or {}).get("next_retry_at")
                waiting_for_clock = (
                    execution.status is ExecutionStatus.REQUESTED
                    and due is not None
                    and datetime.fromisoformat(due) > now
                )
                # A running workflow is busy only through its children; a running core.ask
                # waits for a human (or the clock, for its timeout).
                asking = (
                    execution.status is ExecutionStatus.RUNNING
                    and execution.action_ref == ASK_ACTION
                )
                workflow = execution.status is ExecutionStatus.RUNNING and (
                    await uow.workflow_executions.find_by_execution(execution.id) is not None
                )
                # A process running with its deadline on the fake clock (not waited for).
                on_clock = not wait_for_actions and execution.id in self.runner.running
                if not (waiting_for_clock or workflow or asking or on_clock):
                    return False
        return True


def _id(execution: Execution | int) -> int:
    if isinstance(execution, Execution):
        assert execution.id is not None
        return execution.id
    return execution
