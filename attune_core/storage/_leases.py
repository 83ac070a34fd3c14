"""Leases: which sensor host runs which timer or custom sensor (table ``lease``).

Rules of this file:

1. A lease is one row per name. A host holds it while ``holder`` is its id and ``expires`` is in
   the future; every statement that takes, keeps or uses a lease is one conditional statement
   (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``, ``UPDATE ... WHERE holder = :me``), so two
   hosts racing for the same lease never both get it, on PostgreSQL and on SQLite.
2. Times are the store's clock (wall time, UTC): hosts on several machines must keep their
   clocks in sync (NTP), as they must for everything else Attune stamps.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from attune_core.storage._errors import translate_errors
from attune_core.storage.tables import lease as _table

if TYPE_CHECKING:
    from attune_core.storage._store import UnitOfWork

__all__ = ["Lease", "LeaseRepository"]


@attrs.frozen
class Lease:
    """One lease as stored.

    Attributes:
        name: What it is for (``timer:<rule id>``, ``sensor:<ref>``).
        holder: The host that holds (or last held) it.
        expires: When it lapses unless renewed.
        acquired: When the current holder took it.
        state: What the holder recorded for the next one (e.g. a timer's last slot).
    """

    name: str
    holder: str
    expires: datetime
    acquired: datetime
    state: Mapping[str, Any] | None = None


def _row(row: Any) -> Lease:
    return Lease(**row._mapping)


class LeaseRepository:
    """Statements on the ``lease`` table, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def _execute(self, statement: Any) -> Any:
        with translate_errors("lease"):
            return await self._uow.connection.execute(statement)

    async def acquire(
        self, names: Collection[str], holder: str, expires: datetime
    ) -> dict[str, Lease]:
        """Take the leases of ``names`` that are free, expired or already ``holder``'s.

        Returns:
            The leases ``holder`` holds now, by name (renewed until ``expires``); the others
            are held by another host.
        """
        if not names:
            return {}
        now = self._uow.now()
        dialect = self._uow.connection.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = insert(_table).values(
            [
                {"name": name, "holder": holder, "expires": expires, "acquired": now}
                for name in sorted(names)  # one lock order for every host
            ]
        )
        excluded = values.excluded
        statement = values.on_conflict_do_update(
            index_elements=[_table.c.name],
            set_={
                "holder": excluded.holder,
                "expires": excluded.expires,
                "acquired": sa.case(
                    (_table.c.holder == excluded.holder, _table.c.acquired),
                    else_=excluded.acquired,
                ),
            },
            where=sa.or_(_table.c.holder == excluded.holder, _table.c.expires <= now),
        ).returning(_table)
        result = await self._execute(statement)
        return {lease.name: lease for lease in map(_row, result.all())}

    async def renew(self, names: Collection[str], holder: str, expires: datetime) -> set[str]:
        """Extend ``holder``'s leases among ``names``; the names it still holds."""
        if not names:
            return set()
        result = await self._execute(
            sa.update(_table)
            .where(_table.c.name.in_(sorted(names)), _table.c.holder == holder)
            .values(expires=expires)
            .returning(_table.c.name)
        )
        return {row[0] for row in result.all()}

    async def record(
        self, name: str, holder: str, state: Mapping[str, Any], expires: datetime
    ) -> bool:
        """Store ``state`` in ``holder``'s lease (and renew it); ``False``: not ``holder``'s."""
        result = await self._execute(
            sa.update(_table)
            .where(_table.c.name == name, _table.c.holder == holder)
            .values(state=dict(state), expires=expires)
            .returning(_table.c.name)
        )
        return result.first() is not None

    async def release(self, names: Collection[str], holder: str) -> None:
        """Let ``holder``'s leases among ``names`` lapse now (their state stays for the next)."""
        if names:
            await self._execute(
                sa.update(_table)
                .where(_table.c.name.in_(sorted(names)), _table.c.holder == holder)
                .values(expires=self._uow.now())
            )

    async def delete(self, names: Collection[str], holder: str) -> None:
        """Forget ``holder``'s leases among ``names`` (what they were for is gone)."""
        if names:
            await self._execute(
                sa.delete(_table).where(_table.c.name.in_(sorted(names)), _table.c.holder == holder)
            )

    async def list(self, prefix: str = "") -> list[Lease]:
        """Every lease whose name starts with ``prefix``, by name."""
        statement = sa.select(_table).order_by(_table.c.name)
        if prefix:
            statement = statement.where(_table.c.name.startswith(prefix, autoescape=True))
        result = await self._execute(statement)
        return [_row(row) for row in result.all()]
