"""The one error type of the expression engine.

Rules of this file:

1. Everything the tokenizer, parser, evaluator, built-in functions and template renderer reject
   is reported as :class:`ExpressionError`; nothing else escapes the public API on bad input.
2. ``message`` is the bare reason; ``source`` is the text the author wrote (the bare expression,
   or the whole template string when the error came from a ``{{ }}`` segment) and ``column`` is
   the 1-based position in that text. ``str(error)`` combines the three for logs and users.
3. Errors are raised deep inside compiled closures that do not know the source text; the public
   entry points fill ``source`` in on the way out (:meth:`ExpressionError._locate`).
"""

from __future__ import annotations

from typing import Any

from attune_core.errors import ValidationError

__all__ = ["ExpressionError"]

# Long sources are cut in str(error) so one bad 10 KB expression does not flood a log line.
_SHOWN_SOURCE = 120


class ExpressionError(ValidationError):
    """An expression or template could not be compiled or evaluated.

    Attributes:
        message: The reason, without position (e.g. ``"division by zero"``).
        source: The expression or template text, when known.
        column: The 1-based column in ``source`` where the problem is, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.source = source
        self.column = column
        self.details = {"source": source, "column": column}

    def _locate(self, source: str) -> ExpressionError:
        """Attach ``source`` unless an inner evaluation already did; returns ``self``."""
        if self.source is None:
            self.source = source
            self.details = {"source": source, "column": self.column}
        return self

    def __str__(self) -> str:
        where = ""
        if self.field:
            where = f"{self.field}: "
        text = self.message
        if self.source is not None:
            shown = self.source
            if len(shown) > _SHOWN_SOURCE:
                shown = shown[:_SHOWN_SOURCE] + "..."
            if self.column is not None:
                text = f"{text} (column {self.column} of {shown!r})"
            else:
                text = f"{text} (in {shown!r})"
        return where + text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments are not in self.args: rebuild explicitly so the
        # error survives pickling (process pools, multiprocessing-based test runners).
        return (
            _rebuild,
            (self.message, self.source, self.column, self.field),
        )


def _rebuild(
    message: str, source: str | None, column: int | None, field: str | None
) -> ExpressionError:
    return ExpressionError(message, source=source, column=column, field=field)
