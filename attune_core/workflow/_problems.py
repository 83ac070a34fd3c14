"""Problems found in a workflow definition, and the error that carries them.

Rules of this file:

1. A :class:`Problem` is data: where (``path`` in the document, plus ``line`` when the source was
   YAML text), what (``message``), and for expression errors the ``task``, ``field`` and 1-based
   ``column`` inside the field's text. It never holds the offending value itself, which may be a
   secret typed into a definition by mistake.
2. Validation collects every problem before raising, so a pack author fixes a file in one pass;
   :class:`WorkflowDefinitionError` lists them all (errors first, then warnings).
3. Warnings (an unreachable task, a ``concurrency`` without ``with_items``) never stop a
   definition from loading; they are kept on the definition for the API and the CLI to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import attrs

from attune_core.errors import ValidationError

__all__ = ["Problem", "Severity", "WorkflowDefinitionError"]


class Severity(StrEnum):
    """How bad a :class:`Problem` is."""

    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Problem:
    """One thing wrong (or suspicious) in a workflow definition.

    Attributes:
        path: Location in the document, e.g. ``tasks[2].next[0].do[1]``.
        message: What is wrong, in words a pack author understands.
        severity: ``error`` stops the definition from loading; ``warning`` does not.
        line: 1-based line in the YAML/JSON text, when the definition came from text.
        task: Name of the task the problem belongs to, if any.
        field: The task field (``input.url``, ``next[0].when``), if any.
        column: 1-based column inside the field's text, for expression errors.
    """

    path: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    task: str | None = None
    field: str | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path or "<workflow>"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        tag = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}: {tag}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (used for API error ``details``)."""
        return {
            k: (str(v) if isinstance(v, Severity) else v) for k, v in attrs.asdict(self).items()
        }


class WorkflowDefinitionError(ValidationError):
    """A workflow definition is invalid. Lists every problem found, not just the first.

    Attributes:
        problems: The errors (severity ``error``), in document order.
        warnings: Warnings found along the way (they alone would not have failed the load).
    """

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid workflow definition ({count} {noun}):"]
        lines.extend(f"  {p}" for p in (*self.problems, *self.warnings))
        first = self.problems[0].path if self.problems else None
        super().__init__(
            "\n".join(lines),
            field=first,
            details=[p.to_dict() for p in (*self.problems, *self.warnings)],
        )
