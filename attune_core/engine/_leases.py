"""A sensor host's leases: several hosts share the timers and custom sensors, none runs one twice.

Rules of this file:

1. A host runs a timer or a sensor only while it holds its lease (``timer:<rule id>``,
   ``sensor:<ref>``, table ``lease``). Leases last ``ttl`` seconds and are renewed every
   ``ttl / 3`` seconds (:attr:`LeaseKeeper.renew_interval`), so a host that stops renewing
   (killed, partitioned) loses them within ``ttl`` and another host takes them over at its
   next renewal round.
2. A renewal that finds a lease gone (another host took it after this one failed to renew in
   time) reports it: the caller stops what the lease was for.
3. A graceful stop releases the leases at once (their ``state`` stays for the next holder).
4. The timer host and the sensor host run their leases the same way, with the two helpers
   below: :func:`sweep_forever` (renew, stop what was lost, resync) and
   :func:`releasing_on_exit` (rule 3).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import anyio

from attune_core.storage import Lease, Store, UnitOfWork

__all__ = ["LeaseKeeper", "host_id", "releasing_on_exit", "sweep_forever"]

log = logging.getLogger(__name__)

RELEASE_TIMEOUT = 5.0  # seconds a stopping host spends releasing; leases lapse on their own


def host_id() -> str:
    """A name for this process that no other process (here or on another machine) has."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Takes, renews, uses and releases the leases of one host.

    Args:
        store: The database (the ``lease`` table).
        ttl: Seconds a lease lasts without renewal.
        holder: This host's id (default: :func:`host_id`).
    """

    def __init__(self, store: Store, *, ttl: float, holder: str | None = None) -> None:
        if ttl <= 0:
            raise ValueError(f"lease ttl must be positive, got {ttl}")
        self._store = store
        self.ttl = ttl
        self.holder = holder or host_id()
        self.held: set[str] = set()

    @property
    def renew_interval(self) -> float:
        """Seconds between two renewals: three chances before a lease lapses."""
        return self.ttl / 3

    def _expires(self) -> datetime:
        return self._store.now() + timedelta(seconds=self.ttl)

    async def acquire(self, names: Collection[str]) -> dict[str, Lease]:
        """Take (or keep) the leases of ``names`` that no other host holds; those held now."""
        if not names:
            return {}
        async with self._store.transaction() as uow:
            got = await uow.leases.acquire(names, self.holder, self._expires())
        self.held |= set(got)
        self.held -= set(names) - set(got)
        return got

    async def renew(self) -> set[str]:
        """Renew every lease held; the names lost to another host since the last renewal."""
        held = set(self.held)
        if not held:
            return set()
        async with self._store.transaction() as uow:
            kept = await uow.leases.renew(held, self.holder, self._expires())
        lost = held - kept
        self.held -= lost
        return lost

    async def record(self, uow: UnitOfWork, name: str, state: Mapping[str, Any]) -> bool:
        """In ``uow``: store ``state`` in lease ``name`` if this host still holds it."""
        kept = await uow.leases.record(name, self.holder, state, self._expires())
        if not kept:
            self.held.discard(name)
        return kept

    async def release(self, names: Collection[str] | None = None, *, forget: bool = False) -> None:
        """Give up leases (default: all); ``forget`` deletes them with their state."""
        chosen = set(self.held if names is None else names) & self.held
        if not chosen:
            return
        async with self._store.transaction() as uow:
            if forget:
                await uow.leases.delete(chosen, self.holder)
            else:
                await uow.leases.release(chosen, self.holder)
        self.held -= chosen


async def sweep_forever(
    leases: LeaseKeeper | None,
    poll_interval: float,
    *,
    lost: Callable[[set[str]], Awaitable[None]],
    sync: Callable[[], Awaitable[None]],
    what: str,
) -> None:
    """A host's safety net: every ``poll_interval`` seconds (more often with leases, to renew
    them in time) renew the leases, hand those lost to ``lost`` (the host stops what they
    were for, rule 2), then ``sync`` with the database. A failed round is logged, never fatal.
    """
    interval = poll_interval if leases is None else min(poll_interval, leases.renew_interval)
    while True:
        await anyio.sleep(interval)  # real time: a safety net, not a schedule
        try:
            if leases is not None:
                await lost(await leases.renew())
            await sync()
        except Exception:
            log.exception("%s sweep failed", what)


@contextlib.asynccontextmanager
async def releasing_on_exit(leases: LeaseKeeper | None, what: str) -> AsyncIterator[None]:
    """Release every lease when the block ends (rule 3): what they were for is stopped, let
    another host take it over now rather than at expiry."""
    try:
        yield
    finally:
        if leases is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(RELEASE_TIMEOUT):
                try:
                    await leases.release()
                except Exception:
                    log.exception("%s leases not released (they lapse on their own)", what)
