"""Sensor-host leases on SQLite and PostgreSQL: one holder at a time, expiry, takeover, state.

The fault test with real processes (kill -9 of a sensor host) is in test_sensor_hosts.py.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import anyio
import pytest

from attune_core.bus import InMemoryBus
from attune_core.clock import FakeClock, SystemClock
from attune_core.engine._leases import LeaseKeeper
from attune_core.engine._timers import TimerHost
from attune_core.model import Rule
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_one_holder_at_a_time_until_expiry(store: Store, clock: FakeClock) -> None:
    a = LeaseKeeper(store, ttl=10, holder="host-a")
    b = LeaseKeeper(store, ttl=10, holder="host-b")
    assert set(await a.acquire(["timer:1", "timer:2"])) == {"timer:1", "timer:2"}
    # Held and not expired: the other host gets nothing, the holder keeps (renews) them.
    assert await b.acquire(["timer:1", "timer:2", "timer:3"]) == {"timer:3": await _one(b, 3)}
    assert set(await a.acquire(["timer:1"])) == {"timer:1"}
    await clock.advance(9)
    assert await a.renew() == set()  # renewed until t+19
    await clock.advance(9)
    assert await b.acquire(["timer:1"]) == {}
    # Host a stops renewing: after the ttl, b takes over; a's next renewal reports the loss
    # and a can no longer record anything in the lease.
    await clock.advance(11)
    assert set(await b.acquire(["timer:1", "timer:2"])) == {"timer:1", "timer:2"}
    async with store.transaction() as uow:
        assert not await a.record(uow, "timer:1", {"slot": "x"})
    assert await a.renew() == {"timer:2"}  # record() already noticed timer:1
    assert a.held == set()
    async with store.transaction() as uow:
        assert await b.record(uow, "timer:1", {"slot": "2026-01-01T00:00:10+00:00"})
    # A graceful stop releases at once and keeps the state for the next holder.
    await b.release()
    got = await a.acquire(["timer:1"])
    assert got["timer:1"].state == {"slot": "2026-01-01T00:00:10+00:00"}
    assert got["timer:1"].holder == "host-a"
    await a.release(["timer:1"], forget=True)
    async with store.read() as uow:
        assert [lease.name for lease in await uow.leases.list("timer:")] == ["timer:2", "timer:3"]


async def _one(keeper: LeaseKeeper, n: int) -> object:
    async with keeper._store.read() as uow:
        [lease] = [lease for lease in await uow.leases.list() if lease.name == f"timer:{n}"]
    return lease


async def test_racing_hosts_never_share_a_lease(store: Store, clock: FakeClock) -> None:
    keepers = [LeaseKeeper(store, ttl=5, holder=f"host-{n}") for n in range(8)]
    names = [f"sensor:pack.s{n}" for n in range(5)]
    for round_ in range(3):
        results: dict[str, list[str]] = {}

        async def take(keeper: LeaseKeeper, results: dict[str, list[str]] = results) -> None:
            for name in await keeper.acquire(names):
                results.setdefault(name, []).append(keeper.holder)

        async with anyio.create_task_group() as tg:
            for keeper in keepers:
                tg.start_soon(take, keeper)
        # Every lease has exactly one holder, whichever host won the race.
        assert sorted(results) == names, round_
        assert all(len(holders) == 1 for holders in results.values()), results
        await clock.advance(6)  # all expire: the next round races again


async def test_two_timer_hosts_fire_each_slot_once_and_hand_over(backend: str) -> None:
    """Two hosts in one process on the real clock; stopping the holder hands its timer over
    with the last slot it fired, so the slots stay consecutive with no gap and no repeat."""
    from attune_core.testing import temporary_store

    async with temporary_store(backend) as store:
        await register_pack(store, packs_dir() / "core")
        async with store.transaction() as uow:
            rule = await uow.rules.create(
                Rule(
                    ref="core.every_second",
                    pack_ref="core",
                    label="Every second",
                    trigger_ref="core.intervaltimer",
                    trigger=(await uow.triggers.get_by_ref("core.intervaltimer")).id,
                    action_ref="core.noop",
                    action=(await uow.actions.get_by_ref("core.noop")).id,
                    trigger_params={"unit": "seconds", "interval": 1},
                )
            )
        bus = InMemoryBus()
        hosts = [
            TimerHost(
                store,
                bus,
                SystemClock(),
                poll_interval=0.3,
                leases=LeaseKeeper(store, ttl=0.9, holder=f"host-{n}"),
            )
            for n in range(2)
        ]
        scopes = [anyio.CancelScope() for _ in hosts]

        async def run(host: TimerHost, scope: anyio.CancelScope) -> None:
            with scope:
                await host.run()

        async with anyio.create_task_group() as tg:
            for host, scope in zip(hosts, scopes, strict=True):
                tg.start_soon(run, host, scope)
            await anyio.sleep(3.2)
            first = await _holder(store)
            [holder] = [n for n, host in enumerate(hosts) if host.timers]
            assert first == f"host-{holder}"
            scopes[holder].cancel()  # a graceful stop: the lease is released
            await anyio.sleep(3.2)
            assert await _holder(store) == f"host-{1 - holder}"
            assert hosts[1 - holder].timers
            tg.cancel_scope.cancel()
        async with store.read() as uow:
            events = await uow.events.list(rule_ref="core.every_second", limit=100)
        slots = sorted(datetime.fromisoformat(e.payload["scheduled_at"]) for e in events)
        counts = sorted(e.payload["execution_count"] for e in events)
        assert len(slots) >= 5, slots
        assert len(set(slots)) == len(slots), "a slot fired twice"
        assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(slots))
        assert counts == list(range(1, len(slots) + 1))
        assert {e.rule for e in events} == {rule.id}


async def _holder(store: Store) -> str:
    async with store.read() as uow:
        [lease] = await uow.leases.list("timer:")
    return lease.holder
