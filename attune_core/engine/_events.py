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
from collections.abc import Mapping
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

__all__ = ["RuleEngine", "parse_trigger_instance", "store_event"]

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
    if payload is None:
        payload = {}
    event = await uow.events.create(
        Event(
            trigger=trigger.id,
            trigger_ref=trigger_ref,
            payload=payload,
            config=dict(config) if config is not None else None,
            source=source,
            source_ref=source_ref,
            rule=rule_id,
            rule_ref=rule_ref,
        )
    )
    messages: list[Publish] = [
        (
            RoutingKey.EVENT_CREATED,
            {"event_id": event.id, "trigger_ref": trigger_ref, "rule_id": rule_id},
        )
    ]
    messages += await RuleEngine(clock, secret_box=secret_box).process(uow, event)
    return event, messages


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
        if event.rule is not None:
            pinned = await uow.rules.find(event.rule)
            rules = [pinned] if pinned is not None and pinned.enabled else []
        else:
            rules = await uow.rules.list_enabled_for_trigger(event.trigger_ref)
        messages: list[Publish] = []
        configs: dict[str, dict[str, Any]] = {}
        for rule in rules:
            if rule.trigger_ref != event.trigger_ref:
                continue
            if rule.pack_ref not in configs:
                configs[rule.pack_ref] = await self._pack_config(uow, rule.pack_ref)
            messages += await self._apply(uow, event, rule, configs[rule.pack_ref])
        return messages

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

    async def _apply(
        self, uow: UnitOfWork, event: Event, rule: Rule, pack_config: dict[str, Any]
    ) -> list[Publish]:
        now = self._clock.now()
        context = rule_context(event, rule, pack_config=pack_config, now=now)
        stage = "conditions"
        try:
            if not conditions_match(rule.conditions, context, now=now):
                return []
            stage = "action_params"
            params = render_action_params(rule.action_params, context)
        except RuleError as exc:
            log.info(
                "rule %s cannot be evaluated for event %s: %s",
                rule.ref,
                event.id,
                exc,
                extra={"rule_ref": rule.ref, "event_id": event.id},
            )
            enforcement = await uow.enforcements.create(
                self._enforcement(event, rule, {"error": str(exc), "stage": stage})
            )
            assert enforcement.id is not None
            await uow.enforcements.resolve(enforcement.id, EnforcementStatus.DISABLED)
            return [(RoutingKey.ENFORCEMENT_CREATED, {"enforcement_id": enforcement.id})]
        enforcement = await uow.enforcements.create(self._enforcement(event, rule, params))
        assert enforcement.id is not None
        execution = await uow.executions.create(
            Execution(
                action=rule.action,
                action_ref=rule.action_ref,
                config=params,
                enforcement=enforcement.id,
                rule_ref=rule.ref,
                trigger_ref=event.trigger_ref,
            )
        )
        await uow.enforcements.resolve(enforcement.id, EnforcementStatus.PROCESSED)
        return [
            (RoutingKey.ENFORCEMENT_CREATED, {"enforcement_id": enforcement.id}),
            (RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id}),
        ]

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
