"""History and analytics queries, and the retention job that purges old rows.

Rules of this file:

1. Analytics are indexed ``GROUP BY`` queries in hourly buckets, one code path for both
   backends: only the hour-truncation expression differs (``date_trunc`` on PostgreSQL,
   ``strftime`` on SQLite). Points are ``{"bucket": ISO 8601 hour (UTC), "label"?, "value"}``.
2. A window is ``since``/``until`` or the last ``hours`` (default 24, 1..8760); anything else
   is a :class:`ValidationError`.
3. Retention deletes in batches of ``retention.batch_size`` rows, one transaction per batch,
   yielding between batches, so the engine's own transactions are never held up for long.
   Unfinished executions are never purged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import sqlalchemy as sa

from attune_core.config import RetentionSettings
from attune_core.errors import ValidationError
from attune_core.model import ExecutionStatus
from attune_core.ports import Clock
from attune_core.storage import Store
from attune_core.storage import tables as t

__all__ = ["Analytics", "RetentionJob", "Window", "window"]

log = logging.getLogger(__name__)

MAX_HOURS = 8760
TERMINAL = [s.value for s in ExecutionStatus if s.is_terminal]

Window = tuple[datetime, datetime]


def window(
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    hours: int | None = None,
) -> Window:
    """The ``[since, until]`` window of an analytics query.

    Raises:
        ValidationError: ``hours`` outside 1..8760, or ``since`` after ``until``.
    """
    if hours is not None and (isinstance(hours, bool) or not 1 <= int(hours) <= MAX_HOURS):
        raise ValidationError(f"hours must be between 1 and {MAX_HOURS}", field="hours")
    end = until or now
    start = since or end - timedelta(hours=hours or 24)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("since and until need a time zone", field="since")
    if start > end:
        raise ValidationError("since is after until", field="since")
    return start, end


def _hour(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.date_trunc("hour", sa.func.timezone("UTC", column))
    return sa.func.strftime("%Y-%m-%d %H:00:00", column)


def _bucket(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC).isoformat()


class Analytics:
    """The analytics series of api-contract.md (``/api/v1/analytics/...``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def _series(
        self,
        table: sa.Table,
        time_column: str,
        span: Window,
        *,
        label: str | None,
        where: Any = None,
    ) -> list[dict[str, Any]]:
        async with self._store.read() as uow:
            conn = uow.connection
            hour = _hour(table.c[time_column], conn.dialect.name).label("bucket")
            columns: list[Any] = [hour]
            if label is not None:
                columns.append(table.c[label].label("label"))
            statement = sa.select(*columns, sa.func.count().label("value")).where(
                table.c[time_column] >= span[0], table.c[time_column] <= span[1]
            )
            if where is not None:
                statement = statement.where(where)
            groups = [hour] + ([table.c[label]] if label is not None else [])
            statement = statement.group_by(*groups).order_by(*groups)
            rows = (await conn.execute(statement)).all()
        points = []
        for row in rows:
            point: dict[str, Any] = {"bucket": _bucket(row.bucket)}
            if label is not None:
                value = row.label
                point["label"] = value.value if hasattr(value, "value") else value
            point["value"] = int(row.value)
            points.append(point)
        return points

    async def execution_status(self, span: Window) -> list[dict[str, Any]]:
        """Executions created per hour, by status."""
        return await self._series(t.execution, "created", span, label="status")

    async def execution_throughput(self, span: Window) -> list[dict[str, Any]]:
        """Executions that finished per hour (terminal status, by last change)."""
        return await self._series(
            t.execution, "updated", span, label=None, where=t.execution.c.status.in_(TERMINAL)
        )

    async def event_volume(self, span: Window) -> list[dict[str, Any]]:
        """Events per hour, by trigger."""
        return await self._series(t.event, "created", span, label="trigger_ref")

    async def enforcement_volume(self, span: Window) -> list[dict[str, Any]]:
        """Enforcements per hour, by rule."""
        return await self._series(t.enforcement, "created", span, label="rule_ref")

    async def worker_status(self, span: Window) -> list[dict[str, Any]]:
        """Worker status changes per hour, by the new status (from worker history)."""
        async with self._store.read() as uow:
            records = await uow.worker_history.query(
                changed_field="status", since=span[0], until=span[1]
            )
        counts: dict[tuple[str, str], int] = {}
        for record in records:
            status = str((record.new_values or {}).get("status"))
            hour = record.time.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            counts[(hour.isoformat(), status)] = counts.get((hour.isoformat(), status), 0) + 1
        return [
            {"bucket": bucket, "label": label, "value": value}
            for (bucket, label), value in sorted(counts.items())
        ]

    async def failure_rate(self, span: Window) -> dict[str, Any]:
        """Terminal executions in the window and the share that failed or timed out."""
        e = t.execution
        async with self._store.read() as uow:
            rows = (
                await uow.connection.execute(
                    sa.select(e.c.status, sa.func.count())
                    .where(e.c.status.in_(TERMINAL), e.c.updated >= span[0], e.c.updated <= span[1])
                    .group_by(e.c.status)
                )
            ).all()
        counts = {
            (status.value if hasattr(status, "value") else str(status)): int(count)
            for status, count in (tuple(row) for row in rows)
        }
        total = sum(counts.values())
        failed = counts.get("failed", 0) + counts.get("abandoned", 0)
        timeout = counts.get("timeout", 0)
        return {
            "total_terminal": total,
            "failed_count": failed,
            "timeout_count": timeout,
            "completed_count": counts.get("completed", 0),
            "failure_rate_pct": round(100.0 * (failed + timeout) / total, 2) if total else 0.0,
        }

    async def dashboard(self, span: Window) -> dict[str, Any]:
        """The dashboard: totals of the window plus the series the widgets draw."""
        status = await self.execution_status(span)
        by_status: dict[str, int] = {}
        for point in status:
            by_status[point["label"]] = by_status.get(point["label"], 0) + point["value"]
        events = await self.event_volume(span)
        enforcements = await self.enforcement_volume(span)
        return {
            "since": span[0].isoformat(),
            "until": span[1].isoformat(),
            "executions": {"total": sum(by_status.values()), "by_status": by_status},
            "events": {"total": sum(p["value"] for p in events)},
            "enforcements": {"total": sum(p["value"] for p in enforcements)},
            "failure_rate": await self.failure_rate(span),
            "execution_status": status,
            "execution_throughput": await self.execution_throughput(span),
            "event_volume": events,
            "enforcement_volume": enforcements,
            "worker_status": await self.worker_status(span),
        }


class RetentionJob:
    """Purges rows older than their retention. Run it with ``await job.run()``."""

    def __init__(self, store: Store, clock: Clock, settings: RetentionSettings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._awake = False

    @property
    def busy(self) -> bool:
        """Whether it is purging right now (for the test kit's settle)."""
        return self._awake

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Purge every ``retention.interval`` seconds (Clock time) until cancelled."""
        task_status.started()
        while True:
            await self._clock.sleep(self._settings.interval)
            self._awake = True
            try:
                await self.purge()
            except Exception:
                log.exception("retention purge failed")
            finally:
                self._awake = False

    async def purge(self) -> dict[str, int]:
        """Run one purge now; returns the rows deleted per table."""
        now = self._clock.now()
        days = self._settings
        plan: Sequence[tuple[str, str, int, dict[str, Any]]] = (
            ("events", "created", days.events_days, {}),
            ("enforcements", "created", days.enforcements_days, {}),
            ("executions", "created", days.executions_days, {"status": TERMINAL}),
            ("execution_history", "time", days.execution_history_days, {}),
            ("worker_history", "time", days.worker_history_days, {}),
            # Notifications are the change log of those rows: kept as long as events.
            ("notifications", "created", days.events_days, {}),
        )
        removed: dict[str, int] = {}
        for name, column, keep_days, equals in plan:
            before = now - timedelta(days=keep_days)
            total = 0
            while True:
                async with self._store.transaction() as uow:
                    repository = getattr(uow, name)
                    count = await repository.purge_batch(
                        column, before, limit=self._settings.batch_size, **equals
                    )
                total += count
                if count < self._settings.batch_size:
                    break
                await (
                    anyio.lowlevel.checkpoint()
                )  # let the engine's transactions in between batches
            removed[name] = total
        async with self._store.transaction() as uow:
            removed["artifact_versions"] = await uow.artifact_versions.purge_expired(now)
        return removed
