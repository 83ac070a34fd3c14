"""Property-based tests (hypothesis).

1. On arbitrary input the tokenizer, parser, compiler, evaluator and template renderer raise
   nothing but ExpressionError.
2. Types round-trip: a value written as a literal evaluates to an equal value of the same JSON
   types, and ``"{{ v }}"`` renders to the value itself.
3. Arithmetic matches exact integer/float arithmetic within the 64-bit range.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_core.expr import ExpressionError, MappingContext, compile, evaluate, render
from attune_core.expr._limits import INT_MAX
from attune_core.expr._parser import parse
from attune_core.expr._tokenizer import tokenize

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INT64 = st.integers(min_value=-INT_MAX, max_value=INT_MAX)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | INT64 | FLOATS | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)

# Token soup: fragments of the language glued randomly reach deep into the parser and
# evaluator far more often than uniformly random text does.
FRAGMENTS = [
    *("(", ")", "[", "]", "{", "}", ",", ".", ":", "+", "-", "*", "/", "%"),
    *("==", "!=", "<", ">", "<=", ">=", "and", "or", "not", "in", "true", "false", "null"),
    *("0", "1", "-1", "2.5", "1e3", "'s'", '"t"', "''", "'\\n'", "x", "y", "z", "s", "arr"),
    *("obj", "nested", "workflow", "vars", "task", "item", "index", "missing"),
    *("length(", "keys(", "values(", "string(", "number(", "int(", "bool(", "type_of("),
    *("abs(", "floor(", "ceil(", "round(", "min(", "max(", "sum(", "lower(", "upper("),
    *("trim(", "split(", "join(", "replace(", "starts_with(", "ends_with(", "match("),
    *("contains(", "reversed(", "sort(", "unique(", "flat(", "zip(", "range(", "slice("),
    *("index_of(", "count(", "merge(", "chunks(", "result(", "nosuch("),
]
SOUP = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=25).map(" ".join)

CONTEXT = MappingContext(
    {
        "workflow": {
            "x": 3,
            "y": 2.5,
            "z": 0,
            "s": "a,b",
            "arr": [1, "two", None, [3]],
            "obj": {"k": 1, "s": "v"},
            "nested": {"a": [{"b": [1, 2]}]},
        },
        "task": {"t": {"result": {"ok": True}}},
        "item": "it",
        "index": 1,
    },
    {"result": lambda: {"code": 200}},
)


def _raised(call: Callable[[], Any]) -> ExpressionError | None:
    """Run ``call``; return the ExpressionError it raised (any other exception propagates)."""
    try:
        call()
    except ExpressionError as exc:
        return exc
    return None


def _only_expression_errors(source: str) -> None:
    error = _raised(lambda: evaluate(source, CONTEXT))
    if error is not None:
        assert error.source == source
        assert error.column is None or 1 <= error.column <= len(source) + 1


@FAST
@given(st.text(max_size=60))
def test_arbitrary_text_raises_only_expression_errors(source: str) -> None:
    # Each stage on its own, then the whole pipeline.
    _raised(lambda: tokenize(source))
    _raised(lambda: parse(source))
    _raised(lambda: compile(source))
    _only_expression_errors(source)


@FAST
@given(SOUP)
def test_token_soup_raises_only_expression_errors(source: str) -> None:
    _only_expression_errors(source)


@FAST
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=12), st.integers(0, 3))
def test_arbitrary_templates_raise_only_expression_errors(parts: list[str], braces: int) -> None:
    text = ("{{ " * braces).join(parts) + " }}" * (braces % 2)
    error = _raised(lambda: render({"k": [text]}, CONTEXT))
    if error is not None:
        assert error.source == text
        assert error.field == "k[0]"


@FAST
@given(JSON, JSON)
def test_functions_on_arbitrary_values_raise_only_expression_errors(a: Any, b: Any) -> None:
    ctx = {"workflow": {"a": a, "b": b}}
    for source in (
        "a + b",
        "a - b",
        "a * b",
        "a / b",
        "a % b",
        "a < b",
        "a == b",
        "a in b",
        "a[b]",
        "-a",
        "string(a)",
        "number(a)",
        "int(a)",
        "length(a)",
        "sort(a)",
        "unique(a)",
        "flat(a)",
        "sum(a)",
        "min(a)",
        "max(a, b)",
        "join(a, b)",
        "split(a, b)",
        "replace(a, b, a)",
        "contains(a, b)",
        "index_of(a, b)",
        "count(a, b)",
        "merge(a, b)",
        "zip(a, b)",
        "chunks(a, b)",
        "slice(a, b)",
        "range(a, b)",
        "match(a, b)",
        "round(a)",
        "keys(a)",
    ):
        _raised(lambda: evaluate(source, ctx))  # noqa: B023 - called immediately


def to_source(value: Any, quote: str = '"') -> str:
    """Write ``value`` as an expression literal."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if quote == '"':
            return json.dumps(value)
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(to_source(item, quote) for item in value) + "]"
    return (
        "{"
        + ", ".join(f"{to_source(k, quote)}: {to_source(v, quote)}" for k, v in value.items())
        + "}"
    )


def same(a: Any, b: Any) -> bool:
    """Equal *and* of the same JSON types all the way down (so 1 is not 1.0 or true)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@FAST
@given(JSON, st.sampled_from(['"', "'"]))
def test_literals_round_trip_with_their_types(value: Any, quote: str) -> None:
    assert same(evaluate(to_source(value, quote), {}), value)


@FAST
@given(JSON)
def test_a_single_template_expression_preserves_the_value(value: Any) -> None:
    ctx = {"workflow": {"v": value}}
    assert render("{{ v }}", ctx) is value
    assert same(render(" {{ vars.v }} ", ctx), value)
    assert same(render({"a": ["{{ v }}"]}, ctx), {"a": [value]})


@FAST
@given(JSON)
def test_mixed_text_renders_json_text(value: Any) -> None:
    rendered = render("<{{ v }}>", {"workflow": {"v": value}})
    if value is None:
        expected = ""
    elif isinstance(value, str):
        expected = value
    elif isinstance(value, bool):
        expected = "true" if value else "false"
    elif isinstance(value, list | dict):
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        expected = repr(value)
    assert rendered == f"<{expected}>"


@FAST
@given(JSON)
def test_equality_is_reflexive_and_type_strict(value: Any) -> None:
    ctx = {"workflow": {"v": value, "w": json.loads(json.dumps(value))}}
    assert evaluate("v == w", ctx) is True
    assert evaluate("v != w", ctx) is False
    assert evaluate("[v] == [true]", ctx) is (value is True)


@FAST
@given(INT64, INT64)
def test_integer_arithmetic_is_exact_or_an_error(a: int, b: int) -> None:
    ctx = {"workflow": {"a": a, "b": b}}
    for op, exact in (("+", a + b), ("-", a - b), ("*", a * b)):
        expression = compile(f"a {op} b")
        if -INT_MAX - 1 <= exact <= INT_MAX:
            result = expression.evaluate(ctx)
            assert result == exact
            assert type(result) is int
        else:
            error = _raised(lambda: expression.evaluate(ctx))  # noqa: B023 - called now
            assert error is not None
            assert error.message.startswith("integer overflow")
    if b == 0:
        return
    quotient = evaluate("a / b", ctx)
    if a % b == 0:
        assert quotient == a // b
        assert type(quotient) is int
    else:
        assert type(quotient) is float
        assert quotient == a / b
    assert evaluate("a % b", ctx) == a % b


@FAST
@given(st.one_of(INT64, FLOATS), st.one_of(INT64, FLOATS))
def test_comparisons_agree_with_numbers(a: float, b: float) -> None:
    ctx = {"workflow": {"a": a, "b": b}}
    assert evaluate("a < b", ctx) is (a < b)
    assert evaluate("a >= b", ctx) is (a >= b)
    assert evaluate("a == b", ctx) is (a == b)


@FAST
@given(st.text(max_size=30), st.text(min_size=1, max_size=3))
def test_split_join_round_trip(text: str, separator: str) -> None:
    ctx = {"workflow": {"t": text, "sep": separator}}
    assert evaluate("join(split(t, sep), sep)", ctx) == text
    assert evaluate("length(split(t, sep)) - 1", ctx) == text.count(separator)
