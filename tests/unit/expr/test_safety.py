"""Hostile input: every case ends in an ExpressionError, quickly, without exhausting memory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from attune_core.expr import ExpressionError, compile, evaluate, render
from attune_core.expr._limits import (
    EVAL_BUDGET,
    MAX_NESTING,
    MAX_RANGE,
    MAX_REGEX_PATTERN,
    MAX_SOURCE_LENGTH,
    MAX_TEMPLATE_LENGTH,
)

# What "fails fast" means here: a hang (catastrophic backtracking, unbounded building) would take
# minutes; the real figures are milliseconds to ~0.1 s. The bound is generous because the suite
# runs in parallel with other work on shared CI machines (6.7 s was seen once on a 2-core machine
# with a load average near 30).
FAST = 15.0


def _nested_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _cyclic() -> dict[str, Any]:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    return cycle


BIG = "x" * 200_000

CTX: dict[str, Any] = {
    "workflow": {
        "big": BIG,
        "deep": _nested_list(5_000),
        "cycle": _cyclic(),
        "huge": 2**200,
        "float_huge": 1e200,
        "many": list(range(100_000)),
    }
}


@pytest.fixture
def timer() -> Iterator[None]:
    start = time.perf_counter()
    yield
    assert time.perf_counter() - start < FAST


def _fails(source: str, match: str) -> ExpressionError:
    with pytest.raises(ExpressionError, match=match) as info:
        evaluate(source, CTX)
    return info.value


@pytest.mark.usefixtures("timer")
@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("(" * 10_000 + "1" + ")" * 10_000, "too long"),
        ("(" * 4_000 + "1" + ")" * 4_000, "nested too deeply"),
        ("[" * 1_000 + "]" * 1_000, "nested too deeply"),
        ("{'a': " * 500 + "1" + "}" * 500, "nested too deeply"),
        ("-" * 5_000 + "1", "nested too deeply"),
        ("not " * 2_000 + "true", "nested too deeply"),
        ("length(" * 1_000 + "1" + ")" * 1_000, "nested too deeply"),
        ("x[" * 2_000 + "0" + "]" * 2_000, "nested too deeply"),
        ("1 +" * 3_000, "operand is missing"),
        ("'" + "a" * 9_000, "unterminated string"),
        ('"' + "\\" * 9_001, "unterminated string"),
    ],
)
def test_hostile_sources_fail_fast(source: str, match: str) -> None:
    _fails(source, match)


def test_nesting_limit_is_exact() -> None:
    inside = "(" * MAX_NESTING + "1" + ")" * MAX_NESTING
    assert evaluate(inside, {}) == 1
    with pytest.raises(ExpressionError, match="nested too deeply"):
        evaluate("(" + inside + ")", {})


def test_source_length_limit() -> None:
    ok = "1" + " " * (MAX_SOURCE_LENGTH - 1)
    assert evaluate(ok, {}) == 1
    with pytest.raises(ExpressionError) as info:
        compile(ok + " ")
    assert info.value.message == (
        f"expression is too long ({MAX_SOURCE_LENGTH + 1:,} characters, "
        f"limit {MAX_SOURCE_LENGTH:,})"
    )


def test_long_flat_chains_are_not_nesting() -> None:
    # Long but flat expressions are fine: chains are evaluated in a loop, not recursively.
    assert evaluate(" + ".join(["1"] * 2_000), {}) == 2_000
    assert evaluate("x" + "[0]" * 2_000, {"workflow": {"x": _nested_list(2_000)}}) == []
    assert evaluate(" or ".join(["false"] * 1_000) + " or true", {}) is True
    assert evaluate(" and ".join(["true"] * 1_000), {}) is True
    assert evaluate("x" + ".a" * 3_000, {"workflow": {"x": {}}}) is None


@pytest.mark.usefixtures("timer")
@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("range(1000000000)", "over the limit"),
        (f"range({MAX_RANGE + 1})", "over the limit"),
        ("range(-5000000000, 5000000000)", "over the limit"),
        ("[" + ", ".join([f"range({MAX_RANGE})"] * 101) + "]", "builds too much data"),
        ("big + big + big + big + big + big", "builds too much data"),
        ("upper(big + big + big) + lower(big + big)", "builds too much data"),
        ("replace(big, 'x', 'yyyyyy')", "builds too much data"),
        ("replace('abcdef', '', big)", "builds too much data"),
        ("join(many, big)", "builds too much data"),
        ("split(big + big + big + big + big, 'x')", "builds too much data"),
        ("flat([many, many, many, many, many, many, many, many, many, many, many])", "too much"),
        ("zip(many, many) + zip(many, many) + zip(many, many) + zip(many, many)", "too much"),
        ("string(many) + string(many)", "builds too much data"),
        ("sort(many + many + many + many + many + many + many + many + many + many)", "too"),
        ("chunks(many, 1) + chunks(many, 1) + chunks(many, 1) + chunks(many, 1)", "too much"),
        ("huge * huge", "integer overflow"),
        ("huge + 1", "integer overflow"),
        ("-huge", "integer overflow"),
        ("abs(huge)", "integer overflow"),
        ("int(huge)", "integer overflow"),
        ("9223372036854775807 * 9223372036854775807", "integer overflow"),
        ("huge / 1", "integer overflow"),
        ("float_huge * float_huge", "number out of range"),
        ("deep == deep", "nested too deeply"),
        ("unique([deep])", "nested too deeply"),
        ("string(deep)", "cannot be converted to text"),
        ("string(cycle)", "cannot be converted to text"),
        ("cycle == cycle", "nested too deeply"),
    ],
)
def test_hostile_evaluations_fail_fast(source: str, match: str) -> None:
    _fails(source, match)


def test_budget_counts_across_one_evaluation() -> None:
    half = "x" * (EVAL_BUDGET // 2)
    ctx = {"workflow": {"half": half}}
    assert len(evaluate("half + 'y'", ctx)) == len(half) + 1
    with pytest.raises(ExpressionError, match="builds too much data"):
        evaluate("[half + 'a', half + 'b', half + 'c']", ctx)
    # The budget is per evaluation: the next one starts afresh.
    assert len(evaluate("half + 'z'", ctx)) == len(half) + 1


@pytest.mark.usefixtures("timer")
@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a+)+$", "a" * 100_000 + "b"),
        ("(a|aa)+$", "a" * 100_000 + "b"),
        ("(.*a){20}", "a" * 10_000),
        ("^(\\w+\\s?)*$", "word " * 20_000 + "!"),
        ("(x+x+)+y", "x" * 50_000),
    ],
)
def test_regex_cannot_backtrack(pattern: str, text: str) -> None:
    ctx = {"workflow": {"p": pattern, "t": text}}
    assert evaluate("match(p, t)", ctx) in (True, False)


def test_regex_limits() -> None:
    ctx = {"workflow": {"p": "a" * (MAX_REGEX_PATTERN + 1), "t": "x" * 2_000_000}}
    with pytest.raises(ExpressionError, match="pattern is too long"):
        evaluate("match(p, 'a')", ctx)
    with pytest.raises(ExpressionError, match="input is too long"):
        evaluate("match('a', t)", ctx)
    with pytest.raises(ExpressionError, match="invalid regular expression"):
        evaluate("match('(?<=a)b', 'ab')", ctx)  # lookbehind: not linear, so not supported
    # RE2 bounds its memory: a pattern whose automaton would be huge is refused, not run.
    with pytest.raises(ExpressionError, match="invalid regular expression"):
        evaluate("match('((((((a{1,100}){1,100}){1,100}){1,100}))', 'a')", ctx)


@pytest.mark.usefixtures("timer")
def test_hostile_templates() -> None:
    with pytest.raises(ExpressionError, match="template is too long"):
        render("{{ 1 }}" + " " * MAX_TEMPLATE_LENGTH, {})
    with pytest.raises(ExpressionError, match="unterminated"):
        render("{{" + "(" * 5_000, {})
    many = "{{ big }}" * 10
    with pytest.raises(ExpressionError, match="builds too much data"):
        render(many, CTX)
    with pytest.raises(ExpressionError, match="cannot be rendered as text"):
        render("x {{ cycle }}", CTX)
    with pytest.raises(ExpressionError, match="cannot be rendered as text"):
        render("x {{ deep }}", CTX)
    with pytest.raises(ExpressionError, match="nested too deeply to render"):
        render(_nested_list(5_000), CTX)


@pytest.mark.parametrize(
    "source", ["s.__class__", "d.__class__.__mro__", "s.upper", "s['__len__']", "d['get']"]
)
def test_no_attribute_access_on_host_objects(source: str) -> None:
    assert evaluate(source, {"workflow": {"s": "text", "d": {}}}) is None


@pytest.mark.parametrize("source", ["__import__('os')", "getattr(s, 'upper')", "eval('1')"])
def test_no_python_builtins(source: str) -> None:
    with pytest.raises(ExpressionError, match="unknown function"):
        evaluate(source, {"workflow": {"s": "text"}})
