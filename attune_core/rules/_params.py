"""Rule templates: the namespaces a rule sees and the rendering of its ``action_params``.

Rules of this file:

1. A rule sees exactly three namespaces (original-spec "Template Variable Syntax"):
   ``event`` (``id``, ``trigger`` and ``trigger_ref`` (the trigger's ref), ``payload``,
   ``created`` in RFC 3339, plus ``rule_ref`` and ``source_ref``), ``pack.config`` (the rule's
   pack configuration) and ``system`` (``timestamp``, ``rule.id``, ``rule.ref``).
2. Rendering keeps types: a string that is one ``{{ expr }}`` becomes the value of the
   expression; a missing path renders null. An error becomes :class:`RuleError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attune_core.expr import ExpressionError, render
from attune_core.model import Event, Rule
from attune_core.rules._criteria import RuleError

__all__ = ["event_view", "render_action_params", "rule_context"]


def event_view(event: Event) -> dict[str, Any]:
    """The ``event`` namespace of rule conditions and templates."""
    return {
        "id": event.id,
        "trigger": event.trigger_ref,
        "trigger_ref": event.trigger_ref,
        "trigger_id": event.trigger,
        "payload": event.payload,
        "created": event.created.isoformat() if event.created else None,
        "rule_ref": event.rule_ref,
        "source_ref": event.source_ref,
    }


def rule_context(
    event: Event,
    rule: Rule,
    *,
    pack_config: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """The namespaces conditions and ``action_params`` of ``rule`` are evaluated in."""
    return {
        "event": event_view(event),
        "pack": {"config": dict(pack_config or {}), "ref": rule.pack_ref},
        "system": {
            "timestamp": now.isoformat(),
            "rule": {"id": rule.id, "ref": rule.ref},
        },
        # No workflow variables here: bare names must not fall back to anything.
        "workflow": None,
    }


def render_action_params(params: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Render a rule's ``action_params`` for one event.

    Raises:
        RuleError: a template fails; the message names the parameter and the problem.
    """
    try:
        rendered = render(dict(params), context)
    except ExpressionError as exc:
        raise RuleError(f"cannot render action_params: {exc}") from None
    if not isinstance(rendered, dict):  # pragma: no cover - render keeps a dict a dict
        raise RuleError("action_params must render to an object")
    return rendered
