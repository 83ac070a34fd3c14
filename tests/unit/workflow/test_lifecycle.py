"""Pause, resume, cancel, duplicate and late events, explanations, and the state round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

import attune_core.workflow as workflow
from attune_core.workflow import (
    CancelRequested,
    CancelTasks,
    CompleteWorkflow,
    Conductor,
    DispatchTask,
    FailWorkflow,
    PauseRequested,
    PublishVariables,
    ResumeRequested,
    RunRef,
    SetWorkflowStatus,
    Started,
    TaskFinished,
    WorkflowStatus,
    parse_workflow,
)
from tests.unit.workflow._driver import failed, ok, run

CHAIN = parse_workflow(
    """
tasks:
  - {name: a, action: x.a, next: [{do: b}]}
  - {name: b, action: x.b, next: [{do: c}]}
  - {name: c, action: x.c}
  - {name: side, action: x.side}
output_map: {done: true}
"""
)


def kinds(commands: list[Any]) -> list[str]:
    return [type(c).__name__ for c in commands]


def test_public_surface_is_pinned() -> None:
    assert sorted(workflow.__all__) == sorted(
        [
            "FAIL",
            "NOOP",
            "Backoff",
            "CancelRequested",
            "CancelTasks",
            "Command",
            "CompleteWorkflow",
            "Conductor",
            "DispatchTask",
            "Evaluation",
            "Event",
            "Explanation",
            "FailWorkflow",
            "PauseRequested",
            "Problem",
            "PublishVariables",
            "ReleaseItem",
            "ResumeRequested",
            "RetrySpec",
            "RunRef",
            "SetWorkflowStatus",
            "Severity",
            "SkipItems",
            "Started",
            "TaskFinished",
            "TaskSpec",
            "TaskStatus",
            "Transition",
            "WorkflowDefinition",
            "WorkflowDefinitionError",
            "WorkflowStatus",
            "parse_workflow",
        ]
    )


def test_pause_holds_new_dispatches_until_resume() -> None:
    c = Conductor(CHAIN)
    assert kinds(c.start()) == ["DispatchTask", "DispatchTask"]
    pausing = c.handle(PauseRequested())
    assert [(type(x), getattr(x, "status", None)) for x in pausing] == [
        (SetWorkflowStatus, WorkflowStatus.PAUSING)
    ]
    assert c.handle(PauseRequested()) == []  # already pausing
    assert c.status is WorkflowStatus.PAUSING
    # a finishes while pausing: b is held, side still runs -> still pausing
    assert c.handle(TaskFinished("a", "completed", None)) == []
    assert c.status is WorkflowStatus.PAUSING
    paused = c.handle(TaskFinished("side", "completed", None))
    assert [(type(x).__name__, getattr(x, "status", None)) for x in paused] == [
        ("SetWorkflowStatus", WorkflowStatus.PAUSED)
    ]
    state = json.loads(json.dumps(c.state))
    c = Conductor.from_state(CHAIN, state)
    resumed = c.handle(ResumeRequested())
    assert kinds(resumed) == ["SetWorkflowStatus", "DispatchTask"]
    assert resumed[1].task == "b"
    assert "held while paused, resumed" in str(resumed[1].why)
    c.handle(TaskFinished("b", "completed", None))
    end = c.handle(TaskFinished("c", "completed", None))
    assert isinstance(end[-1], CompleteWorkflow)
    assert end[-1].output == {"done": True}


def test_pause_when_nothing_is_held_completes_normally() -> None:
    wf = parse_workflow("tasks: [{name: a, action: x.a}]")
    c = Conductor(wf)
    c.start()
    c.handle(PauseRequested())
    end = c.handle(TaskFinished("a", "completed", None))
    assert kinds(end) == ["CompleteWorkflow"]


def test_pause_stops_releasing_items_and_resume_continues() -> None:
    wf = parse_workflow(
        "tasks: [{name: t, action: x.t, with_items: [0, 1, 2], input: {v: '{{ item }}'}}]"
    )
    c = Conductor(wf)
    assert [d.item_index for d in c.start() if isinstance(d, DispatchTask)] == [0]
    c.handle(PauseRequested())
    paused = c.handle(TaskFinished("t", "completed", None, item_index=0))
    assert [getattr(x, "status", None) for x in paused] == [WorkflowStatus.PAUSED]
    resumed = c.handle(ResumeRequested())
    assert [d.item_index for d in resumed if isinstance(d, DispatchTask)] == [1]


def test_cancel_cancels_outstanding_and_ends_cancelled_with_output() -> None:
    c = Conductor(CHAIN)
    c.start()
    commands = c.handle(CancelRequested())
    assert kinds(commands) == ["SetWorkflowStatus", "CancelTasks"]
    cancel = commands[1]
    assert isinstance(cancel, CancelTasks)
    assert cancel.runs == (RunRef("a", 1), RunRef("side", 2))
    # a completes anyway: its transitions are not followed any more
    assert c.handle(TaskFinished("a", "completed", None)) == []
    end = c.handle(TaskFinished("side", "cancelled", None))
    assert isinstance(end[0], CompleteWorkflow)
    assert end[0].status is WorkflowStatus.CANCELLED
    assert end[0].output == {"done": True}
    assert c.handle(TaskFinished("b", "completed", None)) == []  # terminal: ignored


def test_cancel_before_start_ends_at_once() -> None:
    c = Conductor(CHAIN)
    end = c.handle(CancelRequested())
    assert kinds(end) == ["SetWorkflowStatus", "CompleteWorkflow"]
    assert c.status is WorkflowStatus.CANCELLED


def test_child_cancelled_from_outside_cancels_workflow() -> None:
    trace = run(CHAIN, {"a": ("cancelled", None)})
    assert trace.status == "cancelled"
    assert trace.tasks == ["a", "side"]


@pytest.mark.parametrize(
    "event",
    [
        TaskFinished("a", "completed", None),  # before start
        PauseRequested(),
        ResumeRequested(),
    ],
)
def test_events_before_start_are_ignored(event: Any) -> None:
    c = Conductor(CHAIN)
    assert c.handle(event) == []
    assert c.status is WorkflowStatus.REQUESTED


def test_duplicate_late_and_unknown_events_are_ignored() -> None:
    c = Conductor(CHAIN)
    first = c.start()
    assert c.handle(Started()) == []  # redelivered start
    assert c.handle(TaskFinished("nope", "completed", None)) == []
    assert c.handle(TaskFinished("a", "completed", None, item_index=3)) == []
    assert c.handle(TaskFinished("a", "completed", None, run=99)) == []
    assert c.handle(TaskFinished("a", "completed", None, run=first[1].run)) == []  # wrong task
    assert kinds(c.handle(TaskFinished("a", "completed", None))) == ["DispatchTask"]
    assert c.handle(TaskFinished("a", "completed", None)) == []  # duplicate
    assert c.handle(ResumeRequested()) == []  # not paused


def test_bad_event_payloads_never_raise() -> None:
    c = Conductor(CHAIN)
    c.start()
    assert c.handle("garbage") == []  # type: ignore[arg-type]
    assert c.handle(TaskFinished("a", 42, object())) != []  # type: ignore[arg-type]
    assert c.status in (WorkflowStatus.RUNNING, WorkflowStatus.FAILED)


def test_started_with_non_mapping_parameters_does_not_raise() -> None:
    c = Conductor(CHAIN)
    commands = c.handle(Started(parameters=None))  # type: ignore[arg-type]
    assert kinds(commands) == ["DispatchTask", "DispatchTask"]


def test_same_task_twice_concurrently_matched_by_run() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: a, action: x.a, next: [{do: j}]}
  - {name: b, action: x.b, next: [{do: j}]}
  - {name: j, action: x.j, input: {from: "{{ result().data.who }}"}}
"""
    )
    c = Conductor(wf)
    c.start()
    ja = c.handle(TaskFinished("a", "completed", {"data": {"who": "a"}}))[0]
    jb = c.handle(TaskFinished("b", "completed", {"data": {"who": "b"}}))[0]
    assert (ja.input, jb.input) == ({"from": "a"}, {"from": "b"})
    assert ja.run != jb.run
    assert c.handle(TaskFinished("j", "completed", None, run=jb.run)) == []
    assert kinds(c.handle(TaskFinished("j", "completed", None, run=ja.run))) == ["CompleteWorkflow"]


def test_every_command_explains_itself() -> None:
    wf = parse_workflow(
        """
tasks:
  - name: check
    action: x.check
    next:
      - {when: "{{ result().code == 200 }}", publish: {ok: true}, do: [deploy]}
      - {when: "{{ failed() }}", do: [alert]}
      - {do: [log]}
  - {name: deploy, action: x.deploy}
  - {name: alert, action: x.alert}
  - {name: log, action: x.log}
"""
    )
    trace = run(wf, {"check": ok(None, code=200)})
    entry = trace.dispatches[0]
    assert entry.why.message.startswith("entry task")
    publish = next(c for c in trace.commands if isinstance(c, PublishVariables))
    deploy = next(d for d in trace.dispatches if d.task == "deploy")
    log = next(d for d in trace.dispatches if d.task == "log")
    assert publish.why is deploy.why
    assert deploy.why.message == (
        'next[0] of task "check" fired (`{{ result().code == 200 }}` is true)'
    )
    assert log.why.message == 'next[2] of task "check" fired (unconditional)'
    assert deploy.why.transition == "next[0]"
    assert [(e.transition, e.when, e.value, e.fired) for e in deploy.why.evaluations] == [
        ("next[0]", "{{ result().code == 200 }}", True, True),
        ("next[1]", "{{ failed() }}", False, False),
        ("next[2]", None, True, True),
    ]
    json.dumps(deploy.why.to_dict())
    assert trace.end is not None
    assert trace.end.why.message == "completed: every branch finished"


def test_state_is_json_and_roundtrips_at_every_step() -> None:
    wf = parse_workflow(
        """
vars: {n: 0}
tasks:
  - name: a
    action: x.a
    retry: {count: 1}
    next: [{publish: {n: "{{ workflow.n + 1 }}"}, do: [b, j]}]
  - name: b
    action: x.b
    with_items: [1, 2, 3]
    concurrency: 2
    input: {v: "{{ item }}"}
    next: [{do: j}]
  - {name: j, action: x.j, join: all}
"""
    )
    live = run(wf, {"a": [failed(), ok()]})
    again = run(wf, {"a": [failed(), ok()]}, roundtrip=True)
    assert [(d.task, d.item_index, d.attempt, d.input) for d in live.dispatches] == [
        (d.task, d.item_index, d.attempt, d.input) for d in again.dispatches
    ]
    assert live.status == again.status == "completed"
    assert live.conductor is not None and again.conductor is not None
    assert live.conductor.state == again.conductor.state


def test_from_state_rejects_foreign_data() -> None:
    with pytest.raises(ValueError, match="unsupported workflow conductor state"):
        Conductor.from_state(CHAIN, {"version": 99})


def test_secrets_are_not_persisted_in_state() -> None:
    wf = parse_workflow("tasks: [{name: a, action: x.a, input: {t: '{{ keystore.token }}'}}]")
    c = Conductor(wf, keystore={"token": "s3cret"}, config={"c": 1})
    c.start()
    assert "s3cret" not in json.dumps(c.state)


def test_failure_waits_for_running_branch_then_fails_once() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: a, action: x.a}
  - {name: b, action: x.b, next: [{do: c}]}
  - {name: c, action: x.c}
"""
    )
    c = Conductor(wf)
    c.start()
    assert c.handle(TaskFinished("a", "failed", {"error": "boom"})) == []
    assert c.failures == ('task "a" failed and no transition handled it: boom',)
    end = c.handle(TaskFinished("b", "completed", None))
    assert kinds(end) == ["FailWorkflow"]
    assert isinstance(end[0], FailWorkflow)
    assert end[0].reasons == ('task "a" failed and no transition handled it: boom',)
    assert c.handle(TaskFinished("b", "completed", None)) == []


def test_inline_loop_without_actions_is_bounded() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: start, action: x.s, next: [{do: ping}]}
  - {name: ping, next: [{do: pong}]}
  - {name: pong, next: [{do: ping}]}
"""
    )
    trace = run(wf)
    assert trace.status == "failed"
    assert "loops without running anything" in trace.reason


def test_failed_task_status_visible_to_later_tasks() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: a, action: x.a, next: [{when: "{{ failed() }}", do: report}]}
  - {name: report, action: x.r, input: {s: "{{ task.a.status }}", e: "{{ task.a.result.error }}"}}
"""
    )
    trace = run(wf, {"a": failed("bad")})
    assert trace.dispatches[1].input == {"s": "failed", "e": "bad"}
