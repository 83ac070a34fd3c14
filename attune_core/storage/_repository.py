"""The base repository: one table, one entity, named statements.

Rules of this file:

1. A repository runs inside a unit of work (one connection, one transaction); it never commits.
2. Rows map onto entities by column name (``Entity(**row)``): tables.py and model/ agree.
3. ``created`` and ``updated`` are written here from the store's clock, never by callers.
4. A status change is :meth:`Repository.transition`: one conditional UPDATE
   (``WHERE id = :id AND status IN (:expected)``) that reports whether it applied, so duplicate
   and late messages are harmless.
5. Driver errors are translated (``_errors.translate_errors``) before leaving this layer.
6. A change of a history-tracked row (executions, workers: ``_tracked_change``) is one
   statement on PostgreSQL, whose triggers record the history and which returns the old
   status too; on SQLite the row is read first (cached per transaction) and the history row is
   built in Python (``_history.py``). Rules that depend on the old row are SQL
   (``set_once``: ``COALESCE``), the same on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import attrs
import sqlalchemy as sa

from attune_core.errors import NotFound, ValidationError
from attune_core.model import HistoryOperation
from attune_core.storage._catalogue import CATALOGUE_TABLES
from attune_core.storage._errors import translate_errors
from attune_core.storage._history import HISTORY_IN_DATABASE, HistorySpec, history_row

if TYPE_CHECKING:
    from attune_core.storage._store import UnitConnection, UnitOfWork

__all__ = ["Change", "RefRepository", "Repository"]

E = TypeVar("E")

MAX_PAGE = 1000  # hard cap on one list() call; the API clamps lower (100) on its own


@attrs.frozen
class Change:
    """A change announced after its transaction commits (``Store.on_commit`` listeners).

    Attributes:
        entity_type: ``execution``, ``event``, ``enforcement``, ``inquiry``,
            ``workflow_execution``.
        kind: ``created`` or ``status`` (the status changed).
        entity: The entity as stored.
        old_status: The status before a ``status`` change (when known).
    """

    entity_type: str
    kind: str
    entity: Any
    old_status: Any


# Hot statements are built once per table and executed with bind parameters: SQLAlchemy then
# reuses the statement's memoised cache key and compiled form instead of constructing and
# hashing a new statement on every call (about half the cost of a lookup on SQLite).
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _prebuilt(table: sa.Table, name: str) -> Any:
    key = (table.name, name)
    statement = _STATEMENTS.get(key)
    if statement is None:
        c = table.c
        if name == "find":
            statement = sa.select(table).where(c.id == sa.bindparam("_id"))
        elif name == "lock":
            statement = sa.select(table).where(c.id == sa.bindparam("_id")).with_for_update()
        elif name == "find_by_ref":
            statement = sa.select(table).where(c.ref == sa.bindparam("_ref"))
        elif name == "insert":
            statement = sa.insert(table).returning(table)
        else:  # pragma: no cover - a programming error
            raise KeyError(name)
        _STATEMENTS[key] = statement
    return statement


def _change_statement(
    table: sa.Table,
    *,
    expected: int,
    once: tuple[str, ...],
    one_statement: bool,
    match: tuple[str, ...] = (),
) -> Any:
    """The UPDATE of a tracked change (``Repository._tracked_change``), built once per shape.

    Parameters: ``_id``, ``_expected_0`` ... (the ``expected`` statuses the row may be in,
    at least one if any: a statement per count, not an expanding parameter, which SQLAlchemy
    renders again for every execution), ``_once_<column>`` (the value of each set-once column
    if it is still NULL), ``_match_<column>`` (the value each ``match`` column must hold), and
    the changed columns by name.
    ``one_statement``: the row is locked and its old status returned by the same statement
    (``UPDATE ... FROM (SELECT id, status ... FOR UPDATE) AS prior ... RETURNING ...,
    prior.status``). Waiting for that lock, PostgreSQL reads the row as the transaction that
    held it left it (READ COMMITTED re-checks the WHERE on the newest version), so of two
    transactions changing the same row from the same status exactly one applies, and the old
    status returned is the one this change replaced.
    """
    key = (table.name, f"change:{expected}:{','.join(once)}:{one_statement}:{','.join(match)}")
    statement = _STATEMENTS.get(key)
    if statement is not None:
        return statement
    c = table.c
    if one_statement:
        prior = (
            sa.select(c.id, c.status)
            .where(c.id == sa.bindparam("_id"))
            .with_for_update()
            .subquery("prior")
        )
        # The row is also named directly, not only through the join: without statistics (a
        # table just filled) the planner may otherwise scan every row matching the other
        # conditions (all the scheduled executions of a worker) and lock-read the prior row
        # once per row scanned, which makes a backlog quadratic.
        statement = (
            sa.update(table)
            .where(c.id == sa.bindparam("_id"), c.id == prior.c.id)
            .returning(*table.c, prior.c.status.label("_old_status"))
        )
    else:
        statement = sa.update(table).where(c.id == sa.bindparam("_id")).returning(table)
    if expected:
        statement = statement.where(
            c.status.in_([sa.bindparam(f"_expected_{n}") for n in range(expected)])
        )
    for name in match:
        statement = statement.where(c[name] == sa.bindparam(f"_match_{name}"))
    if once:
        statement = statement.values(
            {name: sa.func.coalesce(c[name], sa.bindparam(f"_once_{name}")) for name in once}
        )
    _STATEMENTS[key] = statement
    return statement


# Turns the history triggers off (or on again) until the transaction ends (PostgreSQL).
_HISTORY_SETTING = sa.text("SELECT set_config('attune.history', :value, true)")


def _matches(
    row: Mapping[str, Any], wanted: Sequence[Enum] | None, match: Mapping[str, Any]
) -> bool:
    """Whether a known row is in an expected status and holds the ``match`` values."""
    if wanted is not None and row["status"] not in wanted:
        return False
    return all(row[name] == value for name, value in match.items())


def _as_row(entity: Any) -> dict[str, Any]:
    return attrs.asdict(entity, recurse=False)


class Repository(Generic[E]):
    """Common statements of every table. Subclasses set :attr:`table` and :attr:`entity`."""

    table: ClassVar[sa.Table]
    entity: ClassVar[type[Any]]
    name: ClassVar[str]  # human name for error messages ("execution", "pack", ...)
    # Default order of list(): newest first, or by ref for catalogue entities.
    order: ClassVar[Sequence[tuple[str, bool]]] = (("id", True),)
    # Set on tables whose changes are recorded field by field (execution, worker).
    history: ClassVar[HistorySpec | None] = None
    # Columns a tracked change sets, to the store's time, only while they are NULL (never
    # moved afterwards), when it changes the status to the one given: written as COALESCE in
    # the UPDATE, so the rule needs no read of the row (e.g. an execution's started_at).
    set_once: ClassVar[Mapping[str, Enum]] = {}
    # Set on tables whose inserts and status changes are announced after commit (the
    # notifier's "one notification per change"): the entity type name, e.g. "execution".
    announce: ClassVar[str | None] = None

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._columns = frozenset(self.table.c.keys())

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _conn(self) -> UnitConnection:
        return self._uow.connection

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    def _now(self) -> datetime:
        return self._uow.now()

    def _to_entity(self, row: sa.Row[Any]) -> E:
        entity: E = self.entity(**row._mapping)
        return entity

    async def _execute(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> sa.CursorResult[Any]:
        # A statement is never interrupted half-way (_connections.py, rule 1).
        await self._uow.flush_inserts_for(statement)
        if isinstance(statement, sa.UpdateBase):
            table = getattr(statement, "table", None)
            name = getattr(table, "name", None)
            self._uow.written.add(name)
            if name in CATALOGUE_TABLES:
                self._uow.catalogue_written = True
            elif name is not None and not isinstance(statement, sa.Insert):
                # An UPDATE or DELETE the row cache did not see: forget the table's rows.
                self._forget_rows(name)
        with translate_errors(self.name):
            return await self._conn.execute(statement, parameters)

    def _forget_rows(self, table_name: str) -> None:
        rows = self._uow.rows
        for key in [k for k in rows if k[0] == table_name]:
            del rows[key]

    async def _cached(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        """A catalogue lookup through the process-wide cache (``_catalogue``)."""
        return await self._uow.cached((self.table.name, *key), load)

    async def _one_or_none(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> E | None:
        row = (await self._execute(statement, parameters)).one_or_none()
        return None if row is None else self._to_entity(row)

    async def _all(self, statement: sa.Executable) -> list[E]:
        return [self._to_entity(row) for row in (await self._execute(statement)).all()]

    def _check_columns(self, names: Collection[str]) -> None:
        unknown = sorted(set(names) - self._columns)
        if unknown:
            raise ValidationError(
                f"{self.name} has no field(s) {', '.join(unknown)}", field=unknown[0]
            )

    def _where(self, equals: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        self._check_columns(equals)
        clauses: list[sa.ColumnElement[bool]] = []
        for column, value in equals.items():
            col = self.table.c[column]
            many = isinstance(value, (list, tuple, set, frozenset))
            if value is not None and isinstance(col.type, sa.Enum):
                self._check_enum(column, col.type, list(value) if many else [value])
            if value is None:
                clauses.append(col.is_(None))
            elif many:
                clauses.append(col.in_(list(value)))
            else:
                clauses.append(col == value)
        return clauses

    def _check_enum(self, column: str, type_: sa.Enum, values: list[Any]) -> None:
        """A filter on an enum column names one of its values (a :class:`ValidationError`
        naming the field otherwise, not the driver's error)."""
        allowed = type_.enums
        for value in values:
            plain = value.value if isinstance(value, Enum) else value
            if plain not in allowed:
                raise ValidationError(
                    f"{self.name}: unknown {column} {plain!r} (one of: {', '.join(allowed)})"
                )

    def _order_by(self) -> list[sa.UnaryExpression[Any]]:
        return [
            self.table.c[column].desc() if descending else self.table.c[column].asc()
            for column, descending in self.order
        ]

    def _values_for_insert(self, entity: E) -> dict[str, Any]:
        values = _as_row(entity)
        if values.get("id") is None:
            values.pop("id", None)
        now = self._now()
        for stamp in ("created", "updated"):
            if stamp in self._columns:
                values[stamp] = now
        return values

    # -- statements -------------------------------------------------------------------------

    async def create(self, entity: E) -> E:
        """Insert ``entity`` (its ``id`` unset) and return it as stored."""
        values = self._values_for_insert(entity)
        self.validate(values)
        row = (await self._execute(_prebuilt(self.table, "insert"), values)).one()
        found = dict(row._mapping)
        stored: E = self.entity(**found)
        if "id" in found:
            # Nobody else sees the row before the commit: a later change needs no locking read.
            self._uow.rows[(self.table.name, found["id"])] = found
        await self._after_insert(stored)
        if self.announce is not None:
            self._uow.record_change(Change(self.announce, "created", stored, None))
        return stored

    async def create_many(self, entities: Sequence[E], *, announce: bool = True) -> list[E]:
        """Insert ``entities`` (ids unset) in one statement; returned as stored, in order.

        One multi-row ``INSERT ... RETURNING`` (SQLAlchemy's "insertmanyvalues") instead of a
        statement per row: what batched ingestion needs. Hooks and announcements are those of
        :meth:`create`, per row (``announce=False``: the caller records the changes itself).
        """
        if not entities:
            return []
        rows = [self._values_for_insert(entity) for entity in entities]
        for values in rows:
            self.validate(values)
        if self._uow.deferring and "id" in self._columns:
            # Held back, written with the unit of work's other held rows (_deferred.py).
            ids = await self._uow.reserve_ids(self.table, len(rows))
            for values, reserved in zip(rows, ids, strict=True):
                values["id"] = reserved
            self._uow.deferred.hold(self.table, rows)
            self._uow.written.add(self.table.name)
            if self.table.name in CATALOGUE_TABLES:
                self._uow.catalogue_written = True
            found = rows
        elif self.dialect == "sqlite":
            # SQLAlchemy cannot keep RETURNING in parameter order on SQLite in one statement
            # (it would send a statement per row). SQLite gives the rows of one INSERT rowids
            # in VALUES order (the writer is exclusive), so the order by id is that order.
            statement = sa.insert(self.table).returning(self.table)
            result = await self._execute(statement, rows)  # type: ignore[arg-type]
            found = [dict(row._mapping) for row in sorted(result.all(), key=lambda row: row.id)]
        else:
            statement = sa.insert(self.table).returning(self.table, sort_by_parameter_order=True)
            result = await self._execute(statement, rows)  # type: ignore[arg-type]
            found = [dict(row._mapping) for row in result.all()]
        stored: list[E] = [self.entity(**values) for values in found]
        if "id" in self._columns:
            # As for create: a later change of these rows in this transaction reads none.
            for values in found:
                self._uow.rows[(self.table.name, values["id"])] = dict(values)
        if self.history is not None:
            # Queued history rows are written in one statement at the flush (SQLite); on
            # PostgreSQL the triggers wrote them with the INSERT.
            for entity in stored:
                await self._record(HistoryOperation.INSERT, old=None, new=_as_row(entity))
        else:
            for entity in stored:
                await self._after_insert(entity)
        if announce and self.announce is not None:
            for entity in stored:
                self._uow.record_change(Change(self.announce, "created", entity, None))
        return stored

    async def find(self, id: int) -> E | None:
        """The entity with this id, or ``None``."""
        return await self._one_or_none(_prebuilt(self.table, "find"), {"_id": id})

    async def find_cached(self, id: int) -> E | None:
        """:meth:`find` through the catalogue cache (catalogue tables only)."""
        found: E | None = await self._cached(("id", id), lambda: self.find(id))
        return found

    async def get(self, id: int) -> E:
        """The entity with this id; :class:`NotFound` when there is none."""
        found = await self.find(id)
        if found is None:
            raise NotFound(f"{self.name} {id} not found")
        return found

    async def list(self, *, limit: int | None = None, offset: int = 0, **equals: Any) -> list[E]:
        """Entities whose columns equal ``equals`` (a list value means IN), in default order."""
        statement = (
            sa.select(self.table)
            .where(*self._where(equals))
            .order_by(*self._order_by())
            .limit(min(limit, MAX_PAGE) if limit is not None else None)
            .offset(max(0, offset))
        )
        return await self._all(statement)

    async def count(self, **equals: Any) -> int:
        """How many entities match ``equals``."""
        statement = sa.select(sa.func.count()).select_from(self.table).where(*self._where(equals))
        return int((await self._execute(statement)).scalar_one())

    async def update(self, id: int, **changes: Any) -> E:
        """Set ``changes`` on the entity; :class:`NotFound` when it does not exist."""
        self._check_columns(changes)
        if "id" in changes or "created" in changes:
            raise ValidationError(f"{self.name}: id and created cannot change")
        self.validate(changes, partial=True)
        if "updated" in self._columns:
            changes["updated"] = self._now()
        old_status = None
        if self.announce is not None and "status" in changes and self.history is None:
            old_status = (
                await self._execute(sa.select(self.table.c.status).where(self.table.c.id == id))
            ).scalar_one_or_none()
        if self.history is not None:
            updated = await self._tracked_change(id, None, changes)
        else:
            statement = (
                sa.update(self.table)
                .where(self.table.c.id == id)
                .values(changes)
                .returning(self.table)
            )
            updated = await self._one_or_none(statement)
            if updated is not None and "status" in changes and self.announce is not None:
                self._announce_status(updated, old_status)
        if updated is None:
            raise NotFound(f"{self.name} {id} not found")
        return updated

    async def overwrite(self, id: int, **changes: Any) -> None:
        """Set ``changes`` without reading the row back, recording history or announcing.

        For large values written often (a workflow's state) where no status changes;
        :class:`NotFound` when the row does not exist.
        """
        self._check_columns(changes)
        if "status" in changes or self.history is not None:
            raise ValueError(f"{self.name}: a status or tracked change goes through update()")
        self.validate(changes, partial=True)
        if "updated" in self._columns:
            changes["updated"] = self._now()
        result = await self._execute(
            sa.update(self.table).where(self.table.c.id == id).values(changes)
        )
        if not result.rowcount:
            raise NotFound(f"{self.name} {id} not found")

    def _announce_status(self, entity: Any, old_status: Any) -> None:
        if self.announce is None or entity.status == old_status:
            return
        old = old_status.value if isinstance(old_status, Enum) else old_status
        self._uow.record_change(Change(self.announce, "status", entity, old))

    async def transition(
        self,
        id: int,
        *,
        expected: Enum | Collection[Enum],
        new: Enum,
        where: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> E | None:
        """Change ``status`` to ``new`` only if it is currently ``expected`` (one or several)
        and the columns of ``where`` hold the values given there.

        Returns the updated entity, or ``None`` when the row was not in an expected status
        (or does not exist, or ``where`` does not match): someone else got there first, and
        the caller should do nothing.
        """
        self._check_columns(changes)
        match = dict(where or {})
        self._check_columns(match)
        wanted = [expected] if isinstance(expected, Enum) else list(expected)
        values = {**changes, "status": new}
        if "updated" in self._columns:
            values["updated"] = self._now()
        if self.history is not None:
            return await self._tracked_change(id, wanted, values, match)
        statement = (
            sa.update(self.table)
            .where(
                self.table.c.id == id,
                self.table.c.status.in_(wanted),
                *(self.table.c[name] == value for name, value in match.items()),
            )
            .values(values)
            .returning(self.table)
        )
        changed = await self._one_or_none(statement)
        if changed is not None:
            self._announce_status(changed, wanted[0] if len(wanted) == 1 else None)
        return changed

    async def delete(self, id: int) -> None:
        """Delete the entity; :class:`NotFound` when it does not exist."""
        old = await self._delete_returning(sa.delete(self.table).where(self.table.c.id == id))
        if old is None:
            raise NotFound(f"{self.name} {id} not found")

    async def purge_batch(self, column: str, before: datetime, *, limit: int, **equals: Any) -> int:
        """Delete at most ``limit`` rows whose ``column`` is before ``before`` (retention).

        Only the rows also matching ``equals`` (a list value means IN) are deleted; returns
        how many were. History is not recorded for purged rows.
        """
        self._check_columns([column])
        t = self.table
        key = t.c["id"] if "id" in self._columns else t.primary_key.columns[0]
        chosen = (
            sa.select(key)
            .where(t.c[column] < before, *self._where(equals))
            .order_by(key)
            .limit(max(1, limit))
        )
        statement = sa.delete(t).where(key.in_(chosen.scalar_subquery()))
        if self.history is None or self._history_in_python:
            result = await self._execute(statement)
        else:
            # The history triggers skip the purge's deletions (migration 0006).
            await self._execute(_HISTORY_SETTING, {"value": "off"})
            result = await self._execute(statement)
            await self._execute(_HISTORY_SETTING, {"value": "on"})
        return int(result.rowcount or 0)

    async def _delete_returning(self, statement: sa.Delete) -> E | None:
        self._forget_rows(self.table.name)
        deleted = await self._one_or_none(statement.returning(self.table))
        if deleted is not None:
            await self._after_delete(deleted)
        return deleted

    @property
    def _history_in_python(self) -> bool:
        """Whether this repository records history rows itself (not the database's triggers)."""
        return self.history is not None and self.dialect not in HISTORY_IN_DATABASE

    async def _tracked_change(
        self,
        id: int,
        wanted: Sequence[Enum] | None,
        values: dict[str, Any],
        match: Mapping[str, Any] | None = None,
    ) -> E | None:
        """UPDATE a history-tracked row, record what changed, announce a status change.

        PostgreSQL: one statement locks the row, changes it if its status is expected and
        returns it with its old status; the triggers record the history. SQLite: the row is
        read first (its write transactions are exclusive; the read is cached per transaction)
        for the old status and the Python history row. Either way, concurrent transitions
        serialise and exactly one applies.
        """
        t = self.table
        key = (t.name, id)
        match = match or {}
        if wanted is not None and not wanted:
            return None  # no status to change from
        known = self._uow.rows.get(key)
        if known is not None and not _matches(known, wanted, match):
            return None  # the row is locked or was written by this transaction: no statement
        status = values.get("status")
        once = tuple(
            name
            for name, when in self.set_once.items()
            if status is not None and status == when and name not in values
        )
        parameters = {**values, "_id": id, **{f"_once_{name}": self._now() for name in once}}
        if wanted is not None:
            parameters.update({f"_expected_{n}": status for n, status in enumerate(wanted)})
        parameters.update({f"_match_{name}": value for name, value in match.items()})
        one_statement = not self._history_in_python
        old: dict[str, Any] | None = None
        if not one_statement:
            old = await self.lock_row(id)
            if old is None or not _matches(old, wanted, match):
                return None
        statement = _change_statement(
            t,
            expected=0 if wanted is None else len(wanted),
            once=once,
            one_statement=one_statement,
            match=tuple(match),
        )
        # Prebuilt statements are not seen by _execute's row bookkeeping: keep it here.
        row = (await self._conn_execute(statement, parameters)).one_or_none()
        if row is None:
            self._uow.rows.pop(key, None)
            return None
        new = dict(row._mapping)
        old_status = new.pop("_old_status") if old is None else old["status"]
        self._uow.rows[key] = new
        if old is not None:
            await self._record(HistoryOperation.UPDATE, old=old, new=new)
        entity: E = self.entity(**new)
        if "status" in values:
            self._announce_status(entity, old_status)
        return entity

    async def lock_row(self, id: int) -> dict[str, Any] | None:
        """The row, locked until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite
        write transactions are exclusive); read once per transaction."""
        key = (self.table.name, id)
        known = self._uow.rows.get(key)
        if known is not None:
            return known
        row = (await self._conn_execute(_prebuilt(self.table, "lock"), {"_id": id})).one_or_none()
        if row is None:
            return None
        found = dict(row._mapping)
        self._uow.rows[key] = found
        return found

    async def find_for_update(self, id: int) -> E | None:
        """Like :meth:`find`, locking the row for a change later in this transaction."""
        row = await self.lock_row(id)
        return None if row is None else self.entity(**row)

    async def _conn_execute(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> sa.CursorResult[Any]:
        await self._uow.flush_inserts_for(statement)
        if isinstance(statement, sa.UpdateBase):
            self._uow.written.add(self.table.name)
        with translate_errors(self.name):
            return await self._conn.execute(statement, parameters)

    async def _record(
        self,
        operation: HistoryOperation,
        *,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
    ) -> None:
        if self.history is None or not self._history_in_python:
            return
        # The time of an INSERT or UPDATE is the row's ``updated`` stamp, as the triggers have.
        time = new["updated"] if new is not None and "updated" in new else self._now()
        row = history_row(self.history, operation, old=old, new=new, time=time)
        if row is not None:
            self._uow.add_history(self.history.table_name, row)

    # -- hooks ------------------------------------------------------------------------------

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        """Check ``values`` before they are written; raise :class:`ValidationError`.

        ``partial`` is true for updates (only the changed fields are present).
        """

    async def _after_insert(self, stored: E) -> None:
        """Called in the same transaction after an INSERT (history recording)."""
        await self._record(HistoryOperation.INSERT, old=None, new=_as_row(stored))

    async def _after_delete(self, deleted: E) -> None:
        """Called in the same transaction after a DELETE (history recording)."""
        await self._record(HistoryOperation.DELETE, old=_as_row(deleted), new=None)


class RefRepository(Repository[E]):
    """A repository of entities addressed by a unique ``ref`` as well as by id."""

    order = (("ref", False),)
    ref_validator: ClassVar[Callable[[str], None] | None] = None

    async def find_by_ref(self, ref: str) -> E | None:
        """The entity with this ref, or ``None``."""
        return await self._one_or_none(_prebuilt(self.table, "find_by_ref"), {"_ref": ref})

    async def find_by_ref_cached(self, ref: str) -> E | None:
        """:meth:`find_by_ref` through the catalogue cache (catalogue tables only)."""
        found: E | None = await self._cached(("ref", ref), lambda: self.find_by_ref(ref))
        return found

    async def get_by_ref(self, ref: str) -> E:
        """The entity with this ref; :class:`NotFound` when there is none."""
        found = await self.find_by_ref(ref)
        if found is None:
            raise NotFound(f"{self.name} {ref!r} not found")
        return found

    async def id_of(self, ref: str) -> int:
        """The id of the entity with this ref; :class:`NotFound` when there is none."""
        statement = sa.select(self.table.c.id).where(self.table.c.ref == ref)
        found = (await self._execute(statement)).scalar_one_or_none()
        if found is None:
            raise NotFound(f"{self.name} {ref!r} not found")
        return int(found)

    async def delete_by_ref(self, ref: str) -> None:
        """Delete the entity with this ref; :class:`NotFound` when there is none."""
        old = await self._delete_returning(sa.delete(self.table).where(self.table.c.ref == ref))
        if old is None:
            raise NotFound(f"{self.name} {ref!r} not found")

    async def list_by_pack(self, pack_ref: str) -> list[E]:
        """The entities belonging to the pack ``pack_ref``, by ref."""
        return await self.list(pack_ref=pack_ref)
