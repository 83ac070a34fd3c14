"""Clocks: the system clock and a fake one that tests move by hand.

Rule: engine code never calls ``datetime.now()`` or ``anyio.sleep()`` for scheduling; it asks
its :class:`~attune_core.ports.Clock`, so timers, timeouts, retries and inquiry expiry can be
driven deterministically with :class:`FakeClock`.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import UTC, datetime, timedelta

import anyio

__all__ = ["FakeClock", "SystemClock", "utcnow"]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return utcnow()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to.

    ``await clock.sleep(s)`` parks the caller until :meth:`advance` moves the time past its
    deadline. State to inspect: :meth:`now` and :attr:`sleepers` (how many tasks are parked).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware start time")
        self._waiters: list[tuple[datetime, int, anyio.Event]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    @property
    def sleepers(self) -> int:
        """Number of tasks currently waiting in :meth:`sleep`."""
        return sum(1 for _, _, event in self._waiters if not event.is_set())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(
            self._waiters, (self._now + timedelta(seconds=seconds), next(self._seq), event)
        )
        await event.wait()

    async def advance(self, seconds: float) -> None:
        """Move time forward and wake, in deadline order, every sleeper now due."""
        target = self._now + timedelta(seconds=seconds)
        while self._waiters and self._waiters[0][0] <= target:
            deadline, _, event = heapq.heappop(self._waiters)
            self._now = max(self._now, deadline)
            event.set()
            # Let the woken task run (and perhaps sleep again) before moving on.
            await anyio.lowlevel.checkpoint()
        self._now = target

    def set(self, when: datetime) -> None:
        """Jump to ``when`` without waking anyone (for setting up a test's start time)."""
        self._now = when
