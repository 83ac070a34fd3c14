"""The catalogue cache: rows of packs, runtimes, actions, policies, workflow definitions, keys,
triggers, rules and sensors kept in memory between units of work, because the engine reads them
for every execution or event and they change only when someone registers a pack or edits the
catalogue (a rule enabled or disabled is such an edit: its commit clears the cache, rule 1).

Rules of this file:

1. A unit of work that wrote to a catalogue table neither reads from nor fills the cache, and
   its commit clears the cache (``Catalogue.invalidate``). Every write of this process goes
   through the repositories, which mark the unit of work (``Repository._execute``).
2. A value is stored only if no catalogue change committed since the unit of work that read it
   began (the ``generation`` it began at): a reader that started before a commit may hold the
   old rows and must not put them back after the invalidation.
3. Other processes (distributed mode, PostgreSQL) are seen through their announcements: every
   statement changing a catalogue table sends ``pg_notify('attune_catalogue', <schema>)``
   (migration 0007), delivered when its transaction commits, and each Store keeps a LISTEN
   connection that clears the cache on every announcement of its schema
   (_catalogue_listener.py). While that listener is up (``listening``), a unit of work uses the
   cache without a statement. A unit of work that begins after another process committed a
   change but before the announcement arrived (a millisecond or so, longer if the listener
   connection died silently: at most its keepalive) may still use the old rows, as it would
   had it begun just before that commit. A value it loads is put back only if no
   announcement arrived since it began: the announcement is an invalidation like a local
   commit, and rule 2 applies.
4. While the listener is not up (not started yet, lost, reconnecting, or a database without
   the triggers) other processes are seen through a stamp instead: the row count and the newest
   ``updated`` of every catalogue table, read once per unit of work before the cache is used.
   Any insert, update or delete elsewhere changes it (``updated`` is stamped by the writing
   repository, rows are never updated with an older stamp), and the cache is cleared. Changes
   missed while the listener was down are covered both ways: losing it forgets the stamp (the
   next stamp read clears the cache) and regaining it clears the cache. SQLite is embedded, one
   process per database, so neither is used there.
5. Cached values are frozen entities (or tuples of them): callers cannot change them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa

from attune_core.storage import tables as t

__all__ = ["CATALOGUE_TABLES", "Catalogue", "stamp_statement"]

CATALOGUE_TABLES = frozenset(
    {
        "pack",
        "runtime",
        "runtime_version",
        "action",
        "policy",
        "workflow_definition",
        "key",
        # What every event reads: its trigger, the enabled rules of the trigger, its sensor.
        "trigger",
        "rule",
        "sensor",
    }
)

# Enough for every action of a large installation; beyond it the cache starts over rather
# than grow without bound (a rare full reload costs one lookup per entry).
MAX_ENTRIES = 10_000

_MISSING: Any = object()


def stamp_statement() -> sa.Select[Any]:
    """One SELECT giving (count, newest updated) of every catalogue table."""
    columns: list[Any] = []
    for name in sorted(CATALOGUE_TABLES):
        table = t.metadata.tables[name]
        columns.append(sa.select(sa.func.count()).select_from(table).scalar_subquery())
        columns.append(sa.select(sa.func.max(table.c.updated)).scalar_subquery())
    return sa.select(*columns)


class Catalogue:
    """The process-wide cache of catalogue rows (one per :class:`~attune_core.storage.Store`)."""

    def __init__(self, *, shared: bool) -> None:
        # Whether other processes may write the same database (PostgreSQL, rules 3 and 4).
        self.shared = shared
        self.generation = 0
        self.stamp: tuple[Any, ...] | None = None
        # Set by the Store's listener while it is up (rule 3), and what starts it.
        self.listening = False
        self.start_listener: Callable[[], None] | None = None
        self._entries: dict[Hashable, Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        """The cached value, or ``_MISSING``."""
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def peek(self, key: Hashable) -> Any | None:
        """The cached value, or ``None`` when there is none (no statistics kept)."""
        value = self._entries.get(key, _MISSING)
        return None if value is _MISSING else value

    def put(self, key: Hashable, value: Any, *, generation: int) -> None:
        """Keep ``value`` unless the catalogue changed since ``generation`` (rule 2)."""
        if generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = value

    def invalidate(self) -> None:
        """Forget everything (a catalogue change committed)."""
        self._entries.clear()
        self.generation += 1

    def needs_stamp(self) -> bool:
        """Whether a unit of work must read the stamp before using the cache (rule 4); starts
        the listener, so that later units of work need not."""
        if not self.shared or self.listening:
            return False
        if self.start_listener is not None:
            self.start_listener()
        return True

    def observe_stamp(self, stamp: tuple[Any, ...]) -> None:
        """Another process's change shows in a new stamp: start over."""
        if stamp != self.stamp:
            self.invalidate()
            self.stamp = stamp


MISSING = _MISSING
