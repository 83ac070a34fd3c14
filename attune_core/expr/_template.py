"""``{{ }}`` templates: rendering strings, lists and dicts against a context.

Rules of this file:

1. A string that is exactly one ``{{ expr }}`` (surrounding whitespace allowed) keeps the JSON
   type of the result: ``"{{ item }}"`` with ``item = 5`` renders 5, not "5". Any other string
   containing ``{{`` renders each segment as text (null -> "", true/false, numbers, objects and
   arrays as compact JSON) and returns a string.
2. A string is a template exactly when it contains ``{{`` (:func:`is_template`); a template
   with an unterminated ``{{`` is an error, not literal text. A literal ``{{`` is written
   ``{{ "{{" }}``.
3. Errors carry the whole template string as ``source`` and the column of the problem in it;
   errors inside a rendered structure also name the path of the value (``field``).
4. Compiled templates are cached by text up to ``CACHED_TEMPLATE_LENGTH``; longer texts are
   compiled on each render so one-off large bodies do not stay in memory.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from attune_core.expr._api import check_length, compile_segment, run
from attune_core.expr._compiler import Fn
from attune_core.expr._context import EvalContext, as_context
from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import (
    CACHED_TEMPLATE_LENGTH,
    MAX_TEMPLATE_LENGTH,
    TEMPLATE_CACHE_SIZE,
)
from attune_core.expr._runtime import Frame, error
from attune_core.expr._tokenizer import find_template_end
from attune_core.expr._values import template_text

__all__ = ["is_template", "render"]

_OPEN = "{{"


def is_template(text: str) -> bool:
    """Return True when ``text`` is a string containing ``{{`` (and so is rendered)."""
    return isinstance(text, str) and _OPEN in text


class _Template:
    """A compiled template: literal text pieces and compiled segments, or one typed segment."""

    __slots__ = ("parts", "single", "text")

    def __init__(self, text: str, parts: list[str | Fn], single: Fn | None) -> None:
        self.text = text
        self.parts = parts
        self.single = single

    def render(self, ctx: EvalContext) -> Any:
        frame = Frame(ctx.resolve, ctx.function)
        if self.single is not None:
            return run(self.single, frame, self.text)
        pieces: list[str] = []
        size = 0
        for part in self.parts:
            if type(part) is str:
                pieces.append(part)
            else:
                value = run(part, frame, self.text)  # type: ignore[arg-type]
                try:
                    piece = template_text(value)
                except (ValueError, TypeError, RecursionError):
                    raise ExpressionError(
                        "a value in the template cannot be rendered as text", source=self.text
                    ) from None
                size += len(piece)
                pieces.append(piece)
        if size:
            try:
                frame.charge(size, 0)
            except ExpressionError as exc:
                exc._locate(self.text)
                raise
        return "".join(pieces)


def _compile_template(text: str) -> _Template:
    check_length(text, MAX_TEMPLATE_LENGTH, "template")
    parts: list[str | Fn] = []
    segments = 0
    pos = 0
    length = len(text)
    while pos < length:
        start = text.find(_OPEN, pos)
        if start < 0:
            parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        body = start + 2
        end = find_template_end(text, body)
        if end < 0:
            raise error("unterminated '{{': expected '}}'", start)._locate(text)
        if not text[body:end].strip():
            raise error("empty expression in '{{ }}'", start)._locate(text)
        parts.append(compile_segment(text, body, end))
        segments += 1
        pos = end + 2
    single = None
    if segments == 1:
        compiled = [part for part in parts if not isinstance(part, str)]
        literal = "".join(part for part in parts if isinstance(part, str))
        if not literal.strip():
            single = compiled[0]
    return _Template(text, parts, single)


_compile_cached = functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)(_compile_template)


def _render_string(text: str, ctx: EvalContext) -> Any:
    if _OPEN not in text:
        return text
    if len(text) <= CACHED_TEMPLATE_LENGTH:
        template = _compile_cached(text)
    else:
        template = _compile_template(text)
    return template.render(ctx)


def _render(value: Any, ctx: EvalContext) -> Any:
    t = type(value)
    if t is str:
        return _render_string(value, ctx)
    if t is dict or isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            try:
                result[key] = _render(item, ctx)
            except ExpressionError as exc:
                exc.field = f"{key}.{exc.field}" if exc.field else str(key)
                if exc.field.startswith(f"{key}.["):
                    exc.field = f"{key}{exc.field[len(str(key)) + 1 :]}"
                raise
        return result
    if t is list or t is tuple:
        rendered = []
        for position, item in enumerate(value):
            try:
                rendered.append(_render(item, ctx))
            except ExpressionError as exc:
                exc.field = f"[{position}].{exc.field}" if exc.field else f"[{position}]"
                exc.field = exc.field.replace(".[", "[")
                raise
        return rendered
    if isinstance(value, str):
        return _render_string(str(value), ctx)
    return value


def render(value: Any, context: EvalContext | Mapping[str, Any]) -> Any:
    """Render every ``{{ }}`` template inside ``value`` against ``context``.

    Dicts and lists are walked (a new structure is returned; keys are not rendered), strings
    are rendered, anything else is returned unchanged. A string that is exactly one
    ``{{ expr }}`` keeps the type of the result; mixed text renders to a string.

    Example:
        >>> ctx = {"parameters": {"n": 3, "name": "web"}}
        >>> render({"count": "{{ parameters.n }}", "msg": "host {{ parameters.name }}"}, ctx)
        {'count': 3, 'msg': 'host web'}

    Raises:
        ExpressionError: with ``source`` (the template string), ``column`` and ``field`` (the
            path of the failing string inside ``value``, e.g. ``headers.Authorization``).
    """
    ctx = as_context(context)
    try:
        return _render(value, ctx)
    except RecursionError:
        raise ExpressionError("value is nested too deeply to render") from None
