"""The public surface of attune_core.expr changes only deliberately."""

from __future__ import annotations

import pickle

import pytest

import attune_core.expr as expr
from attune_core.errors import ValidationError
from attune_core.expr import ExpressionError, MappingContext, compile, evaluate


def test_all_is_pinned() -> None:
    assert sorted(expr.__all__) == [
        "EvalContext",
        "Expression",
        "ExpressionError",
        "MappingContext",
        "compile",
        "evaluate",
        "is_template",
        "render",
    ]
    for name in expr.__all__:
        assert getattr(expr, name) is not None


def test_expression_error_is_a_validation_error_with_location() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("1 + ", {})
    exc = info.value
    assert isinstance(exc, ValidationError)
    assert exc.code == "VALIDATION_ERROR"
    assert exc.message == "unexpected end of expression: an operand is missing"
    assert exc.source == "1 + "
    assert exc.column == 5
    assert exc.details == {"source": "1 + ", "column": 5}
    assert str(exc) == "unexpected end of expression: an operand is missing (column 5 of '1 + ')"


def test_expression_error_pickles() -> None:
    error = ExpressionError("boom", source="a + b", column=3, field="input.x")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.source, copy.column, copy.field) == ("boom", "a + b", 3, "input.x")


def test_compile_is_cached_and_reusable() -> None:
    first = compile("parameters.x + 1")
    assert compile("parameters.x + 1") is first
    assert first.source == "parameters.x + 1"
    assert first.evaluate({"parameters": {"x": 1}}) == 2
    assert first.evaluate(MappingContext({"parameters": {"x": 41}})) == 42
    assert repr(first) == "Expression('parameters.x + 1')"
