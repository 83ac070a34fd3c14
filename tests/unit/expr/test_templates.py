"""render() and is_template(): type preservation, text rendering, walking structures."""

from __future__ import annotations

from typing import Any

import pytest

from attune_core.expr import ExpressionError, is_template, render

CTX: dict[str, Any] = {
    "parameters": {"first": "Ada", "last": "Lovelace", "x": 21, "url": "https://h"},
    "workflow": {"items": ["a", "b", "c"], "data": {"k2": 1, "k1": 2}, "flag": True},
    "task": {"fetch": {"result": {"data": {"id": 77}}}},
    "config": {"base_url": "https://api.example.com"},
    "keystore": {"api_key": "s3cr3t"},
    "item": 5,
    "index": 0,
}


def test_reference_template_examples() -> None:
    inputs = {
        "count": "{{ length(workflow.items) }}",
        "greeting": '{{ parameters.first + " " + parameters.last }}',
        "doubled": "{{ parameters.x * 2 }}",
        "names": '{{ join(sort(keys(workflow.data)), ", ") }}',
        "auth": "Bearer {{ keystore.api_key }}",
        "endpoint": '{{ config.base_url + "/api/v1" }}',
        "prev_output": "{{ task.fetch.result.data.id }}",
    }
    assert render(inputs, CTX) == {
        "count": 3,
        "greeting": "Ada Lovelace",
        "doubled": 42,
        "names": "k1, k2",
        "auth": "Bearer s3cr3t",
        "endpoint": "https://api.example.com/api/v1",
        "prev_output": 77,
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ item }}", 5),
        ("{{item}}", 5),
        ("  {{ item }}\n", 5),
        ("{{ 2.5 }}", 2.5),
        ("{{ true }}", True),
        ("{{ null }}", None),
        ("{{ workflow.items }}", ["a", "b", "c"]),
        ("{{ workflow.data }}", {"k2": 1, "k1": 2}),
        ("{{ '5' }}", "5"),
        ("{{ {'a': [1, {'b': 2}]} }}", {"a": [1, {"b": 2}]}),
    ],
)
def test_a_single_expression_keeps_its_type(template: str, expected: Any) -> None:
    result = render(template, CTX)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Sleeping for {{ item }} seconds", "Sleeping for 5 seconds"),
        ("{{ item }}{{ item }}", "55"),
        ("{{ item }} {{ index }}", "5 0"),
        ("[{{ null }}]", "[]"),
        ("{{ true }}/{{ false }}", "true/false"),
        ("x={{ 2.5 }}", "x=2.5"),
        ("x={{ 10 / 5 }}", "x=2"),
        ("items: {{ workflow.items }}", 'items: ["a","b","c"]'),
        ("data: {{ workflow.data }}", 'data: {"k2":1,"k1":2}'),
        ("{{ 'é' }}-ü", "é-ü"),
        ("no template", "no template"),
        ("", ""),
        ("single } and { braces", "single } and { braces"),
        ("{{ '}}' }}", "}}"),
        ('{{ "{{" }} literal', "{{ literal"),
        ("{{ {'a': {'b': 1}} }} end", '{"a":{"b":1}} end'),
        ("{{ '\\'}}' }}!", "'}}!"),
    ],
)
def test_mixed_text_renders_a_string(template: str, expected: str) -> None:
    assert render(template, CTX) == expected


def test_render_walks_dicts_and_lists_and_leaves_other_values() -> None:
    value = {
        "{{ item }}": ["{{ index }}", 3, None, True, 2.5, {"deep": "{{ item + 1 }}"}],
        "n": 7,
        "t": ("{{ item }}", "x"),
    }
    assert render(value, CTX) == {
        "{{ item }}": [0, 3, None, True, 2.5, {"deep": 6}],
        "n": 7,
        "t": [5, "x"],
    }
    assert render(12, CTX) == 12
    assert render(None, CTX) is None


def test_render_does_not_mutate_its_input() -> None:
    value = {"a": ["{{ item }}"]}
    render(value, CTX)
    assert value == {"a": ["{{ item }}"]}


def test_rendered_values_are_the_context_values() -> None:
    # A pure expression returns the context's value itself (no copy), like a variable read.
    items = CTX["workflow"]["items"]
    assert render("{{ workflow.items }}", CTX) is items


@pytest.mark.parametrize(
    ("template", "message", "column"),
    [
        ("Hello {{ name", "unterminated '{{': expected '}}'", 7),
        ("Hello {{ }}", "empty expression in '{{ }}'", 7),
        ("a {{ 1 + }} b", "unexpected end of expression: an operand is missing", 10),
        ("a {{ x | upper }}", "unexpected character '|'", 8),
        ("x {{ 1 / 0 }}", "division by zero", 8),
        ("{{ 'unclosed }}", "unterminated string", 4),
        ("ok {{ 1 }} then {{ 'a' + 1 }}", "cannot add string and number", 24),
    ],
)
def test_template_errors_point_into_the_template(template: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionError) as info:
        render(template, CTX)
    error = info.value
    assert error.message.startswith(message)
    assert error.source == template
    assert error.column == column


def test_template_error_inside_a_structure_names_the_field() -> None:
    value = {"headers": {"Authorization": "Bearer {{ 1 + 'x' }}"}, "args": ["ok", "{{ 1/0 }}"]}
    with pytest.raises(ExpressionError) as info:
        render({"headers": value["headers"]}, CTX)
    assert info.value.field == "headers.Authorization"
    assert str(info.value).startswith("headers.Authorization: cannot add number and string")
    with pytest.raises(ExpressionError) as info:
        render({"args": value["args"]}, CTX)
    assert info.value.field == "args[1]"
    with pytest.raises(ExpressionError) as info:
        render([[{"a": "{{ 1/0 }}"}]], CTX)
    assert info.value.field == "[0][0].a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ x }}", True),
        ("a {{ x }} b", True),
        ("{{ unterminated", True),
        ("plain", False),
        ("{ x }", False),
        ("}} {{", True),
        ("", False),
    ],
)
def test_is_template(text: str, expected: bool) -> None:
    assert is_template(text) is expected


def test_is_template_on_non_strings() -> None:
    assert is_template(5) is False  # type: ignore[arg-type]
    assert is_template(None) is False  # type: ignore[arg-type]


def test_large_templates_render_without_caching() -> None:
    body = "line {{ item }}\n" * 1000  # longer than the cache bound
    assert render(body, CTX) == "line 5\n" * 1000
