"""History (field-level change logs) and analytics (indexed GROUP BY queries, hourly buckets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import sqlalchemy as sa

from attune_core.errors import BadRequest, NotFound
from attune_core.model import HistoryOperation
from attune_core.security import Operation, Resource
from attune_core.storage import tables as t
from attune_services.api import _models as m
from attune_services.api._routing import Call, Param, page_of, paging
from attune_services.api.routes._registry import api

R = Operation.READ
WINDOW = [Param("since", m.DT), Param("until", m.DT), Param("hours", m.INT)]


def _time(call: Call, name: str) -> datetime | None:
    value = call.arg(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise BadRequest(f"{name} must be an ISO 8601 timestamp") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@api.route(
    "GET",
    "/api/v1/history/<kind>",
    summary="Change history of executions or workers",
    tag="history",
    resource=Resource.HISTORY,
    op=R,
    response=m.HISTORY,
    kind="list",
    query=[
        Param("entity_id", m.INT),
        Param("entity_ref"),
        Param("operation"),
        Param("changed_field"),
        Param("since", m.DT),
        Param("until", m.DT),
    ],
)
async def history(call: Call, kind: str) -> object:
    if kind not in ("execution", "worker"):
        raise NotFound(f"no history of {kind!r}: use execution or worker")
    paged = paging(call)
    async with call.ctx.store.read() as uow:
        repo = uow.execution_history if kind == "execution" else uow.worker_history
        rows = await repo.query(
            entity_id=call.int_arg("entity_id"),
            entity_ref=call.arg("entity_ref"),
            operation=call.arg("operation"),
            changed_field=call.arg("changed_field"),
            since=_time(call, "since"),
            until=_time(call, "until"),
            limit=paged.size + 1,
            offset=paged.offset,
        )
    return page_of([_history_row(row) for row in rows], paged)


def _history_row(row: Any) -> Any:
    # worker_history rows can come back with a plain-string operation; the JSON is the same.
    operation = row.operation
    if isinstance(operation, str) and not isinstance(operation, HistoryOperation):
        row = attrs.evolve(row, operation=HistoryOperation(operation.upper()))
    return row


def _window(call: Call) -> tuple[datetime, datetime]:
    hours = call.int_arg("hours")
    if hours is not None and not 1 <= hours <= 8760:
        raise BadRequest("hours must be between 1 and 8760")
    until = _time(call, "until") or datetime.now(UTC)
    since = _time(call, "since") or until - timedelta(hours=hours or 24)
    if since > until:
        raise BadRequest("since must be before until")
    return since, until


def _hour(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.to_char(
            sa.func.date_trunc("hour", sa.func.timezone("UTC", column)),
            'YYYY-MM-DD"T"HH24:00:00+00:00',
        )
    return sa.func.strftime("%Y-%m-%dT%H:00:00+00:00", column)


async def _grouped(
    call: Call,
    table: sa.Table,
    column: str,
    since: datetime,
    until: datetime,
    time_column: str = "created",
) -> list[dict[str, Any]]:
    tc = table.c[time_column]
    statement = (
        sa.select(table.c[column], sa.func.count())
        .where(tc >= since, tc <= until)
        .group_by(table.c[column])
    )
    async with call.ctx.store.read() as uow:
        rows = (await uow.connection.execute(statement)).all()
    return [
        {"bucket": str(getattr(k, "value", k)), "label": str(getattr(k, "value", k)), "value": n}
        for k, n in sorted(rows, key=lambda r: str(r[0]))
    ]


async def _hourly(
    call: Call, table: sa.Table, since: datetime, until: datetime, where: Any = None
) -> list[dict[str, Any]]:
    async with call.ctx.store.read() as uow:
        bucket = _hour(table.c.created, uow.connection.dialect.name).label("bucket")
        statement = (
            sa.select(bucket, sa.func.count())
            .where(table.c.created >= since, table.c.created <= until)
            .group_by(bucket)
            .order_by(bucket)
        )
        if where is not None:
            statement = statement.where(where)
        rows = (await uow.connection.execute(statement)).all()
    return [{"bucket": str(b), "label": None, "value": n} for b, n in rows]


async def _failure_rate(call: Call, since: datetime, until: datetime) -> dict[str, Any]:
    c = t.execution.c
    statement = (
        sa.select(c.status, sa.func.count())
        .where(
            c.updated >= since,
            c.updated <= until,
            c.status.in_(["completed", "failed", "timeout", "cancelled", "abandoned"]),
        )
        .group_by(c.status)
    )
    async with call.ctx.store.read() as uow:
        counts = {
            str(getattr(s, "value", s)): int(n)
            for s, n in (await uow.connection.execute(statement)).all()
        }
    total = sum(counts.values())
    failed = counts.get("failed", 0) + counts.get("abandoned", 0)
    timeout = counts.get("timeout", 0)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "total_terminal": total,
        "failed_count": failed,
        "timeout_count": timeout,
        "completed_count": counts.get("completed", 0),
        "failure_rate_pct": round(100.0 * (failed + timeout) / total, 2) if total else 0.0,
    }


def _series(since: datetime, until: datetime, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"since": since.isoformat(), "until": until.isoformat(), "points": points}


A = {"tag": "analytics", "resource": Resource.ANALYTICS, "op": R, "query": WINDOW}


@api.route(
    "GET", "/api/v1/analytics/dashboard", summary="Overview figures", response=m.DASHBOARD, **A
)  # type: ignore[arg-type]
async def dashboard(call: Call) -> object:
    since, until = _window(call)
    by_status = await _grouped(call, t.execution, "status", since, until)
    events = await _hourly(call, t.event, since, until)
    enforcements = await _hourly(call, t.enforcement, since, until)
    async with call.ctx.store.read() as uow:
        rows = (
            await uow.connection.execute(
                sa.select(t.worker.c.status, sa.func.count()).group_by(t.worker.c.status)
            )
        ).all()
    workers = [{"bucket": str(getattr(s, "value", s)), "label": None, "value": n} for s, n in rows]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "executions_total": sum(p["value"] for p in by_status),
        "executions_by_status": by_status,
        "events_total": sum(p["value"] for p in events),
        "enforcements_total": sum(p["value"] for p in enforcements),
        "workers_by_status": workers,
        "failure_rate": await _failure_rate(call, since, until),
    }


@api.route(
    "GET",
    "/api/v1/analytics/executions/status",
    summary="Executions by status",
    response=m.SERIES,
    **A,
)  # type: ignore[arg-type]
async def executions_status(call: Call) -> object:
    since, until = _window(call)
    return _series(since, until, await _grouped(call, t.execution, "status", since, until))


@api.route(
    "GET",
    "/api/v1/analytics/executions/throughput",
    summary="Executions per hour",
    response=m.SERIES,
    **A,
)  # type: ignore[arg-type]
async def executions_throughput(call: Call) -> object:
    since, until = _window(call)
    return _series(since, until, await _hourly(call, t.execution, since, until))


@api.route(
    "GET",
    "/api/v1/analytics/executions/failure-rate",
    summary="Share of failed executions",
    response=m.FAILURE_RATE,
    **A,
)  # type: ignore[arg-type]
async def failure_rate(call: Call) -> object:
    since, until = _window(call)
    return await _failure_rate(call, since, until)


@api.route(
    "GET", "/api/v1/analytics/events/volume", summary="Events per hour", response=m.SERIES, **A
)  # type: ignore[arg-type]
async def events_volume(call: Call) -> object:
    since, until = _window(call)
    return _series(since, until, await _hourly(call, t.event, since, until))


@api.route(
    "GET", "/api/v1/analytics/workers/status", summary="Workers by status", response=m.SERIES, **A
)  # type: ignore[arg-type]
async def workers_status(call: Call) -> object:
    since, until = _window(call)
    async with call.ctx.store.read() as uow:
        rows = (
            await uow.connection.execute(
                sa.select(t.worker.c.status, sa.func.count()).group_by(t.worker.c.status)
            )
        ).all()
    points = [{"bucket": str(getattr(s, "value", s)), "label": None, "value": n} for s, n in rows]
    return _series(since, until, points)


@api.route(
    "GET",
    "/api/v1/analytics/enforcements/volume",
    summary="Enforcements per hour",
    response=m.SERIES,
    **A,
)  # type: ignore[arg-type]
async def enforcements_volume(call: Call) -> object:
    since, until = _window(call)
    return _series(since, until, await _hourly(call, t.enforcement, since, until))
