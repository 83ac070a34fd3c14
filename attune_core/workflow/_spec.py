"""The canonical, validated shape of a workflow definition.

Rules of this file:

1. These classes describe a definition that already passed validation (``_parse.py`` is the only
   producer). They are frozen: a definition is shared by every conductor running it.
2. There is exactly one transition model, Orquesta's ``next``. Legacy fields (``on_success``,
   ``decision``, task-level ``publish``, ...) never reach this file: the parser converts them
   and records where each transition came from in :attr:`Transition.origin`.
3. Visual-editor data (``label``, ``color``, ``__chart_meta__``) is carried verbatim and never
   interpreted; the engine must not lose it when a definition is re-saved.
4. Graph facts the conductor needs on every step (inbound sources per task, entry tasks) are
   computed once here, at load time, so conducting never walks the definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import attrs

from attune_core.workflow._problems import Problem

__all__ = [
    "FAIL",
    "NOOP",
    "RESERVED_TARGETS",
    "Backoff",
    "RetrySpec",
    "TaskSpec",
    "Transition",
    "WorkflowDefinition",
]

#: ``do: noop`` — the transition fires (publishes, counts as handling a failure), runs nothing.
NOOP = "noop"
#: ``do: fail`` — the transition fails the workflow explicitly (Orquesta semantics).
FAIL = "fail"
RESERVED_TARGETS = frozenset({NOOP, FAIL})

#: Join value meaning "every task with a transition into this one".
JOIN_ALL = "all"


class Backoff(StrEnum):
    """How the delay between retry attempts grows."""

    CONSTANT = "constant"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


@attrs.frozen
class RetrySpec:
    """``retry`` of a task: 1 + ``count`` attempts at most.

    Attributes:
        count: Retries after the first attempt.
        delay: Seconds before the first retry (the base of the backoff).
        backoff: ``constant`` (delay), ``linear`` (delay * n), ``exponential`` (delay * 2^(n-1)),
            where n is the retry number starting at 1.
        max_delay: Upper bound of the computed delay, if set.
        when: Condition for retrying (bare expression, no braces); ``None`` means "the attempt
            failed".
    """

    count: int
    delay: float = 0.0
    backoff: Backoff = Backoff.CONSTANT
    max_delay: float | None = None
    when: str | None = None

    def delay_for(self, retry_number: int) -> float:
        """Seconds to wait before retry number ``retry_number`` (1-based)."""
        if self.backoff is Backoff.LINEAR:
            value = self.delay * retry_number
        elif self.backoff is Backoff.EXPONENTIAL:
            # Cap the exponent: 2**1024 overflows a float long before any max_delay matters.
            value = self.delay * float(2 ** min(retry_number - 1, 64))
        else:
            value = self.delay
        if self.max_delay is not None:
            value = min(value, self.max_delay)
        return value


@attrs.frozen
class Transition:
    """One entry of a task's ``next`` list.

    Attributes:
        when: Condition as a bare expression (braces stripped), ``None`` = always.
        publish: Variables to publish, in order: ``(name, value-or-template)`` pairs.
        do: Target task names (may include ``noop`` and ``fail``), in order.
        label: Visual-editor label, verbatim.
        color: Visual-editor edge colour, verbatim.
        chart_meta: ``__chart_meta__`` of the transition, verbatim.
        origin: Where the transition was written (``next[1]``, ``on_success``,
            ``decision[0]``); explanations and errors use it.
        when_source: The condition exactly as written (with braces, for legacy conversions the
            original condition), for display.
    """

    when: str | None = None
    publish: tuple[tuple[str, Any], ...] = ()
    do: tuple[str, ...] = ()
    label: str | None = None
    color: str | None = None
    chart_meta: Any = None
    origin: str = ""
    when_source: str | None = None


@attrs.frozen
class TaskSpec:
    """One task of a workflow.

    Attributes:
        name: Unique name within the workflow.
        action: Action ref to run (may be a template); ``None`` for a routing-only task that
            completes as soon as it is reached.
        input: Parameters for the action, rendered at dispatch.
        next: Outgoing transitions, evaluated in order.
        join: ``None`` (every arrival runs the task), ``"all"`` or a count of distinct inbound
            tasks to wait for.
        with_items: An expression (bare, braces stripped) or a literal list.
        concurrency: With items: at most this many items outstanding.
        batch_size: With items: release items in batches of this size; the next batch starts
            once every item of the previous one is terminal.
        retry: Retry policy, if any.
        delay: Seconds the executor waits before starting each dispatch of this task.
        timeout: Seconds after which the executor kills an attempt (``timed_out()``).
        description: Free text, verbatim.
        chart_meta: ``__chart_meta__`` of the task, verbatim.
        path: Where the task is in the document (``tasks[3]``, or ``tasks.build`` when
            ``tasks`` was written as a map); messages use it.
    """

    name: str
    action: str | None = None
    input: Mapping[str, Any] = attrs.field(factory=dict)
    next: tuple[Transition, ...] = ()
    join: int | str | None = None
    with_items: str | list[Any] | None = None
    concurrency: int = 1
    batch_size: int | None = None
    retry: RetrySpec | None = None
    delay: float | None = None
    timeout: int | None = None
    description: str | None = None
    chart_meta: Any = None
    path: str = ""


@attrs.frozen
class WorkflowDefinition:
    """A parsed, validated workflow. Build it with :func:`attune_core.workflow.parse_workflow`.

    Attributes:
        ref: ``pack.name`` ref (may be empty for an inline definition).
        label: Human name.
        description: Free text.
        version: Version string of the definition.
        parameters: Flat parameter schema, verbatim (``{name: {type, default, required, ...}}``).
        vars: Initial workflow variables (values may be templates over ``parameters``).
        tasks: Tasks in document order.
        output: Output map, rendered when the workflow ends.
        tags: Tags.
        chart_meta: Workflow-level ``__chart_meta__``, verbatim.
        warnings: Non-fatal problems found while loading.
        inbound: For each task, the distinct tasks with a transition into it (document order).
        entry_tasks: Tasks without inbound transitions; they start together.
    """

    ref: str = ""
    label: str = ""
    description: str | None = None
    version: str | None = None
    parameters: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    vars: tuple[tuple[str, Any], ...] = ()
    tasks: tuple[TaskSpec, ...] = ()
    output: tuple[tuple[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    chart_meta: Any = None
    warnings: tuple[Problem, ...] = ()
    inbound: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    entry_tasks: tuple[str, ...] = ()
    _by_name: Mapping[str, TaskSpec] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.tasks})

    def task(self, name: str) -> TaskSpec | None:
        """Return the task called ``name``, or ``None``."""
        return self._by_name.get(name)

    def required_arrivals(self, name: str) -> int:
        """Inbound arrivals a join task waits for (1 for a task without ``join``)."""
        spec = self._by_name[name]
        if spec.join is None:
            return 1
        if spec.join == JOIN_ALL:
            return len(self.inbound.get(name, ()))
        return int(spec.join)

    def parameter_defaults(self) -> dict[str, Any]:
        """Defaults declared in the parameter schema."""
        return {
            name: schema["default"]
            for name, schema in self.parameters.items()
            if isinstance(schema, Mapping) and "default" in schema
        }
