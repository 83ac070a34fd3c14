"""Entities of the data model, one attrs class per database table.

Rules of this file:

1. Field names are the column names of the original system's schema (and of ours), so a row
   maps onto its entity with no renaming. The REST DTOs may add computed fields; entities do not.
2. Entities are frozen values. A change is made through a repository, which returns the new
   value; nobody mutates an entity in place.
3. ``id``, ``created`` and ``updated`` are ``None`` until the row is stored; every entity a
   repository returns has them set.
4. JSON-object columns default to ``{}`` and JSON-array columns to ``[]``, never ``None``
   (api-contract.md: "JSON-object fields are always objects").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from attune_core.model._enums import (
    ArtifactType,
    EnforcementCondition,
    EnforcementStatus,
    ExecutionStatus,
    HistoryOperation,
    InquiryStatus,
    NotificationState,
    OutputFormat,
    OwnerType,
    PackEnvironmentStatus,
    ParameterDelivery,
    ParameterFormat,
    PolicyMethod,
    RetentionPolicy,
    WorkerRole,
    WorkerStatus,
    WorkerType,
)

__all__ = [
    "Action",
    "Artifact",
    "ArtifactVersion",
    "Enforcement",
    "Event",
    "Execution",
    "ExecutionHistory",
    "Identity",
    "Inquiry",
    "Key",
    "Notification",
    "Pack",
    "PackEnvironment",
    "PackTestExecution",
    "PermissionAssignment",
    "PermissionSet",
    "Policy",
    "QueueStats",
    "Rule",
    "Runtime",
    "RuntimeVersion",
    "Sensor",
    "Trigger",
    "Worker",
    "WorkerHistory",
    "WorkflowDefinition",
    "WorkflowExecution",
]

JsonObject = dict[str, Any]


@attrs.frozen(kw_only=True)
class Pack:
    """A bundle of runtimes, triggers, sensors, actions, rules and workflows."""

    id: int | None = None
    ref: str
    label: str
    description: str | None = None
    version: str
    conf_schema: JsonObject = attrs.Factory(dict)
    config: JsonObject = attrs.Factory(dict)
    meta: JsonObject = attrs.Factory(dict)
    tags: list[str] = attrs.Factory(list)
    runtime_deps: list[str] = attrs.Factory(list)
    dependencies: list[str] = attrs.Factory(list)
    is_standard: bool = False
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Runtime:
    """An execution environment (shell, Python, Node.js, native) used by actions and sensors.

    An empty ``execution_config`` means native: the entry point is executed directly.
    """

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str | None = None
    name: str
    description: str | None = None
    distributions: JsonObject = attrs.Factory(dict)
    installation: JsonObject | None = None
    execution_config: JsonObject = attrs.Factory(dict)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class RuntimeVersion:
    """One version of a runtime (Python 3.12, Node.js 20) with its complete execution config."""

    id: int | None = None
    runtime: int
    runtime_ref: str
    version: str
    version_major: int | None = None
    version_minor: int | None = None
    version_patch: int | None = None
    execution_config: JsonObject = attrs.Factory(dict)
    distributions: JsonObject = attrs.Factory(dict)
    is_default: bool = False
    available: bool = True
    verified_at: datetime | None = None
    meta: JsonObject = attrs.Factory(dict)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Trigger:
    """An event type. Webhooks can be enabled on any trigger."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str | None = None
    label: str
    description: str | None = None
    enabled: bool = True
    is_adhoc: bool = False
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    webhook_enabled: bool = False
    webhook_key: str | None = None
    webhook_config: JsonObject | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Sensor:
    """A long-running program that watches something and emits events of its triggers."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str | None = None
    label: str
    description: str | None = None
    entrypoint: str
    runtime: int | None = None
    runtime_ref: str | None = None
    runtime_version_constraint: str | None = None
    trigger: int | None = None
    trigger_ref: str | None = None
    trigger_types: list[str] = attrs.Factory(list)
    enabled: bool = True
    is_adhoc: bool = False
    param_schema: JsonObject | None = None
    config: JsonObject = attrs.Factory(dict)
    poll_interval: int | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Event:
    """One firing of a trigger. Immutable: there is no ``updated``."""

    id: int | None = None
    trigger: int | None = None
    trigger_ref: str
    config: JsonObject | None = None
    payload: JsonObject = attrs.Factory(dict)
    source: int | None = None
    source_ref: str | None = None
    rule: int | None = None
    rule_ref: str | None = None
    created: datetime | None = None


@attrs.frozen(kw_only=True)
class Enforcement:
    """A rule's activation by an event. Updated exactly once (status + ``resolved_at``)."""

    id: int | None = None
    rule: int | None = None
    rule_ref: str
    trigger_ref: str
    config: JsonObject | None = None
    event: int | None = None
    status: EnforcementStatus = EnforcementStatus.CREATED
    payload: JsonObject = attrs.Factory(dict)
    condition: EnforcementCondition = EnforcementCondition.ALL
    conditions: Any = attrs.field(factory=dict)
    created: datetime | None = None
    resolved_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Rule:
    """Links a trigger to an action, with conditions and parameter templates."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str
    label: str
    description: str | None = None
    action: int | None = None
    action_ref: str
    trigger: int | None = None
    trigger_ref: str
    conditions: Any = attrs.field(factory=dict)
    action_params: JsonObject = attrs.Factory(dict)
    trigger_params: JsonObject = attrs.Factory(dict)
    enabled: bool = True
    is_adhoc: bool = False
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Action:
    """An executable task. A workflow is an action whose ``workflow_def`` is set."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str
    label: str
    description: str | None = None
    entrypoint: str
    runtime: int | None = None
    runtime_version_constraint: str | None = None
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    workflow_def: int | None = None
    is_adhoc: bool = False
    enabled: bool = True
    parameter_delivery: ParameterDelivery = ParameterDelivery.STDIN
    parameter_format: ParameterFormat = ParameterFormat.JSON
    output_format: OutputFormat = OutputFormat.TEXT
    timeout: int | None = None
    tags: list[str] = attrs.Factory(list)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Policy:
    """A concurrency policy on an action: at most ``threshold`` running, per parameter group."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str | None = None
    action: int | None = None
    action_ref: str | None = None
    parameters: list[str] = attrs.Factory(list)
    method: PolicyMethod = PolicyMethod.ENQUEUE
    threshold: int
    name: str
    description: str | None = None
    tags: list[str] = attrs.Factory(list)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Execution:
    """One run of an action. Workflow children carry ``parent`` and ``workflow_task``.

    ``config`` holds the parameters. ``started_at`` is set when the status becomes ``running``.
    ``rule_ref`` and ``trigger_ref`` are kept on the row so filters and the action's environment
    (ATTUNE_RULE, ATTUNE_TRIGGER) need no join.
    """

    id: int | None = None
    action: int | None = None
    action_ref: str
    config: JsonObject | None = None
    env_vars: JsonObject | None = None
    parent: int | None = None
    enforcement: int | None = None
    rule_ref: str | None = None
    trigger_ref: str | None = None
    executor: int | None = None
    worker: int | None = None
    status: ExecutionStatus = ExecutionStatus.REQUESTED
    result: Any = None
    started_at: datetime | None = None
    workflow_task: JsonObject | None = None
    original_execution: int | None = None
    workflow_def: int | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class WorkflowDefinition:
    """A parsed workflow file; ``definition`` is stored verbatim."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str
    label: str
    description: str | None = None
    version: str
    param_schema: JsonObject | None = None
    out_schema: JsonObject | None = None
    definition: JsonObject = attrs.Factory(dict)
    tags: list[str] = attrs.Factory(list)
    enabled: bool = True
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class WorkflowExecution:
    """The orchestration state of one workflow run (``execution`` is the parent execution)."""

    id: int | None = None
    execution: int
    workflow_def: int | None = None
    current_tasks: list[str] = attrs.Factory(list)
    completed_tasks: list[str] = attrs.Factory(list)
    failed_tasks: list[str] = attrs.Factory(list)
    skipped_tasks: list[str] = attrs.Factory(list)
    variables: JsonObject = attrs.Factory(dict)
    task_graph: JsonObject = attrs.Factory(dict)
    state: JsonObject = attrs.Factory(dict)
    status: ExecutionStatus = ExecutionStatus.REQUESTED
    error_message: str | None = None
    paused: bool = False
    pause_reason: str | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Inquiry:
    """A question to a human, asked by an execution, answered through the API."""

    id: int | None = None
    execution: int
    prompt: str
    response_schema: JsonObject | None = None
    assigned_to: int | None = None
    status: InquiryStatus = InquiryStatus.PENDING
    response: Any = None
    timeout_at: datetime | None = None
    responded_at: datetime | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Identity:
    """A user or service account."""

    id: int | None = None
    login: str
    display_name: str | None = None
    password_hash: str | None = None
    attributes: JsonObject = attrs.Factory(dict)
    frozen: bool = False
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class PermissionSet:
    """A role: grants of operations on resource types, optionally scoped to a pack."""

    id: int | None = None
    ref: str
    pack: int | None = None
    pack_ref: str | None = None
    label: str | None = None
    description: str | None = None
    grants: list[JsonObject] = attrs.Factory(list)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class PermissionAssignment:
    """Gives a permission set to an identity."""

    id: int | None = None
    identity: int
    permset: int
    created: datetime | None = None


@attrs.frozen(kw_only=True)
class Key:
    """A stored value, optionally encrypted, owned by the system or exactly one owner.

    ``value`` is the stored text: JSON text when plain, base64(nonce || ciphertext || tag) of
    the JSON text when ``encrypted``.
    """

    id: int | None = None
    ref: str
    owner_type: OwnerType = OwnerType.SYSTEM
    owner: str | None = None
    owner_identity: int | None = None
    owner_pack: int | None = None
    owner_pack_ref: str | None = None
    owner_action: int | None = None
    owner_action_ref: str | None = None
    owner_sensor: int | None = None
    owner_sensor_ref: str | None = None
    name: str
    encrypted: bool = False
    encryption_key_hash: str | None = None
    value: str
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Artifact:
    """Output tracked for an execution: files (versioned), progress entries, URLs."""

    id: int | None = None
    ref: str
    scope: OwnerType = OwnerType.SYSTEM
    owner: str = ""
    type: ArtifactType = ArtifactType.OTHER
    retention_policy: RetentionPolicy = RetentionPolicy.VERSIONS
    retention_limit: int = 5
    name: str | None = None
    description: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    execution: int | None = None
    data: Any = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class ArtifactVersion:
    """An immutable content snapshot of an artifact; ``version`` is assigned per artifact."""

    id: int | None = None
    artifact: int
    version: int = 0
    content_type: str | None = None
    size_bytes: int | None = None
    content: bytes | None = None
    content_json: Any = None
    meta: JsonObject | None = None
    created_by: str | None = None
    created: datetime | None = None


@attrs.frozen(kw_only=True)
class Worker:
    """A process that runs actions and/or sensors, with its advertised capabilities."""

    id: int | None = None
    name: str
    worker_type: WorkerType = WorkerType.LOCAL
    worker_role: WorkerRole = WorkerRole.ACTION
    runtime: int | None = None
    host: str | None = None
    port: int | None = None
    status: WorkerStatus = WorkerStatus.ACTIVE
    capabilities: JsonObject = attrs.Factory(dict)
    meta: JsonObject = attrs.Factory(dict)
    cordoned: bool = False
    last_heartbeat: datetime | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class Notification:
    """A change record fanned out to notifier subscribers."""

    id: int | None = None
    channel: str
    entity_type: str
    entity: str
    activity: str
    state: NotificationState = NotificationState.CREATED
    content: JsonObject | None = None
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class QueueStats:
    """Per-action queue figures kept by the executor's concurrency policies."""

    action_id: int
    queue_length: int = 0
    active_count: int = 0
    max_concurrent: int = 0
    oldest_enqueued_at: datetime | None = None
    total_enqueued: int = 0
    total_completed: int = 0
    last_updated: datetime | None = None


@attrs.frozen(kw_only=True)
class PackEnvironment:
    """An isolated runtime environment (virtualenv, node_modules) prepared for a pack."""

    id: int | None = None
    pack: int
    pack_ref: str
    runtime: int
    runtime_ref: str
    env_path: str
    status: PackEnvironmentStatus = PackEnvironmentStatus.PENDING
    installed_at: datetime | None = None
    last_verified: datetime | None = None
    install_log: str | None = None
    install_error: str | None = None
    metadata: JsonObject = attrs.Factory(dict)
    created: datetime | None = None
    updated: datetime | None = None


@attrs.frozen(kw_only=True)
class PackTestExecution:
    """The outcome of running a pack's own tests."""

    id: int | None = None
    pack_id: int
    pack_version: str
    execution_time: datetime | None = None
    trigger_reason: str = "manual"
    total_tests: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    pass_rate: float = 0.0
    duration_ms: int = 0
    result: JsonObject = attrs.Factory(dict)
    created: datetime | None = None


@attrs.frozen(kw_only=True)
class ExecutionHistory:
    """A field-level change of an execution row (``result`` appears as a digest)."""

    id: int | None = None
    time: datetime
    operation: HistoryOperation
    entity_id: int
    entity_ref: str | None = None
    changed_fields: list[str] = attrs.Factory(list)
    old_values: JsonObject | None = None
    new_values: JsonObject | None = None


@attrs.frozen(kw_only=True)
class WorkerHistory:
    """A field-level change of a worker row (heartbeat-only updates are not recorded)."""

    id: int | None = None
    time: datetime
    operation: HistoryOperation
    entity_id: int
    entity_ref: str | None = None
    changed_fields: list[str] = attrs.Factory(list)
    old_values: JsonObject | None = None
    new_values: JsonObject | None = None


@attrs.frozen
class LogChunk:
    """Text a running execution wrote on one of its streams (table ``execution_log``).

    Attributes:
        stream: ``stdout`` or ``stderr``.
        position: Offset of the chunk's first character in the stream's text.
        content: The text, secrets masked.
    """

    stream: str
    position: int
    content: str

    @property
    def end(self) -> int:
        """Offset just after the chunk."""
        return self.position + len(self.content)
