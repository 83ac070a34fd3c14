"""What every request handler can reach: the engine's ports and the API's own services.

Rule: built once per app by :func:`attune_services.api.create_app` (the composition root of
the API); handlers never open stores or buses themselves.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

import attrs

from attune_core.config import Settings
from attune_core.engine._events import EventIntake
from attune_core.ports import Bus, Clock
from attune_core.security import SecretBox, TokenService
from attune_core.storage import Store
from attune_services.api._executions import ExecutionIntake

if TYPE_CHECKING:
    from attune_core.app import Attune
    from attune_services.notifier import NotificationHub


class RateLimiter:
    """A sliding-window counter per key (in this process)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, window: float) -> bool:
        """Record a hit; ``False`` when ``key`` already had ``limit`` hits within ``window``."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return False
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle keys so the table cannot grow without bound
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
                del self._hits[stale]
        return True

    def count(self, key: str, window: float) -> int:
        now = time.monotonic()
        return sum(1 for t in self._hits.get(key, ()) if t > now - window)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


@attrs.define
class ApiContext:
    settings: Settings
    store: Store
    bus: Bus
    clock: Clock
    tokens: TokenService
    secrets: SecretBox
    attune: Attune | None = None
    hub: NotificationHub | None = None
    login_limiter: RateLimiter = attrs.Factory(RateLimiter)
    subjects: dict[int, tuple[float, Any]] = attrs.Factory(dict)
    # Events the API stores (webhooks, POST /events); the engine's own intake when embedded,
    # so that all of the process's concurrent events share transactions.
    intake: EventIntake | None = None
    # Executions requested over the API (``execute``), stored in shared transactions.
    executions: ExecutionIntake | None = None
    started: float = attrs.Factory(time.monotonic)

    def executor(self) -> Any:
        """The engine's executor operations (cancel); one of the facade when embedded."""
        if self.attune is not None:
            return self.attune.executor
        from attune_core.engine._executor import Executor

        return Executor(self.store, self.bus, self.clock)

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        attune: Attune | None = None,
        hub: NotificationHub | None = None,
    ) -> ApiContext:
        security = settings.security
        tokens = TokenService(
            secret=security.jwt_secret,
            access_ttl=security.access_token_ttl,
            refresh_ttl=security.refresh_token_ttl,
            sensor_ttl=security.sensor_token_ttl,
            now=clock.now,
        )
        secrets = SecretBox(security.encryption_key)
        if attune is not None:
            intake = attune.intake
            executions = ExecutionIntake(store, bus)
        else:
            # Distributed: the executions an event or a request asks for that need only a
            # worker are created scheduled on one and dispatched (Executor.place).
            from attune_core.engine._executor import Executor

            place = Executor(store, bus, clock).place
            intake = EventIntake(
                store,
                bus,
                clock,
                secret_box=secrets,
                place=place,
                announce=settings.message_queue.announce_events,
            )
            executions = ExecutionIntake(store, bus, place=place)
        return cls(
            settings=settings,
            store=store,
            bus=bus,
            clock=clock,
            tokens=tokens,
            secrets=secrets,
            attune=attune,
            hub=hub,
            intake=intake,
            executions=executions,
        )

    def forget_subjects(self) -> None:
        """Drop cached identities and grants (after identity or permission changes)."""
        self.subjects.clear()
