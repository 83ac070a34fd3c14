"""Rules: criteria matching and ``action_params`` templates (pure, no I/O).

The rule engine that applies them to stored events lives in ``attune_core.engine``; this
package answers two questions for it: does this event match this rule
(:func:`conditions_match`), and with which parameters (:func:`render_action_params`)?
Every operator is documented in docs/rules.md.
"""

from attune_core.rules._criteria import (
    OPERATORS,
    RuleError,
    conditions_match,
    resolve_field,
    validate_conditions,
)
from attune_core.rules._params import event_view, render_action_params, rule_context

__all__ = [
    "OPERATORS",
    "RuleError",
    "conditions_match",
    "event_view",
    "render_action_params",
    "resolve_field",
    "rule_context",
    "validate_conditions",
]
