"""What goes into the conductor (events) and what comes out (commands).

Rules of this file:

1. Events and commands are frozen data with no behaviour beyond ``to_dict``. The conductor
   consumes events and produces commands; it never calls anything on them.
2. Every command carries an :class:`Explanation` (``why``): the executor stores it next to the
   execution so a user can see which transition of which task fired and what each ``when``
   evaluated to, including the branches that were *not* taken.
3. Everything a command holds is JSON-ready (dicts, lists, str, numbers, bool, None) so the
   executor can persist and publish it as is.
4. Status strings are the execution status strings of the API contract wherever a status is
   also an execution status (``completed``, ``failed``, ``cancelled``, ``running``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import attrs

__all__ = [
    "CancelRequested",
    "CancelTasks",
    "Command",
    "CompleteWorkflow",
    "DispatchTask",
    "Evaluation",
    "Event",
    "Explanation",
    "FailWorkflow",
    "PauseRequested",
    "PublishVariables",
    "ResumeRequested",
    "RunRef",
    "SetWorkflowStatus",
    "Started",
    "TaskFinished",
    "TaskStatus",
    "WorkflowStatus",
]


class WorkflowStatus(StrEnum):
    """Status of a workflow as the conductor sees it (stored in ``workflow_execution``)."""

    #: Constructed, not started yet.
    REQUESTED = "requested"
    RUNNING = "running"
    #: Pause requested; running tasks finish, nothing new starts.
    PAUSING = "pausing"
    PAUSED = "paused"
    #: Cancel requested; running tasks were asked to cancel.
    CANCELING = "canceling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """True once the workflow can no longer change status."""
        return self in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)


class TaskStatus(StrEnum):
    """Outcome of a task (``task.<name>.status`` in expressions)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# -- events -----------------------------------------------------------------------------------


@attrs.frozen
class Started:
    """Start the workflow.

    Attributes:
        parameters: The workflow's input parameters (defaults are applied by the conductor).
        system: System values (``system.workflow_start``, ``system.execution_id``, ...). The
            conductor has no clock: the caller supplies the times.
    """

    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    system: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class TaskFinished:
    """A dispatched task (or one item of it) reached a terminal status.

    Attributes:
        task: Task name.
        status: Execution status string: ``completed`` (or ``succeeded``) is success;
            ``failed``, ``timeout`` and ``abandoned`` are failure; ``cancelled`` is
            cancellation.
        result: The execution's result (``{"succeeded", "exit_code", "stdout", "data", ...}``).
        item_index: For with_items, the index of the item.
        timed_out: The attempt was killed for exceeding the task timeout.
        run: The ``run`` of the :class:`DispatchTask` being answered; when omitted the oldest
            outstanding run of the task is meant.
        attempt: The ``attempt`` of the :class:`DispatchTask`; a finish for an attempt other
            than the current one is a stale duplicate and is ignored.
    """

    task: str
    status: str
    result: Any = None
    item_index: int | None = None
    timed_out: bool = False
    run: int | None = None
    attempt: int | None = None


@attrs.frozen
class PauseRequested:
    """Pause: running tasks finish, nothing new is dispatched until resumed."""


@attrs.frozen
class ResumeRequested:
    """Resume a pausing or paused workflow."""


@attrs.frozen
class CancelRequested:
    """Cancel: running tasks are asked to cancel; the workflow ends ``cancelled``."""


Event = Started | TaskFinished | PauseRequested | ResumeRequested | CancelRequested


# -- explanations -----------------------------------------------------------------------------


@attrs.frozen
class Evaluation:
    """What one transition's ``when`` evaluated to.

    Attributes:
        transition: Where the transition was written (``next[0]``, ``on_success``).
        when: The condition as written (``None``: unconditional).
        value: Truthiness of the condition; ``None`` when it could not be evaluated.
        fired: Whether the transition fired.
        error: Why the condition could not be evaluated.
    """

    transition: str
    when: str | None
    value: bool | None
    fired: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@attrs.frozen
class Explanation:
    """Why a command was issued.

    Attributes:
        message: One sentence for humans.
        task: The task whose completion (or dispatch) led to the command.
        run: That task's run.
        transition: The transition that fired, if one did (``next[1]``).
        evaluations: Every transition of ``task`` with what its ``when`` evaluated to.
    """

    message: str
    task: str | None = None
    run: int | None = None
    transition: str | None = None
    evaluations: tuple[Evaluation, ...] = ()

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "message": self.message,
            "task": self.task,
            "run": self.run,
            "transition": self.transition,
            "evaluations": [e.to_dict() for e in self.evaluations],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            message=str(data.get("message", "")),
            task=data.get("task"),
            run=data.get("run"),
            transition=data.get("transition"),
            evaluations=tuple(Evaluation.from_dict(e) for e in data.get("evaluations", ())),
        )


# -- commands ---------------------------------------------------------------------------------


@attrs.frozen
class DispatchTask:
    """Create and schedule a child execution for a task (or one item of it).

    Attributes:
        task: Task name (``workflow_task.task_name``).
        run: Conductor-assigned id of this task run; echo it in :class:`TaskFinished`. A task
            reached twice gets two runs; retries and items of a run share it.
        action: Action ref to execute (rendered).
        input: Rendered parameters.
        item_index: With items: the item's index (``workflow_task.task_index``).
        attempt: 0 for the first attempt, n for the n-th retry (``retry_count``).
        max_retries: ``retry.count`` (0 without retry).
        delay: Seconds to wait before starting (task ``delay`` or the retry backoff).
        timeout: Seconds after which the attempt is killed (``timeout_seconds``).
        why: Explanation.
        held: Create the child now but do not start it: a with_items item created up front
            (conductor option ``items_up_front``), started by a later :class:`ReleaseItem`
            or ended by :class:`SkipItems`.
    """

    task: str
    run: int
    action: str
    input: dict[str, Any]
    why: Explanation
    item_index: int | None = None
    attempt: int = 0
    max_retries: int = 0
    delay: float = 0.0
    timeout: int | None = None
    held: bool = False


@attrs.frozen
class ReleaseItem:
    """Start the held child of one with_items item (a concurrency slot is free)."""

    task: str
    run: int
    item_index: int
    why: Explanation
    delay: float = 0.0


@attrs.frozen
class SkipItems:
    """These held items will never start (an item failed, the workflow is failing or
    cancelled): end their children."""

    task: str
    run: int
    item_indexes: tuple[int, ...]
    why: Explanation


@attrs.frozen
class PublishVariables:
    """Persist newly published workflow variables (``workflow_execution.variables``).

    Attributes:
        task: The task whose transition published.
        run: Its run.
        variables: Name -> value, in publish order.
        why: Explanation (the transition that fired).
    """

    task: str
    run: int
    variables: dict[str, Any]
    why: Explanation


@attrs.frozen
class RunRef:
    """One outstanding dispatch: task, run and (with items) item index."""

    task: str
    run: int
    item_index: int | None = None
    attempt: int = 0


@attrs.frozen
class CancelTasks:
    """Cancel these outstanding child executions."""

    runs: tuple[RunRef, ...]
    why: Explanation


@attrs.frozen
class SetWorkflowStatus:
    """The workflow entered a non-terminal status (pausing, paused, running, canceling)."""

    status: WorkflowStatus
    why: Explanation


@attrs.frozen
class CompleteWorkflow:
    """The workflow ended ``completed`` (or ``cancelled``) with its rendered output."""

    status: WorkflowStatus
    output: dict[str, Any]
    why: Explanation


@attrs.frozen
class FailWorkflow:
    """The workflow ended ``failed``.

    Attributes:
        reason: Every failure, joined (``reasons`` lists them one by one).
        output: The output map rendered as far as possible (failed keys are ``None``).
        why: Explanation.
        reasons: The individual failures, in the order they happened.
    """

    reason: str
    output: dict[str, Any]
    why: Explanation
    reasons: tuple[str, ...] = ()


Command = (
    DispatchTask
    | ReleaseItem
    | SkipItems
    | PublishVariables
    | CancelTasks
    | SetWorkflowStatus
    | CompleteWorkflow
    | FailWorkflow
)
