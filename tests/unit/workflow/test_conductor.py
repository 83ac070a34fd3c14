"""Conductor semantics, table-driven: each case is a workflow, the task outcomes, and what must
happen (tasks dispatched in order, final status, reason, published variables, output).

Every case also runs with the conductor rebuilt from its JSON state after each event, and must
behave identically.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.workflow._driver import failed, ok, run, timed_out

# Each case: id, workflow YAML, outcomes per task, expected tasks (dispatch order), status,
# and optional extra expectations (reason substring, published, output).
CASES: list[dict[str, Any]] = [
    {
        "id": "sequence",
        "wf": """
tasks:
  - {name: a, action: core.noop, next: [{when: "{{ succeeded() }}", do: b}]}
  - {name: b, action: core.noop, next: [{do: c}]}
  - {name: c, action: core.noop}
""",
        "tasks": ["a", "b", "c"],
        "status": "completed",
    },
    {
        "id": "empty-workflow-completes-at-once",
        "wf": "tasks: []\noutput_map: {x: 1}",
        "tasks": [],
        "status": "completed",
        "output": {"x": 1},
    },
    {
        "id": "entry-tasks-start-together",
        "wf": """
tasks:
  - {name: a, action: core.noop}
  - {name: b, action: core.noop}
  - {name: c, action: core.noop}
""",
        "tasks": ["a", "b", "c"],
        "status": "completed",
    },
    {
        "id": "branch-on-success",
        "wf": """
tasks:
  - name: build
    action: x.build
    next:
      - {when: "{{ succeeded() }}", do: [deploy]}
      - {when: "{{ failed() }}", do: [rollback]}
  - {name: deploy, action: x.deploy}
  - {name: rollback, action: x.rollback}
""",
        "tasks": ["build", "deploy"],
        "status": "completed",
    },
    {
        "id": "failure-handled-by-transition-does-not-fail-workflow",
        "wf": """
tasks:
  - name: build
    action: x.build
    next:
      - {when: "{{ succeeded() }}", do: [deploy]}
      - {when: "{{ failed() }}", do: [rollback]}
  - {name: deploy, action: x.deploy}
  - {name: rollback, action: x.rollback}
""",
        "outcomes": {"build": failed()},
        "tasks": ["build", "rollback"],
        "status": "completed",
    },
    {
        "id": "unhandled-failure-fails-workflow",
        "wf": """
tasks:
  - name: build
    action: x.build
    next: [{when: "{{ succeeded() }}", do: deploy}]
  - {name: deploy, action: x.deploy}
""",
        "outcomes": {"build": failed("disk full")},
        "tasks": ["build"],
        "status": "failed",
        "reason": 'task "build" failed and no transition handled it (next[0] `{{ succeeded() }}` '
        "was false): disk full",
    },
    {
        "id": "unhandled-failure-waits-for-running-branches-and-starts-nothing-new",
        "wf": """
tasks:
  - {name: a, action: x.a}
  - {name: b, action: x.b, next: [{do: b2}]}
  - {name: b2, action: x.b2}
""",
        "outcomes": {"a": failed()},
        # a fails first (FIFO); b is already running and finishes, but b2 is not started.
        "tasks": ["a", "b"],
        "status": "failed",
        "reason": 'task "a" failed and no transition handled it',
    },
    {
        "id": "unconditional-transition-handles-failure",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: cleanup}]}
  - {name: cleanup, action: x.c}
""",
        "outcomes": {"a": failed()},
        "tasks": ["a", "cleanup"],
        "status": "completed",
    },
    {
        "id": "do-fail-fails-explicitly",
        "wf": """
tasks:
  - name: check
    action: x.check
    next:
      - {when: "{{ result().healthy == false }}", do: [notify, fail, never]}
  - {name: notify, action: core.echo}
  - {name: never, action: core.echo}
""",
        "outcomes": {"check": ok({"healthy": False})},
        # targets are reached in order: notify starts, then the workflow fails once it is done
        "tasks": ["check", "notify"],
        "status": "failed",
        "reason": 'task "check" next[0] did "fail"',
    },
    {
        "id": "do-noop-handles-failure",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{when: "{{ failed() }}", do: noop}]}
""",
        "outcomes": {"a": failed()},
        "tasks": ["a"],
        "status": "completed",
    },
    {
        "id": "every-matching-transition-fires-in-order",
        "wf": """
tasks:
  - name: a
    action: x.a
    next:
      - {when: "{{ succeeded() }}", do: [b]}
      - {when: "{{ result().n > 1 }}", do: [c, d]}
      - {when: "{{ result().n > 5 }}", do: [e]}
  - {name: b, action: x.b}
  - {name: c, action: x.c}
  - {name: d, action: x.d}
  - {name: e, action: x.e}
""",
        "outcomes": {"a": ok({"n": 3})},
        "tasks": ["a", "b", "c", "d"],
        "status": "completed",
    },
    {
        "id": "join-all-waits-for-every-inbound-task",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: j}]}
  - {name: b, action: x.b, next: [{do: b2}]}
  - {name: b2, action: x.b2, next: [{do: j}]}
  - {name: j, action: x.j, join: all}
""",
        "tasks": ["a", "b", "b2", "j"],
        "status": "completed",
    },
    {
        "id": "join-count-fires-once-at-n-arrivals",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: j}]}
  - {name: b, action: x.b, next: [{do: j}]}
  - {name: c, action: x.c, next: [{do: j}]}
  - {name: j, action: x.j, join: 2}
""",
        "tasks": ["a", "b", "c", "j"],
        "status": "completed",
    },
    {
        "id": "task-reached-twice-without-join-runs-twice",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: j}]}
  - {name: b, action: x.b, next: [{do: j}]}
  - {name: j, action: x.j}
""",
        "tasks": ["a", "b", "j", "j"],
        "status": "completed",
    },
    {
        "id": "unsatisfiable-join-fails-workflow",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{when: "{{ succeeded() }}", do: j}]}
  - name: b
    action: x.b
    next:
      - {when: "{{ succeeded() }}", do: j}
      - {when: "{{ failed() }}", do: noop}
  - {name: j, action: x.j, join: all}
""",
        "outcomes": {"b": failed()},
        "tasks": ["a", "b"],
        "status": "failed",
        "reason": 'join of task "j" can no longer be satisfied: 1 of 2 required inbound tasks '
        "arrived (a); never arrived: b",
    },
    {
        "id": "publish-then-dispatch-with-published-value",
        "wf": """
tasks:
  - name: a
    action: x.a
    next:
      - when: "{{ succeeded() }}"
        publish:
          - url: "{{ result().data.url }}"
          - full: "{{ workflow.url + '/index' }}"
        do: b
  - {name: b, action: x.b, input: {target: "{{ workflow.full }}"}}
output_map:
  url: "{{ workflow.url }}"
""",
        "outcomes": {"a": ok({"url": "http://h"})},
        "tasks": ["a", "b"],
        "status": "completed",
        "published": {"url": "http://h", "full": "http://h/index"},
        "output": {"url": "http://h"},
        "inputs": {"b": {"target": "http://h/index"}},
    },
    {
        "id": "publish-as-map",
        "wf": """
tasks:
  - name: a
    action: x.a
    next: [{publish: {n: "{{ result().count }}", s: "n={{ result().count }}"}}]
""",
        "outcomes": {"a": ok({"count": 5})},
        "tasks": ["a"],
        "status": "completed",
        "published": {"n": 5, "s": "n=5"},
    },
    {
        "id": "result-data-fields-at-top-level-and-task-namespace",
        "wf": """
tasks:
  - name: a
    action: x.a
    next:
      - publish:
          - top: "{{ result().value }}"
          - nested: "{{ result().data.value }}"
          - code: "{{ result().exit_code }}"
        do: b
  - name: b
    action: x.b
    input:
      via_task: "{{ task.a.result.value }}"
      via_alias: "{{ tasks.a.result.data.value }}"
      status: "{{ task.a.status }}"
      start: "{{ system.workflow_start }}"
""",
        "outcomes": {"a": ok({"value": 7})},
        "tasks": ["a", "b"],
        "status": "completed",
        "published": {"top": 7, "nested": 7, "code": 0},
        "inputs": {
            "b": {
                "via_task": 7,
                "via_alias": 7,
                "status": "succeeded",
                "start": "2025-01-01T00:00:00Z",
            }
        },
    },
    {
        "id": "parameters-defaults-vars-and-aliases",
        "wf": """
parameters:
  env: {type: string, default: dev}
  n: {type: integer, required: true}
vars:
  - base: "svc-{{ parameters.env }}"
  - double: "{{ parameters.n * 2 }}"
tasks:
  - name: a
    action: x.a
    input:
      b: "{{ vars.base }}"
      d: "{{ variables.double }}"
      bare: "{{ base }}"
      n: "{{ parameters.n }}"
""",
        "parameters": {"n": 4},
        "tasks": ["a"],
        "status": "completed",
        "inputs": {"a": {"b": "svc-dev", "d": 8, "bare": "svc-dev", "n": 4}},
    },
    {
        "id": "missing-required-parameter-fails",
        "wf": "parameters: {n: {type: integer, required: true}}\ntasks: [{name: a, action: x.a}]",
        "tasks": [],
        "status": "failed",
        "reason": "missing required parameter(s): n",
    },
    {
        "id": "when-that-cannot-be-evaluated-fails-with-reason",
        "wf": """
tasks:
  - name: a
    action: x.a
    next: [{when: "{{ result().n + 'x' > 1 }}", do: b}]
  - {name: b, action: x.b}
""",
        "outcomes": {"a": ok({"n": 1})},
        "tasks": ["a"],
        "status": "failed",
        "reason": "task \"a\" next[0].when: cannot evaluate `result().n + 'x' > 1`",
    },
    {
        "id": "input-that-fails-to-render-names-task-and-field",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: b}]}
  - {name: b, action: x.b, input: {count: "{{ length(5) }}"}}
""",
        "tasks": ["a"],
        "status": "failed",
        "reason": 'task "b" input.count: cannot render',
    },
    {
        "id": "output-rendered-on-failure",
        "wf": """
tasks:
  - name: a
    action: x.a
    next: [{when: "{{ failed() }}", publish: {err: "{{ result().error }}"}, do: fail}]
output_map:
  error: "{{ workflow.err }}"
""",
        "outcomes": {"a": failed("boom")},
        "tasks": ["a"],
        "status": "failed",
        "output": {"error": "boom"},
    },
    {
        "id": "output-that-fails-to-render-fails-workflow",
        "wf": """
tasks: [{name: a, action: x.a}]
output_map: {n: "{{ 1 / 0 }}", ok: "yes"}
""",
        "tasks": ["a"],
        "status": "failed",
        "reason": "output.n: cannot render",
        "output": {"n": None, "ok": "yes"},
    },
    {
        "id": "action-less-task-routes-inline",
        "wf": """
tasks:
  - {name: a, action: x.a, next: [{do: route}]}
  - name: route
    next:
      - {when: "{{ workflow.go }}", do: b}
  - {name: b, action: x.b}
vars: {go: true}
""",
        "tasks": ["a", "b"],
        "status": "completed",
    },
    {
        "id": "timed-out-transition",
        "wf": """
tasks:
  - name: a
    action: x.a
    timeout: 10
    next:
      - {when: "{{ timed_out() }}", do: slow}
      - {when: "{{ failed() and not timed_out() }}", do: broken}
  - {name: slow, action: x.slow}
  - {name: broken, action: x.broken}
""",
        "outcomes": {"a": timed_out()},
        "tasks": ["a", "slow"],
        "status": "completed",
    },
    {
        "id": "unhandled-timeout-reason",
        "wf": "tasks: [{name: a, action: x.a, timeout: 5}]",
        "outcomes": {"a": ("timeout", {"error": "Execution timed out after 5 seconds"})},
        "tasks": ["a"],
        "status": "failed",
        "reason": 'task "a" timed out and no transition handled it: Execution timed out after 5',
    },
    {
        "id": "loop-with-counter-cycle",
        "wf": """
vars: {i: 0}
tasks:
  - name: step
    action: x.step
    next:
      # Every `when` sees the state as the task finished, before any publish of this step.
      - publish: {seen: "{{ workflow.i }}"}
      - {when: "{{ workflow.i < 3 }}", publish: {i: "{{ workflow.i + 1 }}"}, do: step}
""",
        "tasks": ["step", "step", "step", "step"],
        "status": "completed",
        "published": {"i": 3, "seen": 3},
    },
    {
        "id": "config-and-keystore-namespaces",
        "wf": """
tasks:
  - {name: a, action: x.a, input: {url: "{{ config.base }}", auth: "Bearer {{ keystore.token }}"}}
""",
        "config": {"base": "http://api"},
        "keystore": {"token": "s3cret"},
        "tasks": ["a"],
        "status": "completed",
        "inputs": {"a": {"url": "http://api", "auth": "Bearer s3cret"}},
    },
    {
        "id": "templated-action-ref",
        "wf": """
parameters: {act: {type: string, default: core.echo}}
tasks: [{name: a, action: "{{ parameters.act }}"}]
""",
        "tasks": ["a"],
        "status": "completed",
        "actions": {"a": "core.echo"},
    },
    {
        "id": "unknown-task-status-is-a-failure",
        "wf": "tasks: [{name: a, action: x.a}]",
        "outcomes": {"a": ("exploded", None)},
        "tasks": ["a"],
        "status": "failed",
        "reason": "unknown task status 'exploded'",
    },
]


@pytest.mark.parametrize("roundtrip", [False, True], ids=["live", "roundtrip"])
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_semantics(case: dict[str, Any], roundtrip: bool) -> None:
    trace = run(
        case["wf"],
        case.get("outcomes"),
        parameters=case.get("parameters"),
        roundtrip=roundtrip,
        config=case.get("config"),
        keystore=case.get("keystore"),
    )
    assert trace.tasks == case["tasks"]
    assert trace.status == case["status"], trace.end
    if "reason" in case:
        assert case["reason"] in trace.reason
    if "published" in case:
        assert trace.published == case["published"]
    if "output" in case:
        assert trace.output == case["output"]
    for task, expected in case.get("inputs", {}).items():
        assert next(d.input for d in trace.dispatches if d.task == task) == expected
    for task, expected in case.get("actions", {}).items():
        assert next(d.action for d in trace.dispatches if d.task == task) == expected


REFERENCE = """
ref: mypack.deploy
version: 1.0.0
parameters: {env: {type: string, required: true}}
vars: {attempts: 0, targets: [t1, t2, t3]}
tasks:
  - name: build
    action: mypack.build
    input: {env: "{{ parameters.env }}"}
    retry: {count: 2, delay: 5, backoff: exponential, max_delay: 60}
    timeout: 600
    next:
      - when: "{{ succeeded() }}"
        publish:
          - artifact: "{{ result().data.url }}"
        do: [test, notify]
      - when: "{{ failed() }}"
        do: [rollback]
  - name: test
    action: mypack.test
    with_items: "{{ workflow.targets }}"
    concurrency: 5
    input: {target: "{{ item }}"}
    next: [{when: "{{ succeeded() }}", do: notify}]
  - name: notify
    action: core.echo
    join: 2
  - name: rollback
    action: core.echo
output_map:
  url: "{{ workflow.artifact }}"
"""


@pytest.mark.parametrize(
    ("outcomes", "tasks", "status", "output"),
    [
        (
            {"build": ok({"url": "http://a"})},
            ["build", "test", "test", "test", "notify"],
            "completed",
            {"url": "http://a"},
        ),
        (
            {"build": [failed(), ok({"url": "http://b"})]},
            ["build", "build", "test", "test", "test", "notify"],
            "completed",
            {"url": "http://b"},
        ),
        ({"build": failed()}, ["build", "build", "build", "rollback"], "completed", {"url": None}),
        (
            {"build": ok({"url": "u"}), "test": [ok(), failed(), ok()]},
            ["build", "test", "test", "test"],
            "failed",
            {"url": "u"},
        ),
    ],
    ids=["happy", "retry-then-success", "retries-exhausted-rollback", "item-fails-join-unmet"],
)
def test_reference_example_runs(
    outcomes: dict[str, Any], tasks: list[str], status: str, output: dict[str, Any]
) -> None:
    trace = run(REFERENCE, outcomes, parameters={"env": "prod"}, roundtrip=True)
    assert trace.tasks == tasks
    assert trace.status == status
    assert trace.output == output
    if status == "failed":
        # test failed (unhandled) and notify's join (build + test) can never be met
        assert 'task "test" failed and no transition handled it' in trace.reason
        assert 'join of task "notify" can no longer be satisfied' not in trace.reason


LEGACY_WF = """
tasks:
  - name: fetch
    action: x.fetch
    publish: {n: "{{ result().count }}"}
    on_success: decide
    on_failure: cleanup
    on_timeout: slow
  - name: decide
    action: x.noop
    decision:
      - {when: "{{ workflow.n > 10 }}", next: big}
      - {when: "workflow.n > 0", next: small}
      - {default: true, next: none}
    on_complete: log
  - {name: big, action: x.big}
  - {name: small, action: x.small}
  - {name: none, action: x.none}
  - {name: cleanup, action: x.cleanup}
  - {name: slow, action: x.slow}
  - {name: log, action: x.log}
"""


@pytest.mark.parametrize(
    ("outcomes", "tasks", "status"),
    [
        ({"fetch": ok({"count": 50})}, ["fetch", "decide", "big", "log"], "completed"),
        ({"fetch": ok({"count": 5})}, ["fetch", "decide", "small", "log"], "completed"),
        ({"fetch": ok({"count": 0})}, ["fetch", "decide", "none", "log"], "completed"),
        ({"fetch": failed()}, ["fetch", "cleanup"], "completed"),
        ({"fetch": timed_out()}, ["fetch", "slow"], "completed"),
        # decision branches apply on success only; on_complete still runs and handles it
        ({"fetch": ok({"count": 5}), "decide": failed()}, ["fetch", "decide", "log"], "completed"),
    ],
    ids=["big", "small", "default", "failure", "timeout", "decide-fails"],
)
def test_legacy_workflow_runs(outcomes: dict[str, Any], tasks: list[str], status: str) -> None:
    trace = run(LEGACY_WF, outcomes)
    assert trace.tasks == tasks
    assert trace.status == status
