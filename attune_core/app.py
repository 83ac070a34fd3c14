"""The composition root: ``Attune`` wires store, bus, clock, executor and worker together.

Rules of this file:

1. This is the only place that chooses adapters (SQLite or PostgreSQL store, in-memory bus,
   system or fake clock) and starts background services. Importing it starts nothing.
2. ``Attune.embedded()`` runs the whole engine in the caller's process inside one task group:
   leaving the ``async with`` block cancels every service and closes the database.
3. The facade's methods are what a Python program (or a pack author's test) needs; the REST API
   offers the same operations over HTTP.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.abc

from attune_core.bus import InMemoryBus, RoutingKey
from attune_core.clock import SystemClock
from attune_core.config import Settings, load_settings
from attune_core.engine._analytics import Analytics, RetentionJob, window
from attune_core.engine._events import EventIntake, parse_trigger_instance, store_events
from attune_core.engine._executor import Executor
from attune_core.engine._inquiries import InquiryMonitor
from attune_core.engine._inquiries import respond as respond_to_inquiry
from attune_core.engine._keys import read_value, rotate, write_key
from attune_core.engine._messages import publish_all
from attune_core.engine._notifier import NotificationRecorder, Notifier, Subscription
from attune_core.engine._sensors import SensorHost, SensorStatus
from attune_core.engine._timers import TIMER_TRIGGERS, TimerHost, schedule_for
from attune_core.engine._webhooks import WebhookReceiver, check_webhook_config
from attune_core.engine._worker_service import ActionRunner, WorkerService
from attune_core.errors import NotFound, ValidationError
from attune_core.model import (
    Artifact,
    Enforcement,
    EnforcementStatus,
    Event,
    Execution,
    ExecutionStatus,
    Inquiry,
    InquiryStatus,
    Key,
    Notification,
    OwnerType,
    Rule,
    Sensor,
    Trigger,
)
from attune_core.ports import Bus, Clock
from attune_core.resources import packs_dir
from attune_core.rules import validate_conditions
from attune_core.security import SecretBox
from attune_core.storage import Change, Store, UnitOfWork, migrate

__all__ = ["Attune"]

DEFAULT_WAIT = 300.0  # seconds; the default action timeout, so a wait outlives its action


class Attune:
    """The engine, as a Python program sees it.

    Build it with :meth:`embedded` (everything in this process). ``store``, ``bus`` and
    ``clock`` are public so tests and tools can look underneath.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        bus: Bus,
        clock: Clock,
        executor: Executor,
        notifier: Notifier | None = None,
        timers: TimerHost | None = None,
        sensor_host: SensorHost | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.clock = clock
        self.executor = executor
        self.notifier = notifier or Notifier(bus, clock.now)
        self.notification_recorder = NotificationRecorder(store, bus)
        self.secret_box = SecretBox(settings.security.encryption_key)
        # Events fired concurrently (fire, webhooks, timers, sensors, the API of attune up)
        # share transactions, which also schedule their executions (the worker of this
        # process claims them there).
        self.intake = EventIntake(
            store, bus, clock, secret_box=self.secret_box, schedule=executor.schedule_here
        )
        self.timers = timers or TimerHost(
            store,
            bus,
            clock,
            poll_interval=settings.sensor.poll_interval,
            secret_box=self.secret_box,
            intake=self.intake,
        )
        self.sensor_host = sensor_host or SensorHost(
            store, bus, clock, settings, intake=self.intake
        )
        self.inquiry_monitor = InquiryMonitor(store, bus, clock)
        self.webhooks = WebhookReceiver(
            store, bus, clock, secret_box=self.secret_box, intake=self.intake
        )
        self.analytics = Analytics(store)
        self.retention = RetentionJob(store, clock, settings.retention)
        self._waiters: dict[int, anyio.Event] = {}
        # Executions that ended in a transaction of this process while awaited, as stored.
        self._finished: dict[int, Execution] = {}
        store.on_commit(self._note_finished)

    # -- construction -----------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def embedded(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        packs: Sequence[str | os.PathLike[str]] = (),
        settings: Settings | None = None,
        clock: Clock | None = None,
        core_pack: bool = True,
        runner: ActionRunner | None = None,
    ) -> AsyncIterator[Attune]:
        """Run Attune in this process: executor, worker and (in-memory) bus, no server.

        Args:
            data_dir: Where the SQLite database, installed packs and runtime environments go.
                Default: a temporary directory removed on exit (unless ``settings`` is given).
            packs: Pack directories to register after the core pack.
            settings: Full settings; overrides ``data_dir``.
            clock: The clock (a ``FakeClock`` in tests); default the system clock.
            core_pack: Register the core pack shipped with Attune.
            runner: What runs action processes (default: a real ``ProcessRunner``; the test
                kit passes one that can mock actions).
        """
        with tempfile.TemporaryDirectory(prefix="attune-") as scratch:
            if settings is None:
                base = Path(data_dir) if data_dir is not None else Path(scratch)
                settings = load_settings(
                    environ={"ATTUNE__DATA_DIR": str(base), "HOME": os.environ.get("HOME", "/")},
                    base_dir=base,
                )
            clock = clock or SystemClock()
            store = await Store.from_settings(settings.database, now=clock.now)
            try:
                await migrate.upgrade(store.engine)
                bus = InMemoryBus()
                executor = Executor(
                    store, bus, clock, secret_box=SecretBox(settings.security.encryption_key)
                )
                worker = WorkerService(store, bus, clock, settings, runner=runner)
                # One process: the executor hands executions straight to this worker.
                executor.attach_local_worker(worker)
                attune = cls(
                    settings=settings, store=store, bus=bus, clock=clock, executor=executor
                )
                store.on_commit(attune.notifier.on_commit)
                async with anyio.create_task_group() as tg:
                    await tg.start(attune._watch)
                    await tg.start(attune.notifier.run)
                    await tg.start(attune.notification_recorder.run)
                    await tg.start(executor.run)
                    await tg.start(worker.run)
                    await tg.start(attune.timers.run)
                    await tg.start(attune.sensor_host.run)
                    await tg.start(attune.inquiry_monitor.run)
                    await tg.start(attune.retention.run)
                    if core_pack:
                        await attune.register_pack(packs_dir() / "core")
                    for path in packs:
                        await attune.register_pack(path)
                    try:
                        yield attune
                    finally:
                        tg.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await store.close()

    async def _watch(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Wake :meth:`wait` callers when their execution finishes."""
        queue = f"attune.facade.{uuid.uuid4().hex}"
        await self.bus.declare_queue(queue, [RoutingKey.EXECUTION_COMPLETED], transient=True)
        async with self.bus.consume(queue, prefetch=1000) as deliveries:
            task_status.started()
            async for delivery in deliveries:
                event = self._waiters.pop(int(delivery.envelope.payload["execution_id"]), None)
                if event is not None:
                    event.set()
                await delivery.ack()

    # -- packs ------------------------------------------------------------------------------

    async def register_pack(self, path: str | os.PathLike[str], *, force: bool = False) -> Any:
        """Register (or re-register) the pack in directory ``path``.

        The pack's files are copied to ``{packs_base_dir}/{ref}`` first (the packs shipped with
        Attune are used where they are), so workers find them where every pack lives.

        Returns:
            The registration result (counts of components, warnings).

        Raises:
            PackError: The pack is invalid; nothing was changed.
        """
        from attune_core.packs import load_pack, register_pack

        def load_and_install() -> Any:
            source = Path(path).resolve()
            spec = load_pack(source)
            target = self.settings.packs_base_dir / spec.ref
            if source.parent != packs_dir().resolve() and source != target.resolve():
                _copy_tree(source, target)
            return spec

        spec = await anyio.to_thread.run_sync(load_and_install)
        result = await register_pack(self.store, spec, force=force)
        await self.bus.publish(RoutingKey.PACK_REGISTERED, {"pack_ref": spec.ref})
        return result

    # -- executions -------------------------------------------------------------------------

    async def execute(
        self,
        ref: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        env_vars: Mapping[str, str] | None = None,
    ) -> Execution:
        """Request an execution of action ``ref``; returns it as created (``requested``).

        The executor schedules it at once (in the same transaction when the worker is in this
        process), so by the time this returns it may already be running.

        Raises:
            NotFound: There is no action ``ref``.
        """
        return await self._submit(ref, parameters, env_vars)

    async def _submit(
        self,
        ref: str,
        parameters: Mapping[str, Any] | None,
        env_vars: Mapping[str, str] | None,
        *,
        created: Callable[[int], None] | None = None,
    ) -> Execution:
        async def create(uow: UnitOfWork) -> Execution:
            action = await uow.actions.find_by_ref_cached(ref)
            if action is None:
                raise NotFound(f"action {ref!r} not found")
            return await uow.executions.create(
                Execution(
                    action_ref=ref,
                    action=action.id,
                    config=dict(parameters or {}),
                    env_vars=dict(env_vars) if env_vars else None,
                )
            )

        return await self.executor.submit(create, created=created)

    async def wait(self, execution_id: int, timeout: float = DEFAULT_WAIT) -> Execution:
        """Wait until the execution is in a terminal status and return it.

        Raises:
            TimeoutError: It did not finish within ``timeout`` seconds (real time).
            NotFound: There is no such execution.
        """
        event = self._waiter(execution_id)
        execution = await self.get_execution(execution_id)
        if execution.status.is_terminal:
            return execution
        return await self._wait_for(execution_id, event, timeout)

    async def _wait_for(self, execution_id: int, event: anyio.Event, timeout: float) -> Execution:
        try:
            with anyio.fail_after(timeout):
                while True:
                    await event.wait()
                    execution = self._finished.pop(execution_id, None)
                    if execution is None:
                        execution = await self.get_execution(execution_id)
                    if execution.status.is_terminal:
                        return execution
                    event = self._waiter(execution_id)
        finally:
            self._finished.pop(execution_id, None)

    async def _note_finished(self, changes: list[Change]) -> None:
        """Wake waiters of executions that a transaction of this process ended, with the
        execution as that transaction left it (no read needed). Executions ended by another
        process wake them through ``execution.completed`` (:meth:`_watch`)."""
        if not self._waiters:
            return
        ended: dict[int, Execution] = {}
        for change in changes:
            entity = change.entity
            if change.entity_type == "execution" and entity.id in self._waiters:
                if entity.status.is_terminal:
                    ended[entity.id] = entity
                else:
                    ended.pop(entity.id, None)
        for execution_id, execution in ended.items():
            event = self._waiters.pop(execution_id, None)
            if event is not None:
                self._finished[execution_id] = execution
                event.set()

    def _waiter(self, execution_id: int) -> anyio.Event:
        event = self._waiters.get(execution_id)
        if event is None:
            event = self._waiters[execution_id] = anyio.Event()
        return event

    async def run(
        self,
        ref: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float = DEFAULT_WAIT,
    ) -> Execution:
        """Execute action ``ref`` and wait for it to finish."""
        # Listening before it can run: its completion cannot be missed.
        events: list[anyio.Event] = []
        execution = await self._submit(
            ref, parameters, None, created=lambda id: events.append(self._waiter(id))
        )
        assert execution.id is not None
        return await self._wait_for(execution.id, events[0], timeout)

    async def get_execution(self, execution_id: int) -> Execution:
        """The execution with this id; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            return await uow.executions.get(execution_id)

    async def executions(
        self,
        *,
        parent: int | None = None,
        status: ExecutionStatus | Sequence[ExecutionStatus] | None = None,
        action_ref: str | None = None,
        limit: int | None = None,
    ) -> list[Execution]:
        """Executions matching every filter given, newest first (children: oldest first)."""
        async with self.store.read() as uow:
            if parent is not None and status is None and action_ref is None:
                return (await uow.executions.list_children(parent))[:limit]
            filters: dict[str, Any] = {}
            if parent is not None:
                filters["parent"] = parent
            if status is not None:
                filters["status"] = status if isinstance(status, ExecutionStatus) else list(status)
            if action_ref is not None:
                filters["action_ref"] = action_ref
            return await uow.executions.list(limit=limit, **filters)

    async def artifacts(self, *, execution: int | None = None) -> list[Artifact]:
        """Artifacts, newest first (only those of one execution when ``execution`` is given)."""
        async with self.store.read() as uow:
            if execution is None:
                return await uow.artifacts.list()
            return await uow.artifacts.list(execution=execution)

    async def artifact_content(self, artifact_id: int, version: int | None = None) -> bytes | None:
        """The bytes of an artifact's version (the latest by default), or ``None``."""
        async with self.store.read() as uow:
            found = (
                await uow.artifact_versions.latest(artifact_id)
                if version is None
                else await uow.artifact_versions.find_version(artifact_id, version)
            )
        return None if found is None else found.content

    async def cancel(self, execution_id: int) -> Execution:
        """Cancel an execution (at once if not yet running; ``canceling`` while running)."""
        return await self.executor.cancel(execution_id)

    async def pause(self, execution_id: int) -> None:
        """Pause a workflow execution."""
        await self.executor.pause(execution_id)

    async def resume(self, execution_id: int) -> None:
        """Resume a paused workflow execution."""
        await self.executor.resume(execution_id)

    async def rerun(self, execution_id: int) -> Execution:
        """Run an execution's action again with the same parameters."""
        original = await self.get_execution(execution_id)
        async with self.store.transaction() as uow:
            execution = await uow.executions.create(
                Execution(
                    action_ref=original.action_ref,
                    action=original.action,
                    config=original.config,
                    env_vars=original.env_vars,
                    original_execution=original.original_execution or original.id,
                )
            )
        await publish_all(
            self.bus, [(RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id})]
        )
        return execution

    # -- events -------------------------------------------------------------------------------

    async def fire(
        self,
        trigger_ref: str,
        payload: Any = None,
        *,
        trigger_instance_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        source_ref: str | None = None,
    ) -> Event:
        """Fire trigger ``trigger_ref`` as a sensor would: store an event and apply its rules.

        When this returns, the event, its enforcements and their executions (``requested``)
        are stored; the executions then run as usual.

        Args:
            trigger_ref: The trigger.
            payload: The event payload (any JSON value; usually an object).
            trigger_instance_id: ``"rule_<id>"`` pins the event to that rule: only it fires.
            config: The trigger instance's configuration, kept on the event.
            source_ref: The sensor that emitted the event, if any.

        Raises:
            NotFound: no such trigger (or pinned rule).
            ValidationError: a malformed ``trigger_instance_id``.
        """
        rule_id = parse_trigger_instance(trigger_instance_id)
        return await self.intake.fire(
            trigger_ref, payload, rule_id=rule_id, config=config, source_ref=source_ref
        )

    async def fire_many(
        self,
        trigger_ref: str,
        payloads: Sequence[Any],
        *,
        trigger_instance_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        source_ref: str | None = None,
    ) -> list[Event]:
        """Fire trigger ``trigger_ref`` once per payload, in one transaction.

        The same as calling :meth:`fire` for each payload (same events, enforcements and
        executions, same order), but the batch is stored and evaluated at once: the trigger
        and its rules are read once and each kind of row is inserted with one statement. A
        source that has several events at hand (a sensor's burst, a replay) uses this.

        Raises:
            NotFound: no such trigger (or pinned rule); nothing is stored then.
            ValidationError: a malformed ``trigger_instance_id``.
        """
        rule_id = parse_trigger_instance(trigger_instance_id)
        if not payloads:
            return []
        async with self.store.transaction() as uow:
            events, messages = await store_events(
                uow,
                trigger_ref,
                payloads,
                clock=self.clock,
                rule_id=rule_id,
                config=config,
                source_ref=source_ref,
                secret_box=self.secret_box,
            )
        await publish_all(self.bus, messages)
        return events

    async def events(
        self,
        *,
        trigger_ref: str | None = None,
        rule_ref: str | None = None,
        source_ref: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Event]:
        """Stored events, newest first, matching every filter given."""
        filters = _given(trigger_ref=trigger_ref, rule_ref=rule_ref, source_ref=source_ref)
        async with self.store.read() as uow:
            return await uow.events.list(limit=limit, offset=offset, **filters)

    async def get_event(self, event_id: int) -> Event:
        """The event with this id; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            return await uow.events.get(event_id)

    async def enforcements(
        self,
        *,
        rule_ref: str | None = None,
        event: int | None = None,
        status: EnforcementStatus | str | None = None,
        trigger_ref: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Enforcement]:
        """Enforcements, newest first, matching every filter given."""
        filters = _given(rule_ref=rule_ref, event=event, status=status, trigger_ref=trigger_ref)
        async with self.store.read() as uow:
            return await uow.enforcements.list(limit=limit, offset=offset, **filters)

    # -- rules ------------------------------------------------------------------------------

    async def create_rule(
        self,
        ref: str,
        *,
        trigger_ref: str,
        action_ref: str,
        pack_ref: str | None = None,
        label: str | None = None,
        description: str | None = None,
        conditions: Any = None,
        action_params: Mapping[str, Any] | None = None,
        trigger_params: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> Rule:
        """Create an (ad hoc) rule; it takes effect at once (a timer rule starts its timer).

        Raises:
            NotFound: the pack, trigger or action does not exist.
            ValidationError: malformed conditions or timer parameters, a bad ref.
            Conflict: a rule ``ref`` already exists.
        """
        pack_ref = pack_ref or ref.split(".", 1)[0]
        validate_conditions(conditions)
        if trigger_ref in TIMER_TRIGGERS:
            schedule_for(trigger_ref, dict(trigger_params or {}))
        async with self.store.transaction() as uow:
            pack = await uow.packs.get_by_ref(pack_ref)
            trigger = await uow.triggers.get_by_ref(trigger_ref)
            action = await uow.actions.get_by_ref(action_ref)
            rule: Rule = await uow.rules.create(
                Rule(
                    ref=ref,
                    pack=pack.id,
                    pack_ref=pack_ref,
                    label=label or ref,
                    description=description,
                    action=action.id,
                    action_ref=action_ref,
                    trigger=trigger.id,
                    trigger_ref=trigger_ref,
                    conditions=conditions if conditions is not None else {},
                    action_params=dict(action_params or {}),
                    trigger_params=dict(trigger_params or {}),
                    enabled=enabled,
                    is_adhoc=True,
                )
            )
        await self._rule_changed(rule, RoutingKey.RULE_CREATED)
        return rule

    async def update_rule(self, ref: str, **changes: Any) -> Rule:
        """Change fields of a rule (conditions, action_params, trigger_params, enabled, ...).

        Raises:
            NotFound: no rule ``ref``.
            ValidationError: malformed conditions or timer parameters.
        """
        if "conditions" in changes:
            validate_conditions(changes["conditions"])
        async with self.store.transaction() as uow:
            rule: Rule = await uow.rules.get_by_ref(ref)
            trigger_ref = changes.get("trigger_ref", rule.trigger_ref)
            if trigger_ref in TIMER_TRIGGERS:
                schedule_for(trigger_ref, changes.get("trigger_params", rule.trigger_params))
            assert rule.id is not None
            rule = await uow.rules.update(rule.id, **changes)
        await self._rule_changed(
            rule, RoutingKey.RULE_ENABLED if rule.enabled else RoutingKey.RULE_DISABLED
        )
        return rule

    async def enable_rule(self, ref: str) -> Rule:
        """Enable a rule (its timer, if any, starts at once)."""
        return await self.update_rule(ref, enabled=True)

    async def disable_rule(self, ref: str) -> Rule:
        """Disable a rule: no new enforcement from now on; its timer stops."""
        return await self.update_rule(ref, enabled=False)

    async def delete_rule(self, ref: str) -> None:
        """Delete a rule (its timer stops); :class:`NotFound` if there is none."""
        async with self.store.transaction() as uow:
            rule = await uow.rules.get_by_ref(ref)
            await uow.rules.delete_by_ref(ref)
        await self._rule_changed(rule, RoutingKey.RULE_DISABLED, deleted=True)

    async def get_rule(self, ref: str) -> Rule:
        """The rule ``ref``; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            rule: Rule = await uow.rules.get_by_ref(ref)
        return rule

    async def rules(
        self,
        *,
        trigger_ref: str | None = None,
        action_ref: str | None = None,
        pack_ref: str | None = None,
        enabled: bool | None = None,
    ) -> list[Rule]:
        """Rules by ref, matching every filter given."""
        filters = _given(
            trigger_ref=trigger_ref, action_ref=action_ref, pack_ref=pack_ref, enabled=enabled
        )
        async with self.store.read() as uow:
            return await uow.rules.list(**filters)

    async def _rule_changed(self, rule: Rule, routing_key: str, *, deleted: bool = False) -> None:
        await self.bus.publish(
            routing_key,
            {
                "rule_id": rule.id,
                "rule_ref": rule.ref,
                "trigger_ref": rule.trigger_ref,
                "enabled": rule.enabled and not deleted,
                "deleted": deleted,
            },
        )

    # -- sensors ---------------------------------------------------------------------------

    async def sensors(self, *, pack_ref: str | None = None) -> list[Sensor]:
        """Sensors by ref (``pack_ref``: of one pack only)."""
        async with self.store.read() as uow:
            return await uow.sensors.list(**_given(pack_ref=pack_ref))

    async def get_sensor(self, ref: str) -> Sensor:
        """The sensor ``ref``; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            sensor: Sensor = await uow.sensors.get_by_ref(ref)
        return sensor

    async def enable_sensor(self, ref: str) -> Sensor:
        """Enable a sensor: its process starts at once if an enabled rule uses its triggers.

        Raises:
            NotFound: no sensor ``ref``.
        """
        return await self._set_sensor_enabled(ref, True)

    async def disable_sensor(self, ref: str) -> Sensor:
        """Disable a sensor: its process is stopped (SIGTERM, then SIGKILL after a grace).

        Raises:
            NotFound: no sensor ``ref``.
        """
        return await self._set_sensor_enabled(ref, False)

    async def _set_sensor_enabled(self, ref: str, enabled: bool) -> Sensor:
        async with self.store.transaction() as uow:
            sensor: Sensor = await uow.sensors.get_by_ref(ref)
            assert sensor.id is not None
            sensor = await uow.sensors.update(sensor.id, enabled=enabled)
        await self.sensor_host.sync()
        return sensor

    async def sensor_status(self, ref: str) -> SensorStatus:
        """The state of sensor ``ref``'s process in this engine (docs/sensors.md "Status").

        Raises:
            NotFound: no sensor ``ref``.
        """
        await self.get_sensor(ref)
        return self.sensor_host.status(ref)

    async def sensor_logs(self, ref: str) -> list[str]:
        """Sensor ``ref``'s log, oldest first: its stderr lines and what the host says about it
        (starts, exits, restarts, rejected stdout lines), at most the last 1000 lines.

        Raises:
            NotFound: no sensor ``ref``.
        """
        await self.get_sensor(ref)
        return self.sensor_host.logs(ref)

    # -- webhooks ----------------------------------------------------------------------------

    async def enable_webhook(
        self, trigger_ref: str, config: Mapping[str, Any] | None = None
    ) -> Trigger:
        """Turn on webhooks for a trigger (any trigger); its key is ``wh_`` + 32 hex digits.

        Args:
            trigger_ref: The trigger.
            config: ``webhook_config`` to set (``payload_size_limit_kb``, ``ip_whitelist``,
                ``rate_limit``, ``hmac``); ``None`` keeps the current one.

        Raises:
            NotFound: no such trigger.
            ValidationError: a malformed ``config``.
        """
        checked = check_webhook_config(config) if config is not None else None
        async with self.store.transaction() as uow:
            trigger: Trigger = await uow.triggers.get_by_ref(trigger_ref)
            assert trigger.id is not None
            if checked is not None:
                await uow.triggers.update(trigger.id, webhook_config=checked)
            return await uow.triggers.enable_webhook(trigger.id)

    async def configure_webhook(self, trigger_ref: str, config: Mapping[str, Any]) -> Trigger:
        """Replace a trigger's ``webhook_config`` (see :meth:`enable_webhook`)."""
        checked = check_webhook_config(config)
        async with self.store.transaction() as uow:
            trigger: Trigger = await uow.triggers.get_by_ref(trigger_ref)
            assert trigger.id is not None
            updated: Trigger = await uow.triggers.update(trigger.id, webhook_config=checked)
        return updated

    async def disable_webhook(self, trigger_ref: str) -> Trigger:
        """Turn off webhooks for a trigger and revoke its key."""
        async with self.store.transaction() as uow:
            trigger: Trigger = await uow.triggers.get_by_ref(trigger_ref)
            assert trigger.id is not None
            return await uow.triggers.disable_webhook(trigger.id)

    async def regenerate_webhook(self, trigger_ref: str) -> Trigger:
        """Give a trigger a new webhook key (the old one stops working).

        Raises:
            BadRequest: webhooks are not enabled for the trigger.
        """
        async with self.store.transaction() as uow:
            trigger: Trigger = await uow.triggers.get_by_ref(trigger_ref)
            assert trigger.id is not None
            return await uow.triggers.regenerate_webhook(trigger.id)

    async def receive_webhook(
        self,
        key: str,
        raw_body: bytes | str,
        headers: Mapping[str, str] | None = None,
        peer_ip: str | None = None,
    ) -> dict[str, Any]:
        """Receive a webhook request: checks in the contract's order, then one event.

        Args:
            key: The key of the URL (``/api/v1/webhooks/{key}``).
            raw_body: The request body exactly as received (signatures cover these bytes).
            headers: The request headers (any case).
            peer_ip: The address of the TCP peer.

        Returns:
            ``{"event_id", "trigger_ref", "received_at", "message"}``.

        Raises:
            BadRequest: (400) not ``{"payload": ...}``, trigger disabled, body too large.
            NotFound: (404) unknown or revoked key.
            Forbidden: (403) address not in the allow-list.
            TooManyRequests: (429) rate limit exceeded.
            Unauthorized: (401) missing or wrong HMAC signature.
        """
        receipt = await self.webhooks.receive(key, raw_body, headers, peer_ip)
        return receipt.to_dict()

    # -- keys --------------------------------------------------------------------------------

    async def set_key(
        self,
        ref: str,
        value: Any,
        *,
        name: str | None = None,
        owner_type: OwnerType | str = OwnerType.SYSTEM,
        owner: int | str | None = None,
        encrypted: bool = False,
    ) -> Key:
        """Create or replace the key ``ref``; ``value`` may be any JSON value.

        Args:
            ref: Lowercase dotted ref (``myapp.api_token``).
            value: Any JSON value (its type is kept).
            name: The name actions and workflows see it under (default: ``ref``).
            owner_type: ``system``, ``identity``, ``pack``, ``action`` or ``sensor``.
            owner: The owner's id, or its ref (login for an identity).
            encrypted: Store it sealed with AES-256-GCM.

        Returns:
            The key as stored (``value`` is the stored text: ciphertext when encrypted).
        """
        async with self.store.transaction() as uow:
            return await write_key(
                uow,
                self.secret_box,
                ref,
                value,
                name=name,
                owner_type=owner_type,
                owner=owner,
                encrypted=encrypted,
            )

    async def get_key(self, ref: str) -> Any:
        """The (decrypted) value of key ``ref``; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            key: Key = await uow.keys.get_by_ref(ref)
        return read_value(key, self.secret_box)

    async def keys(
        self, *, owner_type: OwnerType | str | None = None, owner: str | None = None
    ) -> list[Key]:
        """Keys by ref (values as stored: never decrypted here)."""
        async with self.store.read() as uow:
            return await uow.keys.list(**_given(owner_type=owner_type, owner=owner))

    async def delete_key(self, ref: str) -> None:
        """Delete key ``ref``; :class:`NotFound` otherwise."""
        async with self.store.transaction() as uow:
            await uow.keys.delete_by_ref(ref)

    async def rotate_keys(self, new_encryption_key: str) -> int:
        """Re-encrypt every encrypted key under ``new_encryption_key`` (all or nothing).

        The engine keeps using its configured key afterwards: restart it with
        ``security.encryption_key`` set to the new key.

        Returns:
            How many keys were re-encrypted.

        Raises:
            SecretBoxError: a key cannot be decrypted with the current key (nothing changed).
        """
        new = SecretBox(new_encryption_key)
        async with self.store.transaction() as uow:
            return await rotate(uow, self.secret_box, new)

    # -- inquiries ---------------------------------------------------------------------------

    async def respond(
        self,
        inquiry_id: int,
        response: Any,
        *,
        identity: int | None = None,
        execution: int | None = None,
    ) -> Inquiry:
        """Answer an inquiry; the asking ``core.ask`` task completes with ``{"response": ...}``.

        Args:
            inquiry_id: The inquiry.
            response: The answer; it must satisfy the inquiry's ``response_schema``.
            identity: The identity answering (must be the assignee when there is one).
            execution: The execution whose API token answers, when an action answers.

        Raises:
            NotFound: no such inquiry.
            BadRequest: it is not pending any more.
            Forbidden: the responder may not answer it.
            ValidationError: the response fails the ``response_schema``.
        """
        async with self.store.transaction() as uow:
            inquiry, messages = await respond_to_inquiry(
                uow, inquiry_id, response, identity=identity, execution=execution
            )
        await publish_all(self.bus, messages)
        return inquiry

    async def create_inquiry(
        self,
        execution: int,
        prompt: str,
        *,
        response_schema: Mapping[str, Any] | None = None,
        assigned_to: int | None = None,
        timeout_at: datetime | None = None,
    ) -> Inquiry:
        """Create an inquiry for an execution (``core.ask`` does this by itself).

        Raises:
            NotFound: no such execution.
        """
        async with self.store.transaction() as uow:
            await uow.executions.get(execution)
            inquiry = await uow.inquiries.create(
                Inquiry(
                    execution=execution,
                    prompt=prompt,
                    response_schema=dict(response_schema) if response_schema else None,
                    assigned_to=assigned_to,
                    timeout_at=timeout_at,
                )
            )
        await self.bus.publish(
            RoutingKey.INQUIRY_CREATED, {"inquiry_id": inquiry.id, "execution_id": execution}
        )
        return inquiry

    async def get_inquiry(self, inquiry_id: int) -> Inquiry:
        """The inquiry with this id; :class:`NotFound` otherwise."""
        async with self.store.read() as uow:
            return await uow.inquiries.get(inquiry_id)

    async def inquiries(
        self,
        *,
        status: InquiryStatus | str | None = None,
        execution: int | None = None,
        assigned_to: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Inquiry]:
        """Inquiries, newest first, matching every filter given."""
        filters = _given(status=status, execution=execution, assigned_to=assigned_to)
        async with self.store.read() as uow:
            return await uow.inquiries.list(limit=limit, offset=offset, **filters)

    # -- history and analytics ---------------------------------------------------------------

    async def history(
        self,
        entity: str,
        *,
        entity_id: int | None = None,
        entity_ref: str | None = None,
        operation: str | None = None,
        changed_field: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """Field-level change records of ``execution`` or ``worker`` rows, newest first.

        Raises:
            ValidationError: ``entity`` is neither ``execution`` nor ``worker``.
        """
        if entity not in ("execution", "worker"):
            raise ValidationError("history is kept for execution and worker", field="entity")
        async with self.store.read() as uow:
            repository = uow.execution_history if entity == "execution" else uow.worker_history
            return await repository.query(
                entity_id=entity_id,
                entity_ref=entity_ref,
                operation=operation,
                changed_field=changed_field,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
            )

    async def analytics_series(
        self,
        name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        hours: int | None = None,
    ) -> Any:
        """One analytics series in hourly buckets (api-contract.md "Analytics").

        Args:
            name: ``dashboard``, ``executions/status``, ``executions/throughput``,
                ``executions/failure-rate``, ``events/volume``, ``workers/status`` or
                ``enforcements/volume``.
            since: Window start (default ``until`` minus ``hours``).
            until: Window end (default now).
            hours: Window length when ``since`` is not given (default 24, 1..8760).

        Raises:
            ValidationError: an unknown series or a bad window.
        """
        series = {
            "dashboard": self.analytics.dashboard,
            "executions/status": self.analytics.execution_status,
            "executions/throughput": self.analytics.execution_throughput,
            "executions/failure-rate": self.analytics.failure_rate,
            "events/volume": self.analytics.event_volume,
            "workers/status": self.analytics.worker_status,
            "enforcements/volume": self.analytics.enforcement_volume,
        }
        if name not in series:
            raise ValidationError(f"unknown analytics series {name!r}", field="name")
        span = window(self.clock.now(), since=since, until=until, hours=hours)
        return await series[name](span)

    @property
    def busy(self) -> bool:
        """Whether a background service is doing work right now (not waiting for the clock).

        The test kit's ``settle()`` waits for this to be false.
        """
        return (
            self.timers.busy
            or self.inquiry_monitor.busy
            or self.retention.busy
            or self.notification_recorder.busy
        )

    # -- notifications ----------------------------------------------------------------------

    async def notifications(
        self, *, entity_type: str | None = None, entity: int | None = None, limit: int = 100
    ) -> list[Notification]:
        """Stored notifications, newest first (the ``notification`` table; see
        docs/architecture.md). ``entity`` is an entity id."""
        filters: dict[str, Any] = {}
        if entity_type is not None:
            filters["entity_type"] = entity_type
        if entity is not None:
            filters["entity"] = str(entity)
        async with self.store.read() as uow:
            found: list[Notification] = await uow.notifications.list(limit=limit, **filters)
        return found

    def subscribe(self, filters: str | Sequence[str] = "all") -> Subscription:
        """Subscribe to notifications (api-contract.md "Notifier"), from now on.

        Example::

            async with attune.subscribe("entity_type:execution") as notifications:
                await attune.execute("core.noop")
                async for frame in notifications:
                    print(frame["notification_type"], frame["payload"]["status"])

        Args:
            filters: ``all``, ``entity_type:<t>``, ``entity:<t>:<id>``,
                ``notification_type:<n>`` or ``user:<id>`` (or a list: any of them).

        Raises:
            ValidationError: a malformed filter.
        """
        return self.notifier.subscribe(filters)


def _given(**filters: Any) -> dict[str, Any]:
    """The filters that were given (not ``None``)."""
    return {name: value for name, value in filters.items() if value is not None}


def _copy_tree(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``source`` (atomically enough: copy, then swap)."""
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    shutil.copytree(source, staging, symlinks=True)
    if target.exists():
        old = target.with_name(f".{target.name}.old.{uuid.uuid4().hex}")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
