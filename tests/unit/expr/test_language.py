"""Literals, operators, precedence and type rules of the expression language.

Every example of the reference's "Workflow Expression Engine" section appears here or in
test_templates.py, with the result the reference gives.
"""

from __future__ import annotations

from typing import Any

import pytest

from attune_core.expr import ExpressionError, evaluate

CTX: dict[str, Any] = {
    "parameters": {"x": 21, "first": "Ada", "last": "Lovelace", "flag": False},
    "workflow": {
        "items": [1, 2, 3, 4],
        "roles": ["admin", "ops"],
        "data": {"b": 1, "a": 2},
        "counter": 7,
    },
    "config": {"retries": 2, "base_url": "https://api.example.com"},
}


def ev(source: str, context: Any = None) -> Any:
    return evaluate(source, CTX if context is None else context)


def err(source: str, context: Any = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        ev(source, context)
    return info.value


# -- literals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("3.25", 3.25),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ("-7", -7),
        ("-0.5", -0.5),
        ("true", True),
        ("false", False),
        ("null", None),
        ('"double"', "double"),
        ("'single'", "single"),
        ("''", ""),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\nb\tc\\d\"e\/f"', 'a\nb\tc\\d"e/f'),
        (r"'\u00e9\u20ac'", "é€"),
        (r'"\ud83d\ude00"', "\U0001f600"),
        (r"'\d+'", "\\d+"),  # unknown escapes keep the backslash (regex friendly)
        ('"héllo ✓"', "héllo ✓"),
        ("[]", []),
        ("[1, 'a', null, [true]]", [1, "a", None, [True]]),
        ("[1, 2,]", [1, 2]),
        ("{}", {}),
        ('{"k": 1, "n": {"m": [1]}}', {"k": 1, "n": {"m": [1]}}),
        ("{'a': 1, 'a': 2}", {"a": 2}),
        ('{"k": parameters.x + 1,}', {"k": 22}),
    ],
)
def test_literals(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


def test_array_and_object_literals_are_fresh_on_each_evaluation() -> None:
    first = ev("[1, {'a': []}]")
    first[1]["a"].append("mutated")
    assert ev("[1, {'a': []}]") == [1, {"a": []}]


def test_keywords_are_lowercase_only() -> None:
    # True/False/None are ordinary names (workflow variables), null when undefined.
    assert ev("True") is None
    assert ev("None", {"workflow": {"None": 3}}) == 3


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("'open", "unterminated string", 1),
        ('1 + "open', "unterminated string", 5),
        ("99999999999999999999", "integer 99999999999999999999 is out of range (64-bit)", 1),
        ("1e999", "number 1e999 is out of range", 1),
        ("x @ y", "unexpected character '@'", 3),
        ("{k: 1}", "object keys must be quoted strings, found 'k'", 2),
        ("[1, 2", "expected ']' to close the array, found end of expression", 6),
        ("(1 + 2", "expected ')' to close the parenthesis, found end of expression", 7),
        ("length(1", "expected ')' to close the arguments of length(), found end of expression", 9),
        ("", "empty expression", 1),
        ("   ", "empty expression", 4),
        ("1 2", "unexpected number 2 after the expression", 3),
        ("a.", "expected a field name after '.', found end of expression", 3),
        ("a.'b'", "expected a field name after '.', found a string", 3),
        ("and", "unexpected 'and': an operand is missing", 1),
        ("x.y()", "only named functions can be called, e.g. length(x); there are no methods", 4),
        ("x not in y", "'not in' is not an operator: write not (x in y)", 3),
        ("1 < 2 < 3", "comparisons cannot be chained", 7),
        ("1 == 1 == 1", "comparisons cannot be chained", 8),
        ('"\\ud800"', "invalid \\u escape: unpaired surrogate", 1),
    ],
)
def test_syntax_errors_carry_message_and_column(source: str, message: str, column: int) -> None:
    error = err(source)
    assert error.message.startswith(message)
    assert error.column == column
    assert error.source == source


@pytest.mark.parametrize(
    ("source", "hint"),
    [("x | upper", "filters are not supported"), ("!x", "use 'not'"), ("a = 1", "'=='")],
)
def test_jinja_habits_get_a_hint(source: str, hint: str) -> None:
    assert hint in err(source).message


# -- precedence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("100 / 10 / 5", 2),
        ("2 * 3 % 4", 2),
        ("-2 * 3", -6),
        ("- (2 + 3)", -5),
        ("-workflow.items[0]", -1),
        ("- - 3", 3),
        ("1 + 2 == 3", True),
        ("1 + 2 < 2 * 2", True),
        ("not 1 == 2", True),
        ("not true and false", False),
        ("not (true and false)", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("false or not false", True),
        ("1 in [1] and 2 in [2]", True),
        ("not 'a' in ['b']", True),
        ("workflow.items[1] * 2 + 1", 5),
        ("length(workflow.items) - 1", 3),
    ],
)
def test_precedence(source: str, expected: Any) -> None:
    assert ev(source) == expected


# -- type rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"3" == 3', False),
        ("3 == 3.0", True),
        ("3 != 3.0", False),
        ("2 + 3", 5),
        ("2 + 1.5", 3.5),
        ("10 / 4", 2.5),
        ("10 / 5", 2),
        ("-10 / 5", -2),
        ("10.0 / 5", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),  # floored modulo, as in Python
        ("7.5 % 2", 1.5),
        ("2 * 2.5", 5.0),
        ("5 - 7.5", -2.5),
        ('"ab" + "cd"', "abcd"),
        ("[1] + [2, 3]", [1, 2, 3]),
        ("[] + []", []),
        ("1 < 2.5", True),
        ("2.5 >= 2", True),
        ("3 <= 3", True),
        ('"apple" < "banana"', True),
        ('"b" > "a"', True),
        ('"Z" < "a"', True),  # code point order
        ("true == 1", False),
        ("false == 0", False),
        ("null == false", False),
        ("null == null", True),
        ("[1, [2, {'a': 3}]] == [1, [2, {'a': 3.0}]]", True),
        ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", True),
        ("{'a': 1} == {'a': 1, 'b': null}", False),
        ("[1, 2] != [2, 1]", True),
        ("[true] == [1]", False),
        ("{'a': true} == {'a': 1}", False),
    ],
)
def test_type_rules(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ('"hello" + 5', "cannot add string and number", 9),
        ("[1] + 'a'", "cannot add array and string", 5),
        ("{'a': 1} + {'b': 2}", "cannot add object and object", 10),
        ("null + 1", "cannot add null and number", 6),
        ("true + 1", "cannot add boolean and number", 6),
        ("'a' - 'b'", "cannot subtract string and string: numbers only", 5),
        ("'ab' * 3", "cannot multiply string and number: numbers only", 6),
        ("[1] * 2", "cannot multiply array and number: numbers only", 5),
        ("true / 2", "cannot divide boolean and number: numbers only", 6),
        ("1 / 0", "division by zero", 3),
        ("1.5 / 0.0", "division by zero", 5),
        ("5 % 0", "modulo by zero", 3),
        ("-'a'", "cannot negate string: numbers only", 1),
        ("-true", "cannot negate boolean: numbers only", 1),
        ("1 < 'a'", "cannot compare number < string: both must be numbers or both strings", 3),
        ("null > 0", "cannot compare null > number", 6),
        ("true < false", "cannot compare boolean < boolean", 6),
        ("[1] <= [2]", "cannot compare array <= array", 5),
        ("9223372036854775807 + 1", "integer overflow (results must fit in 64 bits)", 21),
        ("-9223372036854775807 - 2", "integer overflow", 22),
        ("4294967296 * 4294967296", "integer overflow", 12),
        ("1e308 * 10", "number out of range", 7),
    ],
)
def test_type_errors(source: str, message: str, column: int) -> None:
    error = err(source)
    assert error.message.startswith(message)
    assert error.column == column


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (None, False),
        (False, False),
        (0, False),
        (0.0, False),
        ("", False),
        ([], False),
        ({}, False),
        (True, True),
        (1, True),
        (-0.5, True),
        ("0", True),
        ("false", True),
        ([0], True),
        ({"a": None}, True),
    ],
)
def test_python_truthiness(value: Any, truthy: bool) -> None:
    ctx = {"workflow": {"v": value}}
    assert evaluate("not not v", ctx) is truthy
    assert evaluate("v and true", ctx) is truthy
    assert evaluate("v or false", ctx) is truthy


def test_and_or_short_circuit_and_return_booleans() -> None:
    assert ev("false and 1 / 0") is False
    assert ev("true or 1 / 0") is True
    assert ev("'x' or 'y'") is True
    assert ev("1 and 2 and 3") is True
    assert ev("0 or '' or []") is False
    assert ev("false or false or 'yes'") is True
    with pytest.raises(ExpressionError, match="division by zero"):
        ev("true and 1 / 0")


# -- in ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"admin" in workflow.roles', True),
        ('"root" in workflow.roles', False),
        ("2 in [1, 2.0]", True),
        ("true in [1]", False),
        ("1 in [true]", False),
        ("null in [null]", True),
        ("[1] in [[1], [2]]", True),
        ("{'a': 1} in [{'a': 1}]", True),
        ('"a" in {"a": 1}', True),
        ('"b" in {"a": 1}', False),
        ("1 in {'1': 1}", False),
        ("[1] in {'a': 1}", False),
        ('"ell" in "hello"', True),
        ('"" in "hello"', True),
        ('"x" in "hello"', False),
    ],
)
def test_membership(source: str, expected: bool) -> None:
    assert ev(source) is expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1 in 'abc'", "'in' on a string needs a string to look for, got number"),
        ("1 in 5", "'in' needs an array, object or string to look in, got number"),
        ("'a' in null", "'in' needs an array, object or string to look in, got null"),
    ],
)
def test_membership_errors(source: str, message: str) -> None:
    assert err(source).message == message


# -- names, members, indexing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("parameters.x", 21),
        ("parameters['first']", "Ada"),
        ("workflow.items[0]", 1),
        ("workflow.items[-1]", 4),
        ("workflow.items[-4]", 1),
        ("workflow.items[4]", None),
        ("workflow.items[-5]", None),
        ("workflow.items.0", 1),
        ("workflow.items.3", 4),
        ("workflow.items.9", None),
        ("workflow.items['1']", 2),
        ("'hello'[1]", "e"),
        ("'hello'[-1]", "o"),
        ("'hello'[10]", None),
        ("parameters.missing", None),
        ("parameters.missing.deeper.still", None),
        ("nothing", None),
        ("nothing[0]", None),
        ("nothing['a']", None),
        ("parameters.x.y", None),
        ("parameters.first.length", None),
        ("workflow.items.name", None),
        ("config.retries", 2),
        ("{'a': {'b': [10, 20]}}.a.b[1]", 20),
        ("[[1, 2], [3]][0][1]", 2),
        ("counter", 7),  # bare names fall back to workflow variables
        ("{'and': 1, 'in': 2, 'null': 3}.in", 2),  # keywords are valid member names
    ],
)
def test_access(source: str, expected: Any) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("workflow.items[1.0]", "index must be an integer, got 1.0", 15),
        ("workflow.items[true]", "index must be a string or an integer, got boolean", 15),
        ("workflow.items[null]", "index must be a string or an integer, got null", 15),
        ("workflow.data[0]", "cannot index object with a number", 14),
        ("parameters.x[0]", "cannot index number with a number", 13),
    ],
)
def test_index_errors(source: str, message: str, column: int) -> None:
    error = err(source)
    assert (error.message, error.column) == (message, column)


# -- the reference's `when:` examples ------------------------------------------------------------


def test_reference_conditions() -> None:
    last = {"code": 200, "status": "accepted"}
    functions = {
        "succeeded": lambda: True,
        "failed": lambda: False,
        "timed_out": lambda: False,
        "result": lambda: last,
    }
    from attune_core.expr import MappingContext

    ctx = MappingContext(
        {"workflow": {"items": [1, 2, 3, 4], "roles": ["admin"]}, "config": {"retries": 1}},
        functions,
    )
    assert evaluate("succeeded() and result().code == 200", ctx) is True
    assert evaluate('length(workflow.items) > 3 and "admin" in workflow.roles', ctx) is True
    assert evaluate("not failed()", ctx) is True
    assert evaluate('result().status == "ok" or result().status == "accepted"', ctx) is True
    assert evaluate("config.retries > 0", ctx) is True
    assert evaluate("timed_out()", ctx) is False


def test_whitespace_and_newlines_are_insignificant() -> None:
    assert ev("\n  parameters.x\n    *\t2\n") == 42


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("1.e5", "a number literal has no fields", 2),
        ("'abc'.length", "a string literal has no fields", 6),
        ("null.x", "a null literal has no fields", 5),
    ],
)
def test_fields_of_literals_are_syntax_errors(source: str, message: str, column: int) -> None:
    error = err(source)
    assert (error.message, error.column) == (message, column)


def test_a_braced_template_given_as_a_bare_expression_gets_a_hint() -> None:
    error = err("{{ parameters.x }}")
    assert "use render() for templates" in error.message


def test_a_context_must_be_a_mapping_or_an_eval_context() -> None:
    with pytest.raises(TypeError, match="context must be a mapping or an EvalContext"):
        evaluate("1", 5)  # type: ignore[arg-type]
