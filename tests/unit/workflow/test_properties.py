"""Property tests: whatever the workflow and whatever order and outcome tasks finish in, the
conductor never raises, never reports an internal error, ends exactly once, and can be rebuilt
from its JSON state at any point."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_core.workflow import (
    CancelRequested,
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    FailWorkflow,
    PauseRequested,
    ResumeRequested,
    TaskFinished,
    WorkflowDefinition,
    parse_workflow,
)

WHENS = [
    None,
    "{{ succeeded() }}",
    "{{ failed() }}",
    "timed_out()",
    "{{ result().n > 1 }}",
    "{{ workflow.count < 3 }}",
    "{{ task.t0.status == 'succeeded' }}",
    "{{ length(result()) > 0 }}",  # fails to evaluate for some results: a workflow failure
]
STATUSES = ["completed", "failed", "timeout", "cancelled", "abandoned", "succeeded", "odd"]
RESULTS = st.one_of(
    st.none(),
    st.builds(lambda n: {"succeeded": True, "data": {"n": n}}, st.integers(-2, 5)),
    st.builds(lambda e: {"succeeded": False, "error": e}, st.text(max_size=5)),
    st.lists(st.integers(), max_size=3),
)


@st.composite
def workflows(draw: Any, cyclic: bool = False) -> WorkflowDefinition:
    count = draw(st.integers(1, 6))
    names = [f"t{i}" for i in range(count)]
    tasks: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        later = names[i + 1 :] if not cyclic else names
        task: dict[str, Any] = {"name": name}
        if draw(st.integers(0, 9)) > 0:
            task["action"] = "x.run"
            task["input"] = {"v": "{{ workflow.count }}", "r": "{{ result() }}"}
        transitions = []
        for _ in range(draw(st.integers(0, 3))):
            targets = draw(st.lists(st.sampled_from([*later, "noop", "fail"]), max_size=3))
            transition: dict[str, Any] = {"do": targets}
            when = draw(st.sampled_from(WHENS))
            if when is not None:
                transition["when"] = when
            if draw(st.booleans()):
                transition["publish"] = [{"count": "{{ workflow.count + 1 }}"}]
            transitions.append(transition)
        if transitions:
            task["next"] = transitions
        if "action" in task and draw(st.integers(0, 3)) == 0:
            task["with_items"] = draw(st.lists(st.integers(), max_size=4))
            task["concurrency"] = draw(st.integers(1, 3))
            if draw(st.booleans()):
                task["batch_size"] = draw(st.integers(1, 2))
        if "action" in task and draw(st.booleans()):
            retry: dict[str, Any] = {"count": draw(st.integers(0, 2))}
            if draw(st.booleans()):
                retry["when"] = draw(st.sampled_from(["failed()", "result().n == 1", "true"]))
            task["retry"] = retry
        tasks.append(task)
    inbound: dict[str, set[str]] = {n: set() for n in names}
    for task in tasks:
        for transition in task.get("next", []):
            for target in transition["do"]:
                if target in inbound:
                    inbound[target].add(task["name"])
    for task in tasks:
        sources = inbound[task["name"]] - {task["name"]}
        if sources and draw(st.booleans()):
            task["join"] = draw(st.sampled_from(["all", *range(1, len(sources) + 1)]))
    definition: dict[str, Any] = {"vars": {"count": 0}, "tasks": tasks}
    definition["output_map"] = {"count": "{{ workflow.count }}", "last": "{{ result() }}"}
    try:
        return parse_workflow(definition)
    except Exception:
        # A drawn shape can be invalid (e.g. every task inside a cycle: no entry task, or a
        # join count above its distinct non-self inbound tasks); fall back to a valid one.
        return parse_workflow({"tasks": [{"name": "t0", "action": "x.run"}]})


Step = tuple[int, str, Any, bool, str]  # (pick, status, result, timed_out, extra event)


def steps() -> Any:
    return st.lists(
        st.tuples(
            st.integers(0, 1000),
            st.sampled_from(STATUSES),
            RESULTS,
            st.booleans(),
            st.sampled_from(["", "", "", "", "dup", "pause", "resume", "cancel", "bogus"]),
        ),
        max_size=40,
    )


def drive(
    definition: WorkflowDefinition, script: list[Step], *, roundtrip: bool, max_steps: int = 400
) -> tuple[Conductor, list[Any]]:
    conductor = Conductor(definition)
    commands: list[Any] = list(conductor.start({}, {"workflow_start": "t"}))
    pending = [c for c in commands if isinstance(c, DispatchTask)]
    last_finish: TaskFinished | None = None

    def feed(event: Any) -> None:
        nonlocal conductor
        new = conductor.handle(event)
        commands.extend(new)
        pending.extend(c for c in new if isinstance(c, DispatchTask))
        if roundtrip:
            state = json.loads(json.dumps(conductor.state))
            conductor = Conductor.from_state(definition, state)

    position = 0
    for position, (pick, status, result, was_timed_out, extra) in enumerate(  # noqa: B007
        script
    ):
        if extra == "pause":
            feed(PauseRequested())
        elif extra == "resume":
            feed(ResumeRequested())
        elif extra == "cancel" and pick % 4 == 0:
            feed(CancelRequested())
        elif extra == "dup" and last_finish is not None:
            feed(last_finish)
        elif extra == "bogus":
            feed(TaskFinished("nope", status, result, item_index=pick % 3))
        if not pending:
            continue
        dispatch = pending[pick % len(pending)]
        by_run = bool(pick % 2)
        if not by_run:
            # Without a run, a finish means the oldest outstanding dispatch of that task and
            # item: answer that one, so the harness and the conductor agree on what is done.
            dispatch = min(
                (
                    d
                    for d in pending
                    if d.task == dispatch.task and d.item_index == dispatch.item_index
                ),
                key=lambda d: d.run,
            )
        pending.remove(dispatch)
        last_finish = TaskFinished(
            dispatch.task,
            status,
            result,
            item_index=dispatch.item_index,
            timed_out=was_timed_out,
            run=dispatch.run if by_run else None,
            attempt=dispatch.attempt,
        )
        feed(last_finish)
    # Then behave: resume if paused and let every outstanding task succeed.
    feed(ResumeRequested())
    steps_left = max_steps
    while pending and steps_left:
        steps_left -= 1
        dispatch = pending.pop(0)
        feed(
            TaskFinished(
                dispatch.task,
                "completed",
                {"data": {"n": 0}},
                item_index=dispatch.item_index,
                run=dispatch.run,
                attempt=dispatch.attempt,
            )
        )
    del position
    return conductor, commands


def check(conductor: Conductor, commands: list[Any], *, must_end: bool = True) -> None:
    ends = [i for i, c in enumerate(commands) if isinstance(c, CompleteWorkflow | FailWorkflow)]
    assert len(ends) <= 1, "the workflow ended more than once"
    if must_end:
        assert len(ends) == 1, f"not terminal: {conductor.status}"
        assert ends[0] == len(commands) - 1, "commands after the end"
        assert conductor.status.is_terminal
    for command in commands:
        if isinstance(command, FailWorkflow):
            assert "internal error" not in command.reason, command.reason
        json.dumps(command.why.to_dict())
    json.dumps(conductor.state)


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(workflows(), steps())
def test_random_finish_sequences_end_in_a_terminal_state(
    definition: WorkflowDefinition, script: list[Step]
) -> None:
    conductor, commands = drive(definition, script, roundtrip=False)
    check(conductor, commands)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows(), steps())
def test_state_roundtrip_does_not_change_behaviour(
    definition: WorkflowDefinition, script: list[Step]
) -> None:
    live, live_commands = drive(definition, script, roundtrip=False)
    again, again_commands = drive(definition, script, roundtrip=True)
    check(again, again_commands)
    assert [type(c).__name__ for c in live_commands] == [type(c).__name__ for c in again_commands]
    assert live.state == again.state


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows(cyclic=True), steps())
def test_cyclic_workflows_never_raise(definition: WorkflowDefinition, script: list[Step]) -> None:
    # Loops may legitimately run for ever; only the never-raise and end-once rules apply.
    conductor, commands = drive(definition, script, roundtrip=False, max_steps=150)
    check(conductor, commands, must_end=False)
