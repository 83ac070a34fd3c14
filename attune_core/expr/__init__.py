"""The expression language and ``{{ }}`` templates of rules, workflows and parameters.

Public API (everything else in this package is private):

- :func:`evaluate` / :func:`compile` / :class:`Expression` for bare expressions
  (``when:`` guards, rule conditions),
- :func:`render` / :func:`is_template` for ``{{ }}`` templates inside strings, lists and dicts,
- :class:`EvalContext` (the protocol a context implements) and :class:`MappingContext`,
- :class:`ExpressionError`, the only error any of these raise on bad input.

The language is documented in docs/expressions.md. Source text is tokenized, parsed and
compiled to Python closures once (cached); no Python ``eval`` is involved and no attribute of
a host object is reachable from an expression.
"""

from attune_core.expr._api import Expression, compile, evaluate
from attune_core.expr._context import EvalContext, MappingContext
from attune_core.expr._errors import ExpressionError
from attune_core.expr._template import is_template, render

__all__ = [
    "EvalContext",
    "Expression",
    "ExpressionError",
    "MappingContext",
    "compile",
    "evaluate",
    "is_template",
    "render",
]
