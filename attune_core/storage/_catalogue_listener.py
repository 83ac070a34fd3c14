"""A Store's LISTEN connection on ``attune_catalogue``: other processes' catalogue changes,
announced by PostgreSQL, clear this process's catalogue cache.

Migration 0007 makes every statement that changes a catalogue table send its schema on the
channel ``attune_catalogue``; PostgreSQL delivers it to listeners when the transaction commits.
While this listener is up, an announcement of our schema clears the cache
(``Catalogue.invalidate``) and units of work use the cache without reading the catalogue
stamp; while it is down they read the stamp (_catalogue.py, rule 3).

Rules of this file:

1. The listener is an optimisation, never a dependency. ``Catalogue.listening`` is true only
   while the connection is up, LISTEN is registered and the schema has the triggers (a database
   not yet at migration 0007 keeps the stamp reads). It becomes true together with one
   invalidation (changes may have been missed while nobody listened), and false as soon as the
   connection is known to be lost (asyncpg's termination callback, before anything else runs),
   forgetting the stamp: the next unit of work reads the stamp and clears the cache.
2. One dedicated asyncpg connection, outside the pool (a pooled connection would lose its
   LISTEN when returned), opened with the pool's own arguments (URL, credentials, ssl,
   ``search_path``: ``driver_connect_kwargs``). It is watched: closed by the server or silent
   for ``KEEPALIVE`` seconds, it is replaced, with a growing pause (``FIRST_RETRY_DELAY``
   doubling to ``MAX_RETRY_DELAY``). The channel is shared by every schema of the database:
   announcements of another schema are ignored. LISTEN needs a session of its own on the
   server: a pooler in transaction mode (pgbouncer) between Attune and PostgreSQL would
   silently lose the announcements.
3. Nothing here raises into the engine: failures are logged and retried. The listener is one
   asyncio task, started by the first unit of work that uses the cache and stopped by
   ``Store.close``, which waits for it at most ``CLOSE_TIMEOUT`` seconds. A task rather than
   an anyio task group because a Store is opened and closed by calls, not by an ``async with``
   that could own a group, and asyncpg runs only on asyncio anyway; inside the task all is anyio.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import asyncpg

from attune_core.storage._catalogue import CATALOGUE_TABLES, Catalogue

__all__ = ["CHANNEL", "KEEPALIVE", "CatalogueListener", "until_lost"]

log = logging.getLogger(__name__)

CHANNEL = "attune_catalogue"
TRIGGER = "attune_catalogue_changed"  # the triggers' name (migration 0007)
KEEPALIVE = 10.0  # seconds between liveness checks of a quiet LISTEN connection
CONNECT_TIMEOUT = 10.0
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 10.0
CLOSE_TIMEOUT = 5.0  # Store.close waits this long at most for the listener to stop

# How many catalogue tables of our schema carry the announcing trigger.
_TRIGGERS = (
    "SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE tg.tgname = $1 AND n.nspname = current_schema() AND c.relname = ANY($2::text[])"
)


class _NotReady(Exception):
    """The schema has no announcing triggers (not migrated to 0007 yet)."""


class CatalogueListener:
    """Clears ``catalogue`` on every announced change of its schema (see the module's rules).

    Args:
        catalogue: The Store's catalogue cache.
        connect_kwargs: Arguments of ``asyncpg.connect`` (``driver_connect_kwargs``).
    """

    def __init__(self, catalogue: Catalogue, connect_kwargs: dict[str, Any]) -> None:
        self._catalogue = catalogue
        self._connect_kwargs = connect_kwargs
        self._task: asyncio.Task[None] | None = None
        self._scope = anyio.CancelScope()
        self._closed = False
        self._failing = False  # the last attempt failed (repeats are logged at debug level)
        self.server_pid: int | None = None  # the backend doing the LISTEN (tests, operators)
        self.connections = 0  # times the listener came up
        self.announcements = 0  # announcements of our schema received

    @property
    def listening(self) -> bool:
        """Whether units of work rely on the listener rather than on the stamp."""
        return self._catalogue.listening

    def start(self) -> None:
        """Start listening in the background (once; never after :meth:`close`)."""
        if self._task is not None or self._closed:
            return
        self._task = asyncio.get_running_loop().create_task(
            self._main(), name="attune catalogue listener"
        )

    async def close(self) -> None:
        """Stop listening and close the connection (bounded by ``CLOSE_TIMEOUT``)."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        self._scope.cancel()
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await asyncio.wait({task})
        if not task.done():
            log.warning("catalogue listener did not stop in %.0f s", CLOSE_TIMEOUT)
            task.cancel()

    async def _main(self) -> None:
        try:
            with self._scope:
                await self._run()
        except Exception:  # a bug: the loop below handles what it expects
            log.exception("catalogue listener stopped")
        finally:
            self._down()

    async def _run(self) -> None:
        delay = FIRST_RETRY_DELAY
        while True:
            try:
                with anyio.fail_after(CONNECT_TIMEOUT):
                    connection = await asyncpg.connect(**self._connect_kwargs)
            except Exception as exc:
                self._failed("cannot connect", exc)
            else:
                before = self.connections
                try:
                    await self._listen(connection)
                except _NotReady:
                    self._failed(
                        "the catalogue tables have no announcing triggers (migration 0007 "
                        "not applied)",
                        None,
                    )
                except Exception as exc:
                    if self.connections > before:
                        log.warning(
                            "catalogue LISTEN connection lost (%s): units of work read the "
                            "catalogue stamp until it is back",
                            str(exc) or type(exc).__name__,
                        )
                    else:
                        self._failed("connection failed", exc)
                finally:
                    self._down()
                    with anyio.CancelScope(shield=True):
                        await _close(connection)
                if self.connections > before:
                    delay = FIRST_RETRY_DELAY
            await anyio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = anyio.Event()

        def on_lost(_connection: Any) -> None:
            self._down()
            lost.set()

        connection.add_termination_listener(on_lost)
        schema = await connection.fetchval("SELECT current_schema()")

        def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload == schema:
                self.announcements += 1
                self._catalogue.invalidate()

        await connection.add_listener(CHANNEL, on_notify)
        found = await connection.fetchval(_TRIGGERS, TRIGGER, sorted(CATALOGUE_TABLES))
        if found != len(CATALOGUE_TABLES):
            raise _NotReady
        if lost.is_set():
            raise OSError("the server closed the LISTEN connection")
        # From here every change committed elsewhere is announced to us; what committed
        # before is forgotten now (rule 1). No await between the two lines.
        self._catalogue.invalidate()
        self._catalogue.listening = True
        self.server_pid = connection.get_server_pid()
        self.connections += 1
        if self._failing or self.connections > 1:
            log.info("catalogue LISTEN connection up: the catalogue stamp is not read")
        self._failing = False
        await until_lost(connection, lost)
        raise OSError("the server closed the LISTEN connection")

    def _down(self) -> None:
        catalogue = self._catalogue
        if catalogue.listening:
            catalogue.listening = False
            catalogue.stamp = None  # the next stamp read clears the cache (rule 1)

    def _failed(self, what: str, exc: BaseException | None) -> None:
        reason = f"{what}: {str(exc) or type(exc).__name__}" if exc is not None else what
        if self._failing:
            log.debug("catalogue LISTEN: %s; retrying", reason)
        else:
            log.warning(
                "catalogue LISTEN: %s; units of work read the catalogue stamp meanwhile", reason
            )
        self._failing = True


async def _close(connection: asyncpg.Connection) -> None:
    try:
        with anyio.move_on_after(2):
            await connection.close()
    except Exception:
        pass
    if not connection.is_closed():
        connection.terminate()


async def until_lost(connection: Any, lost: anyio.Event) -> None:
    """Return once a LISTEN ``connection`` is lost: ``lost`` set (its termination listener)
    or, on a connection quiet for ``KEEPALIVE`` seconds, a ``SELECT 1`` unanswered as long
    (raises ``TimeoutError``) or failing."""
    while not lost.is_set():
        with anyio.move_on_after(KEEPALIVE):
            await lost.wait()
        if not lost.is_set():
            with anyio.fail_after(KEEPALIVE):
                await connection.fetchval("SELECT 1")
