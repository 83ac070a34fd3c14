"""The value model: JSON types seen through host data, without coercion.

Rules of this file:

1. The language has the JSON types: null, boolean, number (int and float), string, array and
   object. Host data is read as-is, never copied: any ``Mapping`` is an object, a ``list`` or
   ``tuple`` is an array; anything else is an opaque value (kind ``"unknown"``) that can be
   passed along, compared and rendered, but not operated on. No attribute of a host object is
   ever read.
2. ``bool`` is not a number. Python's ``True == 1`` and ``True + 1 == 2`` must not leak into
   the language: equality, ordering and arithmetic classify values with :func:`kind` first.
3. Numbers compare across int and float (``3 == 3.0``); nothing else converts implicitly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "equal",
    "freeze",
    "json_text",
    "kind",
    "string_of",
    "template_text",
]

_KINDS: Final[dict[type, str]] = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "array",
    tuple: "array",
    dict: "object",
}


def kind(value: Any) -> str:
    """Return the language type of ``value``: null, boolean, number, string, array, object,
    or unknown for host values outside the JSON model."""
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    if isinstance(value, bool):  # pragma: no cover - bool cannot be subclassed
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "unknown"


_SCALARS: Final = frozenset({type(None), bool, int, float, str})


def equal(a: Any, b: Any) -> bool:
    """Deep equality without coercion (``1 == 1.0`` but ``1 != true`` and ``"1" != 1``)."""
    ta = type(a)
    if ta is type(b):
        if ta in _SCALARS:
            return bool(a == b)
        if ta is dict:
            return len(a) == len(b) and all(k in b and equal(v, b[k]) for k, v in a.items())
        if ta is list:
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    ka = kind(a)
    if ka != kind(b):
        return False
    if ka == "array":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "object":
        return len(a) == len(b) and all(k in b and equal(v, b[k]) for k, v in a.items())
    try:
        return bool(a == b)
    except Exception:  # an opaque host value with a broken __eq__ is simply not equal
        return False


def freeze(value: Any) -> Any:
    """A hashable key such that ``freeze(a) == freeze(b)`` exactly when ``equal(a, b)``.

    Used by unique() to stay linear. Each kind is tagged so that ``true`` and ``1`` differ,
    while ``1`` and ``1.0`` (equal numbers, equal hashes in Python) share a key.
    """
    k = kind(value)
    if k == "array":
        return ("a", tuple(freeze(x) for x in value))
    if k == "object":
        return ("o", frozenset((key, freeze(v)) for key, v in value.items()))
    if k == "unknown":
        return ("u", id(value))
    return (k, value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def json_text(value: Any) -> str:
    """Compact JSON (``{"a":1}``), non-ASCII kept as is; raises ValueError, TypeError or
    RecursionError on data JSON cannot represent (cycles, NaN)."""
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    )


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("number is not finite")
    return repr(number)


def string_of(value: Any) -> str:
    """The string() conversion: strings unchanged, ``null``/``true``/``false`` as written in
    the language, numbers in their shortest form, arrays and objects as compact JSON."""
    t = type(value)
    if t is str:
        return str(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    k = kind(value)
    if k == "number":
        return _number_text(value)
    if k == "string":
        return str(value)
    if k in ("array", "object"):
        return json_text(value)
    return str(value)


def template_text(value: Any) -> str:
    """How a ``{{ }}`` segment inside other text renders: like string(), except null is ""."""
    if type(value) is str:
        return str(value)
    if value is None:
        return ""
    return string_of(value)
