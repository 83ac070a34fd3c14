"""parse_workflow: the format, legacy conversion, and validation that reports every problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attune_core.errors import ValidationError
from attune_core.workflow import (
    Backoff,
    RetrySpec,
    Severity,
    Transition,
    WorkflowDefinitionError,
    parse_workflow,
)

REFERENCE = """
ref: mypack.deploy          # optional in files under a pack (default <pack>.<file stem>)
label: Deploy
version: 1.0.0
parameters: {env: {type: string, required: true}}
vars: {attempts: 0}         # a map (a list of single-key maps is accepted too)
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
    next: [{do: notify}]
  - name: notify
    action: core.echo
    join: 2
  - name: rollback
    action: core.echo
output_map:
  url: "{{ workflow.artifact }}"
"""


def problems(source: Any) -> list[str]:
    with pytest.raises(WorkflowDefinitionError) as info:
        parse_workflow(source)
    return [str(p) for p in info.value.problems]


def test_reference_example() -> None:
    wf = parse_workflow(REFERENCE)
    assert (wf.ref, wf.label, wf.version) == ("mypack.deploy", "Deploy", "1.0.0")
    assert wf.parameters == {"env": {"type": "string", "required": True}}
    assert wf.vars == (("attempts", 0),)
    assert [t.name for t in wf.tasks] == ["build", "test", "notify", "rollback"]
    build = wf.tasks[0]
    assert build.retry == RetrySpec(count=2, delay=5.0, backoff=Backoff.EXPONENTIAL, max_delay=60.0)
    assert build.timeout == 600
    assert build.next[0] == Transition(
        when="succeeded()",
        publish=(("artifact", "{{ result().data.url }}"),),
        do=("test", "notify"),
        origin="next[0]",
        when_source="{{ succeeded() }}",
    )
    assert wf.tasks[1].with_items == "workflow.targets"
    assert wf.tasks[1].concurrency == 5
    assert wf.tasks[2].join == 2
    assert wf.entry_tasks == ("build",)
    assert wf.inbound["notify"] == ("build", "test")
    assert wf.output == (("url", "{{ workflow.artifact }}"),)
    assert wf.warnings == ()


def test_json_and_mapping_sources_are_equivalent() -> None:
    import yaml

    mapping = yaml.safe_load(REFERENCE)
    assert parse_workflow(json.dumps(mapping)) == parse_workflow(mapping)
    assert parse_workflow(REFERENCE.encode()) == parse_workflow(mapping)


def test_ref_defaults_and_label_fallback() -> None:
    wf = parse_workflow("tasks: []", ref="pack.flow")
    assert (wf.ref, wf.label) == ("pack.flow", "flow")
    assert parse_workflow("{ref: a.b, tasks: []}", ref="pack.flow").ref == "a.b"
    assert parse_workflow("tasks: []\nversion: 1.0").version == "1.0"


@pytest.mark.parametrize(
    ("next_yaml", "expected"),
    [
        ("[{do: b}]", [Transition(do=("b",), origin="next[0]")]),
        ("[{do: 'b, c'}]", [Transition(do=("b", "c"), origin="next[0]")]),
        ("[{do: [b, c]}]", [Transition(do=("b", "c"), origin="next[0]")]),
        ("{do: b}", [Transition(do=("b",), origin="next[0]")]),
        (
            "[{when: 'succeeded()', do: b}]",
            [
                Transition(
                    when="succeeded()", do=("b",), origin="next[0]", when_source="succeeded()"
                )
            ],
        ),
        ("[{when: true, do: b}]", [Transition(when="true", do=("b",), origin="next[0]")]),
        (
            "[{publish: {x: 1, y: '{{ 2 }}'}}]",
            [Transition(publish=(("x", 1), ("y", "{{ 2 }}")), origin="next[0]")],
        ),
        (
            "[{publish: [{x: 1}, {y: 2}], do: noop}]",
            [Transition(publish=(("x", 1), ("y", 2)), do=("noop",), origin="next[0]")],
        ),
        (
            "[{do: b, label: main path, color: '#22c55e', __chart_meta__: {edge_waypoints: "
            "{b: [{x: 1, y: 2}]}}}]",
            [
                Transition(
                    do=("b",),
                    label="main path",
                    color="#22c55e",
                    chart_meta={"edge_waypoints": {"b": [{"x": 1, "y": 2}]}},
                    origin="next[0]",
                )
            ],
        ),
    ],
)
def test_transition_forms(next_yaml: str, expected: list[Transition]) -> None:
    wf = parse_workflow(
        f"tasks:\n  - {{name: a, action: x.a, next: {next_yaml}}}\n"
        "  - {name: b, action: x.b}\n  - {name: c, action: x.c}"
    )
    assert list(wf.tasks[0].next) == expected


def test_orquesta_task_map_and_chart_meta_kept() -> None:
    wf = parse_workflow(
        """
__chart_meta__: {zoom: 2}
tasks:
  first: {action: x.a, next: [{do: second}], __chart_meta__: {position: {x: 10, y: 20}}}
  second: {action: x.b}
"""
    )
    assert [t.name for t in wf.tasks] == ["first", "second"]
    assert wf.tasks[0].path == "tasks.first"
    assert wf.tasks[0].chart_meta == {"position": {"x": 10, "y": 20}}
    assert wf.chart_meta == {"zoom": 2}


def test_cycles_are_allowed() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: init, action: x.i, next: [{do: poll}]}
  - {name: poll, action: x.p, next: [{when: "{{ result().busy }}", do: wait}]}
  - {name: wait, action: core.sleep, next: [{do: poll}]}
"""
    )
    assert wf.entry_tasks == ("init",)
    assert wf.inbound["poll"] == ("init", "wait")


def test_self_loop_task_is_still_an_entry_task() -> None:
    wf = parse_workflow("tasks: [{name: p, action: x.p, next: [{when: 'failed()', do: p}]}]")
    assert wf.entry_tasks == ("p",)


def test_unreachable_task_is_a_warning() -> None:
    wf = parse_workflow(
        """
tasks:
  - {name: a, action: x.a}
  - {name: b, action: x.b, next: [{do: c}]}
  - {name: c, action: x.c, next: [{do: b}]}
"""
    )
    assert [str(w) for w in wf.warnings] == [
        'tasks[1] (line 4): warning: task "b" is unreachable from the entry tasks',
        'tasks[2] (line 5): warning: task "c" is unreachable from the entry tasks',
    ]
    assert all(w.severity is Severity.WARNING for w in wf.warnings)


# -- legacy -----------------------------------------------------------------------------------

LEGACY: list[tuple[str, str, list[tuple[str | None, tuple[str, ...], str]]]] = [
    ("on_success", "on_success: b", [("succeeded()", ("b",), "on_success")]),
    ("on_failure", "on_failure: b", [("failed()", ("b",), "on_failure")]),
    ("on_complete", "on_complete: b", [(None, ("b",), "on_complete")]),
    ("on_timeout", "on_timeout: b", [("timed_out()", ("b",), "on_timeout")]),
    ("list-target", "on_success: [b, c]", [("succeeded()", ("b", "c"), "on_success")]),
    (
        "failure-and-timeout",
        "{on_failure: b, on_timeout: c}",
        [
            ("failed() and not timed_out()", ("b",), "on_failure"),
            ("timed_out()", ("c",), "on_timeout"),
        ],
    ),
    (
        "all-four-in-order",
        "{on_complete: c, on_timeout: c, on_failure: b, on_success: b}",
        [
            ("succeeded()", ("b",), "on_success"),
            ("failed() and not timed_out()", ("b",), "on_failure"),
            ("timed_out()", ("c",), "on_timeout"),
            (None, ("c",), "on_complete"),
        ],
    ),
    (
        "decision-first-match-with-default",
        "decision: [{when: 'result().n > 10', next: b}, {default: true, next: c},"
        " {when: '{{ result().n > 5 }}', next: c}]",
        [
            ("succeeded() and (result().n > 10)", ("b",), "decision[0]"),
            ("succeeded() and (result().n > 5) and not (result().n > 10)", ("c",), "decision[2]"),
            (
                "succeeded() and not (result().n > 10) and not (result().n > 5)",
                ("c",),
                "decision[1]",
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("fields", "expected"), [c[1:] for c in LEGACY], ids=[c[0] for c in LEGACY]
)
def test_legacy_fields_become_next(
    fields: str, expected: list[tuple[str | None, tuple[str, ...], str]]
) -> None:
    body = fields if fields.startswith("{") else "{" + fields + "}"
    wf = parse_workflow(
        f"tasks:\n  - name: a\n    action: x.a\n    <<: {body}\n"
        "  - {name: b, action: x.b}\n  - {name: c, action: x.c}"
    )
    assert [(t.when, t.do, t.origin) for t in wf.tasks[0].next] == expected


def test_legacy_task_publish_rides_on_success() -> None:
    wf = parse_workflow(
        """
tasks:
  - name: a
    action: x.a
    publish: {url: "{{ result().url }}"}
    on_success: b
  - name: b
    action: x.b
    publish: [{done: true}]
"""
    )
    assert wf.tasks[0].next == (
        Transition(
            when="succeeded()",
            publish=(("url", "{{ result().url }}"),),
            do=("b",),
            origin="on_success",
            when_source="{{ succeeded() }}",
        ),
    )
    assert wf.tasks[1].next == (
        Transition(
            when="succeeded()",
            publish=(("done", True),),
            origin="publish",
            when_source="{{ succeeded() }}",
        ),
    )


# -- problems ---------------------------------------------------------------------------------

ERRORS: list[tuple[str, str, list[str]]] = [
    (
        "unknown-target-with-hint",
        """
tasks:
  - {name: a, action: x.a, next: [{do: b}]}
  - {name: b, action: x.b, next: [{do: [a, logg]}]}
  - {name: log, action: x.l}
""",
        ['tasks[1].next[0].do[1] (line 4): unknown task "logg" (did you mean "log"?)'],
    ),
    (
        "unknown-legacy-target",
        "tasks: [{name: a, action: x.a, on_success: nope}]",
        ['tasks[0].on_success (line 1): unknown task "nope"'],
    ),
    (
        "duplicate-task-name",
        "tasks: [{name: a, action: x.a}, {name: a, action: x.b}]",
        ['tasks[1].name (line 1): duplicate task name "a" (first defined at tasks[0])'],
    ),
    (
        "unknown-keys-everywhere",
        """
label: x
inputs: {}
tasks:
  - name: a
    action: x.a
    on_sucess: b
    retry: {count: 1, delays: 2}
    next: [{do: b, wehn: x}]
  - {name: b, action: x.b}
""",
        [
            'inputs (line 3): unknown key "inputs"',
            'tasks[0].on_sucess (line 7): unknown key "on_sucess" (did you mean "on_success"?)',
            'tasks[0].retry.delays (line 8): unknown key "delays" (did you mean "delay"?)',
            'tasks[0].next[0].wehn (line 9): unknown key "wehn" (did you mean "when"?)',
        ],
    ),
    (
        "when-syntax-error-with-column",
        'tasks: [{name: a, action: x.a, next: [{when: "{{ succeeded( }}", do: noop}]}]',
        [
            "tasks[0].next[0].when (line 1): invalid expression: column 14: expected ')' to "
            "close the arguments of succeeded(), found end of expression"
        ],
    ),
    (
        "mixed-text-when",
        'tasks: [{name: a, action: x.a, next: [{when: "ok {{ succeeded() }}", do: noop}]}]',
        [
            'tasks[0].next[0].when (line 1): must be a single expression, e.g. "{{ succeeded() }}" '
            'or "succeeded()", not text mixed with {{ }}'
        ],
    ),
    (
        "templates-compiled-everywhere",
        """
vars: {a: "{{ 1 + }}"}
tasks:
  - name: t
    action: x.a
    with_items: "{{ [1, 2 }}"
    input: {deep: {list: ["ok", "x {{ nope( }} y"]}}
    retry: {count: 1, when: "result() ==="}
    next: [{publish: [{v: "{{ ) }}"}]}]
output_map: {o: "{{ }}"}
""",
        [
            "vars.a (line 2): invalid expression",
            "tasks[0].input.deep.list[1] (line 7): invalid expression: column 11",
            "tasks[0].with_items (line 6): invalid expression",
            "tasks[0].retry.when (line 8): invalid expression",
            "tasks[0].next[0].publish.v (line 9): invalid expression",
            "output_map.o (line 10): invalid expression: column 4: empty expression",
        ],
    ),
    (
        "unterminated-template",
        "tasks: [{name: a, action: x.a, input: {v: 'hello {{ name'}}]",
        ["tasks[0].input.v (line 1): invalid expression: column 7: unterminated '{{'"],
    ),
    (
        "join-validation",
        """
tasks:
  - {name: a, action: x.a, join: all, next: [{do: j}]}
  - {name: j, action: x.j, join: 2}
""",
        [
            "tasks[0].join (line 3): has no inbound transition to wait for",
            "tasks[1].join (line 4): waits for 2 inbound tasks but only 1 lead here (a)",
        ],
    ),
    (
        "bad-values",
        """
tasks:
  - name: a
    action: x.a
    join: some
    concurrency: 0
    with_items: [1]
    batch_size: -1
    timeout: 0
    delay: -2
    retry: {count: -1, delay: x, backoff: random, max_delay: 0}
    input: [1]
""",
        [
            "tasks[0].input (line 12): must be a map, not a list",
            'tasks[0].join (line 5): must be "all" or a whole number >= 1',
            "tasks[0].concurrency (line 6): must be a whole number >= 1",
            "tasks[0].batch_size (line 8): must be a whole number >= 1",
            "tasks[0].retry.count (line 11): is required: a whole number >= 0",
            "tasks[0].retry.delay (line 11): must be a number of seconds >= 0",
            "tasks[0].retry.backoff (line 11): must be one of constant, linear, exponential",
            "tasks[0].retry.max_delay (line 11): must be a number of seconds > 0",
            "tasks[0].delay (line 10): must be a number of seconds >= 0",
            "tasks[0].timeout (line 9): must be a whole number of seconds > 0",
        ],
    ),
    (
        "reserved-and-invalid-names",
        "tasks: [{name: noop, action: x.a}, {name: '1x', action: x.b}, {action: x.c}]",
        [
            'tasks[0].name (line 1): "noop" is reserved (it is a special "do" target)',
            'tasks[1].name (line 1): "1x" is not a valid task name',
            "tasks[2].name (line 1): a task needs a name",
        ],
    ),
    (
        "next-and-legacy-together",
        "tasks: [{name: a, action: x.a, on_success: b, next: [{do: b}]}, {name: b, action: x.b}]",
        ['tasks[0].on_success (line 1): cannot be combined with "next"'],
    ),
    (
        "no-entry-task",
        "tasks: [{name: a, action: x.a, next: [{do: b}]}, {name: b, action: x.b, next: [{do: a}]}]",
        ["tasks (line 1): no entry task: every task has an inbound transition"],
    ),
    (
        "duplicate-yaml-key",
        "tasks:\n  - name: a\n    action: x.a\n    next: []\n    next: [{do: a}]\n",
        ['tasks[0].next (line 5): duplicate key "next"'],
    ),
    ("invalid-yaml", "tasks: [\n  {name: a\n", ["(line 3): not valid YAML/JSON"]),
    ("not-a-map", "- a\n- b\n", ["<workflow>: a workflow definition must be a map, not a list"]),
    ("missing-tasks", "label: x", ["tasks: is required"]),
    (
        "publish-shapes",
        "tasks: [{name: a, action: x.a, next: [{publish: [{a: 1, b: 2}, {'bad name': 1}]}]}]",
        [
            "tasks[0].next[0].publish[0] (line 1): must be a single-key map (variable: value)",
            'tasks[0].next[0].publish[1] (line 1): "bad name" is not a valid variable name',
        ],
    ),
    (
        "decision-needs-when",
        "tasks: [{name: a, action: x.a, decision: [{next: a}]}]",
        ["tasks[0].decision[0].when (line 1): is required (or set default: true)"],
    ),
    (
        "output-and-output-map",
        "tasks: []\noutput: {a: 1}\noutput_map: {b: 2}",
        ['output (line 2): give either "output_map" or "output", not both'],
    ),
    (
        "parameter-schema",
        "parameters: {a: {type: text}, b: 3, c: {required: 'yes'}}\ntasks: []",
        [
            'parameters.a.type (line 1): unknown type "text"',
            "parameters.b (line 1): must be a map (type, default, ...), not an integer",
            "parameters.c.required (line 1): must be true or false",
        ],
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_problems_are_reported_with_paths(source: str, expected: list[str]) -> None:
    found = problems(source)
    assert len(found) == len(expected), found
    for got, want in zip(sorted(found), sorted(expected), strict=True):
        assert got.startswith(want) or want in got, (got, want)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        parse_workflow(
            """
tasks:
  - {name: a, action: x.a, next: [{do: zz}], retry: {count: -1}}
  - {name: a, action: x.b}
  - {name: c, action: x.c, next: [{when: "{{ 1 + }}", do: yy}]}
"""
        )
    error = info.value
    assert isinstance(error, ValidationError)
    assert error.code == "VALIDATION_ERROR"
    assert len(error.problems) == 5
    assert str(error).startswith("invalid workflow definition (5 problems):\n  tasks[")
    assert error.field == error.problems[0].path
    assert [d["path"] for d in error.details][:1] == [error.problems[0].path]


def test_expression_problem_carries_task_field_and_column() -> None:
    with pytest.raises(WorkflowDefinitionError) as info:
        parse_workflow(
            'tasks: [{name: build, action: x.a, input: {url: "http://{{ parameters..host }}"}}]'
        )
    (problem,) = info.value.problems
    assert (problem.task, problem.field, problem.path) == (
        "build",
        "input.url",
        "tasks[0].input.url",
    )
    assert problem.column == 22
    assert problem.line == 1


def test_concurrency_without_items_is_a_warning() -> None:
    wf = parse_workflow("tasks: [{name: a, action: x.a, concurrency: 4}]")
    assert [str(w) for w in wf.warnings] == [
        "tasks[0].concurrency (line 1): warning: has no effect without with_items"
    ]


def test_retry_delay_for() -> None:
    assert [RetrySpec(5, 2.0, Backoff.EXPONENTIAL, 10.0).delay_for(n) for n in range(1, 6)] == [
        2.0,
        4.0,
        8.0,
        10.0,
        10.0,
    ]
    assert RetrySpec(5, 1.0, Backoff.EXPONENTIAL).delay_for(10_000) > 0
