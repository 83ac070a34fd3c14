"""A tiny in-test executor: feeds a conductor the outcomes a script chooses.

It plays the executor's part (run every DispatchTask, answer with TaskFinished) so tests can
assert on what happened: which tasks ran with which input, what was published, how it ended.
With ``roundtrip=True`` the conductor is rebuilt from its JSON state after every event, which
proves the state holds everything needed to continue.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from attune_core.workflow import (
    Command,
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    FailWorkflow,
    PublishVariables,
    TaskFinished,
    WorkflowDefinition,
    parse_workflow,
)

#: (status, result) or (status, result, timed_out)
Outcome = tuple[Any, ...]
Script = Callable[[DispatchTask], Outcome]

OK: Outcome = ("completed", {"succeeded": True, "exit_code": 0, "stdout": ""})


def ok(data: Any = None, **extra: Any) -> Outcome:
    result: dict[str, Any] = {"succeeded": True, "exit_code": 0, "stdout": "", **extra}
    if data is not None:
        result["data"] = data
    return ("completed", result)


def failed(error: str = "Command exited with code 1") -> Outcome:
    return ("failed", {"succeeded": False, "exit_code": 1, "error": error})


def timed_out(seconds: int = 10) -> Outcome:
    return (
        "failed",
        {"succeeded": False, "error": f"Execution timed out after {seconds} seconds"},
        True,
    )


def scripted(outcomes: Mapping[str, Any] | None = None) -> Script:
    """Outcome per task name: one Outcome, a list consumed per attempt (last one repeats), or a
    callable taking the DispatchTask. Unlisted tasks succeed."""
    calls: collections.Counter[str] = collections.Counter()
    table = dict(outcomes or {})

    def script(dispatch: DispatchTask) -> Outcome:
        spec = table.get(dispatch.task, OK)
        if callable(spec):
            return spec(dispatch)  # type: ignore[no-any-return]
        if isinstance(spec, list):
            index = min(calls[dispatch.task], len(spec) - 1)
            calls[dispatch.task] += 1
            return spec[index]  # type: ignore[no-any-return]
        return spec  # type: ignore[no-any-return]

    return script


@attrs.define
class Trace:
    commands: list[Command] = attrs.field(factory=list)
    conductor: Conductor | None = None

    @property
    def dispatches(self) -> list[DispatchTask]:
        return [c for c in self.commands if isinstance(c, DispatchTask)]

    @property
    def tasks(self) -> list[str]:
        """Task names in dispatch order (items and retries included)."""
        return [d.task for d in self.dispatches]

    @property
    def end(self) -> Command | None:
        ends = [c for c in self.commands if isinstance(c, CompleteWorkflow | FailWorkflow)]
        assert len(ends) <= 1, f"workflow ended more than once: {ends}"
        return ends[0] if ends else None

    @property
    def status(self) -> str:
        end = self.end
        if end is None:
            return "unfinished"
        return "failed" if isinstance(end, FailWorkflow) else str(end.status)

    @property
    def reason(self) -> str:
        end = self.end
        assert isinstance(end, FailWorkflow), f"expected failure, got {end}"
        return end.reason

    @property
    def output(self) -> Any:
        end = self.end
        assert end is not None
        return end.output

    @property
    def published(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.commands:
            if isinstance(c, PublishVariables):
                out.update(c.variables)
        return out


def definition(source: Any) -> WorkflowDefinition:
    return source if isinstance(source, WorkflowDefinition) else parse_workflow(source)


def run(
    source: Any,
    outcomes: Mapping[str, Any] | Script | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    system: Mapping[str, Any] | None = None,
    roundtrip: bool = False,
    lifo: bool = False,
    max_steps: int = 10_000,
    config: Mapping[str, Any] | None = None,
    keystore: Mapping[str, Any] | None = None,
) -> Trace:
    """Run a workflow to its end with instant task results."""
    wf = definition(source)
    script = outcomes if callable(outcomes) else scripted(outcomes)
    conductor = Conductor(wf, config=config, keystore=keystore)
    trace = Trace(conductor=conductor)
    pending: collections.deque[DispatchTask] = collections.deque()

    def take(commands: list[Command]) -> None:
        trace.commands.extend(commands)
        pending.extend(c for c in commands if isinstance(c, DispatchTask))

    take(conductor.start(parameters or {}, system or {"workflow_start": "2025-01-01T00:00:00Z"}))
    steps = 0
    while pending and trace.end is None:
        steps += 1
        assert steps < max_steps, "workflow did not end"
        dispatch = pending.pop() if lifo else pending.popleft()
        outcome = script(dispatch)
        status, result = outcome[0], outcome[1]
        was_timed_out = bool(outcome[2]) if len(outcome) > 2 else False
        take(
            conductor.handle(
                TaskFinished(
                    dispatch.task,
                    status,
                    result,
                    item_index=dispatch.item_index,
                    timed_out=was_timed_out,
                    run=dispatch.run,
                    attempt=dispatch.attempt,
                )
            )
        )
        if roundtrip:
            state = json.loads(json.dumps(conductor.state))
            conductor = Conductor.from_state(wf, state, config=config, keystore=keystore)
            trace.conductor = conductor
    return trace
