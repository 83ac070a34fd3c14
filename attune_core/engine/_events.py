"""Events in, enforcements and executions out: the rule engine of the executor.

Rules of this file:

1. Every event source (``Attune.fire``, the webhook receiver, timers, sensors) stores its event
   with :func:`store_event`, which applies the rules in the same transaction: the event, its
   enforcements and their executions commit together (no event is lost between them, and the
   rules applied are those in force when the event arrived). ``event.created`` is published
   after the commit, for observers.
2. One enforcement per (event, matching enabled rule), with its execution.
3. A rule whose conditions or ``action_params`` cannot be evaluated gets an enforcement
   resolved ``disabled`` with ``config = {"error": <reason>, "stage": ...}``; the other rules
   of the event are evaluated as usual. Nothing here raises on bad rule input.
4. An event pinned to a rule (``event.rule``: timers, ``trigger_instance_id: "rule_<id>"``)
   is evaluated against that rule only.
5. ``{{ keystore.<name> }}`` references in the rule's pack config are resolved (system and
   pack-owned keys, docs/keys.md) before the rule sees ``pack.config``; every event source passes
   the secret box so that the same rule behaves the same whatever fired it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from attune_core.bus import RoutingKey
from attune_core.engine._keys import keystore_for, resolve_config
from attune_core.engine._messages import Publish
from attune_core.errors import NotFound, ValidationError
from attune_core.expr import is_template
from attune_core.model import Enforcement, EnforcementStatus, Event, Execution, Rule
from attune_core.ports import Clock
from attune_core.rules import RuleError, conditions_match, render_action_params, rule_context
from attune_core.security import SecretBox
from attune_core.storage import UnitOfWork

__all__ = ["RuleEngine", "parse_trigger_instance", "store_event", "store_events"]

log = logging.getLogger(__name__)


def parse_trigger_instance(value: Any) -> int | None:
    """The rule id of a ``trigger_instance_id`` (``"rule_<id>"``), or ``None`` when absent.

    Raises:
        ValidationError: the value is given but is not ``rule_<id>``.
    """
    if value is None or value == "":
        return None
    text = str(value)
    if text.startswith("rule_") and text[5:].isdigit():
        return int(text[5:])
    raise ValidationError(
        f"trigger_instance_id must be 'rule_<id>', got {value!r}", field="trigger_instance_id"
    )


async def store_event(
    uow: UnitOfWork,
    trigger_ref: str,
    payload: Any = None,
    *,
    clock: Clock,
    rule_id: int | None = None,
    source_ref: str | None = None,
    config: Mapping[str, Any] | None = None,
    secret_box: SecretBox | None = None,
) -> tuple[Event, list[Publish]]:
    """Store one event of trigger ``trigger_ref`` and apply its rules, in ``uow``.

    ``secret_box`` decrypts the keys ``{{ keystore.<name> }}`` references in a rule's pack
    config name; without it those references render null.

    Returns:
        The event, and the messages to publish once ``uow`` has committed
        (``event.created``, then ``enforcement.created`` / ``execution.requested``).

    Raises:
        NotFound: no trigger ``trigger_ref``, or no rule ``rule_id``.
        ValidationError: the pinned rule belongs to another trigger.
    """
    [event], messages = await store_events(
        uow,
        trigger_ref,
        [payload],
        clock=clock,
        rule_id=rule_id,
        source_ref=source_ref,
        config=config,
        secret_box=secret_box,
    )
    return event, messages


async def store_events(
    uow: UnitOfWork,
    trigger_ref: str,
    payloads: Sequence[Any],
    *,
    clock: Clock,
    rule_id: int | None = None,
    source_ref: str | None = None,
    config: Mapping[str, Any] | None = None,
    secret_box: SecretBox | None = None,
) -> tuple[list[Event], list[Publish]]:
    """:func:`store_event` for several payloads of one trigger, in ``uow``.

    The trigger, the rules and the packs' config are read once for the batch; events,
    enforcements and executions are inserted with one statement each. Each event meets the
    rules exactly as if stored alone (same enforcements, same errors recorded).

    Returns:
        The events in the order of ``payloads``, and the messages to publish once ``uow``
        has committed (per event: ``event.created``, then its ``enforcement.created`` /
        ``execution.requested``).
    """
    trigger = await uow.triggers.find_by_ref(trigger_ref)
    if trigger is None:
        raise NotFound(f"trigger {trigger_ref!r} not found")
    rule_ref = None
    if rule_id is not None:
        rule = await uow.rules.find(rule_id)
        if rule is None:
            raise NotFound(f"rule {rule_id} not found")
        if rule.trigger_ref != trigger_ref:
            raise ValidationError(
                f"rule {rule.ref} is a rule of trigger {rule.trigger_ref}, not {trigger_ref}",
                field="trigger_instance_id",
            )
        rule_ref = rule.ref
    source = None
    if source_ref is not None:
        sensor = await uow.sensors.find_by_ref(source_ref)
        source = sensor.id if sensor is not None else None
    events = await uow.events.create_many(
        [
            Event(
                trigger=trigger.id,
                trigger_ref=trigger_ref,
                payload={} if payload is None else payload,
                config=dict(config) if config is not None else None,
                source=source,
                source_ref=source_ref,
                rule=rule_id,
                rule_ref=rule_ref,
            )
            for payload in payloads
        ]
    )
    followups = await RuleEngine(clock, secret_box=secret_box).process_many(uow, events)
    messages: list[Publish] = []
    for event, followup in zip(events, followups, strict=True):
        messages.append(
            (
                RoutingKey.EVENT_CREATED,
                {"event_id": event.id, "trigger_ref": trigger_ref, "rule_id": rule_id},
            )
        )
        messages += followup
    return events, messages


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


class RuleEngine:
    """Evaluates the rules of an event inside the transaction that stores it.

    Evaluating where the event is stored makes ingestion atomic: the event, its enforcements
    and their executions commit together, and the rules an event meets are the rules as they
    were when it arrived (a rule disabled before an event never fires for it, even if enabled
    a moment later).

    Args:
        clock: Time (``system.timestamp``, ``timediff_*``).
        secret_box: Decrypts the keys referenced by ``{{ keystore.<name> }}`` in pack config.
    """

    def __init__(self, clock: Clock, *, secret_box: SecretBox | None = None) -> None:
        self._clock = clock
        self._box = secret_box

    async def process(self, uow: UnitOfWork, event: Event) -> list[Publish]:
        """Create the enforcements and executions of one (just stored) event."""
        [messages] = await self.process_many(uow, [event])
        return messages

    async def process_many(self, uow: UnitOfWork, events: Sequence[Event]) -> list[list[Publish]]:
        """Create the enforcements and executions of (just stored) events of one trigger.

        Returns the messages of each event, in the order of ``events``. The rules are read
        once per trigger (or pinned rule) and the statements are batched: one INSERT of the
        enforcements, one of the executions, one UPDATE per outcome.
        """
        rules_of: dict[tuple[str, int | None], list[Rule]] = {}
        configs: dict[str, dict[str, Any]] = {}
        # (event index, event, rule, params or None, error or None), in evaluation order
        outcomes: list[tuple[int, Event, Rule, dict[str, Any] | None, dict[str, Any] | None]] = []
        for index, event in enumerate(events):
            key = (event.trigger_ref, event.rule)
            if key not in rules_of:
                rules_of[key] = await self._rules(uow, event)
            for rule in rules_of[key]:
                if rule.pack_ref not in configs:
                    configs[rule.pack_ref] = await self._pack_config(uow, rule.pack_ref)
                outcome = self._evaluate(event, rule, configs[rule.pack_ref])
                if outcome is not None:
                    params, error = outcome
                    outcomes.append((index, event, rule, params, error))
        messages: list[list[Publish]] = [[] for _ in events]
        if not outcomes:
            return messages
        enforcements = await uow.enforcements.create_many(
            [
                self._enforcement(event, rule, params if params is not None else error or {})
                for _, event, rule, params, error in outcomes
            ]
        )
        matched = [
            (outcome, enforcement)
            for outcome, enforcement in zip(outcomes, enforcements, strict=True)
            if outcome[3] is not None
        ]
        executions = await uow.executions.create_many(
            [
                Execution(
                    action=rule.action,
                    action_ref=rule.action_ref,
                    config=params,
                    enforcement=enforcement.id,
                    rule_ref=rule.ref,
                    trigger_ref=event.trigger_ref,
                )
                for (_, event, rule, params, _), enforcement in matched
            ]
        )
        execution_of = {
            enforcement.id: execution
            for (_, enforcement), execution in zip(matched, executions, strict=True)
        }
        ids = [e.id for e in enforcements if e.id is not None]
        processed = [i for i in ids if i in execution_of]
        disabled = [i for i in ids if i not in execution_of]
        if processed:
            await uow.enforcements.resolve_many(processed, EnforcementStatus.PROCESSED)
        if disabled:
            await uow.enforcements.resolve_many(disabled, EnforcementStatus.DISABLED)
        for (index, *_), enforcement in zip(outcomes, enforcements, strict=True):
            messages[index].append(
                (RoutingKey.ENFORCEMENT_CREATED, {"enforcement_id": enforcement.id})
            )
            execution = execution_of.get(enforcement.id)
            if execution is not None:
                messages[index].append(
                    (RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id})
                )
        return messages

    async def _rules(self, uow: UnitOfWork, event: Event) -> list[Rule]:
        if event.rule is not None:
            pinned = await uow.rules.find(event.rule)
            rules = [pinned] if pinned is not None and pinned.enabled else []
        else:
            rules = await uow.rules.list_enabled_for_trigger(event.trigger_ref)
        return [rule for rule in rules if rule.trigger_ref == event.trigger_ref]

    async def _pack_config(self, uow: UnitOfWork, pack_ref: str) -> dict[str, Any]:
        pack = await uow.packs.find_by_ref(pack_ref)
        if pack is None:
            return {}
        config = dict(pack.config)
        if not _has_template(config):
            return config  # the common case: no key lookups on the ingestion path
        keystore = (
            {}
            if self._box is None
            else await keystore_for(uow, self._box, pack_id=pack.id, action_id=None)
        )
        return resolve_config(config, keystore)

    def _evaluate(
        self, event: Event, rule: Rule, pack_config: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None] | None:
        """``None`` when the rule does not match; else ``(params, None)``, or ``(None,
        error)`` when the conditions or ``action_params`` cannot be evaluated."""
        now = self._clock.now()
        context = rule_context(event, rule, pack_config=pack_config, now=now)
        stage = "conditions"
        try:
            if not conditions_match(rule.conditions, context, now=now):
                return None
            stage = "action_params"
            return render_action_params(rule.action_params, context), None
        except RuleError as exc:
            log.info(
                "rule %s cannot be evaluated for event %s: %s",
                rule.ref,
                event.id,
                exc,
                extra={"rule_ref": rule.ref, "event_id": event.id},
            )
            return None, {"error": str(exc), "stage": stage}

    @staticmethod
    def _enforcement(event: Event, rule: Rule, config: dict[str, Any]) -> Enforcement:
        conditions = rule.conditions if rule.conditions is not None else {}
        return Enforcement(
            rule=rule.id,
            rule_ref=rule.ref,
            trigger_ref=event.trigger_ref,
            config=config,
            event=event.id,
            payload=event.payload,
            conditions=conditions,
        )
