"""The ports the engine depends on: small protocols with real and in-memory adapters.

Rule: engine code (executor, worker, sensors, ...) talks to these protocols only. Adapters live
elsewhere (``attune_core.storage`` for the Store, ``attune_core.bus`` and
``attune_services.amqp`` for the Bus, :mod:`attune_core.clock` for clocks) and are chosen by the
composition root.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock"]


@runtime_checkable
class Clock(Protocol):
    """Time as the engine sees it. Tests move a :class:`~attune_core.clock.FakeClock`."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...
