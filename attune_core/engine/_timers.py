"""The core timer sensor: one timer per enabled rule of a core timer trigger.

Rules of this file:

1. Timers run on the Clock port only (``clock.now()``, ``clock.sleep()``), so tests drive them
   with a FakeClock.
2. Fire times come from the schedule, never from accumulated sleeps: each slot is computed
   from the previous *slot* (interval: slot + period; cron: the next cron time after the slot),
   so a late wake-up does not push later events. A timer woken late fires the slots it missed,
   up to ``MAX_CATCH_UP`` in a row; beyond that it skips ahead to the next future slot.
3. A rule's timer is (re)started or stopped when the rule changes: the host listens to
   ``rule.created``, ``rule.enabled``, ``rule.disabled`` and ``pack.registered`` and re-reads
   the rule; a periodic sweep of the database (``sensor.poll_interval``) is the safety net.
4. Each event is pinned to its rule (``event.rule``) and fires only that rule. A
   ``core.datetimetimer`` whose ``fire_at`` is already past when its timer starts never fires.
5. Invalid ``trigger_params`` (a broken cron expression, an unknown unit, a bad date) never
   crash the host: the timer is not started and the reason is kept in :attr:`TimerHost.problems`
   (and logged). Rules created through ``Attune.create_rule`` are checked up front.
6. With leases (several hosts, ``attune serve sensor``), a host runs a rule's timer only while
   it holds the lease ``timer:<rule id>``. Each firing records its slot in the lease in the same
   transaction as the event, conditionally on still holding it: a slot is fired by one host,
   once. A host that takes a timer over resumes after the last recorded slot and fires the slots
   missed meanwhile (those not older than ``RESUME_WINDOW_TTLS`` lease lifetimes).
7. Events go through the host's :class:`EventIntake` (group commit with the other sources),
   the lease record being the event's guard (it runs in the event's transaction). A slot that
   came due is stored even if its timer is stopped meanwhile (shielded, for at most
   ``FLUSH_TIMEOUT`` seconds): it fired before the stop.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio
import anyio.abc
import attrs

from attune_core.bus import RoutingKey
from attune_core.engine._events import EventIntake
from attune_core.engine._leases import LeaseKeeper, releasing_on_exit, sweep_forever
from attune_core.engine._messages import consume_forever
from attune_core.errors import AttuneError, ValidationError
from attune_core.model import Rule
from attune_core.ports import Bus, Clock
from attune_core.security import SecretBox
from attune_core.storage import Lease, Store, UnitOfWork

__all__ = ["TIMER_TRIGGERS", "Schedule", "TimerHost", "schedule_for"]

log = logging.getLogger(__name__)

INTERVAL = "core.intervaltimer"
CRON = "core.crontimer"
DATETIME = "core.datetimetimer"
TIMER_TRIGGERS = (INTERVAL, CRON, DATETIME)
TIMER_QUEUE = "attune.timers"
MAX_CATCH_UP = 100  # missed slots fired back to back before a timer skips ahead
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
RESUME_WINDOW_TTLS = 4  # a taken-over timer fires missed slots up to this many lease ttls old
FLUSH_TIMEOUT = 10.0  # seconds a stopped timer may take to store the slot it was firing


def _zone(params: Mapping[str, Any]) -> ZoneInfo:
    name = params.get("timezone") or "UTC"
    if not isinstance(name, str):
        raise ValidationError(f"timezone must be a string, got {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown timezone {name!r}", field="timezone") from None


@attrs.frozen
class Schedule:
    """When a timer fires: ``first(start)`` then ``next(slot)``; ``None`` means never again."""

    trigger_ref: str
    params: Mapping[str, Any]
    period: timedelta | None = None
    zone: ZoneInfo = attrs.field(factory=lambda: ZoneInfo("UTC"))
    fire_at: datetime | None = None

    def first(self, start: datetime) -> datetime | None:
        """The first slot of a timer started at ``start``."""
        if self.trigger_ref == INTERVAL:
            assert self.period is not None
            return start + self.period
        if self.trigger_ref == DATETIME:
            assert self.fire_at is not None
            return self.fire_at if self.fire_at > start else None
        return self._cron_after(start)

    def next(self, slot: datetime) -> datetime | None:
        """The slot after ``slot``."""
        if self.trigger_ref == INTERVAL:
            assert self.period is not None
            return slot + self.period
        if self.trigger_ref == DATETIME:
            return None
        return self._cron_after(slot)

    def _cron_after(self, moment: datetime) -> datetime:
        from croniter import croniter

        it = croniter(
            str(self.params["expression"]),
            moment.astimezone(self.zone),
            second_at_beginning=True,
        )
        following: datetime = it.get_next(datetime)
        return following.astimezone(UTC)

    def payload(self, slot: datetime, fired_at: datetime, count: int) -> dict[str, Any]:
        """The event payload of one firing (the trigger's ``output`` schema)."""
        common = {"fired_at": fired_at.isoformat(), "scheduled_at": slot.isoformat()}
        if self.trigger_ref == INTERVAL:
            assert self.period is not None
            return {
                "type": "interval",
                "interval_seconds": int(self.period.total_seconds()),
                **common,
                "execution_count": count,
            }
        if self.trigger_ref == CRON:
            return {
                "type": "cron",
                "expression": self.params["expression"],
                "timezone": self.zone.key,
                **common,
                "execution_count": count,
            }
        return {
            "type": "one_shot",
            "fire_at": self.params["fire_at"],
            "timezone": self.zone.key,
            **common,
        }


def schedule_for(trigger_ref: str, params: Any) -> Schedule:
    """The schedule of a timer rule's ``trigger_params``.

    Raises:
        ValidationError: the parameters do not describe a schedule (the message says why).
    """
    if not isinstance(params, Mapping):
        raise ValidationError("trigger_params must be an object", field="trigger_params")
    if trigger_ref == INTERVAL:
        unit = params.get("unit", "seconds")
        if unit not in _UNITS:
            raise ValidationError(
                f"unit must be one of {', '.join(_UNITS)}, got {unit!r}", field="unit"
            )
        interval = params.get("interval")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValidationError(
                f"interval must be an integer >= 1, got {interval!r}", field="interval"
            )
        return Schedule(
            trigger_ref, dict(params), period=timedelta(seconds=interval * _UNITS[unit])
        )
    if trigger_ref == CRON:
        expression = params.get("expression")
        zone = _zone(params)
        if not isinstance(expression, str) or len(expression.split()) != 6:
            raise ValidationError(
                "expression must be a cron expression of 6 fields, seconds first "
                f"(e.g. '0 */5 * * * *'), got {expression!r}",
                field="expression",
            )
        from croniter import croniter

        if not croniter.is_valid(expression, second_at_beginning=True):
            raise ValidationError(f"invalid cron expression {expression!r}", field="expression")
        schedule = Schedule(trigger_ref, dict(params), zone=zone)
        try:
            schedule.first(datetime(2026, 1, 1, tzinfo=UTC))
        except Exception as exc:  # croniter raises several types for impossible dates
            raise ValidationError(
                f"cron expression {expression!r} has no fire time: {exc}", field="expression"
            ) from None
        return schedule
    if trigger_ref == DATETIME:
        zone = _zone(params)
        text = params.get("fire_at")
        if not isinstance(text, str):
            raise ValidationError(
                f"fire_at must be an ISO 8601 string, got {text!r}", field="fire_at"
            )
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"fire_at is not ISO 8601: {text!r}", field="fire_at") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return Schedule(trigger_ref, dict(params), zone=zone, fire_at=moment.astimezone(UTC))
    raise ValidationError(f"{trigger_ref!r} is not a timer trigger", field="trigger_ref")


def _fingerprint(rule: Rule) -> str:
    return rule.trigger_ref + json.dumps(rule.trigger_params, sort_keys=True, default=str)


def _lease_name(rule_id: int) -> str:
    return f"timer:{rule_id}"


class _LeaseLost(Exception):
    """Internal: another host holds this timer's lease now."""


@attrs.define
class _Timer:
    fingerprint: str
    scope: anyio.CancelScope
    fired: int = 0
    resume: tuple[datetime, int] | None = None  # the last slot fired (by any host) and count


class TimerHost:
    """Runs the timers of enabled timer rules. Run it with ``await host.run()``.

    State to inspect: :attr:`timers` (rule id -> events fired so far) and :attr:`problems`
    (rule ref -> why its timer could not start).

    With ``leases``, several hosts share the timers (rule 6); without, this host runs them all.
    ``intake`` stores the events (rule 7): the engine's own, shared with its other sources,
    when given.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        poll_interval: float = 10.0,
        secret_box: SecretBox | None = None,
        leases: LeaseKeeper | None = None,
        intake: EventIntake | None = None,
    ):
        self._store = store
        # secret_box: keystore references in pack config (rule action_params).
        self._intake = intake or EventIntake(store, bus, clock, secret_box=secret_box)
        self._bus = bus
        self._clock = clock
        self._poll_interval = poll_interval
        self._leases = leases
        # Shared by the hosts' consumers without leases (one host); one per host with them,
        # so that every host hears of every rule change.
        self._queue = TIMER_QUEUE if leases is None else f"{TIMER_QUEUE}.{uuid.uuid4().hex}"
        self._timers: dict[int, _Timer] = {}
        self.problems: dict[str, str] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._lock = anyio.Lock()
        self._awake = 0  # timers doing something other than waiting for the clock

    @property
    def busy(self) -> bool:
        """Whether a timer is firing (not waiting for the clock): for the test kit's settle."""
        return self._awake > 0

    @property
    def timers(self) -> dict[int, int]:
        """Running timers: rule id -> number of events fired."""
        return {rule_id: timer.fired for rule_id, timer in self._timers.items()}

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the timers of every enabled timer rule and follow rule changes."""
        await self._bus.declare_queue(
            self._queue,
            [
                RoutingKey.RULE_CREATED,
                RoutingKey.RULE_ENABLED,
                RoutingKey.RULE_DISABLED,
                RoutingKey.PACK_REGISTERED,
            ],
            transient=self._leases is not None,
        )
        async with releasing_on_exit(self._leases, "timer"), anyio.create_task_group() as tg:
            self._tg = tg
            await self.sync_all()
            tg.start_soon(self._consume)
            tg.start_soon(
                partial(
                    sweep_forever,
                    self._leases,
                    self._poll_interval,
                    lost=self._lost,
                    sync=self.sync_all,
                    what="timer",
                )
            )
            task_status.started()

    async def _consume(self) -> None:
        await consume_forever(self._bus, self._queue, self._on_message, prefetch=1, name="timers")

    async def _lost(self, names: set[str]) -> None:
        async with self._lock:
            for rule_id in list(self._timers):
                if _lease_name(rule_id) in names:
                    log.warning("timer of rule %s: lease lost, stopping", rule_id)
                    self._stop(rule_id)

    async def _on_message(self, payload: Mapping[str, Any]) -> None:
        rule_id = payload.get("rule_id")
        if rule_id is None:
            await self.sync_all()
        else:
            await self.sync_rule(int(rule_id))

    async def sync_all(self) -> None:
        """Start missing timers and stop those whose rule is gone or disabled."""
        async with self._store.read() as uow:
            rules = await uow.rules.list(enabled=True, trigger_ref=list(TIMER_TRIGGERS))
        async with self._lock:
            wanted = {rule.id for rule in rules}
            for rule_id in list(self._timers):
                if rule_id not in wanted:
                    self._stop(rule_id)
            held = await self._claim(rules)
            for rule in rules:
                if rule.id in held:
                    self._ensure(rule, held[rule.id])
                elif rule.id is not None:
                    self._stop(rule.id)
            if self._leases is not None:
                names = {_lease_name(rule_id) for rule_id in wanted if rule_id is not None}
                unwanted = {n for n in self._leases.held if n.startswith("timer:")} - names
                await self._leases.release(unwanted, forget=True)

    async def sync_rule(self, rule_id: int) -> None:
        """Start, restart or stop the timer of one rule to match the database."""
        async with self._store.read() as uow:
            rule = await uow.rules.find(rule_id)
        async with self._lock:
            if rule is None or not rule.enabled or rule.trigger_ref not in TIMER_TRIGGERS:
                self._stop(rule_id)
                if self._leases is not None:
                    await self._leases.release([_lease_name(rule_id)], forget=True)
                return
            held = await self._claim([rule])
            if rule_id in held:
                self._ensure(rule, held[rule_id])
            else:
                self._stop(rule_id)

    async def _claim(self, rules: list[Rule]) -> dict[int, Lease | None]:
        """The rules whose timers this host runs, with their leases (``None``: no leases)."""
        if self._leases is None:
            return {rule.id: None for rule in rules if rule.id is not None}
        names = {_lease_name(rule.id): rule.id for rule in rules if rule.id is not None}
        got = await self._leases.acquire(list(names))
        return {names[name]: lease for name, lease in got.items()}

    def _stop(self, rule_id: int) -> None:
        timer = self._timers.pop(rule_id, None)
        if timer is not None:
            timer.scope.cancel()

    def _ensure(self, rule: Rule, lease: Lease | None = None) -> None:
        assert rule.id is not None
        fingerprint = _fingerprint(rule)
        current = self._timers.get(rule.id)
        if current is not None and current.fingerprint == fingerprint:
            return
        self._stop(rule.id)
        try:
            schedule = schedule_for(rule.trigger_ref, rule.trigger_params)
        except ValidationError as exc:
            self.problems[rule.ref] = str(exc)
            log.warning("timer of rule %s not started: %s", rule.ref, exc)
            return
        self.problems.pop(rule.ref, None)
        timer = _Timer(fingerprint, anyio.CancelScope(), resume=_resume_point(lease, fingerprint))
        self._timers[rule.id] = timer
        assert self._tg is not None
        self._tg.start_soon(self._run_timer, rule, schedule, timer)

    async def _run_timer(self, rule: Rule, schedule: Schedule, timer: _Timer) -> None:
        self._awake += 1
        try:
            await self._timer_loop(rule, schedule, timer)
        except _LeaseLost:
            log.warning("timer of rule %s: another host holds its lease now, stopping", rule.ref)
            if self._timers.get(rule.id) is timer:  # type: ignore[arg-type]
                del self._timers[rule.id]  # type: ignore[arg-type]
        finally:
            self._awake -= 1

    def _first_slot(self, schedule: Schedule, timer: _Timer) -> datetime | None:
        now = self._clock.now()
        if timer.resume is None or self._leases is None:
            return schedule.first(now)
        last, timer.fired = timer.resume
        slot = schedule.next(last)
        # Taken over: fire what the previous holder missed, unless it is long gone.
        oldest = now - timedelta(seconds=self._leases.ttl * RESUME_WINDOW_TTLS)
        while slot is not None and slot < oldest:
            slot = schedule.next(slot)
        return slot

    async def _timer_loop(self, rule: Rule, schedule: Schedule, timer: _Timer) -> None:
        with timer.scope:
            slot = self._first_slot(schedule, timer)
            behind = 0
            while slot is not None:
                delay = (slot - self._clock.now()).total_seconds()
                if delay > 0:
                    behind = 0
                    self._awake -= 1
                    try:
                        await self._clock.sleep(delay)
                    finally:
                        self._awake += 1
                else:
                    behind += 1
                    if behind > MAX_CATCH_UP:
                        log.warning("timer of rule %s is late; skipping missed slots", rule.ref)
                        now = self._clock.now()
                        while slot is not None and slot <= now:
                            slot = schedule.next(slot)
                        behind = 0
                        continue
                timer.fired += 1
                if not await self._fire(rule, schedule, slot, timer):
                    break
                slot = schedule.next(slot)
        # The entry stays (a finished one-shot timer must not be started again by a sweep);
        # _stop() removes it when the rule changes.

    async def _fire(self, rule: Rule, schedule: Schedule, slot: datetime, timer: _Timer) -> bool:
        assert rule.id is not None
        count = timer.fired
        payload = schedule.payload(slot, self._clock.now(), count)
        leases, name = self._leases, _lease_name(rule.id)
        state = {"slot": slot.isoformat(), "count": count, "fingerprint": timer.fingerprint}

        async def still_ours(uow: UnitOfWork) -> None:
            # Rule 6: the slot is recorded with the event, only while this host holds the lease.
            if leases is not None and not await leases.record(uow, name, state):
                raise _LeaseLost

        try:
            with anyio.move_on_after(FLUSH_TIMEOUT, shield=True) as flush:  # rule 7
                await self._intake.fire(
                    rule.trigger_ref,
                    payload,
                    rule_id=rule.id,
                    guard=still_ours if leases is not None else None,
                )
            if flush.cancelled_caught:
                log.warning("timer of rule %s: slot %s not stored in time", rule.ref, slot)
        except _LeaseLost:
            raise
        except AttuneError as exc:
            log.warning("timer of rule %s stopped: %s", rule.ref, exc)
            return False
        except Exception:
            # A database hiccup loses this slot, never the host or the other timers.
            log.exception("timer of rule %s could not fire", rule.ref)
            return True
        return True


def _resume_point(lease: Lease | None, fingerprint: str) -> tuple[datetime, int] | None:
    """The last slot a previous holder fired for the same schedule, and its count."""
    state = lease.state if lease is not None else None
    if not state or state.get("fingerprint") != fingerprint:
        return None
    try:
        return datetime.fromisoformat(str(state["slot"])), int(state["count"])
    except (KeyError, TypeError, ValueError):
        return None
