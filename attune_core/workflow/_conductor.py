"""The conductor: a sans-I/O state machine that decides what a workflow does next.

Events in (:class:`Started`, :class:`TaskFinished`, pause/resume/cancel), commands out
(:class:`DispatchTask`, :class:`PublishVariables`, ...). The executor, the pack test kit and
``attune workflow run --local`` all drive this same class.

Rules of this file:

1. No I/O, no clock, no randomness, no logging of values. Time enters as data (``system`` values
   on start, ``delay`` seconds on commands); the executor owns every side effect.
2. :meth:`Conductor.handle` never raises on any input. Bad input from the outside world (a
   template that fails to render, a ``when`` that cannot be evaluated, an unknown status) fails
   the *workflow* with a reason naming the task and field; a duplicate or late event is ignored.
   An unexpected internal error also becomes a :class:`FailWorkflow`, never an exception.
3. Everything needed to continue lives in plain attributes that :attr:`Conductor.state` turns
   into JSON and :meth:`Conductor.from_state` reads back; nothing derived is persisted.
4. Cost per step is O(1) in the size of the history: variables are one dict updated in place,
   each task result is stored once (the latest run per task name), results are never copied
   into per-task contexts, and "is anything still running?" is a counter, not a scan.
5. Order is part of the contract (Orquesta's): when a task finishes, every ``when`` of its
   ``next`` is evaluated first, against the state as it was when the task finished, so one
   transition's publish cannot change whether another fires. Then each matching transition
   fires in document order: its variables are published (in order, each seeing the previous),
   then its targets are reached (in order). Commands come out in that order.
6. Every command carries an :class:`Explanation` naming the transition that fired and what
   every ``when`` of the finished task evaluated to.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from attune_core.expr import ExpressionError, render
from attune_core.workflow import _expr
from attune_core.workflow._events import (
    CancelRequested,
    CancelTasks,
    Command,
    CompleteWorkflow,
    DispatchTask,
    Evaluation,
    Event,
    Explanation,
    FailWorkflow,
    PauseRequested,
    PublishVariables,
    ReleaseItem,
    ResumeRequested,
    RunRef,
    SetWorkflowStatus,
    SkipItems,
    Started,
    TaskFinished,
    TaskStatus,
    WorkflowStatus,
)
from attune_core.workflow._spec import FAIL, NOOP, TaskSpec, Transition, WorkflowDefinition

__all__ = ["Conductor"]

#: Version of the JSON produced by :attr:`Conductor.state`; bump on incompatible changes.
STATE_VERSION = 1

# Tasks without an action complete inline, inside one handle() call. A cycle made only of such
# tasks would never return; after this many inline completions in one call the workflow fails
# instead. Real workflows reach a handful, so the bound is generous.
_MAX_INLINE_STEPS = 10_000

# Error text taken from a failed result is cut so a 10 MiB stderr does not become the reason.
_MAX_ERROR_TEXT = 500

_STATUS_ALIASES: Mapping[str, TaskStatus] = {
    "completed": TaskStatus.SUCCEEDED,
    "succeeded": TaskStatus.SUCCEEDED,
    "success": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    "timeout": TaskStatus.FAILED,
    "abandoned": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELLED,
    "canceled": TaskStatus.CANCELLED,
}

_NOT_STARTED = 0
_IN_FLIGHT = 1
_ITEM_SUCCEEDED = 2
_ITEM_FAILED = 3
_ITEM_SKIPPED = 4


def _result_view(result: Any) -> Any:
    """``result()``: the result with the parsed ``data`` fields also readable at top level.

    The result's own fields win on a clash, so ``result().stdout`` is always the stdout.
    Built once per finished task; shares every value with the stored result (no deep copy).
    """
    if isinstance(result, dict):
        data = result.get("data")
        if isinstance(data, dict) and data:
            return {**data, **result}
    return result


def _error_text(result: Any) -> str:
    if isinstance(result, dict):
        error = result.get("error")
        if error:
            text = str(error)
            return text if len(text) <= _MAX_ERROR_TEXT else text[:_MAX_ERROR_TEXT] + "..."
    return ""


@attrs.define(eq=False)
class _Run:
    """One dispatch of a task: its attempts, or its items."""

    id: int
    task: str
    trigger: str | None  # task whose transition reached this one: result() when rendering
    attempt: int = 0
    in_flight: bool = False
    why: Explanation | None = None  # explanation of the dispatch (items re-use it)
    # with_items only
    items: list[Any] | None = None
    item_state: list[int] | None = None
    item_attempts: list[int] | None = None
    item_results: list[Any] | None = None
    item_timed_out: bool = False
    next_item: int = 0
    batch_end: int = 0
    active: int = 0
    item_failed: bool = False
    prepared: bool = False  # every item was dispatched held up front (items_up_front)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "task": self.task,
            "trigger": self.trigger,
            "attempt": self.attempt,
            "in_flight": self.in_flight,
            "why": self.why.to_dict() if self.why is not None else None,
        }
        if self.items is not None:
            data.update(
                items=list(self.items),
                item_state=list(self.item_state or ()),
                item_attempts=list(self.item_attempts or ()),
                item_results=list(self.item_results or ()),
                item_timed_out=self.item_timed_out,
                next_item=self.next_item,
                batch_end=self.batch_end,
                active=self.active,
                item_failed=self.item_failed,
                prepared=self.prepared,
            )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Run:
        def lst(key: str) -> list[Any] | None:
            value = data.get(key)
            return list(value) if value is not None else None

        return cls(
            id=int(data["id"]),
            task=str(data["task"]),
            trigger=data.get("trigger"),
            attempt=int(data.get("attempt", 0)),
            in_flight=bool(data.get("in_flight", False)),
            why=Explanation.from_dict(data["why"]) if data.get("why") else None,
            items=lst("items"),
            item_state=lst("item_state"),
            item_attempts=lst("item_attempts"),
            item_results=lst("item_results"),
            item_timed_out=bool(data.get("item_timed_out", False)),
            next_item=int(data.get("next_item", 0)),
            batch_end=int(data.get("batch_end", 0)),
            active=int(data.get("active", 0)),
            item_failed=bool(data.get("item_failed", False)),
            prepared=bool(data.get("prepared", False)),
        )


_UNSET: Any = object()


@attrs.define(eq=False)
class _Outcome:
    """The terminal outcome of a task run, as transitions and ``result()`` see it."""

    status: TaskStatus
    result: Any
    timed_out: bool
    _view: Any = _UNSET

    @property
    def view(self) -> Any:
        """``result()``: computed on first use, then shared."""
        if self._view is _UNSET:
            result = self.result
            if isinstance(result, list):  # with_items: one result per item, in item order
                self._view = [_result_view(r) for r in result]
            else:
                self._view = _result_view(result)
        return self._view


class _Context:
    """The :class:`~attune_core.expr.EvalContext` of one evaluation.

    Cheap to build (a few references); reads the conductor's live state, never copies it.
    ``current`` is the task ``result()`` / ``succeeded()`` talk about.
    """

    __slots__ = ("_c", "_current", "_has_item", "_index", "_item")

    def __init__(
        self,
        conductor: Conductor,
        current: _Outcome | None,
        item: Any = None,
        index: int | None = None,
        has_item: bool = False,
    ) -> None:
        self._c = conductor
        self._current = current
        self._item = item
        self._index = index
        self._has_item = has_item

    def resolve(self, name: str) -> Any:
        c = self._c
        if name in ("workflow", "vars", "variables"):
            return c._variables
        if name in ("task", "tasks"):
            return c._task_view
        if name == "parameters":
            return c._parameters
        if name == "item":
            return self._item if self._has_item else None
        if name == "index":
            return self._index if self._has_item else None
        if name == "system":
            return c._system
        if name == "config":
            return c._config
        if name == "keystore":
            return c._keystore
        # Last-resort fallback of the reference: a bare name is a workflow variable.
        return c._variables.get(name)

    def function(self, name: str) -> Callable[..., Any] | None:
        if name == "result":
            return self._result
        if name == "succeeded":
            return self._succeeded
        if name == "failed":
            return self._failed
        if name == "timed_out":
            return self._timed_out
        return None

    def _result(self) -> Any:
        current = self._current
        return None if current is None else current.view

    def _succeeded(self) -> bool:
        return self._current is not None and self._current.status is TaskStatus.SUCCEEDED

    def _failed(self) -> bool:
        return self._current is not None and self._current.status is TaskStatus.FAILED

    def _timed_out(self) -> bool:
        return self._current is not None and self._current.timed_out


class _Abort(Exception):
    """Internal: stop processing the current step; the workflow has been failed."""


class Conductor:
    """Drives one workflow execution. Feed it events; carry out the commands it returns.

    Example:
        >>> conductor = Conductor(definition)
        >>> commands = conductor.handle(Started(parameters={"env": "prod"}))
        >>> # ... the executor runs each DispatchTask, then for each finished child:
        >>> commands = conductor.handle(TaskFinished("build", "completed", result, run=1))

    Args:
        definition: The parsed workflow.
        config: Pack configuration (``config.*``). Not persisted in :attr:`state`.
        keystore: Decrypted keys (``keystore.*``). Not persisted in :attr:`state`: secrets
            never reach the ``workflow_execution`` row.
        items_up_front: A with_items task dispatches every item at once, rendered, as
            ``DispatchTask(held=True)``; items then start with :class:`ReleaseItem` as
            concurrency slots free up, and those that never will end with
            :class:`SkipItems`. Without it (the default) an item is dispatched when it starts.
    """

    def __init__(
        self,
        definition: WorkflowDefinition,
        *,
        config: Mapping[str, Any] | None = None,
        keystore: Mapping[str, Any] | None = None,
        items_up_front: bool = False,
    ) -> None:
        self._definition = definition
        self._items_up_front = items_up_front
        self._config: Mapping[str, Any] = dict(config or {})
        self._keystore: Mapping[str, Any] = dict(keystore or {})
        self._status = WorkflowStatus.REQUESTED
        self._parameters: dict[str, Any] = {}
        self._system: dict[str, Any] = {}
        self._variables: dict[str, Any] = {}
        # Latest finished run per task name (its result stored once), and the `task`
        # namespace expressions read ({"status", "result" (the result() view), "timed_out"}).
        self._outcomes: dict[str, _Outcome] = {}
        self._task_view: dict[str, dict[str, Any]] = {}
        self._last_task: str | None = None
        self._runs: dict[int, _Run] = {}
        self._runs_by_task: dict[str, list[int]] = {}
        self._next_run = 1
        self._in_flight = 0  # dispatched attempts/items not finished yet
        self._joins: dict[str, dict[str, Any]] = {}
        self._held: list[dict[str, Any]] = []  # dispatches held back while pausing/paused
        self._failures: list[str] = []
        # Per handle() call
        self._out: list[Command] = []
        self._queue: collections.deque[tuple[_Run, _Outcome]] = collections.deque()
        self._inline_steps = 0

    # -- public API --------------------------------------------------------------------------

    @property
    def definition(self) -> WorkflowDefinition:
        """The workflow being conducted."""
        return self._definition

    @property
    def status(self) -> WorkflowStatus:
        """Current workflow status."""
        return self._status

    @property
    def variables(self) -> Mapping[str, Any]:
        """Published workflow variables (read-only view of the live values)."""
        return self._variables

    @property
    def failures(self) -> tuple[str, ...]:
        """Failures recorded so far (the workflow fails once running branches finish)."""
        return tuple(self._failures)

    @property
    def outstanding(self) -> tuple[RunRef, ...]:
        """Dispatches the conductor is waiting for (task, run, item index, attempt)."""
        refs: list[RunRef] = []
        for run in self._runs.values():
            if run.items is None:
                if run.in_flight:
                    refs.append(RunRef(run.task, run.id, None, run.attempt))
            else:
                assert run.item_state is not None and run.item_attempts is not None
                for index in range(run.next_item):
                    if run.item_state[index] == _IN_FLIGHT:
                        refs.append(RunRef(run.task, run.id, index, run.item_attempts[index]))
        return tuple(refs)

    def start(
        self, parameters: Mapping[str, Any] | None = None, system: Mapping[str, Any] | None = None
    ) -> list[Command]:
        """Shortcut for ``handle(Started(parameters, system))``."""
        return self.handle(Started(dict(parameters or {}), dict(system or {})))

    def handle(self, event: Event) -> list[Command]:
        """Process one event and return the commands to carry out, in order.

        Never raises: bad input fails the workflow (a :class:`FailWorkflow` command) and a
        duplicate or late event returns no command.
        """
        self._out = []
        self._inline_steps = 0
        try:
            # Dispatch on the exact type: anything else (a caller bypassing the types) is
            # ignored rather than raised, per the never-raise rule.
            if type(event) is Started:
                self._on_start(event)
            elif type(event) is TaskFinished:
                self._on_task_finished(event)
            elif type(event) is PauseRequested:
                self._on_pause()
            elif type(event) is ResumeRequested:
                self._on_resume()
            elif type(event) is CancelRequested:
                self._on_cancel()
            self._drain()
            self._settle()
        except _Abort:
            self._queue.clear()
            self._settle()
        except Exception as exc:  # the never-raise rule: an internal bug fails the workflow
            self._queue.clear()
            self._failures.append(f"internal error in the workflow conductor: {exc!r}")
            self._finish_failed(Explanation("internal error in the workflow conductor"))
        out, self._out = self._out, []
        return out

    def use_context(
        self, *, config: Mapping[str, Any] | None, keystore: Mapping[str, Any] | None
    ) -> None:
        """Render from now on with this pack ``config`` and ``keystore`` (they changed)."""
        self._config = dict(config or {})
        self._keystore = dict(keystore or {})

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """JSON-serialisable snapshot of everything needed to continue (see :meth:`from_state`).

        Containers are copied one level deep; values are shared with the live state, so
        serialise the snapshot before the next :meth:`handle` if you keep it around.
        """
        return {
            "version": STATE_VERSION,
            "status": self._status.value,
            "parameters": dict(self._parameters),
            "system": dict(self._system),
            "variables": dict(self._variables),
            "tasks": {
                name: {"status": o.status.value, "result": o.result, "timed_out": o.timed_out}
                for name, o in self._outcomes.items()
            },
            "last_task": self._last_task,
            "runs": [run.to_dict() for run in self._runs.values()],
            "next_run": self._next_run,
            "joins": {
                name: {"arrived": list(j["arrived"]), "fired": j["fired"]}
                for name, j in self._joins.items()
            },
            "held": [dict(h) for h in self._held],
            "failures": list(self._failures),
        }

    @classmethod
    def from_state(
        cls,
        definition: WorkflowDefinition,
        state: Mapping[str, Any],
        *,
        config: Mapping[str, Any] | None = None,
        keystore: Mapping[str, Any] | None = None,
        items_up_front: bool = False,
    ) -> Conductor:
        """Rebuild a conductor from :attr:`state` (e.g. after an executor restart).

        Raises:
            ValueError: The state is not a conductor state of a supported version. (This is
                the executor's own data, not user input; a corrupt row is a bug to surface.)
        """
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported workflow conductor state (version {STATE_VERSION})")
        conductor = cls(definition, config=config, keystore=keystore, items_up_front=items_up_front)
        conductor._status = WorkflowStatus(state["status"])
        conductor._parameters = dict(state.get("parameters") or {})
        conductor._system = dict(state.get("system") or {})
        conductor._variables = dict(state.get("variables") or {})
        for name, entry in (state.get("tasks") or {}).items():
            conductor._record_task(
                name,
                _Outcome(
                    TaskStatus(entry["status"]), entry.get("result"), bool(entry.get("timed_out"))
                ),
            )
        conductor._last_task = state.get("last_task")
        for data in state.get("runs") or ():
            run = _Run.from_dict(data)
            conductor._runs[run.id] = run
            conductor._runs_by_task.setdefault(run.task, []).append(run.id)
            if run.items is None:
                conductor._in_flight += 1 if run.in_flight else 0
            else:
                conductor._in_flight += run.active
        conductor._next_run = int(state.get("next_run", 1))
        conductor._joins = {
            name: {"arrived": list(j["arrived"]), "fired": bool(j["fired"])}
            for name, j in (state.get("joins") or {}).items()
        }
        conductor._held = [dict(h) for h in state.get("held") or ()]
        conductor._failures = list(state.get("failures") or ())
        return conductor

    # -- events ------------------------------------------------------------------------------

    def _on_start(self, event: Started) -> None:
        if self._status is not WorkflowStatus.REQUESTED:
            return  # a redelivered start message
        definition = self._definition
        self._status = WorkflowStatus.RUNNING
        self._system = dict(event.system)
        given = dict(event.parameters) if isinstance(event.parameters, Mapping) else {}
        self._parameters = {**definition.parameter_defaults(), **given}
        missing = [
            name
            for name, schema in definition.parameters.items()
            if isinstance(schema, Mapping)
            and schema.get("required") is True
            and self._parameters.get(name) is None
        ]
        if missing:
            self._fail(f"missing required parameter(s): {', '.join(missing)}")
            raise _Abort
        context = _Context(self, None)
        for name, value in definition.vars:
            self._variables[name] = self._render(value, context, f"vars.{name}")
        why = Explanation("entry task: no transition leads to it, so it starts with the workflow")
        for name in definition.entry_tasks:
            self._reach(name, None, why)

    def _on_task_finished(self, event: TaskFinished) -> None:
        if self._status.is_terminal or self._status is WorkflowStatus.REQUESTED:
            return
        run = self._find_run(event)
        if run is None:
            return  # duplicate, late or unknown: harmless by the reliability rules
        status = _STATUS_ALIASES.get(str(event.status).lower())
        timed_out = bool(event.timed_out) or str(event.status).lower() == "timeout"
        result = event.result
        if status is None:
            # Not a terminal status we know: treat as a failure rather than hang the workflow.
            status = TaskStatus.FAILED
            result = {"error": f"unknown task status {event.status!r}", "original": event.result}
        outcome = _Outcome(status, result, timed_out)
        self._in_flight -= 1
        if run.items is None:
            run.in_flight = False
            self._attempt_finished(run, outcome)
        else:
            assert event.item_index is not None
            self._item_finished(run, event.item_index, outcome)

    def _on_pause(self) -> None:
        if self._status is not WorkflowStatus.RUNNING:
            return
        self._status = WorkflowStatus.PAUSING
        self._out.append(
            SetWorkflowStatus(
                WorkflowStatus.PAUSING,
                Explanation("pause requested: running tasks finish, nothing new starts"),
            )
        )

    def _on_resume(self) -> None:
        if self._status not in (WorkflowStatus.PAUSING, WorkflowStatus.PAUSED):
            return
        self._status = WorkflowStatus.RUNNING
        self._out.append(SetWorkflowStatus(WorkflowStatus.RUNNING, Explanation("resumed")))
        held, self._held = self._held, []
        for entry in held if self._dispatching else ():
            why = Explanation.from_dict(entry["why"])
            why = attrs.evolve(why, message=f"{why.message} (held while paused, resumed)")
            self._start_run(entry["task"], entry.get("trigger"), why)
        for run in list(self._runs.values()):
            if run.items is not None:
                self._release_items(run)

    def _on_cancel(self) -> None:
        if self._status.is_terminal or self._status is WorkflowStatus.CANCELING:
            return
        self._status = WorkflowStatus.CANCELING
        self._held = []
        why = Explanation("cancel requested")
        self._out.append(SetWorkflowStatus(WorkflowStatus.CANCELING, why))
        refs = self.outstanding
        if refs:
            self._out.append(CancelTasks(refs, why))

    # -- finding runs ------------------------------------------------------------------------

    def _find_run(self, event: TaskFinished) -> _Run | None:
        if event.run is not None:
            run = self._runs.get(event.run)
            if run is None or run.task != event.task:
                return None
            return run if self._accepts(run, event) else None
        for run_id in self._runs_by_task.get(event.task, ()):
            run = self._runs[run_id]
            if self._accepts(run, event):
                return run
        return None

    @staticmethod
    def _accepts(run: _Run, event: TaskFinished) -> bool:
        if run.items is None:
            if event.item_index is not None or not run.in_flight:
                return False
            return event.attempt is None or event.attempt == run.attempt
        index = event.item_index
        if index is None or not isinstance(index, int) or not 0 <= index < run.next_item:
            return False
        assert run.item_state is not None and run.item_attempts is not None
        if run.item_state[index] != _IN_FLIGHT:
            return False
        return event.attempt is None or event.attempt == run.item_attempts[index]

    # -- reaching and dispatching ------------------------------------------------------------

    @property
    def _dispatching(self) -> bool:
        """New work may start (not failing, not cancelling, not ended)."""
        return not self._failures and self._status in (
            WorkflowStatus.RUNNING,
            WorkflowStatus.PAUSING,
            WorkflowStatus.PAUSED,
        )

    def _reach(self, name: str, source: str | None, why: Explanation) -> None:
        """A transition (or the start) leads to task ``name``."""
        spec = self._definition.task(name)
        if spec is None:  # validated at load; kept for definitions built by hand
            self._fail(f'transition to unknown task "{name}"')
            return
        if not self._dispatching:
            return
        if spec.join is not None and source is not None:
            arrived = self._arrive(spec, source)
            if arrived is None:
                return
            why = attrs.evolve(
                why, message=f"{why.message}; join satisfied ({', '.join(arrived)} arrived)"
            )
        if self._status in (WorkflowStatus.PAUSING, WorkflowStatus.PAUSED):
            self._held.append({"task": name, "trigger": source, "why": why.to_dict()})
            return
        self._start_run(name, source, why)

    def _arrive(self, spec: TaskSpec, source: str) -> list[str] | None:
        """Record a join arrival; the tasks that arrived when the join fires now, else None."""
        join = self._joins.setdefault(spec.name, {"arrived": [], "fired": False})
        arrived: list[str] = join["arrived"]
        if source in arrived:
            if not join["fired"]:
                return None  # the same branch again before the others: still one arrival
            # The source came round again (a loop) after the join fired: a new round.
            arrived.clear()
            join["fired"] = False
        arrived.append(source)
        inbound = self._definition.inbound.get(spec.name, ())
        fire = not join["fired"] and len(arrived) >= self._definition.required_arrivals(spec.name)
        fired_with = list(arrived) if fire else None
        if fire:
            join["fired"] = True
        if join["fired"] and len(arrived) >= len(inbound):
            # Every inbound task arrived: the round is over, the next arrival starts a new one.
            arrived.clear()
            join["fired"] = False
        return fired_with

    def _new_run(self, spec: TaskSpec, trigger: str | None, why: Explanation) -> _Run:
        run = _Run(id=self._next_run, task=spec.name, trigger=trigger, why=why)
        self._next_run += 1
        self._runs[run.id] = run
        self._runs_by_task.setdefault(spec.name, []).append(run.id)
        return run

    def _start_run(self, name: str, trigger: str | None, why: Explanation) -> None:
        spec = self._definition.task(name)
        assert spec is not None
        run = self._new_run(spec, trigger, why)
        if spec.with_items is not None:
            self._start_items(spec, run, why)
            return
        if spec.action is None:
            # A routing-only task: it succeeds as soon as it is reached.
            self._complete_inline(run, _Outcome(TaskStatus.SUCCEEDED, None, False))
            return
        self._dispatch(spec, run, None, 0, spec.delay or 0.0, why)

    def _complete_inline(self, run: _Run, outcome: _Outcome) -> None:
        self._inline_steps += 1
        if self._inline_steps > _MAX_INLINE_STEPS:
            self._fail(
                f"more than {_MAX_INLINE_STEPS} tasks without an action completed in one step; "
                f'the workflow loops without running anything (at task "{run.task}")'
            )
            raise _Abort
        self._queue.append((run, outcome))

    def _drain(self) -> None:
        while self._queue:
            run, outcome = self._queue.popleft()
            self._task_done(run, outcome)

    def _dispatch(
        self,
        spec: TaskSpec,
        run: _Run,
        index: int | None,
        attempt: int,
        delay: float,
        why: Explanation,
        *,
        held: bool = False,
    ) -> None:
        context = self._trigger_context(run, index)
        action = spec.action or ""
        if "{{" in action:
            rendered_action = self._render(action, context, "action", spec.name)
            if not isinstance(rendered_action, str) or not rendered_action:
                self._fail(f'task "{spec.name}": action rendered to {rendered_action!r}, not a ref')
                raise _Abort
            action = rendered_action
        rendered: dict[str, Any] = {}
        for key, value in spec.input.items():
            rendered[key] = self._render(value, context, f"input.{key}", spec.name)
        if not held:
            self._in_flight += 1
        if index is None:
            run.in_flight = True
            run.attempt = attempt
        self._out.append(
            DispatchTask(
                task=spec.name,
                run=run.id,
                action=action,
                input=rendered,
                why=why,
                item_index=index,
                attempt=attempt,
                max_retries=spec.retry.count if spec.retry is not None else 0,
                delay=delay,
                timeout=spec.timeout,
                held=held,
            )
        )

    def _trigger_context(self, run: _Run, index: int | None) -> _Context:
        current = None if run.trigger is None else self._outcomes.get(run.trigger)
        if index is None:
            return _Context(self, current)
        assert run.items is not None
        return _Context(self, current, run.items[index], index, True)

    # -- with_items --------------------------------------------------------------------------

    def _start_items(self, spec: TaskSpec, run: _Run, why: Explanation) -> None:
        source = spec.with_items
        if isinstance(source, list):
            items = self._render(source, self._trigger_context(run, None), "with_items", spec.name)
        else:
            assert source is not None
            items = self._evaluate(
                source, self._trigger_context(run, None), "with_items", spec.name
            )
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            self._fail(
                f'task "{spec.name}": with_items must give a list, got {type(items).__name__}'
            )
            raise _Abort
        count = len(items)
        run.items = items
        run.item_state = [_NOT_STARTED] * count
        run.item_attempts = [0] * count
        run.item_results = [None] * count
        run.batch_end = min(count, spec.batch_size) if spec.batch_size else count
        if count == 0:
            self._complete_inline(run, _Outcome(TaskStatus.SUCCEEDED, [], False))
            return
        if self._items_up_front and self._dispatching:
            base = run.why or Explanation("with_items")
            for index in range(count):
                item_why = attrs.evolve(base, message=f"{base.message} (item {index} of {count})")
                self._dispatch(spec, run, index, 0, 0.0, item_why, held=True)
            run.prepared = True
        self._release_items(run)

    def _release_items(self, run: _Run) -> None:
        """Dispatch items while there is a free slot (at most ``concurrency`` outstanding)."""
        spec = self._definition.task(run.task)
        assert spec is not None and run.items is not None and run.item_state is not None
        if not self._dispatching or run.item_failed:
            self._maybe_items_done(run)
            return
        if self._status in (WorkflowStatus.PAUSING, WorkflowStatus.PAUSED):
            return  # released on resume
        count = len(run.items)
        while run.active < spec.concurrency:
            if run.next_item >= run.batch_end:
                # The next batch starts once every item of this one is terminal.
                if run.active > 0 or run.batch_end >= count or spec.batch_size is None:
                    break
                run.batch_end = min(count, run.batch_end + spec.batch_size)
            index = run.next_item
            run.next_item += 1
            run.item_state[index] = _IN_FLIGHT
            run.active += 1
            base = run.why or Explanation("with_items")
            item_why = attrs.evolve(base, message=f"{base.message} (item {index} of {count})")
            if run.prepared:
                self._in_flight += 1
                self._out.append(
                    ReleaseItem(
                        task=run.task,
                        run=run.id,
                        item_index=index,
                        why=item_why,
                        delay=spec.delay or 0.0,
                    )
                )
            else:
                self._dispatch(spec, run, index, 0, spec.delay or 0.0, item_why)
        self._maybe_items_done(run)

    def _item_finished(self, run: _Run, index: int, outcome: _Outcome) -> None:
        spec = self._definition.task(run.task)
        assert spec is not None
        assert run.item_state is not None and run.item_attempts is not None
        assert run.item_results is not None and run.items is not None
        context = _Context(self, outcome, run.items[index], index, True)
        if self._retry(spec, run, outcome, context, index):
            return
        run.active -= 1
        run.item_results[index] = outcome.result
        run.item_timed_out = run.item_timed_out or outcome.timed_out
        if outcome.status is TaskStatus.SUCCEEDED:
            run.item_state[index] = _ITEM_SUCCEEDED
        else:
            run.item_state[index] = _ITEM_FAILED
            # A failed item fails the task; items not dispatched yet are not started.
            run.item_failed = True
        self._release_items(run)

    def _maybe_items_done(self, run: _Run) -> None:
        """Finish a with_items task once no item is outstanding and none will be released."""
        assert run.items is not None and run.item_state is not None
        if run.active > 0 or run.id not in self._runs:
            return
        count = len(run.items)
        remaining = run.next_item < count
        if remaining and self._dispatching and not run.item_failed:
            return  # more items to release (when paused: on resume)
        for index in range(run.next_item, count):
            run.item_state[index] = _ITEM_SKIPPED
        if run.prepared and run.next_item < count:
            reason = (
                "an item failed"
                if run.item_failed
                else f"the workflow is {self._status.value}, no new item starts"
            )
            self._out.append(
                SkipItems(
                    task=run.task,
                    run=run.id,
                    item_indexes=tuple(range(run.next_item, count)),
                    why=Explanation(f'task "{run.task}": items not started: {reason}'),
                )
            )
            run.next_item = count
        if remaining and not run.item_failed:
            # Cut short because the workflow is failing or cancelling, not by its own items:
            # record it as cancelled and do not follow its transitions.
            self._forget_run(run)
            self._record_task(run.task, _Outcome(TaskStatus.CANCELLED, run.item_results, False))
            return
        status = TaskStatus.FAILED if run.item_failed else TaskStatus.SUCCEEDED
        self._complete_inline(run, _Outcome(status, run.item_results, run.item_timed_out))

    # -- finishing tasks ---------------------------------------------------------------------

    def _attempt_finished(self, run: _Run, outcome: _Outcome) -> None:
        spec = self._definition.task(run.task)
        assert spec is not None
        if self._retry(spec, run, outcome, _Context(self, outcome), None):
            return
        self._task_done(run, outcome)

    def _retry(
        self,
        spec: TaskSpec,
        run: _Run,
        outcome: _Outcome,
        context: _Context,
        index: int | None,
    ) -> bool:
        """Dispatch the next attempt if the retry policy says so; True when it did."""
        retry = spec.retry
        if retry is None or outcome.status is TaskStatus.CANCELLED or not self._dispatching:
            return False
        attempt = run.attempt if index is None else self._item_attempt(run, index)
        if attempt >= retry.count:
            return False
        if retry.when is None:
            holds = outcome.status is TaskStatus.FAILED
            condition = "failed()"
        else:
            holds = bool(self._evaluate(retry.when, context, "retry.when", spec.name))
            condition = retry.when
        if not holds:
            return False
        number = attempt + 1
        delay = retry.delay_for(number)
        what = spec.name if index is None else f"{spec.name} item {index}"
        why = Explanation(
            f"retry {number} of {retry.count} of {what}: retry.when `{condition}` is true; "
            f"waiting {delay:g}s ({retry.backoff.value} backoff)",
            task=spec.name,
            run=run.id,
        )
        if index is not None:
            assert run.item_attempts is not None
            run.item_attempts[index] = number
        self._dispatch(spec, run, index, number, delay, why)
        return True

    @staticmethod
    def _item_attempt(run: _Run, index: int) -> int:
        assert run.item_attempts is not None
        return int(run.item_attempts[index])

    def _record_task(self, name: str, outcome: _Outcome) -> None:
        self._outcomes[name] = outcome
        self._task_view[name] = {
            "status": outcome.status.value,
            "result": outcome.view,
            "timed_out": outcome.timed_out,
        }

    def _forget_run(self, run: _Run) -> None:
        self._runs.pop(run.id, None)
        siblings = self._runs_by_task.get(run.task)
        if siblings is not None and run.id in siblings:
            siblings.remove(run.id)
            if not siblings:
                del self._runs_by_task[run.task]

    def _task_done(self, run: _Run, outcome: _Outcome) -> None:
        """A task run is terminal: record it, then evaluate its transitions."""
        name = run.task
        spec = self._definition.task(name)
        assert spec is not None
        self._forget_run(run)
        self._record_task(name, outcome)
        self._last_task = name

        if outcome.status is TaskStatus.CANCELLED:
            if self._status is not WorkflowStatus.CANCELING and not self._status.is_terminal:
                # A child cancelled from outside cancels the workflow (Orquesta semantics).
                self._status = WorkflowStatus.CANCELING
                self._held = []
                self._out.append(
                    SetWorkflowStatus(
                        WorkflowStatus.CANCELING,
                        Explanation(f'task "{name}" was cancelled', task=name, run=run.id),
                    )
                )
            return
        if self._status is WorkflowStatus.CANCELING:
            return  # a cancelled workflow does not move on

        handled, evaluations = self._follow_transitions(spec, run, outcome)
        if outcome.status is TaskStatus.FAILED and not handled:
            what = "timed out" if outcome.timed_out else "failed"
            error = _error_text(outcome.result)
            detail = f": {error}" if error else ""
            checked = "; ".join(
                f"{e.transition} `{e.when}` was {'true' if e.value else 'false'}"
                for e in evaluations
                if e.when is not None and e.error is None
            )
            tried = f" ({checked})" if checked else ""
            self._fail(f'task "{name}" {what} and no transition handled it{tried}{detail}')

    def _follow_transitions(
        self, spec: TaskSpec, run: _Run, outcome: _Outcome
    ) -> tuple[bool, tuple[Evaluation, ...]]:
        """Evaluate ``next`` in order; fire every match. True if one fired without ``fail``."""
        context = _Context(self, outcome)
        evaluations: list[Evaluation] = []
        fired: list[Transition] = []
        for transition in spec.next:
            shown = transition.when_source or transition.when
            if transition.when is None:
                evaluations.append(Evaluation(transition.origin, None, True, True))
                fired.append(transition)
                continue
            try:
                value = bool(_expr.compile_bare(transition.when).evaluate(context))
            except ExpressionError as exc:
                evaluations.append(
                    Evaluation(transition.origin, shown, None, False, error=exc.message)
                )
                self._fail(
                    f'task "{spec.name}" {transition.origin}.when: cannot evaluate '
                    f"`{transition.when}`: {exc.message}"
                )
                break
            evaluations.append(Evaluation(transition.origin, shown, value, value))
            if value:
                fired.append(transition)
        frozen = tuple(evaluations)

        handled = False
        for transition in fired:
            why = Explanation(
                self._describe(spec.name, transition),
                task=spec.name,
                run=run.id,
                transition=transition.origin,
                evaluations=frozen,
            )
            if transition.publish:
                published: dict[str, Any] = {}
                for key, value in transition.publish:
                    field = f"{transition.origin}.publish.{key}"
                    rendered = self._render(value, context, field, spec.name)
                    self._variables[key] = rendered
                    published[key] = rendered
                self._out.append(PublishVariables(spec.name, run.id, published, why))
            if FAIL not in transition.do:
                handled = True
            # Targets are reached in order, so `do: [notify, fail]` starts notify and then
            # fails the workflow (which waits for notify); targets after `fail` never start.
            for target in transition.do:
                if target == NOOP:
                    continue
                if target == FAIL:
                    self._fail(
                        f'task "{spec.name}" {transition.origin} did "fail"'
                        + (f" (when `{transition.when}`)" if transition.when else "")
                    )
                    continue
                self._reach(target, spec.name, why)
        return handled, frozen

    @staticmethod
    def _describe(task: str, transition: Transition) -> str:
        shown = transition.when_source or transition.when
        condition = f"`{shown}` is true" if shown else "unconditional"
        return f'{transition.origin} of task "{task}" fired ({condition})'

    # -- expressions -------------------------------------------------------------------------

    def _render(self, value: Any, context: _Context, field: str, task: str | None = None) -> Any:
        try:
            return render(value, context)
        except ExpressionError as exc:
            where = f'task "{task}" {field}' if task else field
            self._fail(f"{where}: cannot render: {exc.message}")
            raise _Abort from None

    def _evaluate(self, source: str, context: _Context, field: str, task: str) -> Any:
        try:
            return _expr.compile_bare(source).evaluate(context)
        except ExpressionError as exc:
            self._fail(f'task "{task}" {field}: cannot evaluate `{source}`: {exc.message}')
            raise _Abort from None

    # -- ending ------------------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        if reason not in self._failures:
            self._failures.append(reason)

    def _settle(self) -> None:
        """Called after every event: end or pause the workflow when nothing is in flight."""
        if self._status.is_terminal or self._status is WorkflowStatus.REQUESTED:
            return
        if self._in_flight > 0 or self._queue:
            return
        if self._status is WorkflowStatus.CANCELING:
            self._finish(WorkflowStatus.CANCELLED, Explanation("cancelled: nothing is running"))
            return
        if self._failures:
            self._finish_failed(Explanation("failed: nothing is running any more"))
            return
        pending_items = any(
            run.items is not None and run.next_item < len(run.items) for run in self._runs.values()
        )
        if self._held or pending_items:
            if self._status is WorkflowStatus.PAUSING:
                self._status = WorkflowStatus.PAUSED
                self._out.append(
                    SetWorkflowStatus(
                        WorkflowStatus.PAUSED, Explanation("paused: nothing is running")
                    )
                )
            return
        for name, join in self._joins.items():
            if join["arrived"] and not join["fired"]:
                inbound = self._definition.inbound.get(name, ())
                arrived = join["arrived"]
                missing = [s for s in inbound if s not in arrived]
                self._fail(
                    f'join of task "{name}" can no longer be satisfied: '
                    f"{len(arrived)} of {self._definition.required_arrivals(name)} required "
                    f"inbound tasks arrived ({', '.join(arrived)}); "
                    f"never arrived: {', '.join(missing)}"
                )
        if self._failures:
            self._finish_failed(Explanation("failed: nothing is running any more"))
            return
        self._finish(WorkflowStatus.COMPLETED, Explanation("completed: every branch finished"))

    def _render_output(self) -> dict[str, Any]:
        current = None if self._last_task is None else self._outcomes.get(self._last_task)
        context = _Context(self, current)
        output: dict[str, Any] = {}
        for key, value in self._definition.output:
            try:
                output[key] = render(value, context)
            except ExpressionError as exc:
                output[key] = None
                self._fail(f"output.{key}: cannot render: {exc.message}")
        return output

    def _finish(self, status: WorkflowStatus, why: Explanation) -> None:
        output = self._render_output()
        if self._failures and status is WorkflowStatus.COMPLETED:
            self._finish_failed(why, output)
            return
        self._status = status
        self._out.append(CompleteWorkflow(status, output, why))

    def _finish_failed(self, why: Explanation, output: dict[str, Any] | None = None) -> None:
        if output is None:
            try:
                output = self._render_output()
            except Exception:  # rendering must not stop the failure from being reported
                output = {}
        self._status = WorkflowStatus.FAILED
        reasons = tuple(self._failures)
        reason = reasons[0] if len(reasons) == 1 else "; ".join(reasons)
        self._out.append(FailWorkflow(reason or "failed", output, why, reasons))
