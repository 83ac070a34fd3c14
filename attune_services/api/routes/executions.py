"""Executions: execute, list (with the contract's filters), get, cancel, rerun, logs, stats,
history, and the SSE stream of changes."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import attrs
import sqlalchemy as sa
from quart import Response

from attune_core.bus import RoutingKey
from attune_core.engine._live_logs import LOG_NOTIFICATION
from attune_core.errors import BadRequest, NotFound
from attune_core.model import Execution, ExecutionStatus, LogChunk, to_json
from attune_core.schema import mask_secrets
from attune_core.security import Operation, Resource
from attune_core.storage import tables as t
from attune_services.api import _models as m
from attune_services.api._executions import ExecutionIntake, ExecutionRequest
from attune_services.api._routing import (
    Call,
    Page,
    Param,
    list_repo,
    pack_of_ref,
    page_of,
    paging,
)
from attune_services.api.routes._registry import api

T = "executions"
EX = Resource.EXECUTION
R = Operation.READ
BOOL = {"type": "boolean"}
INT = {"type": "integer"}

LIST_FILTERS = [
    Param("status"),
    Param("action_ref"),
    Param("pack_name"),
    Param("rule_ref"),
    Param("trigger_ref"),
    Param("executor", INT),
    Param("worker", INT, "only executions placed on this worker (its id)"),
    Param("enforcement", INT),
    Param("parent", INT),
    Param("top_level_only", BOOL),
    Param("result_contains"),
    Param("include_total", BOOL),
]
_SUMMARY_KEYS = tuple(m.EXECUTION_SUMMARY.fields)


def _summary_column(name: str) -> Any:
    """The column as the driver returns it: SQLite's naive UTC timestamps stay naive (the JSON
    encoder writes them with "+00:00", as ``isoformat`` does for the aware ones PostgreSQL
    returns), the status stays its string; no per-value conversion in Python."""
    column = t.execution.c[name]
    if isinstance(column.type, sa.TypeDecorator) and isinstance(column.type.impl, sa.DateTime):
        return sa.type_coerce(column, sa.DateTime()).label(name)
    if name == "status":
        return sa.type_coerce(column, sa.String()).label(name)
    return column


_SUMMARY_COLUMNS = [_summary_column(name) for name in _SUMMARY_KEYS]


def _status(value: str) -> list[str]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    known = {s.value for s in ExecutionStatus}
    unknown = [v for v in wanted if v not in known]
    if unknown:
        raise BadRequest(f"unknown execution status {unknown[0]!r}; one of {sorted(known)}")
    return wanted


_EQUALS = (
    "action_ref",
    "rule_ref",
    "trigger_ref",
    "executor",
    "worker",
    "enforcement",
    "parent",
)


async def list_executions_page(call: Call, fixed: Mapping[str, Any] | None = None) -> Page:
    """Executions newest first, filtered by the query string (and ``fixed`` filters)."""
    values: dict[str, Any] = {
        "action_ref": call.arg("action_ref"),
        "rule_ref": call.arg("rule_ref"),
        "trigger_ref": call.arg("trigger_ref"),
        "executor": call.int_arg("executor"),
        "worker": call.int_arg("worker"),
        "enforcement": call.int_arg("enforcement"),
        "parent": call.int_arg("parent"),
        **(fixed or {}),
    }
    values = {name: value for name, value in values.items() if value is not None}
    status = call.arg("status")
    if status:
        values["status"] = _status(status)
    pack = call.arg("pack_name")
    if pack:
        values["pack"] = f"{_escape(pack)}.%"
    needle = call.arg("result_contains")
    if needle:
        values["needle"] = f"%{_escape(needle)}%"
    scope = call.pack_scope(Resource.EXECUTION)
    shape = _Shape(
        filters=tuple(values),
        scope=None if scope is None else tuple(sorted(scope)),
        top_level_only=bool(call.bool_arg("top_level_only")),
    )
    paged = paging(call)
    select, count = _statements(shape)
    async with call.ctx.store.read() as uow:
        page = {**values, "limit": paged.size + 1, "offset": paged.offset}
        rows = (await uow.connection.execute(select, page)).all()
        total = None
        if call.bool_arg("include_total"):
            total = int((await uow.connection.execute(count, values)).scalar_one())
    # The page's JSON objects straight from the rows (dates are written by the encoder).
    items = [dict(zip(_SUMMARY_KEYS, row, strict=True)) for row in rows]
    return page_of(items, paged, total, rendered=True)


@attrs.frozen
class _Shape:
    """Which filters a list request uses (their values are bound at execution)."""

    filters: tuple[str, ...]
    scope: tuple[str, ...] | None  # the packs of a pack-scoped grant
    top_level_only: bool


@functools.lru_cache(maxsize=256)
def _statements(shape: _Shape) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page and count statements of a filter shape, built once: SQLAlchemy then finds the
    compiled form of a statement it has seen without walking it again for its cache key."""
    c = t.execution.c
    clauses: list[Any] = []
    for name in shape.filters:
        if name in _EQUALS:
            clauses.append(c[name] == sa.bindparam(name))
        elif name == "status":
            clauses.append(c.status.in_(sa.bindparam("status", expanding=True)))
        elif name == "pack":
            clauses.append(c.action_ref.like(sa.bindparam("pack"), escape="\\"))
        elif name == "needle":
            clauses.append(sa.cast(c.result, sa.Text).like(sa.bindparam("needle"), escape="\\"))
        else:
            raise ValueError(f"unknown execution filter {name!r}")
    if shape.scope is not None:
        # A pack-scoped grant: only executions of that pack's actions.
        clauses.append(
            sa.or_(
                sa.false(),
                *(c.action_ref.like(f"{_escape(p)}.%", escape="\\") for p in shape.scope),
            )
        )
    if shape.top_level_only:
        clauses.append(c.parent.is_(None))
    select = (
        sa.select(*_SUMMARY_COLUMNS)
        .where(*clauses)
        .order_by(c.created.desc(), c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .offset(sa.bindparam("offset", type_=sa.Integer()))
    )
    count = sa.select(sa.func.count()).select_from(t.execution).where(*clauses)
    return select, count


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


async def execution_json(call: Call, execution: Execution) -> dict[str, Any]:
    data: dict[str, Any] = to_json(execution)
    if execution.config:
        async with call.ctx.store.read() as uow:
            action = await uow.actions.find_by_ref(execution.action_ref)
        if action is not None and action.param_schema:
            data["config"] = mask_secrets(action.param_schema, execution.config)
    return data


@api.route(
    "POST",
    "/api/v1/executions/execute",
    summary="Run an action",
    tag=T,
    resource=EX,
    op=Operation.CREATE,
    body=m.EXECUTE,
    response=m.EXECUTION,
    status=201,
)
async def execute(call: Call) -> object:
    env_vars = call.body.get("env_vars")
    intake = call.ctx.executions or ExecutionIntake(call.ctx.store, call.ctx.bus)
    execution, action = await intake.submit(
        ExecutionRequest(
            action_ref=call.body["action_ref"],
            parameters=call.body.get("parameters") or {},
            env_vars={str(k): str(v) for k, v in env_vars.items()} if env_vars else None,
            allow=lambda action: call.require(Resource.ACTION, Operation.EXECUTE, action.pack_ref),
        )
    )
    data: dict[str, Any] = to_json(execution)
    if action.param_schema and execution.config:
        data["config"] = mask_secrets(action.param_schema, execution.config)
    return data


@api.route(
    "GET",
    "/api/v1/executions",
    summary="List executions (newest first)",
    tag=T,
    resource=EX,
    op=R,
    response=m.EXECUTION_SUMMARY,
    kind="list",
    query=LIST_FILTERS,
)
async def list_executions(call: Call) -> object:
    return await list_executions_page(call)


@api.route(
    "GET",
    "/api/v1/executions/stats",
    summary="Counts of executions by status",
    tag=T,
    resource=EX,
    op=R,
    response=m.EXECUTION_STATS,
)
async def stats(call: Call) -> object:
    c = t.execution.c
    statement = sa.select(c.status, sa.func.count()).group_by(c.status)
    async with call.ctx.store.read() as uow:
        rows = (await uow.connection.execute(statement)).all()
    by_status = {str(getattr(s, "value", s)): int(n) for s, n in rows}
    active = {"requested", "scheduling", "scheduled", "running", "canceling"}
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "active": sum(n for s, n in by_status.items() if s in active),
        "completed": by_status.get("completed", 0),
        "failed": by_status.get("failed", 0) + by_status.get("timeout", 0),
    }


@api.route(
    "GET",
    "/api/v1/executions/<int:id>",
    summary="Get an execution",
    tag=T,
    resource=EX,
    op=R,
    response=m.EXECUTION,
)
async def get_execution(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        execution = await uow.executions.get(id)
    call.require(EX, R, pack_of_ref(execution.action_ref))
    return await execution_json(call, execution)


@api.route(
    "POST",
    "/api/v1/executions/<int:id>/cancel",
    summary="Cancel an execution",
    tag=T,
    resource=EX,
    op=Operation.EXECUTE,
    response=m.EXECUTION,
)
async def cancel(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        execution = await uow.executions.get(id)
    call.require(EX, Operation.EXECUTE, pack_of_ref(execution.action_ref))
    if execution.status.is_terminal:
        raise BadRequest(f"execution {id} already ended ({execution.status.value})")
    cancelled = await call.ctx.executor().cancel(id)
    return await execution_json(call, cancelled)


@api.route(
    "POST",
    "/api/v1/executions/<int:id>/rerun",
    summary="Run an execution's action again with the same parameters",
    tag=T,
    resource=EX,
    op=Operation.EXECUTE,
    response=m.EXECUTION,
    status=201,
)
async def rerun(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        original = await uow.executions.get(id)
        call.require(EX, Operation.EXECUTE, pack_of_ref(original.action_ref))
        action = await uow.actions.find_by_ref(original.action_ref)
        if action is None:
            raise NotFound(f"action {original.action_ref!r} no longer exists")
        execution = await uow.executions.create(
            Execution(
                action_ref=original.action_ref,
                action=action.id,
                config=original.config,
                env_vars=original.env_vars,
                original_execution=original.original_execution or original.id,
            )
        )
    await call.ctx.bus.publish(RoutingKey.EXECUTION_REQUESTED, {"execution_id": execution.id})
    return await execution_json(call, execution)


def _log_text(execution: Execution, stream: str) -> tuple[str, bool]:
    result = execution.result if isinstance(execution.result, dict) else {}
    if stream == "stdout":
        return str(result.get("stdout") or ""), bool(result.get("stdout_truncated"))
    path = result.get("stderr_log")
    if isinstance(path, str) and Path(path).is_file():
        return Path(path).read_text(errors="replace"), False
    return str(result.get("stderr") or ""), bool(result.get("stderr_truncated"))


def _joined(chunks: Sequence[LogChunk], start: int) -> str:
    """The text of ``chunks`` (in order) from offset ``start`` on."""
    parts = []
    for chunk in chunks:
        skip = max(0, start - chunk.position)
        parts.append(chunk.content[skip:])
    return "".join(parts)


@attrs.frozen
class _Log:
    """A log as the API shows it: streamed so far (``complete`` false), or the final text."""

    content: str
    truncated: bool
    complete: bool
    status: ExecutionStatus


async def _read_log(call: Call, id: int, stream: str, start: int) -> _Log:
    """The log from offset ``start``: the chunks the worker streamed while the execution runs;
    once it ended, the result's stdout and the stderr log file when this process can read it,
    else the database's rows: the final stderr the worker stored with the outcome (its files
    may be on another machine), or what a worker that died mid-run streamed."""
    content, truncated = "", False
    async with call.ctx.store.read() as uow:
        # Chunks first: the outcome's transaction replaces them, so chunks read before a
        # status that is still running are whole.
        chunks = await uow.execution_logs.read(id, stream, start)
        execution = await uow.executions.get(id)
        if execution.status.is_terminal:
            content, truncated = _log_text(execution, stream)
            if not content:
                # Read again: the chunks above may predate the outcome's commit.
                chunks = await uow.execution_logs.read(id, stream, start)
    call.require(EX, R, pack_of_ref(execution.action_ref))
    if not execution.status.is_terminal:
        return _Log(_joined(chunks, start), False, False, execution.status)
    if not content and chunks:
        return _Log(_joined(chunks, start), False, True, execution.status)
    return _Log(content[start:], truncated, True, execution.status)


def _log_args(call: Call, stream: str) -> int:
    if stream not in ("stdout", "stderr"):
        raise NotFound(f"no log {stream!r}: use stdout or stderr")
    start = call.int_arg("offset") or 0
    if start < 0:
        raise BadRequest("query parameter 'offset' must be 0 or more")
    return start


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/logs/<stream>",
    summary="An execution's stdout or stderr: what it printed so far while it runs "
    "(complete=false), the whole log once it ended",
    tag=T,
    resource=EX,
    op=R,
    response=m.EXECUTION_LOG,
    query=[Param("offset", INT, "characters to skip (what the caller already has)")],
)
async def logs(call: Call, id: int, stream: str) -> object:
    start = _log_args(call, stream)
    log = await _read_log(call, id, stream, start)
    return {
        "execution_id": id,
        "stream": stream,
        "content": log.content,
        "truncated": log.truncated,
        "offset": start,
        "complete": log.complete,
    }


# While the execution runs, the SSE stream re-reads the log on every notification about it, and
# at least this often (seconds) in case a notification was lost (a dropped frame, no hub).
_LOG_POLL = 2.0
_KEEP_ALIVE = 15.0


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/logs/<stream>/stream",
    summary="Follow a log (SSE): 'chunk' events while the execution runs, then the whole log "
    "and an 'end' event",
    tag=T,
    resource=EX,
    op=R,
    kind="raw",
    produces="text/event-stream",
    token_in_query=True,
    query=[Param("offset", INT, "characters the caller already has"), Param("token")],
)
async def log_stream(call: Call, id: int, stream: str) -> object:
    start = _log_args(call, stream)
    await _read_log(call, id, stream, start)  # 404 and permission before the stream opens
    hub = call.ctx.hub

    async def frames() -> AsyncIterator[bytes]:
        filters = [f"entity:execution:{id}", f"entity:{LOG_NOTIFICATION}:{id}"]
        subscription = hub.subscribe(filters) if hub is not None else None
        sent = start
        quiet = 0.0
        try:
            yield b": connected\n\n"
            while True:
                log = await _read_log(call, id, stream, sent)
                if log.complete:
                    break
                if log.content:
                    chunk = {
                        "execution_id": id,
                        "stream": stream,
                        "offset": sent,
                        "content": log.content,
                    }
                    yield f"event: chunk\ndata: {json.dumps(chunk)}\n\n".encode()
                    sent += len(log.content)
                    quiet = 0.0
                elif quiet >= _KEEP_ALIVE:
                    yield b": keep-alive\n\n"
                    quiet = 0.0
                if subscription is not None:
                    waited = anyio.current_time()
                    await subscription.get_or_timeout(_LOG_POLL)
                    # several frames may have come together: one read answers them all
                    while await subscription.get_or_timeout(0) is not None:
                        pass
                    quiet += anyio.current_time() - waited
                else:
                    await anyio.sleep(_LOG_POLL)
                    quiet += _LOG_POLL
            data = {
                "execution_id": id,
                "stream": stream,
                "status": log.status.value,
                "content": log.content if sent == 0 else await _whole(call, id, stream),
                "truncated": log.truncated,
            }
            yield f"data: {json.dumps(data)}\n\n".encode()
            yield b"event: end\ndata: {}\n\n"
        finally:
            if subscription is not None:
                subscription.close()

    return _sse(frames())


async def _whole(call: Call, id: int, stream: str) -> str:
    return (await _read_log(call, id, stream, 0)).content


def _sse(body: AsyncIterator[bytes]) -> Response:
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


@api.route(
    "GET",
    "/api/v1/executions/stream",
    summary="Execution changes as server-sent events (auth by header or token= query)",
    tag=T,
    resource=EX,
    op=R,
    kind="raw",
    produces="text/event-stream",
    token_in_query=True,
    query=[Param("execution_id", INT), Param("token")],
)
async def stream(call: Call) -> object:
    hub = call.ctx.hub
    if hub is None:
        raise BadRequest("no notification source is running in this API process")
    execution_id = call.int_arg("execution_id")
    wanted = f"entity:execution:{execution_id}" if execution_id else "entity_type:execution"
    subscription = hub.subscribe([wanted])

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                frame = await subscription.get_or_timeout(15.0)
                if frame is None:
                    yield b": keep-alive\n\n"
                    continue
                data = {
                    "entity_type": frame.get("entity_type"),
                    "entity_id": frame.get("entity_id"),
                    "notification_type": frame.get("notification_type"),
                    **(frame.get("payload") or {}),
                    "timestamp": frame.get("timestamp"),
                }
                yield f"data: {json.dumps(data, default=str)}\n\n".encode()
        finally:
            subscription.close()

    return _sse(frames())


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/history",
    summary="Field-level changes of an execution",
    tag=T,
    resource=EX,
    op=R,
    response=m.HISTORY,
    kind="list",
)
async def execution_history(call: Call, id: int) -> object:
    paged = paging(call)
    async with call.ctx.store.read() as uow:
        await uow.executions.get(id)
        rows = await uow.execution_history.query(
            entity_id=id, limit=paged.size + 1, offset=paged.offset
        )
    from attune_services.api.routes.analytics import _history_row

    return page_of([_history_row(row) for row in rows], paged)


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/inquiries",
    summary="Inquiries of an execution",
    tag=T,
    resource=Resource.INQUIRY,
    op=R,
    response=m.INQUIRY,
    kind="list",
)
async def execution_inquiries(call: Call, id: int) -> object:
    from attune_services.api.routes import _serialize as s

    async with call.ctx.store.read() as uow:
        await uow.executions.get(id)
    return await list_repo(call, "inquiries", filters={"execution": id}, enrich=s.inquiries)


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/artifacts",
    summary="Artifacts of an execution",
    tag=T,
    resource=Resource.ARTIFACT,
    op=R,
    response=m.ARTIFACT,
    kind="list",
)
async def execution_artifacts(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        await uow.executions.get(id)
    return await list_repo(call, "artifacts", filters={"execution": id})


@api.route(
    "GET",
    "/api/v1/executions/<int:id>/workflow",
    summary="The orchestration state of a workflow execution: task statuses and the "
    "conductor's decisions with the reason for each (transitions taken or not)",
    tag=T,
    resource=EX,
    op=R,
    response=m.WORKFLOW_EXECUTION,
)
async def execution_workflow(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        await uow.executions.get(id)
        record = await uow.workflow_executions.find_by_execution(id)
        if record is None:
            raise NotFound(f"execution {id} is not a workflow execution")
        decisions = await uow.workflow_executions.decisions(record)
        c = t.execution.c
        children = (
            await uow.connection.execute(
                sa.select(c.id, c.workflow_task).where(c.parent == id).order_by(c.id)
            )
        ).all()
    state = record.state if isinstance(record.state, dict) else {}
    conductor = state.get("conductor") or {}
    # task statuses only: results live on the child executions (and can be large)
    tasks = {
        str(name): {"status": task.get("status"), "timed_out": bool(task.get("timed_out"))}
        for name, task in (conductor.get("tasks") or {}).items()
        if isinstance(task, dict)
    }
    return {
        "id": record.id,
        "execution": record.execution,
        "workflow_def": record.workflow_def,
        "status": getattr(record.status, "value", record.status),
        "current_tasks": list(record.current_tasks),
        "completed_tasks": list(record.completed_tasks),
        "failed_tasks": list(record.failed_tasks),
        "skipped_tasks": list(record.skipped_tasks),
        "task_graph": dict(record.task_graph),
        "tasks": tasks,
        "decisions": _decisions(decisions, children),
        "failures": [str(f) for f in conductor.get("failures") or ()],
        "error_message": record.error_message,
        "paused": record.paused,
        "pause_reason": record.pause_reason,
        "created": _iso(record.created) if record.created else None,
        "updated": _iso(record.updated) if record.updated else None,
    }


def _decisions(logged: list[dict[str, Any]], children: Any) -> list[dict[str, Any]]:
    """The conductor's decisions as logged. A log that holds no dispatches (written by a
    version that kept them only on the children) gets each dispatch from the child execution
    it created (``workflow_task.why``)."""
    out: list[dict[str, Any]] = list(logged)
    if any(d.get("command") == "DispatchTask" for d in out if isinstance(d, dict)):
        return out
    for child_id, task in children:
        if not isinstance(task, dict) or not task.get("why"):
            continue
        entry: dict[str, Any] = {
            "command": "DispatchTask",
            "why": task["why"],
            "execution": child_id,
        }
        for field, key in (("task", "task_name"), ("run", "run"), ("item_index", "task_index")):
            if task.get(key) is not None:
                entry[field] = task[key]
        if task.get("retry_count") is not None:
            entry["attempt"] = task["retry_count"]
        out.append(entry)
    return out
