"""Namespaces, aliases and context functions (EvalContext / MappingContext)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from attune_core.expr import EvalContext, ExpressionError, MappingContext, evaluate, render

WORKFLOW_NAMESPACES: dict[str, Any] = {
    "parameters": {"url": "https://h", "n": 2},
    "workflow": {"counter": 3, "items": [1, 2], "parameters": "shadowed?"},
    "task": {"fetch": {"result": {"data": {"id": 9}}}},
    "config": {"api_token": "tok"},
    "keystore": {"secret_key": "k"},
    "item": {"name": "web"},
    "index": 4,
    "system": {"workflow_start": "2024-01-01T00:00:00Z"},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("parameters.url", "https://h"),
        ("workflow.counter", 3),
        ("vars.counter", 3),
        ("variables.counter", 3),
        ("task.fetch.result.data.id", 9),
        ("tasks.fetch.result.data.id", 9),
        ("config.api_token", "tok"),
        ("keystore.secret_key", "k"),
        ("item.name", "web"),
        ("index", 4),
        ("system.workflow_start", "2024-01-01T00:00:00Z"),
        ("counter", 3),  # bare name -> workflow variable
        ("items[1]", 2),
        ("unknown_name", None),
        ("parameters.n", 2),  # a namespace wins over a workflow variable of the same name
    ],
)
def test_workflow_namespaces_and_aliases(source: str, expected: Any) -> None:
    assert evaluate(source, WORKFLOW_NAMESPACES) == expected
    assert evaluate(source, MappingContext(WORKFLOW_NAMESPACES)) == expected


def test_unpopulated_namespaces_are_null() -> None:
    ctx = {"parameters": {}}
    assert evaluate("config", ctx) is None
    assert evaluate("config.api_token", ctx) is None
    assert evaluate("keystore.x", ctx) is None
    assert evaluate("vars.x", ctx) is None
    assert evaluate("whatever", ctx) is None


def test_explicit_alias_namespace_is_used_when_given() -> None:
    assert evaluate("vars.a", {"vars": {"a": 1}, "workflow": {"a": 2}}) == 1


RULE_CONTEXT: dict[str, Any] = {
    "event": {
        "id": 123,
        "trigger": "core.webhook",
        "trigger_ref": "core.webhook",
        "payload": {"service": "api", "tags": ["prod", "eu"], "count": 2},
        "created": "2024-05-01T12:00:00Z",
    },
    "pack": {"config": {"api_token": "abc"}},
    "system": {"timestamp": "2024-05-01T12:00:01Z", "rule": {"id": 5, "ref": "p.r"}},
}


def test_rule_template_namespaces() -> None:
    params = {
        "service": "{{ event.payload.service }}",
        "event_id": "{{ event.id }}",
        "trigger": "{{ event.trigger }}",
        "trigger_ref": "{{ event.trigger_ref }}",
        "created": "{{ event.created }}",
        "token": "{{ pack.config.api_token }}",
        "at": "{{ system.timestamp }}",
        "rule": "{{ system.rule.ref }} #{{ system.rule.id }}",
        "first_tag": "{{ event.payload.tags.0 }}",
        "second_tag": "{{ event.payload.tags[1] }}",
        "missing": "{{ event.payload.nope }}",
        "tags": "{{ event.payload.tags }}",
    }
    assert render(params, RULE_CONTEXT) == {
        "service": "api",
        "event_id": 123,
        "trigger": "core.webhook",
        "trigger_ref": "core.webhook",
        "created": "2024-05-01T12:00:00Z",
        "token": "abc",
        "at": "2024-05-01T12:00:01Z",
        "rule": "p.r #5",
        "first_tag": "prod",
        "second_tag": "eu",
        "missing": None,
        "tags": ["prod", "eu"],
    }


def test_rule_conditions() -> None:
    assert evaluate("event.payload.count >= 2 and 'prod' in event.payload.tags", RULE_CONTEXT)
    assert evaluate("starts_with(event.trigger, 'core.')", RULE_CONTEXT) is True


class WorkflowLikeContext:
    """An EvalContext as the workflow engine writes one: its own lookups, its own functions."""

    def __init__(self, last: Any, status: str) -> None:
        self.last = last
        self.status = status
        self.vars = {"attempts": 1}

    def resolve(self, name: str) -> Any:
        if name in ("workflow", "vars", "variables"):
            return self.vars
        return self.vars.get(name)

    def function(self, name: str) -> Callable[..., Any] | None:
        table: dict[str, Callable[..., Any]] = {
            "result": lambda: self.last,
            "succeeded": lambda: self.status == "succeeded",
            "failed": lambda: self.status == "failed",
            "timed_out": lambda: self.status == "timed_out",
        }
        return table.get(name)


def test_a_custom_eval_context() -> None:
    ctx = WorkflowLikeContext({"code": 200, "data": {"items": [1, 2, 3]}}, "succeeded")
    assert isinstance(ctx, EvalContext)
    assert evaluate("succeeded() and result().code == 200", ctx) is True
    assert evaluate("failed() or timed_out()", ctx) is False
    assert evaluate("length(result().data.items) + attempts", ctx) == 4
    assert render({"items": "{{ result().data.items }}"}, ctx) == {"items": [1, 2, 3]}


def test_context_functions_receive_evaluated_arguments() -> None:
    seen: list[tuple[Any, ...]] = []

    def record(*args: Any) -> str:
        seen.append(args)
        return "ok"

    ctx = MappingContext({"workflow": {"x": 2}}, {"record": record})
    assert evaluate("record(x + 1, 'a', [x])", ctx) == "ok"
    assert seen == [(3, "a", [2])]


def test_builtins_take_precedence_over_context_functions() -> None:
    ctx = MappingContext({}, {"length": lambda value: -1})
    assert evaluate("length([1, 2])", ctx) == 2


def test_workflow_functions_outside_a_workflow_explain_themselves() -> None:
    for name in ("result", "succeeded", "failed", "timed_out"):
        with pytest.raises(ExpressionError) as info:
            evaluate(f"{name}()", {"event": {}})
        assert info.value.message.startswith(f"{name}() is not available here")


def test_errors_raised_by_context_functions() -> None:
    def no_result() -> Any:
        raise ExpressionError("no task has completed yet")

    def broken() -> Any:
        raise KeyError("boom")

    ctx = MappingContext({}, {"result": no_result, "broken": broken})
    with pytest.raises(ExpressionError) as info:
        evaluate("1 + result().x", ctx)
    assert (info.value.message, info.value.column, info.value.source) == (
        "no task has completed yet",
        5,
        "1 + result().x",
    )
    with pytest.raises(ExpressionError) as info:
        evaluate("broken()", ctx)
    assert info.value.message == "broken() failed: 'boom'"
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(ExpressionError, match=r"result\(\) failed"):
        evaluate("result(1, 2)", MappingContext({}, {"result": lambda: 1}))


def test_host_mappings_and_tuples_are_objects_and_arrays() -> None:
    ctx = {
        "workflow": MappingProxyType({"o": OrderedDict(a=1, b=(1, 2)), "t": ("x", "y")}),
    }
    assert evaluate("o.b[1] + o.a", ctx) == 3
    assert evaluate("t.1", ctx) == "y"
    assert evaluate("o == {'a': 1, 'b': [1, 2]}", ctx) is True
    assert evaluate("type_of(o)", ctx) == "object"
    assert evaluate("type_of(t)", ctx) == "array"
    assert evaluate("keys(o)", ctx) == ["a", "b"]
    assert evaluate("t + ['z']", ctx) == ["x", "y", "z"]
    assert render("{{ o }} {{ t }}", ctx) == '{"a":1,"b":[1,2]} ["x","y"]'


class Secretive:
    """A host object: expressions must never reach its attributes."""

    password = "hunter2"

    def __str__(self) -> str:
        return "<secretive>"


def test_host_objects_are_opaque() -> None:
    ctx = {"workflow": {"obj": Secretive()}}
    assert evaluate("obj.password", ctx) is None
    assert evaluate("obj['password']", ctx) is None
    assert evaluate("obj.__class__", ctx) is None
    assert evaluate("type_of(obj)", ctx) == "unknown"
    assert evaluate("obj == obj", ctx) is True
    assert render("x={{ obj }}", ctx) == "x=<secretive>"
    with pytest.raises(ExpressionError, match="cannot add unknown and number"):
        evaluate("obj + 1", ctx)
