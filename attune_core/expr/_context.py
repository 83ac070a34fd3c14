"""Evaluation contexts: where names and context functions come from.

Rules of this file:

1. The engine asks a context two questions only: the value of a top-level name
   (:meth:`EvalContext.resolve`) and a function the context provides
   (:meth:`EvalContext.function`). The workflow engine implements both for result(),
   succeeded(), failed() and timed_out(); rules and plain callers use :class:`MappingContext`.
2. The namespace aliases of the reference live in :class:`MappingContext`: ``vars`` and
   ``variables`` mean ``workflow``, ``tasks`` means ``task``, and a bare name that is not a
   namespace falls back to ``workflow.<name>``. Unknown names are null, never errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, runtime_checkable

__all__ = ["EvalContext", "MappingContext", "as_context"]

_ALIASES: Final = {"vars": "workflow", "variables": "workflow", "tasks": "task"}
_MISSING: Final = object()


@runtime_checkable
class EvalContext(Protocol):
    """What an expression can see; implemented by the workflow engine and MappingContext."""

    def resolve(self, name: str) -> Any:
        """Return the value of the top-level identifier ``name``, or None when unknown."""

    def function(self, name: str) -> Callable[..., Any] | None:
        """Return the context-provided function ``name`` (e.g. ``result``), or None.

        The function is called with the evaluated arguments. It may raise
        :class:`~attune_core.expr.ExpressionError`; any other exception it raises is reported
        as an ExpressionError naming the function.
        """


class MappingContext:
    """A context over a mapping of namespace -> value, plus optional context functions.

    Example:
        >>> ctx = MappingContext({"parameters": {"x": 2}, "workflow": {"n": 1}})
        >>> ctx.resolve("parameters")["x"], ctx.resolve("vars")["n"], ctx.resolve("n")
        (2, 1, 1)

    Args:
        namespaces: Top-level names (``parameters``, ``workflow``, ``task``, ``config``,
            ``keystore``, ``item``, ``index``, ``system``; ``event`` and ``pack`` for rules).
        functions: Functions the expressions may call besides the built-ins, by name.
    """

    __slots__ = ("_functions", "_namespaces")

    def __init__(
        self,
        namespaces: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._namespaces = namespaces
        self._functions = functions

    def resolve(self, name: str) -> Any:
        """Return a namespace, an aliased namespace, or the workflow variable ``name``."""
        namespaces = self._namespaces
        value = namespaces.get(name, _MISSING)
        if value is not _MISSING:
            return value
        alias = _ALIASES.get(name)
        if alias is not None:
            return namespaces.get(alias)
        workflow = namespaces.get("workflow")
        if isinstance(workflow, Mapping):
            return workflow.get(name)
        return None

    def function(self, name: str) -> Callable[..., Any] | None:
        """Return the function registered under ``name``, or None."""
        functions = self._functions
        if functions is None:
            return None
        return functions.get(name)

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._namespaces))
        return f"MappingContext(namespaces=[{names}])"


def as_context(context: EvalContext | Mapping[str, Any]) -> EvalContext:
    """Accept a context or a plain mapping (wrapped in :class:`MappingContext`)."""
    if isinstance(context, MappingContext):
        return context
    if isinstance(context, Mapping):
        return MappingContext(context)
    if not (hasattr(context, "resolve") and hasattr(context, "function")):
        # A programming error of the caller, not bad user input: not an ExpressionError.
        raise TypeError(
            f"context must be a mapping or an EvalContext, got {type(context).__name__}"
        )
    return context
