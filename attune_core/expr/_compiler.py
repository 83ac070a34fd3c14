"""Compiler: syntax tree -> a tree of Python closures, built once per expression.

Rules of this file:

1. Each node becomes a closure ``fn(frame) -> value``. Evaluating an expression is calling the
   root closure: no node dispatch, no isinstance chains at evaluation time. Dispatch happens
   here, once, and is cached with the compiled expression.
2. Closures inline only the common fast paths (int arithmetic, ``dict`` member access, equal
   types compared) and defer everything else to ``_runtime``/``_functions``, which hold the
   full semantics. A fast path must return exactly what the slow path would.
3. Built-in arity is checked here (compile time). Unknown function names compile, because the
   context may provide them; calling one the context lacks is an evaluation error.
4. Only constant scalars are folded. Array and object literals build a fresh value on every
   evaluation, because callers may mutate what they get back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attune_core.expr import _ast as ast
from attune_core.expr._errors import ExpressionError
from attune_core.expr._functions import BUILTINS, CONTEXT_FUNCTIONS
from attune_core.expr._limits import INT_MAX, INT_MIN
from attune_core.expr._runtime import (
    Frame,
    add,
    arith,
    contains,
    error,
    index,
    member,
    negate,
    order,
)
from attune_core.expr._values import equal

__all__ = ["Fn", "compile_node"]

Fn = Callable[[Frame], Any]


def compile_node(node: ast.Node) -> Fn:
    """Compile ``node`` into a closure; raises ExpressionError for arity errors."""
    compiler = _COMPILERS[type(node)]
    return compiler(node)


def _literal(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Literal)
    value = node.value

    def literal(frame: Frame) -> Any:
        return value

    return literal


def _name(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Name)
    name = node.name

    def lookup(frame: Frame) -> Any:
        return frame.resolve(name)

    return lookup


def _array(node: ast.Node) -> Fn:
    assert isinstance(node, ast.ArrayLit)
    items = [compile_node(item) for item in node.items]
    size = len(items)
    pos = node.pos

    def array(frame: Frame) -> list[Any]:
        frame.charge(size, pos)
        return [item(frame) for item in items]

    return array


def _object(node: ast.Node) -> Fn:
    assert isinstance(node, ast.ObjectLit)
    entries = [(key, compile_node(value)) for key, value in node.entries]
    size = len(entries)
    pos = node.pos

    def obj(frame: Frame) -> dict[str, Any]:
        frame.charge(size, pos)
        return {key: value(frame) for key, value in entries}

    return obj


def _call(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Call)
    name = node.name
    pos = node.pos
    args = [compile_node(arg) for arg in node.args]
    builtin = BUILTINS.get(name)
    if builtin is not None:
        low, high, impl = builtin
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            plural = "" if expected == "1" else "s"
            raise ExpressionError(
                f"{name}() takes {expected} argument{plural}, got {len(args)}", column=pos + 1
            )
        return _builtin_call(impl, args, pos)
    return _context_call(name, args, pos)


def _builtin_call(impl: Callable[..., Any], args: Sequence[Fn], pos: int) -> Fn:
    # Specialised by arity so that a call does not build an argument list.
    if len(args) == 1:
        (a,) = args

        def call1(frame: Frame) -> Any:
            return impl(frame, pos, a(frame))

        return call1
    if len(args) == 2:
        a, b = args

        def call2(frame: Frame) -> Any:
            return impl(frame, pos, a(frame), b(frame))

        return call2

    def call(frame: Frame) -> Any:
        return impl(frame, pos, *[arg(frame) for arg in args])

    return call


def _context_call(name: str, args: Sequence[Fn], pos: int) -> Fn:
    def call(frame: Frame) -> Any:
        function = frame.function(name)
        if function is None:
            if name in CONTEXT_FUNCTIONS:
                raise error(
                    f"{name}() is not available here: it is provided by the workflow engine "
                    "when a task transition is evaluated",
                    pos,
                )
            raise error(f"unknown function {name!r}", pos)
        values = [arg(frame) for arg in args]
        try:
            return function(*values)
        except ExpressionError as exc:
            if exc.column is None:
                exc.column = pos + 1
                exc.details = {"source": exc.source, "column": exc.column}
            raise
        except Exception as exc:
            # A context function is host code; whatever goes wrong in it is reported as an
            # expression error instead of escaping into (and crashing) the caller.
            raise error(f"{name}() failed: {exc}", pos) from exc

    return call


def _member_step(step: ast.Member) -> Callable[[Any, Frame], Any]:
    name = step.name

    def step_fn(value: Any, frame: Frame) -> Any:
        if type(value) is dict:
            return value.get(name)
        if value is None:
            return None
        return member(value, name)

    return step_fn


def _index_step(step: ast.Index) -> Callable[[Any, Frame], Any]:
    key_fn = compile_node(step.key)
    pos = step.pos

    def step_fn(value: Any, frame: Frame) -> Any:
        key = key_fn(frame)
        if type(value) is list and type(key) is int:
            if -len(value) <= key < len(value):
                return value[key]
            return None
        return index(value, key, pos)

    return step_fn


def _path(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Path)
    base = compile_node(node.base)
    if all(isinstance(step, ast.Member) for step in node.steps):
        # The hot case: parameters.url, task.fetch.result.data.id. One loop, no step closures.
        names = tuple(step.name for step in node.steps if isinstance(step, ast.Member))
        if len(names) == 1:
            (only,) = names

            def field(frame: Frame) -> Any:
                value = base(frame)
                if type(value) is dict:
                    return value.get(only)
                if value is None:
                    return None
                return member(value, only)

            return field

        def fields(frame: Frame) -> Any:
            value = base(frame)
            for name in names:
                if type(value) is dict:
                    value = value.get(name)
                elif value is None:
                    return None
                else:
                    value = member(value, name)
            return value

        return fields

    steps = tuple(
        _member_step(step) if isinstance(step, ast.Member) else _index_step(step)
        for step in node.steps
    )

    def path(frame: Frame) -> Any:
        value = base(frame)
        for step in steps:
            value = step(value, frame)
        return value

    return path


def _neg(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Neg)
    operand = compile_node(node.operand)
    pos = node.pos

    def neg(frame: Frame) -> Any:
        return negate(operand(frame), pos)

    return neg


def _not(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Not)
    operand = compile_node(node.operand)

    def not_(frame: Frame) -> bool:
        return not operand(frame)

    return not_


def _and(node: ast.Node) -> Fn:
    assert isinstance(node, ast.And)
    operands = [compile_node(operand) for operand in node.operands]
    if len(operands) == 2:
        a, b = operands

        def and2(frame: Frame) -> bool:
            return bool(a(frame)) and bool(b(frame))

        return and2

    def and_(frame: Frame) -> bool:
        return all(operand(frame) for operand in operands)

    return and_


def _or(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Or)
    operands = [compile_node(operand) for operand in node.operands]
    if len(operands) == 2:
        a, b = operands

        def or2(frame: Frame) -> bool:
            return bool(a(frame)) or bool(b(frame))

        return or2

    def or_(frame: Frame) -> bool:
        return any(operand(frame) for operand in operands)

    return or_


def _binary(op: str, left: Fn, right: Fn, pos: int) -> Fn:
    if op == "+":

        def plus(frame: Frame) -> Any:
            a = left(frame)
            b = right(frame)
            if type(a) is int and type(b) is int:
                result = a + b
                if INT_MIN <= result <= INT_MAX:
                    return result
            return add(a, b, pos, frame)

        return plus
    if op == "-":

        def minus(frame: Frame) -> Any:
            a = left(frame)
            b = right(frame)
            if type(a) is int and type(b) is int:
                result = a - b
                if INT_MIN <= result <= INT_MAX:
                    return result
            return arith("-", a, b, pos)

        return minus
    if op == "*":

        def times(frame: Frame) -> Any:
            a = left(frame)
            b = right(frame)
            if type(a) is int and type(b) is int:
                result = a * b
                if INT_MIN <= result <= INT_MAX:
                    return result
            return arith("*", a, b, pos)

        return times

    def other(frame: Frame) -> Any:
        return arith(op, left(frame), right(frame), pos)

    return other


def _arith(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Arith)
    if len(node.rest) == 1:
        ((op, operand, pos),) = node.rest
        return _binary(op, compile_node(node.first), compile_node(operand), pos)
    return _flatten_chain(node)


def _flatten_chain(node: ast.Arith) -> Fn:
    # Long chains are evaluated in a loop so their length costs no recursion.
    first = compile_node(node.first)
    rest = [(op, compile_node(operand), pos) for op, operand, pos in node.rest]

    def chain(frame: Frame) -> Any:
        value = first(frame)
        for op, operand, pos in rest:
            other = operand(frame)
            if op == "+":
                if type(value) is int and type(other) is int:
                    total = value + other
                    if INT_MIN <= total <= INT_MAX:
                        value = total
                        continue
                value = add(value, other, pos, frame)
            else:
                value = arith(op, value, other, pos)
        return value

    return chain


_SIMPLE = frozenset({str, int, float, type(None)})


def _compare(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Compare)
    left = compile_node(node.left)
    right = compile_node(node.right)
    op = node.op
    pos = node.pos
    if op == "==" or op == "!=":
        negated = op == "!="

        def eq(frame: Frame) -> bool:
            a = left(frame)
            b = right(frame)
            t = type(a)
            if t is type(b) and t in _SIMPLE:
                return (a != b) if negated else (a == b)  # type: ignore[no-any-return]
            return equal(a, b) is not negated

        return eq
    if op == "in":

        def in_(frame: Frame) -> bool:
            needle = left(frame)
            return contains(right(frame), needle, pos)

        return in_

    def ordered(frame: Frame) -> bool:
        a = left(frame)
        b = right(frame)
        ta = type(a)
        tb = type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            if op == "<":
                return a < b  # type: ignore[no-any-return]
            if op == ">":
                return a > b  # type: ignore[no-any-return]
            if op == "<=":
                return a <= b  # type: ignore[no-any-return]
            return a >= b  # type: ignore[no-any-return]
        return order(op, a, b, pos)

    return ordered


_COMPILERS: dict[type, Callable[[ast.Node], Fn]] = {
    ast.Literal: _literal,
    ast.Name: _name,
    ast.ArrayLit: _array,
    ast.ObjectLit: _object,
    ast.Call: _call,
    ast.Path: _path,
    ast.Neg: _neg,
    ast.Not: _not,
    ast.And: _and,
    ast.Or: _or,
    ast.Arith: _arith,
    ast.Compare: _compare,
}
