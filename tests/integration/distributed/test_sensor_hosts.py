"""Two sensor hosts (``attune serve sensor``) as real processes on PostgreSQL + RabbitMQ share the
timers and a custom sensor through leases; kill -9 of one hands its share to the other."""

from __future__ import annotations

import itertools
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from attune_core.config import Settings
from attune_core.model import Rule
from attune_core.packs import register_pack
from attune_core.storage import Lease
from tests.integration.distributed.cluster import Cluster, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

SENSORS_PACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "sensors"
LEASE_TTL = 3


@pytest.mark.timeout(240)
async def test_two_sensor_hosts_fire_every_tick_once_and_take_over_after_kill(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    environ = {
        **environ,
        "ATTUNE__SENSOR__POLL_INTERVAL": "1",
        "ATTUNE__SENSOR__LEASE_TTL": str(LEASE_TTL),
    }
    async with Cluster(settings, environ) as cluster:
        shutil.copytree(SENSORS_PACK, settings.packs_base_dir / "sensors")
        await register_pack(cluster.store, settings.packs_base_dir / "sensors")
        hosts = {p.pid: p for p in (cluster.start("sensor"), cluster.start("sensor"))}
        refs = [f"demo.tick_{n}" for n in range(3)]
        async with cluster.store.transaction() as uow:
            interval = await uow.triggers.get_by_ref("core.intervaltimer")
            greeting = await uow.triggers.get_by_ref("sensors.greeting")
            noop = await uow.actions.get_by_ref("core.noop")
            for ref in refs:
                await uow.rules.create(
                    Rule(
                        ref=ref,
                        pack_ref="demo",
                        label=ref,
                        trigger_ref="core.intervaltimer",
                        trigger=interval.id,
                        action_ref="core.noop",
                        action=noop.id,
                        trigger_params={"unit": "seconds", "interval": 1},
                    )
                )
            await uow.rules.create(
                Rule(
                    ref="demo.on_greeting",
                    pack_ref="demo",
                    label="On greeting",
                    trigger_ref="sensors.greeting",
                    trigger=greeting.id,
                    action_ref="core.noop",
                    action=noop.id,
                )
            )

        async def ticks(ref: str) -> list[datetime]:
            async with cluster.store.read() as uow:
                events = await uow.events.list(rule_ref=ref, limit=1000)
            return sorted(datetime.fromisoformat(e.payload["scheduled_at"]) for e in events)

        async def sensor_starts() -> int:
            async with cluster.store.read() as uow:
                events = await uow.events.list(trigger_ref="sensors.greeting", limit=1000)
            return sum(1 for e in events if e.payload.get("reason") == "start")

        async def leases() -> list[Lease]:
            async with cluster.store.read() as uow:
                return await uow.leases.list()

        async def warmed_up() -> bool:
            counts = [len(await ticks(ref)) for ref in refs]
            return min(counts) >= 4 and await sensor_starts() >= 1

        await until_true(warmed_up, 90)
        before = await leases()
        assert len(before) == 4, before  # three timers and the sensor, one holder each
        assert await sensor_starts() == 1  # the sensor runs on one host only
        sensor_holder = next(x.holder for x in before if x.name == "sensor:sensors.greeter")
        victim = hosts[_pid(sensor_holder)]
        survivor = next(p for pid, p in hosts.items() if pid != victim.pid)
        shared = len({x.holder for x in before}) == 2
        killed_at = time.monotonic()
        cluster.kill(victim)

        async def taken_over() -> bool:
            return all(_pid(x.holder) == survivor.pid for x in await leases())

        await until_true(taken_over, 30)
        takeover = time.monotonic() - killed_at

        async def restarted() -> bool:
            return await sensor_starts() >= 2

        await until_true(restarted, 30)
        settled = {ref: len(await ticks(ref)) for ref in refs}

        async def ticking_on() -> bool:
            for ref, count in settled.items():
                if len(await ticks(ref)) < count + 3:
                    return False
            return True

        await until_true(ticking_on, 30)
        fired = duplicates = lost = 0
        for ref in refs:
            slots = await ticks(ref)
            fired += len(slots)
            duplicates += len(slots) - len(set(slots))
            unique = sorted(set(slots))
            lost += sum(
                round((b - a) / timedelta(seconds=1)) - 1 for a, b in itertools.pairwise(unique)
            )
        starts = await sensor_starts()
    print(
        f"\nsensor hosts 2 (work shared by both: {shared}), timers {len(refs)} x 1 s, "
        f"ticks fired {fired}, duplicates {duplicates}, lost {lost}; "
        f"takeover after kill -9 in {takeover:.1f} s (lease ttl {LEASE_TTL} s); "
        f"sensor process starts {starts}"
    )
    assert duplicates == 0
    assert lost == 0
    assert starts == 2  # once on the first host, once on the survivor
    assert takeover <= LEASE_TTL + LEASE_TTL / 3 + 2
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


def _pid(holder: str) -> int:
    return int(holder.split(":")[-2])
