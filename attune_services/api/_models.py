"""DTOs at the edge: the JSON shapes of requests and responses, declared once.

Rules of this file:

1. A :class:`Model` names its fields with OpenAPI 3.0 schema fragments. The same declaration
   validates request bodies, renders responses (only declared fields leave the API, every
   declared field is present) and produces the OpenAPI document, so the spec cannot drift from
   what is sent.
2. Core entities stay in ``attune_core``; this module only knows their JSON form (``to_json``).
3. Unknown body fields are ignored (api-contract.md); wrong types are a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import jsonschema

from attune_core.errors import ValidationError

Schema = dict[str, Any]

# -- schema fragments -------------------------------------------------------------------------

INT: Schema = {"type": "integer"}
NINT: Schema = {"type": "integer", "nullable": True}
NUM: Schema = {"type": "number"}
STR: Schema = {"type": "string"}
NSTR: Schema = {"type": "string", "nullable": True}
BOOL: Schema = {"type": "boolean"}
NBOOL: Schema = {"type": "boolean", "nullable": True}
OBJ: Schema = {"type": "object", "additionalProperties": True}
NOBJ: Schema = {"type": "object", "additionalProperties": True, "nullable": True}
ANY: Schema = {"nullable": True}
DT: Schema = {"type": "string", "format": "date-time"}
NDT: Schema = {"type": "string", "format": "date-time", "nullable": True}


def arr(items: Schema, *, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if nullable:
        schema["nullable"] = True
    return schema


def enum(*values: str, nullable: bool = False) -> Schema:
    schema: Schema = {"type": "string", "enum": list(values)}
    if nullable:
        schema["nullable"] = True
        schema["enum"] = [*values, None]
    return schema


def ref(model: Model, *, nullable: bool = False) -> Schema:
    if nullable:
        return {"allOf": [{"$ref": f"#/components/schemas/{model.name}"}], "nullable": True}
    return {"$ref": f"#/components/schemas/{model.name}"}


def _to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 fragment -> JSON Schema (``nullable`` becomes a ``null`` type)."""
    if isinstance(schema, list):
        return [_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _to_json_schema(v) for k, v in schema.items() if k not in ("nullable", "format")}
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "allOf" in out:
            out = {"anyOf": [{"type": "null"}, *out.pop("allOf")], **out}
    return out


# -- models -----------------------------------------------------------------------------------


@attrs.frozen
class Model:
    """A named JSON object shape: ``fields`` (name -> schema) and the ``required`` ones."""

    name: str
    fields: Mapping[str, Schema]
    required: tuple[str, ...] = ()
    description: str = ""

    def schema(self) -> Schema:
        schema: Schema = {"type": "object", "properties": dict(self.fields)}
        if self.required:
            schema["required"] = list(self.required)
        if self.description:
            schema["description"] = self.description
        return schema

    def render(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The declared fields of ``values`` (missing ones as ``None``)."""
        return {name: values.get(name) for name in self.fields}

    def parse(self, body: Any) -> dict[str, Any]:
        """Validate a request body; returns the declared fields that were given."""
        if not isinstance(body, dict):
            raise ValidationError("the request body must be a JSON object")
        given = {name: body[name] for name in self.fields if name in body}
        missing = [name for name in self.required if given.get(name) is None]
        problems = [{"field": name, "message": "is required"} for name in missing]
        validator = _validators.get(self.name)
        if validator is None:
            validator = jsonschema.Draft202012Validator(
                _to_json_schema({"type": "object", "properties": dict(self.fields)})
            )
            _validators[self.name] = validator
        for error in validator.iter_errors(given):
            field = ".".join(str(p) for p in error.absolute_path) or "body"
            if field not in missing:
                problems.append({"field": field, "message": _short(error)})
        if problems:
            first = problems[0]
            raise ValidationError(
                f"{first['field']}: {first['message']}", field=first["field"], details=problems
            )
        return given


_validators: dict[str, jsonschema.Draft202012Validator] = {}


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator == "enum":
        return f"must be one of {error.validator_value}"
    return str(error.message)[:200]


def model(title: str, /, required: Iterable[str] = (), **fields: Schema) -> Model:
    """A model named ``title``; a field may be called anything, even ``name``."""
    return Model(title, fields, tuple(required))


def partial(base: Model, name: str) -> Model:
    """The update shape of a create model: the same fields, none required."""
    return Model(name, base.fields, ())


# -- shared shapes ----------------------------------------------------------------------------

ERROR = model(
    "Error",
    required=("error", "code"),
    error=STR,
    code=STR,
    details=ANY,
)
PAGINATION = model(
    "Pagination",
    required=("page", "page_size", "has_next", "has_previous"),
    page=INT,
    page_size=INT,
    has_next=BOOL,
    has_previous=BOOL,
    total_items=INT,
    total_pages=INT,
)
DELETED = model("Deleted", required=("success", "message"), data=ANY, success=BOOL, message=STR)
EMPTY = model("Empty")

# -- health and auth --------------------------------------------------------------------------

HEALTH = model("Health", required=("status",), status=STR, database=STR, version=STR)
LOGIN = model("LoginRequest", required=("login", "password"), login=STR, password=STR)
REGISTER = model(
    "RegisterRequest", required=("login", "password"), login=STR, password=STR, display_name=NSTR
)
REFRESH = model("RefreshRequest", required=("refresh_token",), refresh_token=STR)
CHANGE_PASSWORD = model(
    "ChangePasswordRequest",
    required=("current_password", "new_password"),
    current_password=STR,
    new_password=STR,
)
USER = model("User", id=INT, login=STR, display_name=NSTR)
TOKEN = model(
    "TokenResponse",
    access_token=STR,
    refresh_token=STR,
    token_type=STR,
    expires_in=INT,
    user=ref(USER),
)
SENSOR_TOKEN_REQUEST = model("SensorTokenRequest", sensor_ref=NSTR, trigger_types=arr(STR))
SENSOR_TOKEN = model(
    "SensorToken", token=STR, token_type=STR, expires_in=INT, trigger_types=arr(STR)
)
IDENTITY = model(
    "Identity",
    id=INT,
    login=STR,
    display_name=NSTR,
    attributes=OBJ,
    frozen=BOOL,
    roles=arr(STR),
    created=DT,
    updated=DT,
)
ME_UPDATE = model("MeUpdate", display_name=NSTR, attributes=OBJ)
IDENTITY_CREATE = model(
    "IdentityCreate",
    required=("login",),
    login=STR,
    display_name=NSTR,
    password=NSTR,
    attributes=OBJ,
    roles=arr(STR),
)
IDENTITY_UPDATE = model(
    "IdentityUpdate", display_name=NSTR, password=NSTR, attributes=OBJ, frozen=BOOL
)
ROLE_ASSIGN = model("RoleAssign", permission_set=ANY, permset=INT, permission_set_ref=STR, role=STR)
PERMISSION_SET = model(
    "PermissionSet",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=NSTR,
    label=NSTR,
    description=NSTR,
    grants=arr(OBJ),
    created=DT,
    updated=DT,
)
PERMISSION_SET_CREATE = model(
    "PermissionSetCreate",
    required=("ref",),
    ref=STR,
    pack_ref=NSTR,
    label=NSTR,
    description=NSTR,
    grants=arr(OBJ),
)
PERMISSION_SET_UPDATE = model("PermissionSetUpdate", label=NSTR, description=NSTR, grants=arr(OBJ))
ASSIGNMENT = model("PermissionAssignment", id=INT, identity=INT, permset=INT, created=DT)
ASSIGNMENT_CREATE = model(
    "PermissionAssignmentCreate",
    required=("identity",),
    identity=INT,
    permset=NINT,
    permission_set_ref=NSTR,
)
EFFECTIVE_PERMISSIONS = model(
    "EffectivePermissions", identity=INT, roles=arr(STR), grants=arr(OBJ), frozen=BOOL
)

# -- packs, runtimes, workers -----------------------------------------------------------------

PACK = model(
    "Pack",
    id=INT,
    ref=STR,
    label=STR,
    description=NSTR,
    version=STR,
    conf_schema=OBJ,
    config=OBJ,
    meta=OBJ,
    tags=arr(STR),
    runtime_deps=arr(STR),
    dependencies=arr(STR),
    is_standard=BOOL,
    created=DT,
    updated=DT,
)
PACK_CREATE = model(
    "PackCreate",
    required=("ref", "label", "version"),
    ref=STR,
    label=STR,
    version=STR,
    description=NSTR,
    conf_schema=NOBJ,
    config=NOBJ,
    meta=NOBJ,
    tags=arr(STR, nullable=True),
    runtime_deps=arr(STR, nullable=True),
    dependencies=arr(STR, nullable=True),
    is_standard=NBOOL,
)
PACK_UPDATE = partial(PACK_CREATE, "PackUpdate")
PACK_REGISTER = model(
    "PackRegisterRequest", required=("path",), path=STR, force=NBOOL, skip_tests=NBOOL
)
PACK_REGISTER_BATCH = model(
    "PackRegisterBatchRequest",
    paths=arr(STR, nullable=True),
    path=NSTR,
    force=NBOOL,
    skip_tests=NBOOL,
)
PACK_INSTALL = model(
    "PackInstallRequest",
    required=("source",),
    source=STR,
    ref_spec=NSTR,
    force=NBOOL,
    skip_tests=NBOOL,
    skip_deps=NBOOL,
)
PACK_INSTALLED = model(
    "PackInstallResult", pack=ref(PACK), test_result=ANY, tests_skipped=BOOL, warnings=arr(STR)
)
PACK_BATCH_RESULT = model("PackBatchResult", packs=arr(ref(PACK)), errors=arr(OBJ))
WORKFLOW_SYNC = model(
    "WorkflowSyncResult", pack_ref=STR, total=INT, synced=INT, valid=INT, errors=arr(OBJ)
)
PACK_TEST = model(
    "PackTestExecution",
    id=INT,
    pack_id=INT,
    pack_version=STR,
    execution_time=DT,
    trigger_reason=STR,
    total_tests=INT,
    passed=INT,
    failed=INT,
    skipped=INT,
    pass_rate=NUM,
    duration_ms=INT,
    result=OBJ,
    created=DT,
)
RUNTIME_VERSION = model(
    "RuntimeVersion",
    id=INT,
    runtime=INT,
    runtime_ref=STR,
    version=STR,
    execution_config=OBJ,
    distributions=OBJ,
    is_default=BOOL,
    available=BOOL,
    verified_at=NDT,
    meta=OBJ,
)
RUNTIME = model(
    "Runtime",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=NSTR,
    name=STR,
    description=NSTR,
    distributions=OBJ,
    installation=NOBJ,
    execution_config=OBJ,
    versions=arr(ref(RUNTIME_VERSION)),
    created=DT,
    updated=DT,
)
RUNTIME_CREATE = model(
    "RuntimeCreate",
    required=("ref",),
    ref=STR,
    pack_ref=NSTR,
    name=NSTR,
    description=NSTR,
    distributions=NOBJ,
    installation=NOBJ,
    execution_config=NOBJ,
    versions=arr(OBJ, nullable=True),
)
RUNTIME_UPDATE = partial(RUNTIME_CREATE, "RuntimeUpdate")
WORKER = model(
    "Worker",
    id=INT,
    name=STR,
    worker_type=enum("local", "remote", "container"),
    worker_role=enum("action", "sensor", "hybrid"),
    runtime=NINT,
    host=NSTR,
    port=NINT,
    status=enum("active", "inactive", "busy", "error"),
    capabilities=OBJ,
    meta=OBJ,
    cordoned=BOOL,
    last_heartbeat=NDT,
    created=DT,
    updated=DT,
)

# -- actions, triggers, sensors, rules --------------------------------------------------------

ACTION = model(
    "Action",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    entrypoint=STR,
    runtime=NINT,
    runtime_ref=NSTR,
    runtime_version_constraint=NSTR,
    param_schema=NOBJ,
    out_schema=NOBJ,
    workflow_def=NINT,
    is_adhoc=BOOL,
    enabled=BOOL,
    parameter_delivery=STR,
    parameter_format=STR,
    output_format=STR,
    timeout=NINT,
    tags=arr(STR),
    created=DT,
    updated=DT,
)
ACTION_CREATE = model(
    "ActionCreate",
    required=("ref", "pack_ref", "label", "entrypoint"),
    ref=STR,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    entrypoint=STR,
    runtime=NINT,
    runtime_ref=NSTR,
    runtime_version_constraint=NSTR,
    param_schema=NOBJ,
    out_schema=NOBJ,
    parameter_delivery=enum("stdin", "file", nullable=True),
    parameter_format=enum("json", "dotenv", "yaml", nullable=True),
    output_format=enum("text", "json", "yaml", "jsonl", nullable=True),
    timeout=NINT,
    tags=arr(STR, nullable=True),
    enabled=NBOOL,
)
ACTION_UPDATE = partial(ACTION_CREATE, "ActionUpdate")
QUEUE_STATS = model(
    "QueueStats",
    action_id=INT,
    action_ref=STR,
    queue_length=INT,
    active_count=INT,
    max_concurrent=INT,
    oldest_enqueued_at=NDT,
    total_enqueued=INT,
    total_completed=INT,
    last_updated=NDT,
)
TRIGGER = model(
    "Trigger",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=NSTR,
    label=STR,
    description=NSTR,
    enabled=BOOL,
    is_adhoc=BOOL,
    param_schema=NOBJ,
    out_schema=NOBJ,
    webhook_enabled=BOOL,
    webhook_key=NSTR,
    webhook_config=NOBJ,
    created=DT,
    updated=DT,
)
TRIGGER_CREATE = model(
    "TriggerCreate",
    required=("ref", "label"),
    ref=STR,
    label=STR,
    pack_ref=NSTR,
    description=NSTR,
    param_schema=NOBJ,
    out_schema=NOBJ,
    enabled=NBOOL,
    webhook_config=NOBJ,
)
TRIGGER_UPDATE = partial(TRIGGER_CREATE, "TriggerUpdate")
SENSOR = model(
    "Sensor",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=NSTR,
    label=STR,
    description=NSTR,
    entrypoint=STR,
    runtime=NINT,
    runtime_ref=NSTR,
    runtime_version_constraint=NSTR,
    trigger=NINT,
    trigger_ref=NSTR,
    trigger_types=arr(STR),
    enabled=BOOL,
    is_adhoc=BOOL,
    param_schema=NOBJ,
    config=OBJ,
    poll_interval=NINT,
    created=DT,
    updated=DT,
)
SENSOR_CREATE = model(
    "SensorCreate",
    required=("ref", "label", "entrypoint"),
    ref=STR,
    label=STR,
    pack_ref=NSTR,
    description=NSTR,
    entrypoint=STR,
    runtime=NINT,
    runtime_ref=NSTR,
    runtime_version_constraint=NSTR,
    trigger_ref=NSTR,
    trigger_types=arr(STR, nullable=True),
    enabled=NBOOL,
    param_schema=NOBJ,
    config=NOBJ,
    poll_interval=NINT,
)
SENSOR_UPDATE = partial(SENSOR_CREATE, "SensorUpdate")
SENSOR_LOGS = model("SensorLogs", sensor_ref=STR, logs=arr(STR), status=NOBJ)
RULE = model(
    "Rule",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    action=NINT,
    action_ref=STR,
    trigger=NINT,
    trigger_ref=STR,
    conditions=ANY,
    action_params=OBJ,
    trigger_params=OBJ,
    enabled=BOOL,
    is_adhoc=BOOL,
    created=DT,
    updated=DT,
)
RULE_CREATE = model(
    "RuleCreate",
    required=("ref", "pack_ref", "label", "trigger_ref", "action_ref"),
    ref=STR,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    trigger_ref=STR,
    action_ref=STR,
    conditions=ANY,
    action_params=NOBJ,
    trigger_params=NOBJ,
    enabled=NBOOL,
)
RULE_UPDATE = partial(RULE_CREATE, "RuleUpdate")
RULE_CHECK = model("RuleCheck", conditions=ANY, trigger_ref=NSTR, trigger_params=NOBJ)
RULE_CHECK_RESULT = model(
    "RuleCheckResult", required=("valid", "error"), valid=BOOL, error=NSTR, details=ANY
)
WEBHOOK_BODY = model(
    "WebhookRequest",
    required=("payload",),
    payload=ANY,
    headers=NOBJ,
    source_ip=NSTR,
    user_agent=NSTR,
)
WEBHOOK_RECEIVED = model(
    "WebhookReceived", event_id=INT, trigger_ref=STR, received_at=DT, message=STR
)

# -- events, enforcements, executions ---------------------------------------------------------

EVENT = model(
    "Event",
    id=INT,
    trigger=NINT,
    trigger_ref=STR,
    config=NOBJ,
    payload=OBJ,
    source=NINT,
    source_ref=NSTR,
    rule=NINT,
    rule_ref=NSTR,
    has_payload=BOOL,
    created=DT,
)
EVENT_CREATE = model(
    "EventCreate",
    required=("trigger_ref",),
    trigger_ref=STR,
    payload=ANY,
    config=NOBJ,
    trigger_instance_id=NSTR,
)
ENFORCEMENT = model(
    "Enforcement",
    id=INT,
    rule=NINT,
    rule_ref=STR,
    trigger_ref=STR,
    event=NINT,
    config=NOBJ,
    payload=OBJ,
    status=enum("created", "processed", "disabled"),
    condition=enum("all", "any"),
    conditions=ANY,
    created=DT,
    resolved_at=NDT,
)
_STATUSES = (
    "requested",
    "scheduling",
    "scheduled",
    "running",
    "completed",
    "failed",
    "canceling",
    "cancelled",
    "timeout",
    "abandoned",
)
EXECUTION_SUMMARY = model(
    "ExecutionSummary",
    id=INT,
    action_ref=STR,
    status=enum(*_STATUSES),
    parent=NINT,
    enforcement=NINT,
    rule_ref=NSTR,
    trigger_ref=NSTR,
    started_at=NDT,
    workflow_task=NOBJ,
    original_execution=NINT,
    created=DT,
    updated=DT,
)
EXECUTION = model(
    "Execution",
    id=INT,
    action=NINT,
    action_ref=STR,
    config=NOBJ,
    env_vars=NOBJ,
    parent=NINT,
    enforcement=NINT,
    rule_ref=NSTR,
    trigger_ref=NSTR,
    executor=NINT,
    worker=NINT,
    status=enum(*_STATUSES),
    result=ANY,
    original_execution=NINT,
    started_at=NDT,
    workflow_task=NOBJ,
    created=DT,
    updated=DT,
)
EXECUTE = model(
    "ExecuteRequest", required=("action_ref",), action_ref=STR, parameters=NOBJ, env_vars=NOBJ
)
EXECUTION_LOG = model(
    "ExecutionLog",
    required=("execution_id", "stream", "content", "truncated"),
    execution_id=INT,
    stream=STR,
    content=STR,
    truncated=BOOL,
    offset=INT,
    complete=BOOL,
)
WORKFLOW_EXECUTION = model(
    "WorkflowExecution",
    id=INT,
    execution=INT,
    workflow_def=NINT,
    status=STR,
    current_tasks=arr(STR),
    completed_tasks=arr(STR),
    failed_tasks=arr(STR),
    skipped_tasks=arr(STR),
    task_graph=OBJ,
    tasks=OBJ,
    decisions=arr(OBJ),
    failures=arr(STR),
    error_message=NSTR,
    paused=BOOL,
    pause_reason=NSTR,
    created=DT,
    updated=DT,
)
EXECUTION_STATS = model(
    "ExecutionStats", total=INT, by_status=OBJ, active=INT, completed=INT, failed=INT
)
HISTORY = model(
    "HistoryRecord",
    id=INT,
    time=DT,
    operation=STR,
    entity_id=INT,
    entity_ref=NSTR,
    changed_fields=arr(STR),
    old_values=NOBJ,
    new_values=NOBJ,
)

# -- workflows, inquiries, keys, artifacts ----------------------------------------------------

WORKFLOW = model(
    "Workflow",
    id=INT,
    ref=STR,
    pack=NINT,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    version=STR,
    param_schema=NOBJ,
    out_schema=NOBJ,
    definition=OBJ,
    tags=arr(STR),
    enabled=BOOL,
    action=NINT,
    created=DT,
    updated=DT,
)
WORKFLOW_CREATE = model(
    "WorkflowCreate",
    required=("ref", "pack_ref", "label", "version", "definition"),
    ref=STR,
    pack_ref=STR,
    label=STR,
    description=NSTR,
    version=STR,
    definition=OBJ,
    param_schema=NOBJ,
    out_schema=NOBJ,
    tags=arr(STR, nullable=True),
    enabled=NBOOL,
)
WORKFLOW_UPDATE = partial(WORKFLOW_CREATE, "WorkflowUpdate")
WORKFLOW_FILE = model(
    "WorkflowFileRequest",
    name=NSTR,
    ref=NSTR,
    label=NSTR,
    description=NSTR,
    version=NSTR,
    definition=OBJ,
    content=NSTR,
    param_schema=NOBJ,
    out_schema=NOBJ,
    tags=arr(STR, nullable=True),
)
WORKFLOW_FILE_RESULT = model("WorkflowFileResult", path=STR, workflow=ref(WORKFLOW))
WORKFLOW_PROBLEM = model(
    "WorkflowProblem",
    path=STR,
    message=STR,
    severity=enum("error", "warning"),
    line=NINT,
    task=NSTR,
    field=NSTR,
    column=NINT,
)
WORKFLOW_VALIDATE = model("WorkflowValidateRequest", ref=NSTR, definition=OBJ, content=NSTR)
WORKFLOW_VALIDATION = model(
    "WorkflowValidation",
    valid=BOOL,
    problems=arr(ref(WORKFLOW_PROBLEM)),
    warnings=arr(ref(WORKFLOW_PROBLEM)),
)
INQUIRY = model(
    "Inquiry",
    id=INT,
    execution=INT,
    prompt=STR,
    response_schema=NOBJ,
    assigned_to=NINT,
    status=enum("pending", "responded", "timeout", "cancelled"),
    response=ANY,
    has_response=BOOL,
    timeout_at=NDT,
    responded_at=NDT,
    created=DT,
    updated=DT,
)
INQUIRY_CREATE = model(
    "InquiryCreate",
    required=("execution", "prompt"),
    execution=INT,
    prompt=STR,
    response_schema=NOBJ,
    assigned_to=NINT,
    timeout_at=NDT,
)
INQUIRY_UPDATE = model(
    "InquiryUpdate",
    prompt=STR,
    response_schema=NOBJ,
    assigned_to=NINT,
    timeout_at=NDT,
    status=enum("pending", "responded", "timeout", "cancelled", nullable=True),
)
INQUIRY_RESPOND = model("InquiryRespond", required=("response",), response=ANY)
_OWNER_TYPES = ("system", "identity", "pack", "action", "sensor")
KEY = model(
    "Key",
    id=INT,
    ref=STR,
    name=STR,
    owner_type=enum(*_OWNER_TYPES),
    owner=NSTR,
    owner_identity=NINT,
    owner_pack=NINT,
    owner_pack_ref=NSTR,
    owner_action=NINT,
    owner_action_ref=NSTR,
    owner_sensor=NINT,
    owner_sensor_ref=NSTR,
    encrypted=BOOL,
    value=ANY,
    created=DT,
    updated=DT,
)
KEY_CREATE = model(
    "KeyCreate",
    required=("ref", "name", "value"),
    ref=STR,
    name=STR,
    value=ANY,
    owner_type=enum(*_OWNER_TYPES, nullable=True),
    owner_identity=NINT,
    owner_pack=NINT,
    owner_pack_ref=NSTR,
    owner_action=NINT,
    owner_action_ref=NSTR,
    owner_sensor=NINT,
    owner_sensor_ref=NSTR,
    encrypted=NBOOL,
)
KEY_UPDATE = model("KeyUpdate", required=("value",), value=ANY, encrypted=NBOOL)
_ARTIFACT_TYPES = (
    "file_binary",
    "file_datatable",
    "file_image",
    "file_text",
    "other",
    "progress",
    "url",
)
ARTIFACT = model(
    "Artifact",
    id=INT,
    ref=STR,
    scope=enum(*_OWNER_TYPES),
    owner=STR,
    type=enum(*_ARTIFACT_TYPES),
    retention_policy=enum("versions", "days", "hours", "minutes"),
    retention_limit=INT,
    name=NSTR,
    description=NSTR,
    content_type=NSTR,
    size_bytes=NINT,
    execution=NINT,
    data=ANY,
    created=DT,
    updated=DT,
)
ARTIFACT_CREATE = model(
    "ArtifactCreate",
    required=("ref",),
    ref=STR,
    scope=enum(*_OWNER_TYPES, nullable=True),
    owner=NSTR,
    type=enum(*_ARTIFACT_TYPES, nullable=True),
    retention_policy=enum("versions", "days", "hours", "minutes", nullable=True),
    retention_limit=NINT,
    name=NSTR,
    description=NSTR,
    content_type=NSTR,
    execution=NINT,
    data=ANY,
)
ARTIFACT_UPDATE = partial(ARTIFACT_CREATE, "ArtifactUpdate")
ARTIFACT_PROGRESS = model("ArtifactProgress", required=("entry",), entry=ANY)
ARTIFACT_DATA = model("ArtifactData", data=ANY, content=NSTR, content_type=NSTR)
ARTIFACT_VERSION = model(
    "ArtifactVersion",
    id=INT,
    artifact=INT,
    version=INT,
    content_type=NSTR,
    size_bytes=NINT,
    content_json=ANY,
    meta=NOBJ,
    created_by=NSTR,
    created=DT,
)
ARTIFACT_VERSION_CREATE = model(
    "ArtifactVersionCreate", content=NSTR, content_json=ANY, content_type=NSTR, meta=NOBJ
)

# -- analytics --------------------------------------------------------------------------------

POINT = model("Point", required=("bucket", "value"), bucket=STR, label=NSTR, value=NUM)
SERIES = model("Series", since=DT, until=DT, points=arr(ref(POINT)))
FAILURE_RATE = model(
    "FailureRate",
    since=DT,
    until=DT,
    total_terminal=INT,
    failed_count=INT,
    timeout_count=INT,
    completed_count=INT,
    failure_rate_pct=NUM,
)
DASHBOARD = model(
    "Dashboard",
    since=DT,
    until=DT,
    executions_total=INT,
    executions_by_status=arr(ref(POINT)),
    events_total=INT,
    enforcements_total=INT,
    workers_by_status=arr(ref(POINT)),
    failure_rate=ref(FAILURE_RATE),
)

ALL_MODELS = [value for value in list(globals().values()) if isinstance(value, Model)]
