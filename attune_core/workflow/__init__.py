"""Workflows: the definition format, its validation, and the sans-I/O conductor.

``parse_workflow`` turns YAML/JSON (or a mapping) into a validated :class:`WorkflowDefinition`,
raising :class:`WorkflowDefinitionError` with every problem found. A :class:`Conductor` runs one
execution of a definition: events in (:class:`Started`, :class:`TaskFinished`, pause, resume,
cancel), commands out (:class:`DispatchTask`, :class:`PublishVariables`, ...). See
docs/workflows.md for the format and the semantics.
"""

from __future__ import annotations

from attune_core.workflow._conductor import Conductor
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
from attune_core.workflow._parse import parse_workflow
from attune_core.workflow._problems import Problem, Severity, WorkflowDefinitionError
from attune_core.workflow._spec import (
    FAIL,
    NOOP,
    Backoff,
    RetrySpec,
    TaskSpec,
    Transition,
    WorkflowDefinition,
)

__all__ = [
    "FAIL",
    "NOOP",
    "Backoff",
    "CancelRequested",
    "CancelTasks",
    "Command",
    "CompleteWorkflow",
    "Conductor",
    "DispatchTask",
    "Evaluation",
    "Event",
    "Explanation",
    "FailWorkflow",
    "PauseRequested",
    "Problem",
    "PublishVariables",
    "ReleaseItem",
    "ResumeRequested",
    "RetrySpec",
    "RunRef",
    "SetWorkflowStatus",
    "Severity",
    "SkipItems",
    "Started",
    "TaskFinished",
    "TaskSpec",
    "TaskStatus",
    "Transition",
    "WorkflowDefinition",
    "WorkflowDefinitionError",
    "WorkflowStatus",
    "parse_workflow",
]
