"""What a pack directory says, as frozen attrs values (the loader's output).

Rules of this file:

1. Specs are pure data: no database ids, nothing resolved against other packs. Refs to other
   components (a rule's action, an action's runner) are kept as written (runner aliases already
   mapped), and :mod:`attune_core.packs._register` resolves them.
2. Every spec carries its :class:`Source` (file and line), so a problem found at registration
   still points at the line an author has to fix.
3. Schemas are stored in flat form (legacy JSON Schema already converted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from attune_core.model import OutputFormat, ParameterDelivery, ParameterFormat, PolicyMethod
from attune_core.packs._versions import Dependency

__all__ = [
    "ActionSpec",
    "PackSpec",
    "PackWarning",
    "PolicySpec",
    "RuleSpec",
    "RunnerRef",
    "RuntimeSpec",
    "RuntimeVersionSpec",
    "SensorSpec",
    "Source",
    "TriggerSpec",
    "WorkflowSpec",
]

JsonObject = dict[str, Any]


@attrs.frozen
class Source:
    """Where something was written: a file and a 1-based line (``None`` when unknown)."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@attrs.frozen
class PackWarning:
    """Something odd but harmless in a pack (an unknown key, a non-executable native file)."""

    message: str
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or ""
        if self.path and self.line:
            where = f"{self.path}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


@attrs.frozen
class RunnerRef:
    """The runtime an action or sensor asks for.

    Attributes:
        value: What to look up: a runtime ref (aliases such as ``python`` are already mapped to
            ``core.python``) or a runtime name.
        written: The ``runner_type`` as the author wrote it (``None`` when inferred).
        source: Where it was written.
    """

    value: str
    written: str | None
    source: Source


@attrs.frozen(kw_only=True)
class RuntimeVersionSpec:
    """One entry of a runtime's ``versions`` list."""

    version: str
    execution_config: JsonObject = attrs.Factory(dict)
    distributions: JsonObject = attrs.Factory(dict)
    is_default: bool = False
    meta: JsonObject = attrs.Factory(dict)
    source: Source


@attrs.frozen(kw_only=True)
class RuntimeSpec:
    """A ``runtimes/*.yaml`` file."""

    ref: str
    name: str
    description: str | None = None
    distributions: JsonObject = attrs.Factory(dict)
    installation: JsonObject | None = None
    execution_config: JsonObject = attrs.Factory(dict)
    versions: tuple[RuntimeVersionSpec, ...] = ()
    source: Source


@attrs.frozen(kw_only=True)
class TriggerSpec:
    """A ``triggers/*.yaml`` file."""

    ref: str
    label: str
    description: str | None = None
    enabled: bool = True
    type: str | None = None  # informational (interval, cron, webhook...), not stored
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    source: Source


@attrs.frozen(kw_only=True)
class WorkflowSpec:
    """A workflow file, registered as a workflow definition plus its companion action.

    Attributes:
        file: The workflow file relative to ``actions/`` (the companion action's entrypoint).
        definition: The file's document, verbatim.
        task_actions: The action refs its tasks call (checked against registered actions).
    """

    ref: str
    label: str
    description: str | None = None
    version: str
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    definition: JsonObject = attrs.Factory(dict)
    tags: tuple[str, ...] = ()
    enabled: bool = True
    file: str
    task_actions: tuple[str, ...] = ()
    source: Source


@attrs.frozen(kw_only=True)
class ActionSpec:
    """An ``actions/*.yaml`` file, or the companion action of a workflow file.

    ``runner`` is ``None`` exactly for workflow actions (``workflow`` set): the executor
    orchestrates them, no runtime runs them.
    """

    ref: str
    label: str
    description: str | None = None
    enabled: bool = True
    runner: RunnerRef | None = None
    entrypoint: str
    parameter_delivery: ParameterDelivery = ParameterDelivery.STDIN
    parameter_format: ParameterFormat = ParameterFormat.JSON
    output_format: OutputFormat = OutputFormat.TEXT
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    timeout: int | None = None
    runtime_version_constraint: str | None = None
    tags: tuple[str, ...] = ()
    workflow: WorkflowSpec | None = None
    source: Source


@attrs.frozen(kw_only=True)
class SensorSpec:
    """A ``sensors/*.yaml`` file."""

    ref: str
    label: str
    description: str | None = None
    enabled: bool = True
    runner: RunnerRef
    entrypoint: str
    trigger_types: tuple[str, ...] = ()
    param_schema: JsonObject | None = None
    config: JsonObject = attrs.Factory(dict)
    poll_interval: int | None = None
    runtime_version_constraint: str | None = None
    source: Source


@attrs.frozen(kw_only=True)
class RuleSpec:
    """A ``rules/*.yaml`` file."""

    ref: str
    label: str
    description: str | None = None
    trigger_ref: str
    action_ref: str
    conditions: Any = attrs.Factory(dict)
    action_params: JsonObject = attrs.Factory(dict)
    trigger_params: JsonObject = attrs.Factory(dict)
    enabled: bool = True
    source: Source


@attrs.frozen(kw_only=True)
class PolicySpec:
    """A ``policies/*.yaml`` file: a concurrency limit on one action."""

    ref: str
    name: str
    description: str | None = None
    action_ref: str
    parameters: tuple[str, ...] = ()
    method: PolicyMethod = PolicyMethod.ENQUEUE
    threshold: int
    tags: tuple[str, ...] = ()
    source: Source


@attrs.frozen(kw_only=True)
class PackSpec:
    """Everything a pack directory declares, validated, in registration order.

    Attributes:
        path: The pack directory.
        config: The pack config with the ``conf_schema`` defaults applied.
        dependencies: Parsed ``dependencies`` entries (checked at registration).
        dependency_sources: Where each dependency was written, same order.
        warnings: Harmless oddities found while loading.
    """

    path: Path
    ref: str
    label: str
    version: str
    description: str | None = None
    conf_schema: JsonObject = attrs.Factory(dict)
    config: JsonObject = attrs.Factory(dict)
    meta: JsonObject = attrs.Factory(dict)
    tags: tuple[str, ...] = ()
    runtime_deps: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    dependency_sources: tuple[Source, ...] = ()
    is_standard: bool = False
    runtimes: tuple[RuntimeSpec, ...] = ()
    triggers: tuple[TriggerSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    sensors: tuple[SensorSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    policies: tuple[PolicySpec, ...] = ()
    warnings: tuple[PackWarning, ...] = ()
    source: Source

    @property
    def workflows(self) -> tuple[WorkflowSpec, ...]:
        """The workflows of the pack (each also appears in :attr:`actions`)."""
        return tuple(a.workflow for a in self.actions if a.workflow is not None)
