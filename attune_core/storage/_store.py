"""The Store: an engine plus units of work that expose one repository per entity.

Usage::

    store = await Store.open("sqlite+aiosqlite:///attune.db")
    async with store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
        await uow.executions.transition(execution.id, expected=REQUESTED, new=SCHEDULED)
    # committed here; an exception inside the block rolls everything back

Rule: one unit of work = one connection = one transaction. Repositories are created lazily per
unit of work and never outlive it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from typing import Any

import anyio
import anyio.lowlevel
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from attune_core.clock import utcnow
from attune_core.config import DatabaseSettings
from attune_core.errors import StorageError
from attune_core.storage import migrate
from attune_core.storage import repositories as r
from attune_core.storage._catalogue import MISSING, Catalogue, stamp_statement
from attune_core.storage._catalogue_listener import CatalogueListener
from attune_core.storage._connections import (
    DriverConnection,
    InlineConnection,
    create_inline_engine,
)
from attune_core.storage._deferred import (
    BEGIN,
    COMMIT,
    ROLLBACK,
    DeferredInserts,
    IdReservations,
)
from attune_core.storage._engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    driver_connect_kwargs,
    normalise_url,
    pings_sent,
)
from attune_core.storage._errors import translate_errors
from attune_core.storage._execution_logs import ExecutionLogRepository
from attune_core.storage._leases import LeaseRepository
from attune_core.storage._repository import Change

__all__ = ["Store", "UnitConnection", "UnitOfWork"]

# What a unit of work runs its statements on (_connections.py): SQLite inline, or PostgreSQL
# through the async driver.
UnitConnection = InlineConnection | DriverConnection

log = logging.getLogger(__name__)


class UnitOfWork:
    """One transaction's view of the database, one repository per entity."""

    def __init__(
        self,
        connection: UnitConnection,
        now: Callable[[], datetime],
        catalogue: Catalogue | None = None,
        *,
        autocommit: bool = False,
        ids: IdReservations | None = None,
    ) -> None:
        self.connection = connection
        self.now = now
        self.autocommit = autocommit
        # Inserts held back to be written together (_deferred.py), once defer_inserts() is
        # called, on PostgreSQL (``ids``) only.
        self.deferred = DeferredInserts()
        self._ids = ids
        self.deferring = False  # set by defer_inserts()
        # An autocommit unit of work that had to open a transaction (flush_inserts).
        self.block = False
        self.changes: list[Change] = []
        # Rows this transaction locked or wrote, by (table, id): while the transaction lasts
        # nobody else can change them (PostgreSQL row locks, SQLite's exclusive writer), so a
        # second change of the same row needs no second locking read.
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        # History rows, written in one batch per table before the commit.
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        self.catalogue = catalogue
        # Set by the repositories when this transaction changes a catalogue table.
        self.catalogue_written = False
        # Names of the tables this transaction inserted into, updated or deleted from.
        self.written: set[str | None] = set()
        self._generation = catalogue.generation if catalogue is not None else 0
        self._stamp_checked = False

    def record_change(self, change: Change) -> None:
        """Remember a change to announce once the transaction has committed."""
        self.changes.append(change)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this transaction has committed (never after a rollback)."""
        self._after_commit.append(callback)

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` if this transaction does not commit (rolled back, or its commit
        failed): what it took must be given back."""
        self._after_rollback.append(callback)

    def defer_inserts(self) -> None:
        """From now on hold back the rows ``create_many`` inserts into tables with an id, and
        write them together, in one statement, before the next statement that concerns their
        tables or at the end of the unit of work (``_deferred.py``). Their ids are reserved
        beforehand, so the entities returned are complete. PostgreSQL only: elsewhere the
        inserts run as they come."""
        self.deferring = self._ids is not None

    async def reserve_ids(self, table: sa.Table, count: int) -> list[int]:
        """``count`` ids of ``table`` for rows inserted later (:meth:`defer_inserts`)."""
        assert self._ids is not None, "ids are reserved only while inserts are deferred"
        return await self._ids.take(self.connection, table, count)

    async def flush_inserts_for(self, statement: sa.Executable) -> None:
        """Write the held rows before ``statement`` when it concerns their tables."""
        if self.deferred.concern(statement):
            await self.flush_inserts()

    async def flush_inserts(self, *, last: bool = False) -> None:
        """Write the rows held back (:meth:`defer_inserts`); ``last`` when the unit of work
        ends. In autocommit, rows written before the end, or by several statements, are
        written in a transaction this unit opens, so that they land with the rest of it or
        not at all (``_deferred.py``, rule 5)."""
        names, statements = self.deferred.take()
        if not statements:
            return
        with translate_errors(names):
            if self.autocommit and not self.block and (not last or len(statements) > 1):
                await self.connection.execute(BEGIN)
                self.block = True
            for statement, parameters in statements:
                await self.connection.execute(statement, parameters)

    def add_history(self, table_name: str, row: dict[str, Any]) -> None:
        """Queue a history row; it is written with the others before the commit."""
        self._history.setdefault(table_name, []).append(row)

    async def flush_history(self) -> None:
        """Write the queued history rows (one statement per history table)."""
        from attune_core.storage.tables import metadata

        while self._history:
            name, rows = self._history.popitem()
            with translate_errors(name):
                await self.connection.execute(metadata.tables[name].insert(), rows)

    async def cached(self, key: Any, load: Callable[[], Awaitable[Any]]) -> Any:
        """A catalogue value from the cache, else from ``load()`` (and then cached).

        See :mod:`attune_core.storage._catalogue` for when the cache is bypassed.
        """
        catalogue = self.catalogue
        if catalogue is None or self.catalogue_written:
            return await load()
        if not self._stamp_checked and catalogue.needs_stamp():
            self._stamp_checked = True
            with translate_errors("catalogue"):
                stamp = tuple((await self.connection.execute(stamp_statement())).one())
            catalogue.observe_stamp(stamp)
            # The loads below run after the stamp was read, so they see at least what it saw.
            self._generation = catalogue.generation
        value = catalogue.get(key)
        if value is MISSING:
            value = await load()
            if not self.catalogue_written:
                catalogue.put(key, value, generation=self._generation)
        return value

    @cached_property
    def packs(self) -> r.PackRepository:
        return r.PackRepository(self)

    @cached_property
    def runtimes(self) -> r.RuntimeRepository:
        return r.RuntimeRepository(self)

    @cached_property
    def runtime_versions(self) -> r.RuntimeVersionRepository:
        return r.RuntimeVersionRepository(self)

    @cached_property
    def triggers(self) -> r.TriggerRepository:
        return r.TriggerRepository(self)

    @cached_property
    def sensors(self) -> r.SensorRepository:
        return r.SensorRepository(self)

    @cached_property
    def events(self) -> r.EventRepository:
        return r.EventRepository(self)

    @cached_property
    def enforcements(self) -> r.EnforcementRepository:
        return r.EnforcementRepository(self)

    @cached_property
    def rules(self) -> r.RuleRepository:
        return r.RuleRepository(self)

    @cached_property
    def actions(self) -> r.ActionRepository:
        return r.ActionRepository(self)

    @cached_property
    def policies(self) -> r.PolicyRepository:
        return r.PolicyRepository(self)

    @cached_property
    def executions(self) -> r.ExecutionRepository:
        return r.ExecutionRepository(self)

    @cached_property
    def workflow_definitions(self) -> r.WorkflowDefinitionRepository:
        return r.WorkflowDefinitionRepository(self)

    @cached_property
    def workflow_executions(self) -> r.WorkflowExecutionRepository:
        return r.WorkflowExecutionRepository(self)

    @cached_property
    def inquiries(self) -> r.InquiryRepository:
        return r.InquiryRepository(self)

    @cached_property
    def identities(self) -> r.IdentityRepository:
        return r.IdentityRepository(self)

    @cached_property
    def permission_sets(self) -> r.PermissionSetRepository:
        return r.PermissionSetRepository(self)

    @cached_property
    def permission_assignments(self) -> r.PermissionAssignmentRepository:
        return r.PermissionAssignmentRepository(self)

    @cached_property
    def keys(self) -> r.KeyRepository:
        return r.KeyRepository(self)

    @cached_property
    def artifacts(self) -> r.ArtifactRepository:
        return r.ArtifactRepository(self)

    @cached_property
    def artifact_versions(self) -> r.ArtifactVersionRepository:
        return r.ArtifactVersionRepository(self)

    @cached_property
    def workers(self) -> r.WorkerRepository:
        return r.WorkerRepository(self)

    @cached_property
    def notifications(self) -> r.NotificationRepository:
        return r.NotificationRepository(self)

    @cached_property
    def queue_stats(self) -> r.QueueStatsRepository:
        return r.QueueStatsRepository(self)

    @cached_property
    def pack_environments(self) -> r.PackEnvironmentRepository:
        return r.PackEnvironmentRepository(self)

    @cached_property
    def pack_test_executions(self) -> r.PackTestExecutionRepository:
        return r.PackTestExecutionRepository(self)

    @cached_property
    def execution_history(self) -> r.ExecutionHistoryRepository:
        return r.ExecutionHistoryRepository(self)

    @cached_property
    def worker_history(self) -> r.WorkerHistoryRepository:
        return r.WorkerHistoryRepository(self)

    @cached_property
    def leases(self) -> LeaseRepository:
        return LeaseRepository(self)

    @cached_property
    def execution_logs(self) -> ExecutionLogRepository:
        return ExecutionLogRepository(self)


class Store:
    """Attune's database: SQLite (embedded) or PostgreSQL, behind the same repositories."""

    def __init__(self, engine: AsyncEngine, *, now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self._now = now
        # SQLite has one writer at a time. Queueing writers here, in the event loop, rather than
        # in SQLite's busy handler (inside the driver's thread) keeps a cancelled writer from
        # acquiring the lock after its task is gone; the busy timeout remains for writers in
        # other processes.
        self._write_lock = anyio.Lock() if engine.dialect.name == "sqlite" else None
        # SQLite's units of work run on synchronous connections called inline (_connections.py).
        self._inline = create_inline_engine(engine.url) if engine.dialect.name == "sqlite" else None
        # The writer's connection, kept between write transactions (they are serialised by
        # the write lock): no pool checkout and return per transaction.
        self._idle_writer: InlineConnection | None = None
        # PostgreSQL reads, and writes of autocommit units of work, without BEGIN/COMMIT (see
        # read() and transaction()): the same pool, set up once (cheaper than options per use).
        self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        # SQLite is embedded (one process per database); PostgreSQL may be shared.
        self.catalogue = Catalogue(shared=engine.dialect.name != "sqlite")
        # PostgreSQL: other processes' catalogue changes are announced (_catalogue_listener.py).
        self.catalogue_listener: CatalogueListener | None = None
        connect_kwargs = driver_connect_kwargs(engine) if self.catalogue.shared else None
        if connect_kwargs is not None:
            self.catalogue_listener = CatalogueListener(self.catalogue, connect_kwargs)
            self.catalogue.start_listener = self.catalogue_listener.start
        self._listeners: list[Callable[[list[Change]], Awaitable[None]]] = []
        # PostgreSQL: ids reserved for inserts held back (UnitOfWork.defer_inserts).
        self._ids = IdReservations() if self.catalogue.shared else None
        # Per table, how many committed transactions of this process wrote to it.
        self._writes: dict[str | None, int] = {}

    def writes(self, table_name: str) -> int:
        """How many transactions of this process that wrote to ``table_name`` have committed.

        A cache of rows of that table, kept while the number is unchanged, is current when
        this process is the database's only writer (SQLite, see ``catalogue.shared``).
        """
        return self._writes.get(table_name, 0)

    def on_commit(self, listener: Callable[[list[Change]], Awaitable[None]]) -> None:
        """Call ``listener`` with the announced changes of every committed transaction.

        Listeners run after the commit (outside the write lock); one that raises is logged
        and never undoes or blocks the transaction's caller.
        """
        self._listeners.append(listener)

    @classmethod
    async def open(
        cls,
        url: str | URL,
        *,
        schema: str | None = None,
        now: Callable[[], datetime] = utcnow,
        migrate_to_head: bool = False,
        **engine_options: Any,
    ) -> Store:
        """Connect (and check the connection) to the database at ``url``.

        Raises:
            StorageError: the database cannot be reached; the message says where and why.
            ConfigError: the URL is malformed or names an unsupported database.
        """
        parsed = normalise_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            # The embedded database lives under the data directory, which may not exist yet.
            directory = (await anyio.Path(parsed.database).expanduser()).parent
            await directory.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, schema=schema, **engine_options)
        store = cls(engine, now=now)
        try:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except (sa_exc.DBAPIError, OSError) as exc:
            await engine.dispose()
            where = parsed.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            raise StorageError(
                f"cannot connect to the database at {where}: {reason}. Check database.url "
                "(ATTUNE__DATABASE__URL) and that the server is running."
            ) from exc
        if migrate_to_head:
            await migrate.upgrade(engine)
        return store

    @classmethod
    async def from_settings(
        cls, database: DatabaseSettings, *, now: Callable[[], datetime] = utcnow
    ) -> Store:
        """Open the database described by the ``database`` section of the settings."""
        return await cls.open(
            database.url,
            schema=database.schema or None,
            now=now,
            pool_size=database.pool_size,
            max_overflow=database.max_overflow,
            pool_timeout=database.pool_timeout,
            echo=database.echo,
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def now(self) -> datetime:
        """The time the store stamps on rows."""
        return self._now()

    @property
    def pings(self) -> int:
        """How many pooled connections were pinged before use (PostgreSQL, ``_engine.py``)."""
        return pings_sent(self.engine)

    async def close(self) -> None:
        """Stop the catalogue listener and close every pooled connection."""
        if self.catalogue_listener is not None:
            await self.catalogue_listener.close()
        if self._idle_writer is not None:
            await self._idle_writer.close()
            self._idle_writer = None
        if self._inline is not None:
            self._inline.dispose()
        await self.engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self, *, autocommit: bool = False) -> AsyncIterator[UnitOfWork]:
        """A unit of work that commits when the block ends and rolls back on an exception.

        Ending the transaction (commit, rollback, returning the connection) is never cut short
        by a cancellation (_connections.py, rule 1): a task cancelled mid-transaction still
        releases its connection and, on SQLite, the database's write lock, or every other
        writer would wait behind it.

        With ``autocommit``, on PostgreSQL, every statement commits on its own: no ``BEGIN``
        and no ``COMMIT``, two round trips fewer. Only for work of one write statement
        (atomic by itself) or of steps that each leave a consistent state, and that takes no
        row lock for later statements. The commit's bookkeeping (listeners, after-commit
        callbacks, the catalogue) runs as for a transaction once the block ends without an
        exception. On SQLite it is an ordinary transaction (it costs nothing there).
        """
        lock = self._write_lock
        if lock is not None:
            # Acquiring yields to the loop even when the lock is free: a task that loops over
            # transactions (a heartbeat on a fake clock) lets the others run.
            await lock.acquire()
        try:
            conn = await self._connect(read_only=False, checkpoint=False, autocommit=autocommit)
            try:
                transaction = await conn.begin()
                uow = UnitOfWork(
                    conn, self._now, self.catalogue, autocommit=autocommit, ids=self._ids
                )
                committing = False
                try:
                    yield uow
                    await uow.flush_inserts(last=True)
                    await uow.flush_history()
                    committing = True
                    if uow.block:
                        with translate_errors("transaction"):
                            await conn.execute(COMMIT)
                    await transaction.commit()
                except BaseException:
                    if not committing:  # a failed commit has ended the transaction already
                        if uow.block:
                            await _end_block(conn)
                        await transaction.rollback()
                    for callback in uow._after_rollback:
                        callback()
                    raise
            finally:
                if isinstance(conn, InlineConnection) and conn.reusable:
                    self._idle_writer = conn
                else:
                    await conn.close()
        finally:
            if lock is not None:
                lock.release()
        if uow.catalogue_written:
            self.catalogue.invalidate()
        for name in uow.written:
            self._writes[name] = self._writes.get(name, 0) + 1
        for callback in uow._after_commit:
            callback()
        changes = uow.changes
        if changes and self._listeners:
            with anyio.CancelScope(shield=True):
                for listener in self._listeners:
                    try:
                        await listener(changes)
                    except Exception:
                        log.exception("a commit listener failed")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        """A read-only unit of work (no write lock on SQLite); changes are rolled back.

        On PostgreSQL it runs in autocommit: at READ COMMITTED every statement sees its own
        snapshot anyway, so a transaction around reads would only add BEGIN and ROLLBACK, two
        round trips per unit of work. SQLite's deferred transaction keeps one snapshot.
        """
        conn = await self._connect(read_only=True, checkpoint=True)
        try:
            transaction = await conn.begin()
            try:
                yield UnitOfWork(conn, self._now, self.catalogue)
            finally:
                await transaction.rollback()
        finally:
            await conn.close()

    async def _connect(
        self, *, read_only: bool, checkpoint: bool, autocommit: bool = False
    ) -> UnitConnection:
        if self._inline is None:
            plain = autocommit or read_only
            return await DriverConnection.open(self._autocommit_engine if plain else self.engine)
        if not read_only and self._idle_writer is not None:
            conn, self._idle_writer = self._idle_writer, None
            return conn
        if checkpoint:
            # SQLite statements run inline and never suspend: yield to the loop once per unit
            # of work, as a round trip to a server would, so a task that loops over reads lets
            # the others run.
            await anyio.lowlevel.checkpoint()
        return InlineConnection(
            self._inline, read_only=read_only, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS
        )


async def _end_block(conn: UnitConnection) -> None:
    """Roll back the transaction an autocommit unit of work opened (UnitOfWork.block); a
    connection where that fails is discarded, never returned to the pool inside it."""
    try:
        await conn.execute(ROLLBACK)
    except Exception:
        assert isinstance(conn, DriverConnection)  # autocommit units exist on PostgreSQL only
        await conn.invalidate()
