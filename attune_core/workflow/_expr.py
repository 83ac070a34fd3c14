"""The workflow package's only door to the expression engine (``attune_core.expr``).

Rules of this file:

1. No expression is evaluated here, and no expression grammar lives here: parsing and evaluation
   belong to ``attune_core.expr``. This file only finds *where* expressions are in workflow
   fields (``when`` with or without braces, ``{{ }}`` segments inside templates) so load-time
   errors can point at a column of the text the author wrote.
2. Everything that touches a compiled expression goes through :func:`compile_bare`, so the
   engine's cache is shared by validation and conducting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attune_core.expr import ExpressionError, compile, is_template

__all__ = [
    "ExpressionError",
    "bare_expression",
    "check_bare",
    "check_template",
    "compile_bare",
    "iter_template_strings",
    "template_segments",
]

_OPEN = "{{"
_CLOSE = "}}"


def compile_bare(source: str) -> Any:
    """Compile a bare expression (no braces); raises :class:`ExpressionError`."""
    return compile(source)


def template_segments(text: str) -> list[tuple[str, int]]:
    """Return ``(expression, offset)`` for each ``{{ ... }}`` in ``text``.

    ``offset`` is the 0-based index of the expression's first character in ``text``. Like the
    engine's renderer, string literals are skipped (``"}}"`` inside quotes does not close the
    segment) and braces of object literals are balanced. An unclosed ``{{`` ends the list with
    an entry whose offset is ``-1 - index of the {{`` so callers can report it.
    """
    segments: list[tuple[str, int]] = []
    pos = 0
    length = len(text)
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            return segments
        i = start + 2
        depth = 0
        quote: str | None = None
        end = -1
        while i < length:
            ch = text[i]
            if quote is not None:
                if ch == "\\":
                    i += 2
                    continue
                if ch == quote:
                    quote = None
            elif ch in ("'", '"'):
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0:
                    if text.startswith(_CLOSE, i):
                        end = i
                    break
                depth -= 1
            i += 1
        if end < 0:
            segments.append(("", -1 - start))
            return segments
        inner = text[start + 2 : end]
        lead = len(inner) - len(inner.lstrip())
        segments.append((inner.strip(), start + 2 + lead))
        pos = end + 2


def bare_expression(text: str) -> tuple[str, int] | None:
    """Return the bare expression of a condition-like field and its offset in ``text``.

    A condition may be written ``succeeded()`` or ``{{ succeeded() }}``. Returns ``None`` when
    the text mixes literal text and ``{{ }}`` (which is not a single expression).
    """
    stripped = text.strip()
    if not is_template(text) and _OPEN not in text:
        return stripped, len(text) - len(text.lstrip())
    segments = template_segments(text)
    if len(segments) != 1:
        return None
    source, offset = segments[0]
    if offset < 0:
        return "", offset  # unclosed: check_bare reports it
    if not stripped.startswith(_OPEN) or text[offset + len(source) :].strip() != _CLOSE:
        return None
    return source, offset


def check_bare(source: str, offset: int) -> tuple[str, int | None] | None:
    """Compile ``source``; return ``(message, column in the written text)`` on error.

    A negative ``offset`` marks an unclosed ``{{`` at index ``-1 - offset``.
    """
    if offset < 0:
        return "unterminated '{{': expected '}}'", -offset
    if not source:
        return "empty expression", offset + 1
    try:
        compile_bare(source)
    except ExpressionError as exc:
        column = None if exc.column is None else offset + exc.column
        return exc.message, column
    return None


def check_template(text: str) -> list[tuple[str, int | None]]:
    """Compile every ``{{ }}`` segment of ``text``; return the errors with their columns."""
    errors: list[tuple[str, int | None]] = []
    for source, offset in template_segments(text):
        error = check_bare(source, offset)
        if error is not None:
            errors.append(error)
    return errors


def iter_template_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield ``(path, text)`` for every string containing ``{{`` inside ``value``."""
    if isinstance(value, str):
        if _OPEN in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_template_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_template_strings(item, f"{path}[{index}]")
