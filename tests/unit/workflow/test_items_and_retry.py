"""with_items and retry semantics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attune_core.workflow import (
    Conductor,
    DispatchTask,
    FailWorkflow,
    TaskFinished,
    parse_workflow,
)
from tests.unit.workflow._driver import failed, ok, run

ITEMS = """
parameters: {hosts: {type: array, default: [h0, h1, h2, h3, h4]}}
tasks:
  - name: deploy
    action: x.deploy
    with_items: "{{ parameters.hosts }}"
    concurrency: {concurrency}
    input: {host: "{{ item }}", n: "{{ index }}"}
    next:
      - when: "{{ succeeded() }}"
        publish: {results: "{{ result() }}", hosts: "{{ task.deploy.result }}"}
"""


def items_wf(concurrency: int = 2, extra: str = "") -> Any:
    return parse_workflow(ITEMS.replace("{concurrency}", str(concurrency)) + extra)


def start(wf: Any, **params: Any) -> tuple[Conductor, list[Any]]:
    conductor = Conductor(wf)
    return conductor, conductor.start(params, {})


def test_items_rendered_at_dispatch_with_item_and_index() -> None:
    trace = run(items_wf(5))
    assert [d.input for d in trace.dispatches] == [{"host": f"h{i}", "n": i} for i in range(5)]
    assert [d.item_index for d in trace.dispatches] == [0, 1, 2, 3, 4]
    assert trace.status == "completed"


@pytest.mark.parametrize("concurrency", [1, 2, 3, 10])
def test_at_most_concurrency_items_outstanding(concurrency: int) -> None:
    conductor, commands = start(items_wf(concurrency))
    outstanding = [c for c in commands if isinstance(c, DispatchTask)]
    assert len(outstanding) == min(concurrency, 5)
    seen = len(outstanding)
    while outstanding:
        d = outstanding.pop(0)
        new = conductor.handle(
            TaskFinished(
                "deploy", "completed", {"i": d.item_index}, item_index=d.item_index, run=d.run
            )
        )
        outstanding += [c for c in new if isinstance(c, DispatchTask)]
        seen += len([c for c in new if isinstance(c, DispatchTask)])
        assert len(outstanding) <= concurrency
    assert seen == 5
    assert conductor.status == "completed"


def test_default_concurrency_is_one() -> None:
    wf = parse_workflow(
        "tasks: [{name: t, action: x.t, with_items: [1, 2, 3], input: {v: '{{ item }}'}}]"
    )
    _, commands = start(wf)
    assert len([c for c in commands if isinstance(c, DispatchTask)]) == 1


def test_results_kept_in_item_order_whatever_the_finish_order() -> None:
    conductor, commands = start(items_wf(5))
    dispatches = [c for c in commands if isinstance(c, DispatchTask)]
    out: list[Any] = []
    for d in reversed(dispatches):
        out = conductor.handle(
            TaskFinished(
                "deploy", "completed", {"data": {"host": d.input["host"]}}, item_index=d.item_index
            )
        )
    publish = out[0]
    assert [r["host"] for r in publish.variables["results"]] == ["h0", "h1", "h2", "h3", "h4"]
    assert [r["data"]["host"] for r in publish.variables["hosts"]] == ["h0", "h1", "h2", "h3", "h4"]


def test_failed_item_fails_task_and_undispatched_items_do_not_start() -> None:
    def outcome(d: DispatchTask) -> Any:
        return failed("bad host") if d.item_index == 1 else ok()

    trace = run(items_wf(2), outcome)
    # items 0 and 1 run together; 1 fails; 0 finished first and released 2 before the failure.
    assert [d.item_index for d in trace.dispatches] == [0, 1, 2]
    assert trace.status == "failed"
    assert 'task "deploy" failed and no transition handled it' in trace.reason


def test_failed_item_handled_by_transition() -> None:
    wf = items_wf(1, "      - {when: '{{ failed() }}', publish: {partial: '{{ result() }}'}}\n")
    trace = run(wf, {"deploy": [ok(), failed()]})
    assert trace.status == "completed"
    assert trace.published["partial"][0]["succeeded"] is True
    assert trace.published["partial"][1]["succeeded"] is False
    assert trace.published["partial"][2:] == [None, None, None]


def test_empty_items_succeed_at_once() -> None:
    trace = run(items_wf(2), parameters={"hosts": []})
    assert trace.tasks == []
    assert trace.published == {"results": [], "hosts": []}
    assert trace.status == "completed"


def test_with_items_not_a_list_fails_workflow() -> None:
    trace = run(items_wf(2), parameters={"hosts": "h0"})
    assert trace.status == "failed"
    assert trace.reason == 'task "deploy": with_items must give a list, got str'


def test_batch_size_waits_for_each_batch() -> None:
    wf = parse_workflow(
        "tasks: [{name: t, action: x.t, with_items: [0, 1, 2, 3, 4], concurrency: 5,"
        " batch_size: 2, input: {v: '{{ item }}'}}]"
    )
    conductor, commands = start(wf)
    assert [c.item_index for c in commands if isinstance(c, DispatchTask)] == [0, 1]
    assert conductor.handle(TaskFinished("t", "completed", None, item_index=0)) == []
    second = conductor.handle(TaskFinished("t", "completed", None, item_index=1))
    assert [c.item_index for c in second if isinstance(c, DispatchTask)] == [2, 3]
    conductor.handle(TaskFinished("t", "completed", None, item_index=3))
    third = conductor.handle(TaskFinished("t", "completed", None, item_index=2))
    assert [c.item_index for c in third if isinstance(c, DispatchTask)] == [4]
    conductor.handle(TaskFinished("t", "completed", None, item_index=4))
    assert conductor.status == "completed"


# -- retry ------------------------------------------------------------------------------------

RETRY = """
tasks:
  - name: flaky
    action: x.flaky
    input: {n: 1}
    retry: {retry}
    next: [{when: "{{ succeeded() }}", publish: {got: "{{ result().v }}"}}]
"""


@pytest.mark.parametrize(
    ("retry", "outcomes", "attempts", "status"),
    [
        ("{count: 2}", [failed(), failed(), ok({"v": 1})], 3, "completed"),
        ("{count: 2}", [failed(), failed(), failed()], 3, "failed"),
        ("{count: 5}", [failed(), ok({"v": 1})], 2, "completed"),
        ("{count: 0}", [failed()], 1, "failed"),
        ("3", [failed(), failed(), failed(), ok({"v": 1})], 4, "completed"),
        # `when` decides: retry while the result says "busy", even on success
        (
            "{count: 3, when: \"{{ result().state == 'busy' }}\"}",
            [ok({"state": "busy"}), ok({"state": "busy"}), ok({"state": "done", "v": 2})],
            3,
            "completed",
        ),
        # a failure the `when` does not cover is not retried
        ("{count: 3, when: \"result().error == 'transient'\"}", [failed("fatal")], 1, "failed"),
    ],
)
def test_retry_attempts(retry: str, outcomes: list[Any], attempts: int, status: str) -> None:
    trace = run(RETRY.replace("{retry}", retry), {"flaky": outcomes})
    assert [d.attempt for d in trace.dispatches] == list(range(attempts))
    assert all(d.input == {"n": 1} for d in trace.dispatches)
    assert trace.status == status


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("constant", [0.0, 5.0, 5.0, 5.0, 5.0]),
        ("linear", [0.0, 5.0, 10.0, 15.0, 20.0]),
        ("exponential", [0.0, 5.0, 10.0, 20.0, 30.0]),
    ],
)
def test_retry_backoff_delays(backoff: str, delays: list[float]) -> None:
    retry = f"{{count: 4, delay: 5, backoff: {backoff}, max_delay: 30}}"
    trace = run(RETRY.replace("{retry}", retry), {"flaky": [failed()]})
    assert [d.delay for d in trace.dispatches] == delays
    assert [d.max_retries for d in trace.dispatches] == [4] * 5
    assert trace.status == "failed"


def test_retry_explains_itself() -> None:
    trace = run(RETRY.replace("{retry}", "{count: 1, delay: 2}"), {"flaky": [failed(), ok()]})
    assert str(trace.dispatches[1].why) == (
        "retry 1 of 1 of flaky: retry.when `failed()` is true; waiting 2s (constant backoff)"
    )


def test_task_delay_applies_to_first_attempt() -> None:
    trace = run("tasks: [{name: a, action: x.a, delay: 3, timeout: 9}]")
    assert trace.dispatches[0].delay == 3.0
    assert trace.dispatches[0].timeout == 9


def test_retry_per_item() -> None:
    wf = parse_workflow(
        "tasks: [{name: t, action: x.t, with_items: [a, b], retry: {count: 1},"
        " input: {v: '{{ item }}'}}]"
    )
    calls: dict[str, int] = {}

    def outcome(d: DispatchTask) -> Any:
        calls[d.input["v"]] = calls.get(d.input["v"], 0) + 1
        return failed() if (d.input["v"] == "b" and d.attempt == 0) else ok()

    trace = run(wf, outcome)
    assert [(d.item_index, d.attempt) for d in trace.dispatches] == [(0, 0), (1, 0), (1, 1)]
    assert trace.status == "completed"


def test_stale_attempt_is_ignored() -> None:
    wf = parse_workflow(RETRY.replace("{retry}", "{count: 2}"))
    conductor = Conductor(wf)
    conductor.start()
    retry = conductor.handle(TaskFinished("flaky", "failed", None, attempt=0))
    assert isinstance(retry[0], DispatchTask)
    assert retry[0].attempt == 1
    # a redelivered finish of attempt 0 changes nothing
    assert conductor.handle(TaskFinished("flaky", "failed", None, attempt=0)) == []
    done = conductor.handle(TaskFinished("flaky", "completed", {"data": {"v": 3}}, attempt=1))
    assert [type(c).__name__ for c in done] == ["PublishVariables", "CompleteWorkflow"]


def test_items_state_roundtrip_midway() -> None:
    wf = items_wf(2)
    conductor, _ = start(wf)
    conductor.handle(TaskFinished("deploy", "completed", {"k": 0}, item_index=0))
    state = json.loads(json.dumps(conductor.state))
    again = Conductor.from_state(wf, state)
    assert again.state == state
    assert [(r.task, r.item_index) for r in again.outstanding] == [("deploy", 1), ("deploy", 2)]
    commands = again.handle(TaskFinished("deploy", "failed", None, item_index=1))
    assert commands == []  # item 2 still running; no new item starts after a failure
    end = again.handle(TaskFinished("deploy", "completed", None, item_index=2))
    assert isinstance(end[-1], FailWorkflow)
