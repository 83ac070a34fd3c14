"""Persistence: SQLAlchemy Core tables and repositories over SQLite and PostgreSQL.

Public surface: :class:`Store` (open a database, run units of work), :class:`UnitOfWork`
(one repository per entity), :data:`metadata` (the schema) and the migration helpers in
:mod:`attune_core.storage.migrate`.
"""

from attune_core.storage._catalogue_listener import until_lost
from attune_core.storage._engine import create_engine, normalise_url
from attune_core.storage._history import digest_summary
from attune_core.storage._leases import Lease
from attune_core.storage._repository import Change
from attune_core.storage._store import Store, UnitOfWork
from attune_core.storage.tables import metadata

__all__ = [
    "Change",
    "Lease",
    "Store",
    "UnitOfWork",
    "create_engine",
    "digest_summary",
    "metadata",
    "normalise_url",
    "until_lost",
]
