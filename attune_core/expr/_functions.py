"""Built-in functions.

Rules of this file:

1. Each built-in is ``impl(frame, pos, *args)`` registered in :data:`BUILTINS` with its minimum
   and maximum number of arguments; the compiler checks the count when the expression is
   compiled, so ``length(a, b)`` fails before anything runs.
2. Arguments are checked, never coerced: ``lower(5)`` is an error naming the function and the
   type it got. Only the conversion functions (string, number, int, bool) convert.
3. Everything a function builds (strings, arrays, objects) is charged to the frame's budget
   *before* it is built, so no call can allocate unbounded memory; regexes run on RE2.
4. The workflow functions result(), succeeded(), failed() and timed_out() are not here: the
   evaluation context provides them (``EvalContext.function``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import (
    INT_MAX,
    INT_MIN,
    MAX_RANGE,
    MAX_REGEX_INPUT,
    MAX_REGEX_PATTERN,
    REGEX_CACHE_SIZE,
    REGEX_MAX_MEMORY,
)
from attune_core.expr._runtime import Frame, arith, check_int, contains, error
from attune_core.expr._values import equal, freeze, kind, string_of

__all__ = ["BUILTINS", "CONTEXT_FUNCTIONS", "Builtin"]

Builtin = tuple[int, int, Callable[..., Any]]

# Provided by the workflow context; named here only to give a precise error elsewhere.
CONTEXT_FUNCTIONS: Final = frozenset({"result", "succeeded", "failed", "timed_out"})


# -- argument checks -------------------------------------------------------------------------


def _expect(fn: str, what: str, value: Any, pos: int) -> ExpressionError:
    return error(f"{fn}() expects {what}, got {kind(value)}", pos)


def _str(fn: str, value: Any, pos: int) -> str:
    if type(value) is str:
        return value
    if kind(value) == "string":
        return str(value)
    raise _expect(fn, "a string", value, pos)


def _num(fn: str, value: Any, pos: int) -> int | float:
    t = type(value)
    if t is int or t is float:
        return value  # type: ignore[no-any-return]
    if kind(value) == "number":
        return int(value) if isinstance(value, int) else float(value)
    raise _expect(fn, "a number", value, pos)


def _int(fn: str, value: Any, pos: int) -> int:
    if type(value) is int or (kind(value) == "number" and isinstance(value, int)):
        return int(value)
    if kind(value) == "number":
        raise error(f"{fn}() expects an integer, got {value!r}", pos)
    raise _expect(fn, "an integer", value, pos)


def _array(fn: str, value: Any, pos: int) -> Sequence[Any]:
    if type(value) is list or kind(value) == "array":
        return value  # type: ignore[no-any-return]
    raise _expect(fn, "an array", value, pos)


def _object(fn: str, value: Any, pos: int) -> Mapping[str, Any]:
    if type(value) is dict or kind(value) == "object":
        return value  # type: ignore[no-any-return]
    raise _expect(fn, "an object", value, pos)


def _float_to_int(fn: str, value: float, pos: int) -> int:
    if not math.isfinite(value):
        raise error(f"{fn}() got a number that is not finite", pos)
    return check_int(int(value), pos)


# -- type conversion ---------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)
_INTEGER_RE = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
# A numeric string longer than this is not a 64-bit number or a float anyone means.
_MAX_NUMBER_TEXT = 400


def _parse_number(fn: str, text: str, pos: int) -> int | float:
    if len(text) <= _MAX_NUMBER_TEXT:
        if _INTEGER_RE.fullmatch(text):
            value = int(text)
            if INT_MIN <= value <= INT_MAX:
                return value
            raise error(f"{fn}(): {text.strip()!r} is out of the 64-bit integer range", pos)
        if _NUMBER_RE.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise error(f"{fn}(): {shown!r} is not a number", pos)


def _string(frame: Frame, pos: int, value: Any) -> str:
    try:
        text = string_of(value)
    except (ValueError, TypeError, RecursionError):
        raise error("string(): value cannot be converted to text", pos) from None
    frame.charge(len(text), pos)
    return text


def _number(frame: Frame, pos: int, value: Any) -> int | float:
    k = kind(value)
    if k == "number":
        return _num("number", value, pos)
    if k == "boolean":
        return 1 if value else 0
    if k == "string":
        return _parse_number("number", str(value), pos)
    raise _expect("number", "a string, number or boolean", value, pos)


def _to_int(frame: Frame, pos: int, value: Any) -> int:
    k = kind(value)
    if k == "number":
        if isinstance(value, int):
            return check_int(int(value), pos)
        return _float_to_int("int", float(value), pos)
    if k == "boolean":
        return 1 if value else 0
    if k == "string":
        number = _parse_number("int", str(value), pos)
        if isinstance(number, int):
            return number
        return _float_to_int("int", number, pos)
    raise _expect("int", "a string, number or boolean", value, pos)


def _bool(frame: Frame, pos: int, value: Any) -> bool:
    return bool(value)


# -- introspection -----------------------------------------------------------------------------


def _type_of(frame: Frame, pos: int, value: Any) -> str:
    return kind(value)


def _length(frame: Frame, pos: int, value: Any) -> int:
    if kind(value) in ("string", "array", "object"):
        return len(value)
    raise _expect("length", "a string, array or object", value, pos)


def _keys(frame: Frame, pos: int, value: Any) -> list[Any]:
    obj = _object("keys", value, pos)
    frame.charge(len(obj), pos)
    return list(obj.keys())


def _values(frame: Frame, pos: int, value: Any) -> list[Any]:
    obj = _object("values", value, pos)
    frame.charge(len(obj), pos)
    return list(obj.values())


# -- math --------------------------------------------------------------------------------------


def _abs(frame: Frame, pos: int, value: Any) -> int | float:
    number = _num("abs", value, pos)
    if isinstance(number, int):
        return check_int(abs(number), pos)
    return abs(number)


def _floor(frame: Frame, pos: int, value: Any) -> int:
    number = _num("floor", value, pos)
    if isinstance(number, int):
        return number
    return _float_to_int("floor", math.floor(number) if math.isfinite(number) else number, pos)


def _ceil(frame: Frame, pos: int, value: Any) -> int:
    number = _num("ceil", value, pos)
    if isinstance(number, int):
        return number
    return _float_to_int("ceil", math.ceil(number) if math.isfinite(number) else number, pos)


def _round(frame: Frame, pos: int, value: Any) -> int:
    number = _num("round", value, pos)
    if isinstance(number, int):
        return number
    if not math.isfinite(number):
        return _float_to_int("round", number, pos)
    # Half away from zero (2.5 -> 3, -2.5 -> -3), as people and the original engine round;
    # Python's round() would give 2 (banker's rounding).
    low = math.floor(number)
    fraction = number - low
    if fraction > 0.5 or (fraction == 0.5 and number > 0):
        low += 1
    return check_int(low, pos)


def _ordered_pair(fn: str, a: Any, b: Any, pos: int) -> None:
    ka = kind(a)
    kb = kind(b)
    if not ((ka == kb == "number") or (ka == kb == "string")):
        raise error(f"{fn}() needs two numbers or two strings, got {ka} and {kb}", pos)


def _extreme(
    fn: str, pick_first: Callable[[Any, Any], bool], args: tuple[Any, ...], pos: int
) -> Any:
    if len(args) == 1:
        items = _array(fn, args[0], pos)
        if not items:
            raise error(f"{fn}() of an empty array", pos)
        _uniform(fn, items, pos)
    else:
        _ordered_pair(fn, args[0], args[1], pos)
        items = args
    best = items[0]
    for item in items[1:]:
        if pick_first(item, best):
            best = item
    return best


def _min(frame: Frame, pos: int, *args: Any) -> Any:
    return _extreme("min", lambda a, b: bool(a < b), args, pos)


def _max(frame: Frame, pos: int, *args: Any) -> Any:
    return _extreme("max", lambda a, b: bool(a > b), args, pos)


def _sum(frame: Frame, pos: int, value: Any) -> int | float:
    items = _array("sum", value, pos)
    total: int | float = 0
    for item in items:
        if kind(item) != "number":
            raise error(f"sum() needs an array of numbers, found {kind(item)}", pos)
        total = arith("+", total, item, pos)
    return total


# -- strings -----------------------------------------------------------------------------------


def _lower(frame: Frame, pos: int, value: Any) -> str:
    text = _str("lower", value, pos)
    frame.charge(len(text), pos)
    return text.lower()


def _upper(frame: Frame, pos: int, value: Any) -> str:
    text = _str("upper", value, pos)
    frame.charge(len(text), pos)
    return text.upper()


def _trim(frame: Frame, pos: int, value: Any) -> str:
    return _str("trim", value, pos).strip()


def _split(frame: Frame, pos: int, value: Any, separator: Any) -> list[str]:
    text = _str("split", value, pos)
    sep = _str("split", separator, pos)
    if not sep:
        raise error("split() separator must not be empty", pos)
    frame.charge(text.count(sep) + 1, pos)
    return text.split(sep)


def _join(frame: Frame, pos: int, value: Any, separator: Any) -> str:
    items = _array("join", value, pos)
    sep = _str("join", separator, pos)
    frame.charge(len(sep) * max(len(items) - 1, 0), pos)
    parts = [_string(frame, pos, item) for item in items]
    return sep.join(parts)


def _replace(frame: Frame, pos: int, value: Any, old: Any, new: Any) -> str:
    text = _str("replace", value, pos)
    old_text = _str("replace", old, pos)
    new_text = _str("replace", new, pos)
    occurrences = text.count(old_text)
    frame.charge(len(text) + occurrences * max(len(new_text) - len(old_text), 0), pos)
    return text.replace(old_text, new_text)


def _starts_with(frame: Frame, pos: int, value: Any, prefix: Any) -> bool:
    return _str("starts_with", value, pos).startswith(_str("starts_with", prefix, pos))


def _ends_with(frame: Frame, pos: int, value: Any, suffix: Any) -> bool:
    return _str("ends_with", value, pos).endswith(_str("ends_with", suffix, pos))


@functools.lru_cache(maxsize=REGEX_CACHE_SIZE)
def _regex(pattern: str) -> Any:
    """Compile with RE2 (linear-time matching, no backtracking); raises ValueError."""
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    options = re2.Options()
    options.max_mem = REGEX_MAX_MEMORY
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(str(detail)) from None


def _match(frame: Frame, pos: int, pattern: Any, value: Any) -> bool:
    regex_text = _str("match", pattern, pos)
    text = _str("match", value, pos)
    if len(regex_text) > MAX_REGEX_PATTERN:
        raise error(f"match() pattern is too long (limit {MAX_REGEX_PATTERN} characters)", pos)
    if len(text) > MAX_REGEX_INPUT:
        raise error(f"match() input is too long (limit {MAX_REGEX_INPUT:,} characters)", pos)
    try:
        regex = _regex(regex_text)
    except ValueError as exc:
        raise error(f"match(): invalid regular expression: {exc}", pos) from None
    return regex.search(text) is not None


# -- collections -------------------------------------------------------------------------------


def _contains(frame: Frame, pos: int, haystack: Any, needle: Any) -> bool:
    return contains(haystack, needle, pos, "contains()")


def _reversed(frame: Frame, pos: int, value: Any) -> Any:
    k = kind(value)
    if k == "string":
        frame.charge(len(value), pos)
        return str(value)[::-1]
    if k == "array":
        frame.charge(len(value), pos)
        return list(reversed(value))
    raise _expect("reversed", "an array or a string", value, pos)


def _uniform(fn: str, items: Sequence[Any], pos: int) -> None:
    kinds = {kind(item) for item in items}
    if kinds and kinds != {"number"} and kinds != {"string"}:
        found = ", ".join(sorted(kinds))
        raise error(f"{fn}() needs all numbers or all strings, found {found}", pos)


def _sort(frame: Frame, pos: int, value: Any) -> list[Any]:
    items = _array("sort", value, pos)
    _uniform("sort", items, pos)
    frame.charge(len(items), pos)
    return sorted(items)


def _unique(frame: Frame, pos: int, value: Any) -> list[Any]:
    items = _array("unique", value, pos)
    frame.charge(len(items), pos)
    seen: set[Any] = set()
    result = []
    for item in items:
        key = freeze(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _flat(frame: Frame, pos: int, value: Any) -> list[Any]:
    items = _array("flat", value, pos)
    size = sum(len(item) if kind(item) == "array" else 1 for item in items)
    frame.charge(size, pos)
    result: list[Any] = []
    for item in items:
        if kind(item) == "array":
            result.extend(item)
        else:
            result.append(item)
    return result


def _zip(frame: Frame, pos: int, first: Any, second: Any) -> list[list[Any]]:
    a = _array("zip", first, pos)
    b = _array("zip", second, pos)
    frame.charge(3 * min(len(a), len(b)), pos)
    return [[x, y] for x, y in zip(a, b, strict=False)]


def _range(frame: Frame, pos: int, *args: Any) -> list[int]:
    if len(args) == 1:
        start, end = 0, _int("range", args[0], pos)
    else:
        start, end = _int("range", args[0], pos), _int("range", args[1], pos)
    size = max(end - start, 0)
    if size > MAX_RANGE:
        raise error(f"range() of {size:,} numbers is over the limit of {MAX_RANGE:,}", pos)
    frame.charge(size, pos)
    return list(range(start, end))


def _slice_bound(value: Any, pos: int) -> int | None:
    if value is None:
        return None
    return _int("slice", value, pos)


def _slice(frame: Frame, pos: int, value: Any, start: Any, end: Any = None) -> Any:
    k = kind(value)
    if k not in ("array", "string"):
        raise _expect("slice", "an array or a string", value, pos)
    part = value[_slice_bound(start, pos) : _slice_bound(end, pos)]
    frame.charge(len(part), pos)
    return list(part) if k == "array" else str(part)


def _index_of(frame: Frame, pos: int, haystack: Any, needle: Any) -> int:
    k = kind(haystack)
    if k == "string":
        return str(haystack).find(_str("index_of", needle, pos))
    if k == "array":
        for position, item in enumerate(haystack):
            if equal(item, needle):
                return position
        return -1
    raise _expect("index_of", "an array or a string", haystack, pos)


def _count(frame: Frame, pos: int, haystack: Any, needle: Any) -> int:
    k = kind(haystack)
    if k == "string":
        return str(haystack).count(_str("count", needle, pos))
    if k == "array":
        return sum(1 for item in haystack if equal(item, needle))
    raise _expect("count", "an array or a string", haystack, pos)


def _merge(frame: Frame, pos: int, first: Any, second: Any) -> dict[str, Any]:
    a = _object("merge", first, pos)
    b = _object("merge", second, pos)
    frame.charge(len(a) + len(b), pos)
    return {**a, **b}


def _chunks(frame: Frame, pos: int, value: Any, size: Any) -> list[list[Any]]:
    items = _array("chunks", value, pos)
    step = _int("chunks", size, pos)
    if step < 1:
        raise error(f"chunks() size must be at least 1, got {step}", pos)
    frame.charge(len(items) + len(items) // step + 1, pos)
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


BUILTINS: Final[dict[str, Builtin]] = {
    # type conversion
    "string": (1, 1, _string),
    "number": (1, 1, _number),
    "int": (1, 1, _to_int),
    "bool": (1, 1, _bool),
    # introspection
    "type_of": (1, 1, _type_of),
    "length": (1, 1, _length),
    "keys": (1, 1, _keys),
    "values": (1, 1, _values),
    # math
    "abs": (1, 1, _abs),
    "floor": (1, 1, _floor),
    "ceil": (1, 1, _ceil),
    "round": (1, 1, _round),
    "min": (1, 2, _min),
    "max": (1, 2, _max),
    "sum": (1, 1, _sum),
    # strings
    "lower": (1, 1, _lower),
    "upper": (1, 1, _upper),
    "trim": (1, 1, _trim),
    "split": (2, 2, _split),
    "join": (2, 2, _join),
    "replace": (3, 3, _replace),
    "starts_with": (2, 2, _starts_with),
    "ends_with": (2, 2, _ends_with),
    "match": (2, 2, _match),
    # collections
    "contains": (2, 2, _contains),
    "reversed": (1, 1, _reversed),
    "sort": (1, 1, _sort),
    "unique": (1, 1, _unique),
    "flat": (1, 1, _flat),
    "zip": (2, 2, _zip),
    "range": (1, 2, _range),
    "slice": (2, 3, _slice),
    "index_of": (2, 2, _index_of),
    "count": (2, 2, _count),
    "merge": (2, 2, _merge),
    "chunks": (2, 2, _chunks),
}
