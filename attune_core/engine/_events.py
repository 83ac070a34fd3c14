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
6. What an event reads (its trigger, the enabled rules of the trigger, the rule's pack, its
   sensor) comes through the storage layer's catalogue cache, which a committed change of any
   of them clears: an event costs its writes only (the event, the enforcements inserted
   already resolved, the executions and their history rows).
7. Event sources that run all the time (timers, sensors, webhooks, ``Attune.fire``) hand their
   events to one :class:`EventIntake`, which stores the events submitted meanwhile in shared
   transactions (group commit) while keeping the outcome of each event its own. On
   PostgreSQL a batch's rows are held back and written by one statement
   (``UnitOfWork.defer_inserts``), in autocommit when the batch has no guard: a lone event
   costs one round trip.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio
import attrs

from attune_core.bus import RoutingKey
from attune_core.engine._keys import keystore_for, resolve_config
from attune_core.engine._messages import Publish, created_message, publish_all
from attune_core.errors import AttuneError, NotFound, ValidationError
from attune_core.expr import is_template
from attune_core.model import Enforcement, EnforcementStatus, Event, Execution, Rule, Trigger
from attune_core.ports import Bus, Clock
from attune_core.rules import RuleError, conditions_match, render_action_params, rule_context
from attune_core.security import SecretBox
from attune_core.storage import Store, UnitOfWork

__all__ = [
    "EventIntake",
    "EventSubmission",
    "RuleEngine",
    "parse_trigger_instance",
    "store_event",
    "store_events",
]

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
    place: Place | None = None,
) -> tuple[Event, list[Publish]]:
    """Store one event of trigger ``trigger_ref`` and apply its rules, in ``uow``.

    ``secret_box`` decrypts the keys ``{{ keystore.<name> }}`` references in a rule's pack
    config name; without it those references render null. ``place`` decides how the rules'
    executions are created (:data:`Place`; by default ``requested``).

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
        place=place,
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
    place: Place | None = None,
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
    trigger, rule_ref, source = await _lookup(uow, trigger_ref, rule_id, source_ref)
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
    followups = await RuleEngine(clock, secret_box=secret_box, place=place).process_many(
        uow, events
    )
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


async def _lookup(
    uow: UnitOfWork, trigger_ref: str, rule_id: int | None, source_ref: str | None
) -> tuple[Trigger, str | None, int | None]:
    """What the events of one trigger need before they are stored: the trigger, the pinned
    rule's ref, the sensor's id. Reads only (through the catalogue cache): an error here has
    written nothing.

    Raises:
        NotFound: no trigger ``trigger_ref``, or no rule ``rule_id``.
        ValidationError: the pinned rule belongs to another trigger.
    """
    trigger = await uow.triggers.find_by_ref_cached(trigger_ref)
    if trigger is None:
        raise NotFound(f"trigger {trigger_ref!r} not found")
    rule_ref = None
    if rule_id is not None:
        rule = await uow.rules.find_cached(rule_id)
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
        sensor = await uow.sensors.find_by_ref_cached(source_ref)
        source = sensor.id if sensor is not None else None
    return trigger, rule_ref, source


# In a batch's transaction, after its events are stored: the messages decided -> those to
# publish after the commit (EventIntake's ``schedule``).
Schedule = Callable[[UnitOfWork, list[Publish]], Awaitable[list[Publish]]]
# In a batch's transaction, before its executions are inserted: the executions as they should
# be created (EventIntake's ``place``: Executor.place schedules on a worker what needs only one).
Place = Callable[[UnitOfWork, list[Execution]], Awaitable[list[Execution]]]
# Messages for observers outside Attune only (EventIntake's ``announce``).
_OBSERVED_ONLY = frozenset({RoutingKey.EVENT_CREATED, RoutingKey.ENFORCEMENT_CREATED})

# In the transaction that stores an event, before it is: raise to refuse the event (having
# written nothing), e.g. a timer recording its slot in its lease, conditionally on holding it.
Guard = Callable[[UnitOfWork], Awaitable[None]]


@attrs.define(eq=False)
class EventSubmission:
    """One event for :meth:`EventIntake.fire_each`: the arguments of :meth:`EventIntake.fire`.

    ``guard`` runs in the transaction that stores the event, just before it is stored; if it
    raises (having written nothing) the event is not stored and the exception is its outcome.
    """

    trigger_ref: str
    payload: Any = None
    rule_id: int | None = None
    source_ref: str | None = None
    config: Mapping[str, Any] | None = None
    guard: Guard | None = None


@attrs.define(eq=False)
class _Submitted:
    """One event waiting in an :class:`EventIntake` for the batch that stores it."""

    request: EventSubmission
    event: Event | None = None
    error: Exception | None = None
    taken: bool = False

    @property
    def group(self) -> tuple[Any, ...]:
        """Events of one group are stored by one :func:`store_events` call."""
        request = self.request
        try:
            config = json.dumps(request.config, sort_keys=True, default=str)
        except (TypeError, ValueError):  # not comparable: a group of its own
            config = str(id(self))
        return (request.trigger_ref, request.rule_id, request.source_ref, config)


class EventIntake:
    """Stores events fired concurrently in shared transactions (group commit).

    ``fire`` behaves like one transaction per event (:func:`store_event`, then the messages
    published), but events submitted while a batch is being stored wait for the next batch
    and are stored together: one transaction and one statement per kind of row for all of
    them (:func:`store_events` per trigger). A lone event is a batch of one, stored at once;
    nothing waits for company. Concurrent sources (webhook requests, sensors, timers, API
    clients) so get the batched rate without knowing about each other, and a source with
    several events at hand (a sensor's burst of stdout lines) submits them together with
    :meth:`fire_each`.

    Every event keeps its own outcome. An event the engine refuses (unknown trigger, bad pin,
    a guard that says no) is refused before anything is written, and the others of the batch
    are stored as usual. When a transaction fails for another reason (the database), its
    groups (events of one trigger, pinned rule, source and config) are retried one by one,
    and the events of a failing group one by one, each in its own transaction.

    Once a batch has taken an event, the event is stored even if its caller is cancelled
    meanwhile (the batch holds other callers' events too, and a source stopping must not
    lose what it already handed over).

    Args:
        store: The database.
        bus: The message bus.
        clock: Time.
        secret_box: Decrypts the keys rules' pack config references (rule 5).
        schedule: Called in each batch's transaction with the messages decided, returns
            those to publish instead: the embedded engine schedules there what its events
            request (``Executor.schedule_here``).
        place: Decides how the executions of the batch are created (:data:`Place`): a
            distributed service creates those that need only a worker scheduled on one
            (``Executor.place``).
        announce: Publish ``event.created`` and ``enforcement.created``. No Attune service
            consumes them (the notifications carry the same news), so the distributed
            services publish them only when ``message_queue.announce_events`` is set.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        secret_box: SecretBox | None = None,
        schedule: Schedule | None = None,
        place: Place | None = None,
        announce: bool = True,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._box = secret_box
        self._schedule = schedule
        self._place = place
        self._announce = announce
        self._pending: list[_Submitted] = []
        self._leader = anyio.Lock()
        self.transactions = 0  # how many it ran (events / transactions = the batching)

    async def fire(
        self,
        trigger_ref: str,
        payload: Any = None,
        *,
        rule_id: int | None = None,
        source_ref: str | None = None,
        config: Mapping[str, Any] | None = None,
        guard: Guard | None = None,
    ) -> Event:
        """Store one event and apply its rules; returns once committed and published.

        Raises:
            NotFound: no trigger ``trigger_ref``, or no rule ``rule_id``.
            ValidationError: the pinned rule belongs to another trigger.
            Exception: what ``guard`` raised.
        """
        [outcome] = await self.fire_each(
            [EventSubmission(trigger_ref, payload, rule_id, source_ref, config, guard)]
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def fire_each(self, requests: Sequence[EventSubmission]) -> list[Event | Exception]:
        """Store several events (in the next batch, together) and apply their rules.

        Returns:
            Per request, in order: the event stored, or the exception that refused it (what
            :meth:`fire` would have raised). Returns once they are committed and published.
        """
        items = [_Submitted(request) for request in requests]
        if not items:
            return []
        self._pending += items
        try:
            async with self._leader:
                if not items[0].taken:  # submitted together, taken together
                    batch, self._pending = self._pending, []
                    for taken in batch:
                        taken.taken = True
                    # Shielded: the batch holds other callers' events; it is short (statements
                    # of one transaction) and a cancelled leader must not drop them.
                    with anyio.CancelScope(shield=True):
                        await self._store_batch(batch)
        except BaseException:
            if not items[0].taken:  # cancelled before any batch took them: never stored
                self._pending = [item for item in self._pending if item not in items]
            raise
        outcomes: list[Event | Exception] = []
        for item in items:
            if item.error is not None:
                outcomes.append(item.error)
            else:
                assert item.event is not None
                outcomes.append(item.event)
        return outcomes

    async def _store_batch(self, batch: list[_Submitted]) -> None:
        groups: dict[tuple[Any, ...], list[_Submitted]] = {}
        for item in batch:
            groups.setdefault(item.group, []).append(item)
        if not await self._store_groups(list(groups.values())) and len(batch) > 1:
            for group in groups.values():
                if not await self._store_groups([group]) and len(group) > 1:
                    for item in group:
                        await self._store_groups([[item]])

    async def _store_groups(self, groups: list[list[_Submitted]]) -> bool:
        """Store ``groups`` in one transaction. Events refused (rule 7) get their error; on
        a failure of the transaction every event gets the error and ``False`` is returned."""
        messages: list[Publish] = []
        stored: list[tuple[list[_Submitted], list[Event]]] = []
        self.transactions += 1
        # Without a guard or local scheduling, the batch's only writes are its rows (events,
        # enforcements, executions), held back and written by one statement: atomic alone,
        # so no BEGIN/COMMIT around it (one round trip to PostgreSQL for the whole batch).
        alone = self._schedule is None and not any(
            item.request.guard is not None for group in groups for item in group
        )
        try:
            async with self._store.transaction(autocommit=alone) as uow:
                uow.defer_inserts()
                for group in groups:
                    first = group[0].request
                    try:
                        await _lookup(uow, first.trigger_ref, first.rule_id, first.source_ref)
                    except AttuneError as exc:  # refused; nothing of it written
                        for item in group:
                            item.error = exc
                        continue
                    accepted = [item for item in group if await self._guard(uow, item)]
                    if not accepted:
                        continue
                    events, published = await store_events(
                        uow,
                        first.trigger_ref,
                        [item.request.payload for item in accepted],
                        clock=self._clock,
                        rule_id=first.rule_id,
                        source_ref=first.source_ref,
                        config=first.config,
                        secret_box=self._box,
                        place=self._place,
                    )
                    stored.append((accepted, events))
                    messages += published
                if self._schedule is not None and messages:
                    messages = await self._schedule(uow, messages)
        except Exception as exc:
            for group in groups:
                for item in group:
                    item.error = exc
            return False
        for accepted, events in stored:
            for item, event in zip(accepted, events, strict=True):
                item.event, item.error = event, None
        if not self._announce:
            messages = [m for m in messages if m[0] not in _OBSERVED_ONLY]
        await publish_all(self._bus, messages)
        return True

    @staticmethod
    async def _guard(uow: UnitOfWork, item: _Submitted) -> bool:
        """Run the item's guard; ``False`` (with the error kept) when it refuses the event."""
        item.error = None
        guard = item.request.guard
        if guard is None:
            return True
        try:
            await guard(uow)
        except Exception as exc:
            item.error = exc
            return False
        return True


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
        place: Decides how the executions are created (:data:`Place`; default requested).
    """

    def __init__(
        self, clock: Clock, *, secret_box: SecretBox | None = None, place: Place | None = None
    ) -> None:
        self._clock = clock
        self._box = secret_box
        self._place = place

    async def process(self, uow: UnitOfWork, event: Event) -> list[Publish]:
        """Create the enforcements and executions of one (just stored) event."""
        [messages] = await self.process_many(uow, [event])
        return messages

    async def process_many(self, uow: UnitOfWork, events: Sequence[Event]) -> list[list[Publish]]:
        """Create the enforcements and executions of (just stored) events of one trigger.

        Returns the messages of each event, in the order of ``events``. The rules are read
        once per trigger (or pinned rule), from the catalogue cache, and the statements are
        batched: one INSERT of the enforcements (already resolved), one of the executions.
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
        # Inserted resolved (one statement, no UPDATE): processed when the rule matched and
        # its execution is created below, disabled with the error otherwise.
        resolved_at = uow.now()
        enforcements = await uow.enforcements.create_resolved_many(
            [
                attrs.evolve(
                    self._enforcement(event, rule, params if params is not None else error or {}),
                    status=(
                        EnforcementStatus.PROCESSED
                        if params is not None
                        else EnforcementStatus.DISABLED
                    ),
                    resolved_at=resolved_at,
                )
                for _, event, rule, params, error in outcomes
            ]
        )
        matched = [
            (outcome, enforcement)
            for outcome, enforcement in zip(outcomes, enforcements, strict=True)
            if outcome[3] is not None
        ]
        new = [
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
        if self._place is not None and new:
            new = await self._place(uow, new)
        executions = await uow.executions.create_many(new)
        execution_of = {
            enforcement.id: execution
            for (_, enforcement), execution in zip(matched, executions, strict=True)
        }
        uow.enforcements.announce_resolved(enforcements)
        for (index, *_), enforcement in zip(outcomes, enforcements, strict=True):
            messages[index].append(
                (RoutingKey.ENFORCEMENT_CREATED, {"enforcement_id": enforcement.id})
            )
            execution = execution_of.get(enforcement.id)
            if execution is not None:
                messages[index].append(created_message(execution))
        return messages

    async def _rules(self, uow: UnitOfWork, event: Event) -> list[Rule]:
        if event.rule is not None:
            pinned = await uow.rules.find_cached(event.rule)
            rules = [pinned] if pinned is not None and pinned.enabled else []
        else:
            rules = await uow.rules.list_enabled_for_trigger_cached(event.trigger_ref)
        return [rule for rule in rules if rule.trigger_ref == event.trigger_ref]

    async def _pack_config(self, uow: UnitOfWork, pack_ref: str) -> dict[str, Any]:
        pack = await uow.packs.find_by_ref_cached(pack_ref)
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
