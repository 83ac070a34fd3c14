"""Compiled expressions and the evaluate/compile entry points.

Rules of this file:

1. ``compile`` is the only way source becomes an :class:`Expression`; it checks the source
   length before anything else and caches by source text, so each distinct expression is
   tokenized, parsed and compiled once per process.
2. Errors leave through :meth:`Expression.evaluate` with ``source`` filled in; a Python
   RecursionError from pathologically nested *data* (not source, which the parser bounds)
   becomes an ExpressionError too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from attune_core.expr._compiler import Fn, compile_node
from attune_core.expr._context import EvalContext, as_context
from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import EXPRESSION_CACHE_SIZE, MAX_SOURCE_LENGTH
from attune_core.expr._parser import parse
from attune_core.expr._runtime import Frame

__all__ = ["Expression", "compile", "compile_segment", "evaluate", "run"]


class Expression:
    """A compiled expression. Immutable, thread-safe, and reusable across contexts.

    Attributes:
        source: The expression text it was compiled from.
    """

    __slots__ = ("_fn", "source")

    def __init__(self, source: str, fn: Fn) -> None:
        self.source = source
        self._fn = fn

    def evaluate(self, context: EvalContext | Mapping[str, Any]) -> Any:
        """Evaluate against ``context`` (an EvalContext or a mapping of namespaces).

        Raises:
            ExpressionError: on a type error, a failed function, or an exceeded limit.
        """
        ctx = as_context(context)
        return run(self._fn, Frame(ctx.resolve, ctx.function), self.source)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def run(fn: Fn, frame: Frame, source: str) -> Any:
    """Call a compiled closure, turning every failure into a located ExpressionError."""
    try:
        return fn(frame)
    except ExpressionError as exc:
        exc._locate(source)
        raise
    except RecursionError:
        raise ExpressionError("data is nested too deeply to evaluate", source=source) from None


def check_length(source: str, limit: int, what: str) -> None:
    if len(source) > limit:
        raise ExpressionError(
            f"{what} is too long ({len(source):,} characters, limit {limit:,})",
            source=source,
        )


def compile_segment(text: str, start: int, end: int) -> Fn:
    """Compile the expression ``text[start:end]`` with positions relative to ``text``."""
    check_length(text[start:end], MAX_SOURCE_LENGTH, "expression")
    try:
        return compile_node(parse(text, start, end))
    except ExpressionError as exc:
        exc._locate(text)
        raise
    except RecursionError:  # pragma: no cover - the nesting limit stops this first
        raise ExpressionError("expression is nested too deeply", source=text) from None


@functools.lru_cache(maxsize=EXPRESSION_CACHE_SIZE)
def _compile_cached(source: str) -> Expression:
    return Expression(source, compile_segment(source, 0, len(source)))


def compile(source: str) -> Expression:
    """Compile a bare expression (no ``{{ }}``) into a reusable :class:`Expression`.

    Compiled expressions are cached by source text (LRU), so calling ``compile`` on every
    evaluation is cheap.

    Example:
        >>> compile("length(items) > 2").evaluate({"workflow": {"items": [1, 2, 3]}})
        True

    Raises:
        ExpressionError: on a syntax error or a wrong number of arguments to a built-in,
            with the 1-based column.
    """
    if not isinstance(source, str):
        raise ExpressionError(f"an expression must be a string, got {type(source).__name__}")
    check_length(source, MAX_SOURCE_LENGTH, "expression")
    try:
        return _compile_cached(source)
    except ExpressionError as exc:
        if source.lstrip().startswith("{{"):
            exc.message += (
                " (compile() and evaluate() take a bare expression: remove the {{ }}, or use"
                " render() for templates)"
            )
        raise


def evaluate(source: str, context: EvalContext | Mapping[str, Any]) -> Any:
    """Compile (cached) and evaluate a bare expression against ``context``.

    Example:
        >>> evaluate("parameters.x * 2", {"parameters": {"x": 21}})
        42

    Raises:
        ExpressionError: on a syntax, type or limit error, with ``source`` and ``column``.
    """
    return compile(source).evaluate(context)
