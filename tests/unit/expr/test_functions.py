"""Every built-in function: normal use, edge cases, type errors and arity."""

from __future__ import annotations

from typing import Any

import pytest

from attune_core.expr import ExpressionError, compile, evaluate

CTX: dict[str, Any] = {
    "workflow": {
        "data": {"b": 1, "a": 2},
        "words": ["b", "a", "c"],
        "nums": [3, 1.5, 2],
        "text": "  Hello World  ",
    }
}


def ev(source: str) -> Any:
    return evaluate(source, CTX)


CASES: list[tuple[str, Any]] = [
    # string()
    ("string('a')", "a"),
    ("string(3)", "3"),
    ("string(-2.5)", "-2.5"),
    ("string(2.0)", "2.0"),
    ("string(true)", "true"),
    ("string(false)", "false"),
    ("string(null)", "null"),
    ("string([1, 'a', null])", '[1,"a",null]'),
    ("string({'k': [true]})", '{"k":[true]}'),
    ("string('é')", "é"),
    # number()
    ("number('42')", 42),
    ("number(' 42 ')", 42),
    ("number('-3.5')", -3.5),
    ("number('1e3')", 1000.0),
    ("number('.5')", 0.5),
    ("number(7)", 7),
    ("number(7.5)", 7.5),
    ("number(true)", 1),
    ("number(false)", 0),
    # int()
    ("int('42')", 42),
    ("int('-42')", -42),
    ("int('2.9')", 2),
    ("int(2.9)", 2),
    ("int(-2.9)", -2),
    ("int(5)", 5),
    ("int(true)", 1),
    # bool()
    ("bool(1)", True),
    ("bool(0)", False),
    ("bool('')", False),
    ("bool('false')", True),
    ("bool([])", False),
    ("bool({'a': 1})", True),
    ("bool(null)", False),
    # type_of()
    ("type_of(null)", "null"),
    ("type_of(true)", "boolean"),
    ("type_of(1)", "number"),
    ("type_of(1.5)", "number"),
    ("type_of('s')", "string"),
    ("type_of([])", "array"),
    ("type_of({})", "object"),
    ("type_of(missing)", "null"),
    # length()
    ("length('héllo')", 5),
    ("length('')", 0),
    ("length([1, 2, 3])", 3),
    ("length({'a': 1, 'b': 2})", 2),
    # keys() / values()
    ("keys(workflow.data)", ["b", "a"]),
    ("values(workflow.data)", [1, 2]),
    ("keys({})", []),
    # abs()
    ("abs(-3)", 3),
    ("abs(-3.5)", 3.5),
    ("abs(4)", 4),
    # floor() / ceil() / round()
    ("floor(2.7)", 2),
    ("floor(-2.1)", -3),
    ("floor(5)", 5),
    ("ceil(2.1)", 3),
    ("ceil(-2.7)", -2),
    ("ceil(5)", 5),
    ("round(2.4)", 2),
    ("round(2.5)", 3),
    ("round(3.5)", 4),
    ("round(-2.5)", -3),
    ("round(-2.4)", -2),
    ("round(0.49999999999999994)", 0),
    ("round(7)", 7),
    # min() / max()
    ("min(3, 1.5)", 1.5),
    ("max(3, 1.5)", 3),
    ("min('b', 'a')", "a"),
    ("max('b', 'a')", "b"),
    ("min(workflow.nums)", 1.5),
    ("max(workflow.nums)", 3),
    ("max(['x', 'y'])", "y"),
    ("min(2, 2.0)", 2),
    # sum()
    ("sum([1, 2, 3])", 6),
    ("sum([1, 2.5])", 3.5),
    ("sum([])", 0),
    # lower() / upper() / trim()
    ("lower('HeLLo')", "hello"),
    ("upper('straße')", "STRASSE"),
    ("trim(workflow.text)", "Hello World"),
    ("trim('\\n\\t x \\n')", "x"),
    # split() / join()
    ("split('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("split('a--b', '--')", ["a", "b"]),
    ("split('', ',')", [""]),
    ("join(['a', 'b'], ', ')", "a, b"),
    ("join([], ', ')", ""),
    ("join([1, true, null, 'x'], '-')", "1-true-null-x"),
    ("join(sort(keys(workflow.data)), ', ')", "a, b"),
    # replace()
    ("replace('a-b-c', '-', '+')", "a+b+c"),
    ("replace('aaa', 'a', '')", ""),
    ("replace('abc', 'x', 'y')", "abc"),
    # starts_with() / ends_with()
    ("starts_with('deploy-prod', 'deploy')", True),
    ("starts_with('deploy', 'prod')", False),
    ("ends_with('file.tar.gz', '.gz')", True),
    ("ends_with('file', '')", True),
    # match()
    ("match('^[a-z]+-[0-9]+$', 'web-01')", True),
    ("match('[0-9]', 'abc')", False),
    ("match('\\\\d+', 'port 80')", True),
    ("match('\\d+', 'port 80')", True),
    ("match('(?i)^error', 'ERROR: disk')", True),
    ("match('', '')", True),
    # contains()
    ("contains([1, 2], 2)", True),
    ("contains([1, 2], '2')", False),
    ("contains('hello', 'ell')", True),
    ("contains({'a': 1}, 'a')", True),
    ("contains([[1]], [1])", True),
    # reversed()
    ("reversed([1, 2, 3])", [3, 2, 1]),
    ("reversed('abc')", "cba"),
    ("reversed([])", []),
    # sort()
    ("sort([3, 1, 2.5])", [1, 2.5, 3]),
    ("sort(workflow.words)", ["a", "b", "c"]),
    ("sort(['b', 'B', 'a'])", ["B", "a", "b"]),
    ("sort([])", []),
    # unique()
    ("unique([1, 2, 1, 3, 2])", [1, 2, 3]),
    ("unique([1, 1.0, true, '1'])", [1, True, "1"]),
    ("unique([[1], [1], {'a': 1}, {'a': 1}, null, null])", [[1], {"a": 1}, None]),
    # flat()
    ("flat([[1, 2], [3], [], 4])", [1, 2, 3, 4]),
    ("flat([[[1]], [2]])", [[1], 2]),
    # zip()
    ("zip([1, 2, 3], ['a', 'b'])", [[1, "a"], [2, "b"]]),
    ("zip([], [1])", []),
    # range()
    ("range(3)", [0, 1, 2]),
    ("range(0)", []),
    ("range(-2)", []),
    ("range(2, 5)", [2, 3, 4]),
    ("range(5, 2)", []),
    ("range(-2, 1)", [-2, -1, 0]),
    # slice()
    ("slice([1, 2, 3, 4], 1, 3)", [2, 3]),
    ("slice([1, 2, 3, 4], 1)", [2, 3, 4]),
    ("slice([1, 2, 3, 4], -2, null)", [3, 4]),
    ("slice([1, 2, 3, 4], null, -1)", [1, 2, 3]),
    ("slice('hello', 1, 3)", "el"),
    ("slice('hello', 10, 20)", ""),
    # index_of()
    ("index_of([1, 2, 3], 2)", 1),
    ("index_of([1, 2, 3], 9)", -1),
    ("index_of([{'a': 1}], {'a': 1})", 0),
    ("index_of('hello', 'l')", 2),
    ("index_of('hello', 'z')", -1),
    # count()
    ("count([1, 2, 1, 1.0, true], 1)", 3),
    ("count('banana', 'an')", 2),
    ("count('aaaa', 'aa')", 2),
    ("count([], 1)", 0),
    # merge()
    ("merge({'a': 1, 'b': 2}, {'b': 3, 'c': 4})", {"a": 1, "b": 3, "c": 4}),
    ("merge({}, {})", {}),
    ("merge({'a': {'x': 1}}, {'a': {'y': 2}})", {"a": {"y": 2}}),
    # chunks()
    ("chunks([1, 2, 3, 4, 5], 2)", [[1, 2], [3, 4], [5]]),
    ("chunks([1, 2], 5)", [[1, 2]]),
    ("chunks([], 3)", []),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_builtin(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected
    assert type(result) is type(expected)


def test_every_builtin_of_the_reference_is_covered() -> None:
    reference = {
        *("string", "number", "int", "bool", "type_of", "length", "keys", "values"),
        *("abs", "floor", "ceil", "round", "min", "max", "sum", "lower", "upper", "trim"),
        *("split", "join", "replace", "starts_with", "ends_with", "match", "contains"),
        *("reversed", "sort", "unique", "flat", "zip", "range", "slice", "index_of"),
        *("count", "merge", "chunks"),
    }
    covered = {source.split("(")[0] for source, _ in CASES}
    assert reference <= covered


def test_functions_do_not_mutate_their_arguments() -> None:
    data = {"workflow": {"xs": [3, 1, 2], "o": {"a": 1}}}
    assert evaluate("sort(xs)", data) == [1, 2, 3]
    assert evaluate("reversed(xs)", data) == [2, 1, 3]
    assert evaluate("merge(o, {'b': 2})", data) == {"a": 1, "b": 2}
    assert data == {"workflow": {"xs": [3, 1, 2], "o": {"a": 1}}}


ERRORS: list[tuple[str, str]] = [
    ("number('abc')", "number(): 'abc' is not a number"),
    ("number('')", "number(): '' is not a number"),
    ("number('nan')", "number(): 'nan' is not a number"),
    ("number('1e999')", "number(): '1e999' is not a number"),
    ("number('99999999999999999999')", "out of the 64-bit integer range"),
    ("number(null)", "number() expects a string, number or boolean, got null"),
    ("number([1])", "number() expects a string, number or boolean, got array"),
    ("int('x1')", "int(): 'x1' is not a number"),
    ("int(1e300)", "integer overflow"),
    ("int({})", "int() expects a string, number or boolean, got object"),
    ("length(5)", "length() expects a string, array or object, got number"),
    ("length(null)", "length() expects a string, array or object, got null"),
    ("keys([1])", "keys() expects an object, got array"),
    ("values('s')", "values() expects an object, got string"),
    ("abs('1')", "abs() expects a number, got string"),
    ("abs(true)", "abs() expects a number, got boolean"),
    ("floor(null)", "floor() expects a number, got null"),
    ("ceil('2')", "ceil() expects a number, got string"),
    ("round([])", "round() expects a number, got array"),
    ("min(1, 'a')", "min() needs two numbers or two strings, got number and string"),
    ("max(true, false)", "max() needs two numbers or two strings, got boolean and boolean"),
    ("min([])", "min() of an empty array"),
    ("max([1, 'a'])", "max() needs all numbers or all strings, found number, string"),
    ("min(5)", "min() expects an array, got number"),
    ("sum([1, '2'])", "sum() needs an array of numbers, found string"),
    ("sum([true])", "sum() needs an array of numbers, found boolean"),
    ("sum('abc')", "sum() expects an array, got string"),
    ("lower(1)", "lower() expects a string, got number"),
    ("upper(null)", "upper() expects a string, got null"),
    ("trim([])", "trim() expects a string, got array"),
    ("split('a', '')", "split() separator must not be empty"),
    ("split(1, ',')", "split() expects a string, got number"),
    ("join('ab', ',')", "join() expects an array, got string"),
    ("join(['a'], 1)", "join() expects a string, got number"),
    ("replace('a', 1, 'b')", "replace() expects a string, got number"),
    ("starts_with(1, '1')", "starts_with() expects a string, got number"),
    ("ends_with('a', null)", "ends_with() expects a string, got null"),
    ("match('(', 'x')", "match(): invalid regular expression: missing ): ("),
    ("match('(a)\\\\1', 'aa')", "match(): invalid regular expression"),
    ("match(1, 'x')", "match() expects a string, got number"),
    ("contains(1, 1)", "contains() needs an array, object or string to look in, got number"),
    ("contains('abc', 1)", "contains() on a string needs a string to look for, got number"),
    ("reversed(5)", "reversed() expects an array or a string, got number"),
    ("sort([1, 'a'])", "sort() needs all numbers or all strings, found number, string"),
    ("sort([[1]])", "sort() needs all numbers or all strings, found array"),
    ("sort({'a': 1})", "sort() expects an array, got object"),
    ("unique('aa')", "unique() expects an array, got string"),
    ("flat({'a': 1})", "flat() expects an array, got object"),
    ("zip([1], 'a')", "zip() expects an array, got string"),
    ("range('3')", "range() expects an integer, got string"),
    ("range(2.5)", "range() expects an integer, got 2.5"),
    ("range(true)", "range() expects an integer, got boolean"),
    ("slice(5, 0, 1)", "slice() expects an array or a string, got number"),
    ("slice([1], 'a')", "slice() expects an integer, got string"),
    ("index_of(5, 1)", "index_of() expects an array or a string, got number"),
    ("index_of('abc', 1)", "index_of() expects a string, got number"),
    ("count(null, 1)", "count() expects an array or a string, got null"),
    ("merge({}, [])", "merge() expects an object, got array"),
    ("chunks([1], 0)", "chunks() size must be at least 1, got 0"),
    ("chunks('ab', 1)", "chunks() expects an array, got string"),
]


@pytest.mark.parametrize(("source", "message"), ERRORS)
def test_builtin_errors_name_the_function(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(source)
    assert message in info.value.message
    assert info.value.column == 1
    assert info.value.source == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("length()", "length() takes 1 argument, got 0"),
        ("length(1, 2)", "length() takes 1 argument, got 2"),
        ("split('a')", "split() takes 2 arguments, got 1"),
        ("replace('a', 'b')", "replace() takes 3 arguments, got 2"),
        ("range()", "range() takes 1 to 2 arguments, got 0"),
        ("range(1, 2, 3)", "range() takes 1 to 2 arguments, got 3"),
        ("slice([1])", "slice() takes 2 to 3 arguments, got 1"),
        ("min(1, 2, 3)", "min() takes 1 to 2 arguments, got 3"),
        ("  x + upper('a', 'b')", "upper() takes 1 argument, got 2"),
    ],
)
def test_arity_is_checked_at_compile_time(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile(source)
    assert info.value.message == message
    assert info.value.column == source.index(message.split("(")[0]) + 1


def test_unknown_function_is_an_evaluation_error() -> None:
    expression = compile("lenght(x)")  # compiles: a context may provide functions
    with pytest.raises(ExpressionError) as info:
        expression.evaluate({})
    assert info.value.message == "unknown function 'lenght'"
    assert info.value.column == 1
