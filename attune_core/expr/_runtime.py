"""Evaluation state and the operator semantics shared by the compiler and the functions.

Rules of this file:

1. One :class:`Frame` per evaluation (or per template string). It carries the context's two
   lookups and the build budget; compiled closures receive it and nothing else.
2. Operator helpers here are the *complete* semantics (type checks, errors, limits). The
   compiler inlines only the common fast paths (int + int, dict member) and falls back to these
   for everything else, so a semantic rule is written once.
3. ``pos`` arguments are 0-based positions in the source; errors carry ``pos + 1`` as column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import EVAL_BUDGET, INT_MAX, INT_MIN
from attune_core.expr._values import equal, kind

__all__ = [
    "Frame",
    "add",
    "arith",
    "check_float",
    "check_int",
    "contains",
    "error",
    "index",
    "member",
    "negate",
    "order",
]


class Frame:
    """Per-evaluation state: the context's lookups and the remaining build budget."""

    __slots__ = ("budget", "function", "resolve")

    def __init__(
        self,
        resolve: Callable[[str], Any],
        function: Callable[[str], Callable[..., Any] | None],
    ) -> None:
        self.resolve = resolve
        self.function = function
        self.budget = EVAL_BUDGET

    def charge(self, amount: int, pos: int) -> None:
        """Account for ``amount`` characters or elements about to be built."""
        self.budget -= amount
        if self.budget < 0:
            raise error(
                f"expression builds too much data (limit {EVAL_BUDGET:,} characters and "
                "elements per evaluation)",
                pos,
            )


def error(message: str, pos: int) -> ExpressionError:
    return ExpressionError(message, column=pos + 1)


def check_int(value: int, pos: int) -> int:
    if INT_MIN <= value <= INT_MAX:
        return value
    raise error("integer overflow (results must fit in 64 bits)", pos)


def check_float(value: float, pos: int) -> float:
    if math.isfinite(value):
        return value
    raise error("number out of range", pos)


def _is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or (t is not bool and kind(value) == "number")


def add(a: Any, b: Any, pos: int, frame: Frame) -> Any:
    """``a + b``: numbers add, strings and arrays concatenate; anything else is an error."""
    ka = kind(a)
    kb = kind(b)
    if ka == "number" and kb == "number":
        return arith("+", a, b, pos)
    if ka == "string" and kb == "string":
        frame.charge(len(a) + len(b), pos)
        return str(a) + str(b)
    if ka == "array" and kb == "array":
        frame.charge(len(a) + len(b), pos)
        return [*a, *b]
    raise error(f"cannot add {ka} and {kb}", pos)


_VERBS = {"-": "subtract", "*": "multiply", "/": "divide", "%": "take the modulo of"}


def arith(op: str, a: Any, b: Any, pos: int) -> Any:
    """Numeric ``+ - * / %`` with integer preservation and 64-bit/finite checks."""
    if not (_is_number(a) and _is_number(b)):
        if op == "+":
            raise error(f"cannot add {kind(a)} and {kind(b)}", pos)
        raise error(f"cannot {_VERBS[op]} {kind(a)} and {kind(b)}: numbers only", pos)
    integers = isinstance(a, int) and isinstance(b, int)
    try:
        if op == "+":
            result = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        elif op == "/":
            if b == 0:
                raise error("division by zero", pos)
            if integers and a % b == 0:
                return check_int(a // b, pos)
            result = a / b
        else:
            if b == 0:
                raise error("modulo by zero", pos)
            result = a % b
    except OverflowError:
        raise error("number out of range", pos) from None
    if isinstance(result, int):
        return check_int(int(result), pos)
    return check_float(float(result), pos)


def negate(value: Any, pos: int) -> Any:
    t = type(value)
    if t is int:
        return check_int(-value, pos)
    if t is float:
        return -value
    if _is_number(value):
        return check_int(-int(value), pos) if isinstance(value, int) else -float(value)
    raise error(f"cannot negate {kind(value)}: numbers only", pos)


def order(op: str, a: Any, b: Any, pos: int) -> bool:
    """``< > <= >=`` on two numbers or two strings."""
    ka = kind(a)
    kb = kind(b)
    if not ((ka == kb == "number") or (ka == kb == "string")):
        raise error(f"cannot compare {ka} {op} {kb}: both must be numbers or both strings", pos)
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def contains(haystack: Any, needle: Any, pos: int, what: str = "'in'") -> bool:
    """``needle in haystack``: element of an array (deep equality), key of an object,
    substring of a string."""
    t = type(haystack)
    if t is list or t is tuple:
        tn = type(needle)
        if tn is str or needle is None:
            # Python's own `in` is exact for these: a str or None equals only its own kind.
            return needle in haystack
        return any(equal(item, needle) for item in haystack)
    if t is dict:
        return type(needle) is str and needle in haystack
    if t is str:
        if type(needle) is not str:
            if kind(needle) != "string":
                raise error(
                    f"{what} on a string needs a string to look for, got {kind(needle)}", pos
                )
            needle = str(needle)
        return needle in haystack
    k = kind(haystack)
    if k == "array":
        return any(equal(item, needle) for item in haystack)
    if k == "object":
        return kind(needle) == "string" and needle in haystack
    if k == "string":
        return contains(str(haystack), needle, pos, what)
    raise error(f"{what} needs an array, object or string to look in, got {k}", pos)


def member(value: Any, name: str) -> Any:
    """``value.name``: an object's field, an array's element for a numeric name, else null."""
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, list | tuple) and name.isascii() and name.isdigit():
        position = int(name)
        return value[position] if position < len(value) else None
    return None


def index(value: Any, key: Any, pos: int) -> Any:
    """``value[key]``: string keys read object fields, integer keys index arrays and strings
    (negative counts from the end); out of range or missing is null."""
    tk = type(key)
    if tk is str or (tk is not bool and kind(key) == "string"):
        return member(value, str(key))
    if tk is int or (tk is not bool and isinstance(key, int)):
        if value is None:
            return None
        k = kind(value)
        if k == "array" or k == "string":
            size = len(value)
            position = int(key)
            if -size <= position < size:
                return value[position]
            return None
        raise error(f"cannot index {k} with a number", pos)
    if value is None:
        return None
    if kind(key) == "number":
        raise error(f"index must be an integer, got {key!r}", pos)
    raise error(f"index must be a string or an integer, got {kind(key)}", pos)
