"""The sensor host: runs custom sensor processes and turns their stdout into events.

Rules of this file (the protocol itself is docs/sensors.md):

1. A sensor runs while it is enabled and at least one enabled rule uses one of its
   ``trigger_types``. The host re-checks when rules change (``rule.created``, ``rule.enabled``,
   ``rule.disabled``, ``pack.registered`` on the bus), when the facade enables or disables a
   sensor, and every ``sensor.poll_interval`` seconds (the safety net). A rule change that
   keeps a sensor running reaches it as a ``{"type": "triggers", ...}`` line on its stdin,
   never as a restart; a change of the sensor itself (entry point, runtime, config) restarts it.
2. The program is started the way the worker starts actions: the runtime's (or runtime
   version's) ``execution_config`` read by the worker's helpers (:func:`resolve_interpreter`,
   :func:`runtime_execution_config`, the pack's environment), in the pack directory, in a new
   session (its whole tree is one process group), with the worker's allow-listed environment.
3. Nothing a sensor does stops the host or another sensor: a stdout line that is not a valid
   event is recorded in the sensor's log with the reason and dropped; an event the engine
   refuses (unknown trigger, bad pin) likewise; a process that exits is restarted after
   ``restart_backoff`` seconds, doubling up to ``max_restart_backoff``, at most ``max_restarts``
   times in a row (a run that lasted ``max_restart_backoff`` seconds resets the count); then it
   is left ``failed`` until the sensor or its rules change. Backoff sleeps use the Clock port.
4. Stopping is SIGTERM to the process group, then SIGKILL after ``kill_grace`` seconds, done
   shielded so that shutdown never leaves a sensor behind.
5. Status and logs are in memory, in this host (:meth:`SensorHost.status`,
   :meth:`SensorHost.logs`): they describe processes of this host only. Logs are bounded
   (``LOG_LINES`` lines of at most ``LOG_LINE_CHARS`` characters). With leases, every sweep
   also records each held sensor's status and the last ``STORED_LOG_LINES`` log lines in its
   lease's ``state``, so any process reads them from the database (:func:`stored_sensor_state`).
6. With leases (several hosts, ``attune serve sensor``), a host runs a sensor only while it
   holds the lease ``sensor:<ref>``: renewed every third of its lifetime, the sensor stopped
   when a renewal finds it gone, released when the host stops (another host starts the sensor
   at its next renewal round).
7. Events go through the host's :class:`EventIntake` (group commit): a reader parses stdout
   lines into a queue of at most ``EVENT_BATCH`` events, a writer stores what has queued up
   meanwhile in one batch. A sensor emitting continuously so gets batched transactions, a
   lone line is stored at once, and the events keep the order of the lines. What was read is
   stored even when the sensor stops or exits (the writer flushes the queue, shielded, for at
   most ``FLUSH_TIMEOUT`` seconds).
"""

from __future__ import annotations

import collections
import contextlib
import enum
import json
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream

from attune_core.bus import RoutingKey
from attune_core.config import Settings
from attune_core.engine._events import EventIntake, EventSubmission, parse_trigger_instance
from attune_core.engine._leases import LeaseKeeper, releasing_on_exit, sweep_forever
from attune_core.engine._messages import consume_forever
from attune_core.engine._worker_service import resolve_pack_dir, runtime_execution_config
from attune_core.engine.worker import default_base_environment, ensure_environment
from attune_core.engine.worker._runtime import (
    DependencySpec,
    InterpreterNotFound,
    InterpreterSpec,
    render_command,
    resolve_interpreter,
    runtime_env_vars,
)
from attune_core.errors import AttuneError, Conflict
from attune_core.model import Identity, PermissionAssignment, PermissionSet, Rule, Sensor
from attune_core.ports import Bus, Clock
from attune_core.security import SecretBox, TokenKind, TokenService
from attune_core.storage import Store, UnitOfWork

__all__ = [
    "SENSOR_LOGIN",
    "SENSOR_ROLE",
    "SensorHost",
    "SensorLineError",
    "SensorState",
    "SensorStatus",
    "parse_event_line",
    "sensor_config",
    "sensor_status_json",
    "stored_sensor_state",
    "trigger_instance",
]

log = logging.getLogger(__name__)

# The identity sensor tokens are issued for (no password, no roles: nobody logs in as it).
SENSOR_LOGIN = "attune:sensors"
# Its role: create events (of any trigger: the host checks trigger_types on stdout, the API
# trusts the token) and read what a sensor needs to look up.
SENSOR_ROLE = "core.sensor"
SENSOR_GRANTS: tuple[Mapping[str, Any], ...] = (
    {"resource": "event", "operations": ["create", "read"]},
    {"resource": "trigger", "operations": ["read"]},
    {"resource": "sensor", "operations": ["read"]},
    {"resource": "key", "operations": ["read"]},
)
# Log lines copied into the lease state each sweep: what an API on another machine shows.
STORED_LOG_LINES = 200
LOG_LINES = 1000  # per sensor: enough to see a crash loop, bounded in memory (~4 MB worst case)
LOG_LINE_CHARS = 4096
MAX_EVENT_LINE = 1024 * 1024  # bytes; a longer stdout line is dropped (and logged)
PIPE_GRACE = 1.0  # seconds of silence on stdout, after a sensor exited, before reading stops
# Events read and waiting to be stored, per sensor: the largest batch (one transaction), and
# the bound on what a sensor that outpaces the database holds in memory (the reader waits).
EVENT_BATCH = 200
FLUSH_TIMEOUT = 10.0  # seconds to store what was read when a sensor stops (then it is lost)
_SHOWN_CHARS = 200  # how much of a rejected line the log repeats


class SensorState(enum.StrEnum):
    """Where a sensor process is in its life, as seen by this host."""

    STOPPED = "stopped"  # not wanted (disabled, or no enabled rule), or never started
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"  # exited; waiting before the next restart
    FAILED = "failed"  # exited more than max_restarts times in a row; left stopped


@attrs.define
class SensorStatus:
    """The state of one sensor in this host (a copy: it does not change under you).

    Attributes:
        ref: The sensor.
        state: See :class:`SensorState`.
        pid: The running process, if any.
        started_at: When the current (or last) process started.
        restarts: Restarts in a row (reset by a run that lasted ``max_restart_backoff``).
        crashes: Exits of the process while it was wanted, since the host started.
        last_exit_code: The exit code of the last process (negative: killed by that signal).
        last_error: Why it last exited or could not start.
        events: Events stored from its output.
        rejected_lines: Stdout lines dropped (malformed, or refused by the engine).
        triggers: The trigger instances it was last given.
    """

    ref: str
    state: SensorState = SensorState.STOPPED
    pid: int | None = None
    started_at: datetime | None = None
    restarts: int = 0
    crashes: int = 0
    last_exit_code: int | None = None
    last_error: str | None = None
    events: int = 0
    rejected_lines: int = 0
    triggers: list[dict[str, Any]] = attrs.Factory(list)


class _CannotStart(Exception):
    """Internal: why a sensor process cannot be started."""


class SensorLineError(Exception):
    """Why a sensor's stdout line is not an event (the message is what its log says)."""


@attrs.define
class _Supervisor:
    sensor: Sensor
    fingerprint: str
    triggers: list[dict[str, Any]]
    scope: anyio.CancelScope = attrs.Factory(anyio.CancelScope)
    changed: anyio.Event = attrs.Factory(anyio.Event)
    done: anyio.Event = attrs.Factory(anyio.Event)  # its process is gone
    finished: bool = False
    lines_read: int = 0  # stdout lines read so far (progress, once the process has exited)


def trigger_instance(rule: Rule) -> dict[str, Any]:
    """What a sensor is told about one rule using its trigger."""
    return {
        "rule_id": rule.id,
        "rule_ref": rule.ref,
        "trigger_ref": rule.trigger_ref,
        "trigger_params": dict(rule.trigger_params or {}),
    }


def sensor_config(sensor: Sensor) -> dict[str, Any]:
    """The sensor's configuration: its parameters' defaults, overridden by its ``config``."""
    config: dict[str, Any] = {}
    for name, schema in (sensor.param_schema or {}).items():
        if isinstance(schema, Mapping) and "default" in schema:
            config[str(name)] = schema["default"]
    config.update(sensor.config or {})
    return config


def _fingerprint(sensor: Sensor) -> str:
    """What, when it changes, needs a new process (rule changes do not: they go to stdin)."""
    return json.dumps(
        [
            sensor.entrypoint,
            sensor.runtime_ref,
            sensor.runtime_version_constraint,
            sorted(sensor.trigger_types),
            sensor_config(sensor),
            sensor.poll_interval,
        ],
        sort_keys=True,
        default=str,
    )


def parse_event_line(text: str, trigger_types: list[str]) -> tuple[str, dict[str, Any], int | None]:
    """Read one stdout line of a sensor as an event.

    Returns:
        The trigger ref, the payload and the rule the event is pinned to (or ``None``).

    Raises:
        SensorLineError: the line is not an event of this sensor (the message says why).
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SensorLineError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SensorLineError(f"an event is a JSON object, got {type(document).__name__}")
    trigger = document.get("trigger")
    if not isinstance(trigger, str) or not trigger:
        raise SensorLineError('"trigger" must be a trigger ref')
    if trigger_types and trigger not in trigger_types:
        raise SensorLineError(
            f"trigger {trigger!r} is not one of this sensor's trigger_types "
            f"({', '.join(trigger_types)})"
        )
    payload = document.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise SensorLineError(f'"payload" must be a JSON object, got {type(payload).__name__}')
    rule = document.get("rule")
    if rule is not None and (isinstance(rule, bool) or not isinstance(rule, int)):
        raise SensorLineError(f'"rule" must be a rule id (an integer), got {rule!r}')
    if rule is None:
        try:
            rule = parse_trigger_instance(document.get("trigger_instance_id"))
        except AttuneError as exc:
            raise SensorLineError(str(exc)) from None
    return trigger, payload, rule


class SensorHost:
    """Runs the custom sensors that have work to do. Run it with ``await host.run()``.

    Args:
        store: The database.
        bus: The message bus (rule changes).
        clock: Time (backoff sleeps, log timestamps).
        settings: Attune's settings (``sensor`` section, directories, API URL, JWT secret).
        kill_grace: Seconds between SIGTERM and SIGKILL when a sensor is stopped.
        base_env: The environment sensors start from (default: the worker's allow-list).
        leases: Share the sensors with other hosts (rule 6); without, this host runs them all.
        intake: Stores the events (rule 7); the engine's own, shared with its other sources,
            when given.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        settings: Settings,
        *,
        kill_grace: float = 2.0,
        base_env: Mapping[str, str] | None = None,
        leases: LeaseKeeper | None = None,
        intake: EventIntake | None = None,
    ) -> None:
        self._store = store
        self._leases = leases
        self._bus = bus
        self._clock = clock
        self._settings = settings
        self._kill_grace = kill_grace
        self._base_env = dict(default_base_environment() if base_env is None else base_env)
        self._tokens = TokenService(secret=settings.security.jwt_secret)
        self._intake = intake or EventIntake(
            store, bus, clock, secret_box=SecretBox(settings.security.encryption_key)
        )
        self._identity: tuple[int, str] | None = None
        self._identity_lock = anyio.Lock()
        self._running: dict[str, _Supervisor] = {}
        self._retiring: dict[str, _Supervisor] = {}  # stopped, process maybe not gone yet
        self._status: dict[str, SensorStatus] = {}
        self._logs: dict[str, collections.deque[str]] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._lock = anyio.Lock()
        self._queue = f"attune.sensors.{uuid.uuid4().hex}"

    # -- state to inspect ---------------------------------------------------------------------

    @property
    def running(self) -> list[str]:
        """Refs of the sensors whose process is wanted (running, starting or in backoff)."""
        return sorted(ref for ref, sup in self._running.items() if not sup.finished)

    def status(self, ref: str) -> SensorStatus:
        """A copy of the status of sensor ``ref`` (``stopped`` if this host never ran it)."""
        current = self._status.get(ref)
        if current is None:
            return SensorStatus(ref=ref)
        return attrs.evolve(current, triggers=list(current.triggers))

    def logs(self, ref: str) -> list[str]:
        """The sensor's log, oldest first: its stderr and what the host says about it."""
        return list(self._logs.get(ref, ()))

    def runs(self, ref: str) -> bool:
        """Whether this host has run (or tried to run) sensor ``ref``."""
        return ref in self._status

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the sensors that have work and follow changes until cancelled."""
        await self._bus.declare_queue(
            self._queue,
            [
                RoutingKey.RULE_CREATED,
                RoutingKey.RULE_ENABLED,
                RoutingKey.RULE_DISABLED,
                RoutingKey.PACK_REGISTERED,
            ],
            transient=True,
        )
        # The processes are gone when the task group ends: then the leases are released.
        async with releasing_on_exit(self._leases, "sensor"), anyio.create_task_group() as tg:
            self._tg = tg
            await self.sync()
            tg.start_soon(self._consume)
            tg.start_soon(
                partial(
                    sweep_forever,
                    self._leases,
                    self._settings.sensor.poll_interval,
                    lost=self._lost,
                    sync=self._sync_and_record,
                    what="sensor",
                )
            )
            task_status.started()

    async def _consume(self) -> None:
        await consume_forever(self._bus, self._queue, self._on_message, prefetch=1, name="sensors")

    async def _on_message(self, payload: Mapping[str, Any]) -> None:
        pack_ref = payload.get("pack_ref")
        if pack_ref is not None and "rule_id" not in payload:
            # The pack's files were replaced: its sensors restart on the new ones.
            async with self._lock:
                for ref, supervisor in list(self._running.items()):
                    if supervisor.sensor.pack_ref == pack_ref:
                        self._retire(ref)
                        self._say(ref, f"restarting: pack {pack_ref} was registered again")
        await self.sync()

    async def _lost(self, names: set[str]) -> None:
        async with self._lock:
            for ref in list(self._running):
                if _lease_name(ref) in names:
                    self._retire(ref)
                    self._say(ref, "stopping: another host holds its lease now")

    async def _sync_and_record(self) -> None:
        await self.sync()
        await self._record_states()

    async def _record_states(self) -> None:
        """Rule 5: the status and log tail of every sensor whose lease this host holds."""
        if self._leases is None:
            return
        refs = [ref for ref in list(self._status) if _lease_name(ref) in self._leases.held]
        if not refs:
            return
        async with self._store.transaction() as uow:
            for ref in refs:
                state = {
                    "status": sensor_status_json(self.status(ref)),
                    "log": self.logs(ref)[-STORED_LOG_LINES:],
                    "host": self._leases.holder,
                }
                await self._leases.record(uow, _lease_name(ref), state)

    async def sync(self) -> None:
        """Start, update or stop sensor processes to match the database (rule 1)."""
        if self._tg is None:
            return  # not running (an Attune without background services)
        # Read and apply under the lock: a sync that read older rows never applies them last.
        async with self._lock:
            await self._sync_locked()

    async def _sync_locked(self) -> None:
        async with self._store.read() as uow:
            sensors = await uow.sensors.list_enabled()
            trigger_refs = sorted({t for s in sensors for t in s.trigger_types})
            rules = (
                await uow.rules.list(enabled=True, trigger_ref=trigger_refs) if trigger_refs else []
            )
        by_trigger: dict[str, list[Rule]] = collections.defaultdict(list)
        for rule in rules:
            by_trigger[rule.trigger_ref].append(rule)
        wanted: dict[str, tuple[Sensor, list[dict[str, Any]]]] = {}
        for sensor in sensors:
            instances = [
                trigger_instance(rule)
                for trigger in sensor.trigger_types
                for rule in sorted(by_trigger.get(trigger, []), key=lambda r: r.id or 0)
            ]
            if instances:
                wanted[sensor.ref] = (sensor, instances)
        if self._leases is not None:
            names = {_lease_name(ref): ref for ref in wanted}
            held = await self._leases.acquire(list(names))
            unwanted = {n for n in self._leases.held if n.startswith("sensor:")} - set(names)
            await self._leases.release(unwanted, forget=True)
            wanted = {ref: wanted[ref] for name, ref in names.items() if name in held}
        for ref in list(self._running):
            if ref not in wanted:
                self._stop(ref)
        for sensor, instances in wanted.values():
            self._ensure(sensor, instances)

    def _stop(self, ref: str) -> None:
        if self._retire(ref):
            self._say(ref, "stopping: the sensor is disabled or no enabled rule uses its triggers")

    def _retire(self, ref: str) -> bool:
        """Stop the process of sensor ``ref``; a new one waits until it is gone."""
        supervisor = self._running.pop(ref, None)
        if supervisor is None:
            return False
        supervisor.scope.cancel()
        self._retiring[ref] = supervisor
        return True

    def _ensure(self, sensor: Sensor, instances: list[dict[str, Any]]) -> None:
        current = self._running.get(sensor.ref)
        fingerprint = _fingerprint(sensor)
        if current is not None and current.fingerprint == fingerprint:
            if current.triggers == instances:
                return  # nothing new (a failed sensor stays failed)
            current.triggers = instances
            self._status_of(sensor.ref).triggers = list(instances)
            if not current.finished:
                current.changed.set()  # the stdin writer sends the new list
                return
        if current is not None:
            self._retire(sensor.ref)
        supervisor = _Supervisor(sensor, fingerprint, instances)
        self._running[sensor.ref] = supervisor
        assert self._tg is not None
        self._tg.start_soon(self._supervise, supervisor)

    # -- one sensor ----------------------------------------------------------------------------

    def _status_of(self, ref: str) -> SensorStatus:
        return self._status.setdefault(ref, SensorStatus(ref=ref))

    def _say(self, ref: str, text: str, source: str = "host") -> None:
        """Append a line to the sensor's log."""
        lines = self._logs.setdefault(ref, collections.deque(maxlen=LOG_LINES))
        stamp = self._clock.now().isoformat(timespec="milliseconds")
        lines.append(f"{stamp} [{source}] {text[:LOG_LINE_CHARS]}")

    async def _supervise(self, supervisor: _Supervisor) -> None:
        ref = supervisor.sensor.ref
        status = self._status_of(ref)
        status.triggers = list(supervisor.triggers)
        status.restarts = 0
        settings = self._settings.sensor
        in_a_row = 0
        previous = self._retiring.get(ref)
        if previous is supervisor:
            previous = None  # retired before it even started
        try:
            with supervisor.scope:
                status.state = SensorState.STARTING
                if previous is not None:
                    await previous.done.wait()  # one process per sensor at a time
                while True:
                    status.state = SensorState.STARTING
                    began = time.monotonic()
                    try:
                        argv, cwd, env = await self._command(supervisor)
                        exit_code = await self._run_once(supervisor, argv, cwd, env, status)
                        reason = f"exited with code {exit_code}"
                        status.last_exit_code = exit_code
                    except _CannotStart as exc:
                        reason = f"cannot start: {exc}"
                    except Exception as exc:
                        # A bug or a database hiccup: this sensor backs off, the host carries on.
                        log.exception("sensor %s: unexpected error", ref, extra={"sensor": ref})
                        reason = f"cannot start: {type(exc).__name__}: {exc}"
                    status.crashes += 1
                    status.pid = None
                    status.last_error = reason
                    if time.monotonic() - began >= settings.max_restart_backoff:
                        in_a_row = 0  # it had been up for a while: a fresh failure
                    if in_a_row >= settings.max_restarts:
                        status.state = SensorState.FAILED
                        self._say(ref, f"{reason}; restarted {in_a_row} times in a row: failed")
                        log.warning("sensor %s failed: %s", ref, reason, extra={"sensor": ref})
                        supervisor.finished = True
                        return
                    delay = min(
                        settings.restart_backoff * 2**in_a_row, settings.max_restart_backoff
                    )
                    in_a_row += 1
                    status.state = SensorState.BACKOFF
                    self._say(ref, f"{reason}; restart {in_a_row} in {delay:g} s")
                    log.info("sensor %s %s", ref, reason, extra={"sensor": ref})
                    await self._clock.sleep(delay)
                    status.restarts = in_a_row
        finally:
            # Replaced by a new process of the same sensor: the status is the new one's now.
            if not supervisor.finished and self._running.get(ref) in (None, supervisor):
                status.state = SensorState.STOPPED
                status.pid = None
            supervisor.finished = True
            if previous is not None and not previous.done.is_set():
                # Retired before the process it waited for was gone: the next one waits on us.
                with anyio.CancelScope(shield=True), anyio.move_on_after(self._kill_grace + 1):
                    await previous.done.wait()
            supervisor.done.set()
            if self._retiring.get(ref) is supervisor:
                del self._retiring[ref]

    async def _run_once(
        self,
        supervisor: _Supervisor,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        status: SensorStatus,
    ) -> int:
        """Run the sensor process until it exits; the exit code. Cancelled: kill it first."""
        ref = supervisor.sensor.ref
        try:
            process = await anyio.open_process(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise _CannotStart(f"{argv[0]}: {exc.strerror or exc}") from None
        status.pid = process.pid
        status.started_at = self._clock.now()
        status.state = SensorState.RUNNING
        self._say(ref, f"started (pid {process.pid}): {' '.join(argv)}")
        log.info("sensor %s started, pid %s", ref, process.pid, extra={"sensor": ref})
        try:
            async with anyio.create_task_group() as tg:
                drained = anyio.Event()

                async def read_both() -> None:
                    async with anyio.create_task_group() as readers:
                        readers.start_soon(self._read_events, supervisor, process.stdout, status)
                        readers.start_soon(self._read_log, ref, process.stderr)
                    drained.set()

                tg.start_soon(read_both)
                tg.start_soon(self._write_stdin, supervisor, process.stdin)
                await process.wait()
                # What it printed before exiting is read and stored, as long as the reading
                # goes on (its events waiting for the database hold the reader back); a pipe
                # kept open by a child, silent for PIPE_GRACE, is given up.
                seen = -1
                while not drained.is_set() and seen != supervisor.lines_read:
                    seen = supervisor.lines_read
                    with anyio.move_on_after(PIPE_GRACE):
                        await drained.wait()
                tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._terminate(process)
        code = process.returncode
        assert code is not None
        return code

    async def _terminate(self, process: anyio.abc.Process) -> None:
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            with anyio.move_on_after(self._kill_grace):
                await process.wait()
        # Whatever is left of the tree (and the process itself if it ignored SIGTERM).
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()
        await process.aclose()

    async def _write_stdin(
        self, supervisor: _Supervisor, stream: anyio.abc.ByteSendStream | None
    ) -> None:
        """The first line (config + triggers), then one ``triggers`` line per change."""
        if stream is None:
            return
        sensor = supervisor.sensor
        supervisor.changed = anyio.Event()
        first = {
            "type": "start",
            "sensor": sensor.ref,
            "config": sensor_config(sensor),
            "poll_interval": sensor.poll_interval,
            "triggers": supervisor.triggers,
        }
        try:
            await stream.send(_line(first))
            while True:
                await supervisor.changed.wait()
                supervisor.changed = anyio.Event()
                self._say(sensor.ref, f"triggers changed: {len(supervisor.triggers)} rule(s)")
                await stream.send(_line({"type": "triggers", "triggers": supervisor.triggers}))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass  # the sensor closed stdin or exited: it does not want to hear more

    async def _read_log(self, ref: str, stream: anyio.abc.ByteReceiveStream | None) -> None:
        # Closed explicitly: an async generator left to the garbage collector would be
        # finalised in another task, outside the cancel scopes it was suspended in.
        async with contextlib.aclosing(_lines(stream)) as lines:
            async for line in lines:
                self._say(ref, line.decode("utf-8", errors="replace").rstrip("\r"), "stderr")

    async def _read_events(
        self,
        supervisor: _Supervisor,
        stream: anyio.abc.ByteReceiveStream | None,
        status: SensorStatus,
    ) -> None:
        """Rule 7: parse lines into the queue; the writer stores them in batches. Returns
        once every line read is stored (or rejected)."""
        send, receive = anyio.create_memory_object_stream[tuple[EventSubmission, str]](EVENT_BATCH)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._store_events, receive, status)
            async with send, contextlib.aclosing(_lines(stream)) as lines:
                async for raw in lines:
                    supervisor.lines_read += 1
                    submission = self._parse_line(supervisor.sensor, raw, status)
                    if submission is None:
                        continue
                    try:  # a chunk of lines is queued in one go, without a trip to the loop
                        send.send_nowait(submission)
                    except anyio.WouldBlock:
                        await send.send(submission)  # full: wait for the writer

    def _parse_line(
        self, sensor: Sensor, raw: bytes, status: SensorStatus
    ) -> tuple[EventSubmission, str] | None:
        """The event of one stdout line (and the line), or ``None`` (empty, or rejected)."""
        if len(raw) > MAX_EVENT_LINE:
            self._reject(status, f"line longer than {MAX_EVENT_LINE} bytes", raw[:_SHOWN_CHARS])
            return None
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            trigger_ref, payload, rule_id = parse_event_line(text, sensor.trigger_types)
        except SensorLineError as exc:
            self._reject(status, str(exc), text)
            return None
        return EventSubmission(trigger_ref, payload, rule_id, source_ref=sensor.ref), text

    async def _store_events(
        self,
        receive: MemoryObjectReceiveStream[tuple[EventSubmission, str]],
        status: SensorStatus,
    ) -> None:
        """Store what queued up meanwhile, batch after batch, until the reader is done; when
        cancelled (the sensor stops), store what is left first (rule 7)."""
        async with receive:
            try:
                async for first in receive:
                    batch = [first]
                    with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):
                        while len(batch) < EVENT_BATCH:
                            batch.append(receive.receive_nowait())
                    # Taken off the queue: stored even if the sensor stops meanwhile.
                    with anyio.CancelScope(shield=True):
                        await self._store_batch(batch, status)
            finally:
                left: list[tuple[EventSubmission, str]] = []
                with contextlib.suppress(anyio.WouldBlock, anyio.EndOfStream):
                    while True:
                        left.append(receive.receive_nowait())
                if left:
                    with anyio.move_on_after(FLUSH_TIMEOUT, shield=True) as flush:
                        await self._store_batch(left, status)
                    if flush.cancelled_caught:
                        self._say(status.ref, f"{len(left)} event(s) not stored: stopped")

    async def _store_batch(
        self, batch: list[tuple[EventSubmission, str]], status: SensorStatus
    ) -> None:
        try:
            outcomes = await self._intake.fire_each([submission for submission, _ in batch])
        except Exception as exc:  # a bug: these events are lost, never the sensor or host
            log.exception("sensor %s: events not stored", status.ref, extra={"sensor": status.ref})
            outcomes = [exc] * len(batch)
        for (_, text), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, AttuneError):
                self._reject(status, str(outcome), text)
            elif isinstance(outcome, Exception):
                # A database hiccup loses this event, never the sensor or the host.
                log.warning(
                    "event of sensor %s not stored: %s",
                    status.ref,
                    outcome,
                    extra={"sensor": status.ref},
                )
                self._reject(status, f"not stored: {outcome}", text)
            else:
                status.events += 1

    def _reject(self, status: SensorStatus, reason: str, line: str | bytes) -> None:
        status.rejected_lines += 1
        shown = line if isinstance(line, str) else line.decode("utf-8", errors="replace")
        self._say(status.ref, f"rejected stdout line ({reason}): {shown[:_SHOWN_CHARS]}")
        log.warning(
            "sensor %s: rejected stdout line: %s", status.ref, reason, extra={"sensor": status.ref}
        )

    # -- the command line ----------------------------------------------------------------------

    async def _command(self, supervisor: _Supervisor) -> tuple[list[str], str, dict[str, str]]:
        """argv, working directory and environment of the sensor (rule 2)."""
        sensor = supervisor.sensor
        pack_ref = sensor.pack_ref or sensor.ref.split(".", 1)[0]
        pack_dir = resolve_pack_dir(self._settings.packs_base_dir, pack_ref)
        if pack_dir is None:
            raise _CannotStart(
                f"pack {pack_ref!r} has no files under {self._settings.packs_base_dir}"
            )
        try:
            async with self._store.read() as uow:
                runtime = None
                if sensor.runtime is not None:
                    runtime = await uow.runtimes.find(sensor.runtime)
                elif sensor.runtime_ref:
                    runtime = await uow.runtimes.find_by_ref(sensor.runtime_ref)
                config, version = await runtime_execution_config(
                    uow, runtime, sensor.runtime_version_constraint, owner=f"sensor {sensor.ref}"
                )
        except AttuneError as exc:
            raise _CannotStart(str(exc)) from None
        runtime_ref = runtime.ref if runtime is not None else None
        env_dir: Path | None = None
        if runtime_ref is not None and DependencySpec.from_config(config) is not None:
            result = await ensure_environment(
                pack_ref=pack_ref,
                pack_dir=pack_dir,
                runtime_ref=runtime_ref,
                execution_config=config,
                runtime_envs_dir=self._settings.runtime_envs_dir,
                version=version,
            )
            if result.error:
                raise _CannotStart(
                    f"the {runtime_ref} environment of pack {pack_ref}: {result.error}"
                )
            env_dir = result.env_dir
        dependencies = DependencySpec.from_config(config)
        variables: dict[str, str | None] = {
            "env_dir": None if env_dir is None else str(env_dir),
            "pack_dir": str(pack_dir),
            "manifest_path": (
                None if dependencies is None else str(pack_dir / dependencies.manifest_file)
            ),
            "interpreter": InterpreterSpec.from_config(config).binary,
        }
        env = {k: v for k, v in self._base_env.items() if not k.startswith("ATTUNE")}
        env.update(runtime_env_vars(config, variables))
        env.update(await self._attune_env(sensor, supervisor.triggers))
        try:
            interpreter = resolve_interpreter(
                config, variables, env_dir=env_dir, path=env.get("PATH"), runtime_ref=runtime_ref
            )
        except InterpreterNotFound as exc:
            raise _CannotStart(str(exc)) from None
        args = render_command(list(InterpreterSpec.from_config(config).args), variables)
        if args is None:
            raise _CannotStart(f"the arguments of runtime {runtime_ref} need an environment")
        script = _entry_point(sensor, pack_dir, native=interpreter is None)
        argv = [str(script)] if interpreter is None else [interpreter, *args, str(script)]
        return argv, str(pack_dir), env

    async def _attune_env(self, sensor: Sensor, triggers: list[dict[str, Any]]) -> dict[str, str]:
        identity_id, login = await self._sensor_identity()
        token = self._tokens.issue(
            identity_id,
            login,
            TokenKind.SENSOR,
            metadata={"sensor_ref": sensor.ref, "trigger_types": list(sensor.trigger_types)},
        )
        return {
            "ATTUNE_SENSOR_REF": sensor.ref,
            "ATTUNE_SENSOR_CONFIG": json.dumps(sensor_config(sensor), default=str),
            "ATTUNE_SENSOR_TRIGGERS": json.dumps(triggers, default=str),
            "ATTUNE_API_URL": self._settings.server.public_url,
            "ATTUNE_API_TOKEN": token,
            "ATTUNE_SENSOR_TOKEN": token,
        }

    async def _sensor_identity(self) -> tuple[int, str]:
        """The identity sensor tokens are issued for, with the ``core.sensor`` role (what the
        API lets a sensor token do is further capped by the token kind)."""
        async with self._identity_lock:
            if self._identity is None:
                try:
                    self._identity = await self._create_sensor_identity()
                except Conflict:
                    # Another host created it at the same moment: it is there now.
                    self._identity = await self._create_sensor_identity()
        return self._identity

    async def _create_sensor_identity(self) -> tuple[int, str]:
        """The sensor identity and its role, created when missing."""
        async with self._store.transaction() as uow:
            identity = await uow.identities.find_by_login(SENSOR_LOGIN)
            if identity is None:
                identity = await uow.identities.create(
                    Identity(
                        login=SENSOR_LOGIN,
                        display_name="Attune sensors",
                        attributes={"system": True},
                    )
                )
            assert identity.id is not None
            role = await uow.permission_sets.find_by_ref(SENSOR_ROLE)
            if role is None:
                role = await uow.permission_sets.create(
                    PermissionSet(
                        ref=SENSOR_ROLE,
                        label="Sensor",
                        description="What sensor processes may do through the API.",
                        grants=[dict(grant) for grant in SENSOR_GRANTS],
                    )
                )
            assert role.id is not None
            assigned = await uow.permission_assignments.list_for_identity(identity.id)
            if all(a.permset != role.id for a in assigned):
                await uow.permission_assignments.create(
                    PermissionAssignment(identity=identity.id, permset=role.id)
                )
        return (identity.id, identity.login)


def _lease_name(ref: str) -> str:
    return f"sensor:{ref}"


def sensor_status_json(status: SensorStatus) -> dict[str, Any]:
    """A sensor status as JSON (``state`` its value, ``started_at`` RFC 3339)."""
    data = attrs.asdict(status)
    data["state"] = status.state.value
    data["started_at"] = None if status.started_at is None else status.started_at.isoformat()
    return data


async def stored_sensor_state(uow: UnitOfWork, ref: str) -> dict[str, Any] | None:
    """What the sensor host holding ``ref``'s lease last recorded (rule 5): ``{"status": {...},
    "log": [...], "host": ...}``; ``None`` when no host with leases ran it."""
    name = _lease_name(ref)
    for lease in await uow.leases.list(name):
        if lease.name == name and lease.state and "status" in lease.state:
            return dict(lease.state)
    return None


def _entry_point(sensor: Sensor, pack_dir: Path, *, native: bool) -> Path:
    sensors_dir = pack_dir / "sensors"
    entry = sensor.entrypoint.strip()
    relative = os.path.normpath(entry) if entry else ""
    if not relative or os.path.isabs(entry) or relative.split(os.sep)[0] == "..":
        raise _CannotStart(f"entry point {entry!r} is not a file under {sensors_dir}")
    script = sensors_dir / relative
    if not script.is_file():
        raise _CannotStart(f"entry point not found: {script}")
    if native and not os.access(script, os.X_OK):
        raise _CannotStart(f"entry point is not executable: {script} (a native sensor runs it)")
    return script


def _line(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, default=str) + "\n").encode()


async def _lines(stream: anyio.abc.ByteReceiveStream | None) -> AsyncGenerator[bytes, None]:
    """The lines of ``stream`` (without ``\\n``); a line longer than ``MAX_EVENT_LINE`` is cut
    there (the rest of it is dropped) so a runaway sensor cannot exhaust memory."""
    if stream is None:
        return
    buffer = b""
    skipping = False
    with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
        async for chunk in stream:
            buffer += chunk
            while True:
                newline = buffer.find(b"\n")
                if newline < 0:
                    break
                line, buffer = buffer[:newline], buffer[newline + 1 :]
                if skipping:
                    skipping = False
                    continue
                yield line
            if len(buffer) > MAX_EVENT_LINE:
                if not skipping:
                    yield buffer  # too long: the reader rejects it
                skipping = True
                buffer = b""
    if buffer and not skipping:
        yield buffer


def _signal_group(pgid: int, signum: int) -> None:
    # Already gone (or reaped, and the id no longer ours to signal): nothing to kill.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
