"""Benchmarks of distributed mode (issue 9). Run with ``make bench`` (PostgreSQL + RabbitMQ).

Separate processes, as in production: ``attune serve api``, ``executor``, two ``worker`` and
``sensor``. Events are posted to the API (``POST /api/v1/events``, core.webhook); one rule runs
a shell action for each.

- latency: event -> completed, p50/p99 over events posted at 10/s (target p50 <= 30 ms), from
  the client's clock before its POST to the execution's completion stamp (same machine);
- end to end: sustained events/s, 1,000 events posted by 8 concurrent clients (>= 150/s), over
  keep-alive connections through h11 (``_http_load.KeepAliveClient``: httpx would take ~3 ms
  of CPU per request from the services);
- traffic per execution: database round trips (<= 6) and bus messages (<= 4), summed over every
  service from their ``attune.traffic`` counters (SIGUSR1 before and after the workload);
- CPU per execution: user + system time of all the service processes (/proc), steadier than
  wall-clock figures on a loaded machine; and of the whole machine, with what else shares it:
  PostgreSQL, RabbitMQ, this benchmark's HTTP client and the actions' processes;
- baseline of the same run: spawning the action's shell script once (``/bin/sh true.sh``),
  the floor of any event -> completed latency with a shell action;
- the machine's speed in the same run: CPU time of a fixed pure-Python workload, before and
  after the sustained load. The same machine ran it up to half again slower from one minute to
  the next (docs/performance.md): the sustained rate is CPU bound and follows it, so compare
  the rates of two runs next to this figure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from attune_core.config import Settings, WorkerSettings
from attune_core.model import ExecutionStatus, Rule
from attune_core.packs import register_pack
from tests.benchmarks._http_load import KeepAliveClient
from tests.benchmarks.bench_events import write_pack
from tests.integration.distributed.cluster import (
    Cluster,
    api_client,
    count_is,
    create_identity,
    free_port,
    new_installation,
    until_true,
)

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio]

LATENCY_EVENTS = 300  # 30 s at 10/s
RATE = 10.0
SUSTAINED_EVENTS = 1000
CLIENTS = 8
SERVICES = [("api", None), ("executor", None), ("worker", "w1"), ("worker", "w2"), ("sensor", None)]
TRAFFIC = re.compile(r"attune\.traffic \w+: round_trips=(\d+) .* published=(\d+) (\{.*\})")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def installation(tmp_path: Path) -> AsyncIterator[tuple[Settings, dict[str, str]]]:
    async with new_installation(tmp_path) as installed:
        yield installed


def _stat(pid: int | str) -> tuple[str, list[str]]:
    """A process's command name and the fields of /proc/<pid>/stat after it."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process, or of its children it reaped (its actions)."""
    fields = _stat(pid)[1]
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> dict[str, float]:
    """CPU seconds of the whole machine and of the programs sharing it with the services:
    PostgreSQL's processes, RabbitMQ's (beam.smp) and this benchmark's own (its HTTP client)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    taken = {"machine": sum(int(v) for i, v in enumerate(cpu[:8]) if i not in (3, 4)) / ticks}
    taken["postgres"] = taken["rabbitmq"] = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name, fields = _stat(entry.name)
            except OSError:  # exited meanwhile
                continue
            key = {"postgres": "postgres", "beam.smp": "rabbitmq"}.get(name)
            if key is not None:
                # Its own CPU and its reaped children's: PostgreSQL's postmaster reaps the
                # backends of closed connections, whose work would be lost otherwise.
                taken[key] += sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
    taken["benchmark client"] = _cpu_seconds(os.getpid())
    return taken


Snapshot = dict[str, tuple[int, int, dict[str, int], float]]


class Meter:
    """Traffic and CPU of every service process between two snapshots."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    async def snapshot(self) -> Snapshot:
        """Per process (``api``, ``worker w1``...): round trips, messages by key, CPU s."""
        processes = self.cluster.processes
        marks = [len(TRAFFIC.findall(self.cluster.output(p))) for p in processes]
        for process in processes:
            process.send_signal(signal.SIGUSR1)
        taken: Snapshot = {}
        for process, before in zip(processes, marks, strict=True):
            with anyio.fail_after(30):
                while len(found := TRAFFIC.findall(self.cluster.output(process))) <= before:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            trips, published, by_key = found[-1]
            label = " ".join(str(a) for a in process.args[4:])  # type: ignore[index]
            label = f"{label} {process.pid}" if label in taken else label
            taken[label] = (
                int(trips),
                int(published),
                json.loads(by_key),
                _cpu_seconds(process.pid),
            )
        actions = sum(_cpu_seconds(p.pid, children=True) for p in processes)
        for name, seconds in {**_machine_cpu(), "actions' processes": actions}.items():
            taken[name] = (0, 0, {}, seconds)
        return taken

    @staticmethod
    def per_execution(before: Snapshot, after: Snapshot, executions: int) -> str:
        others = ("machine", "postgres", "rabbitmq", "benchmark client", "actions' processes")
        services = [k for k in after if k not in others]
        trips = {k: (after[k][0] - before[k][0]) / executions for k in services}
        messages = sum(after[k][1] - before[k][1] for k in services) / executions
        keys: dict[str, float] = {}
        for k in services:
            for key, n in after[k][2].items():
                keys[key] = keys.get(key, 0) + (n - before[k][2].get(key, 0)) / executions
        cpu = {k: (after[k][3] - before[k][3]) / executions * 1000 for k in after}
        machine = cpu.pop("machine")
        outside = {k: cpu.pop(k) for k in others[1:]}
        return (
            f"per execution: {sum(trips.values()):.1f} database round trips "
            f"({', '.join(f'{k} {v:.1f}' for k, v in trips.items())}), {messages:.2f} bus "
            f"messages ({', '.join(f'{k} {v:.2f}' for k, v in keys.items() if v)}), "
            f"{sum(cpu.values()):.1f} ms CPU of the services "
            f"({', '.join(f'{k} {v:.1f}' for k, v in cpu.items())}); "
            f"{machine:.1f} ms CPU of the whole machine "
            f"({', '.join(f'{k} {v:.1f}' for k, v in outside.items())}, the rest "
            f"{machine - sum(cpu.values()) - sum(outside.values()):.1f})"
        )


async def _spawn_baseline(pack: Path) -> float:
    """Median seconds to run the action's script once: the floor of any latency here."""
    script = str(pack / "actions" / "true.sh")
    times = []
    for _ in range(20):
        start = time.perf_counter()
        await anyio.run_process(["/bin/sh", script])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _python_speed() -> float:
    """Median CPU milliseconds of a fixed pure-Python workload (7 runs): how fast this machine
    runs Python at the moment."""

    def workload() -> int:
        total = 0
        names: dict[str, int] = {}
        for i in range(150_000):
            total += i * i % 7
            names[str(i)] = i
        return total + len(names)

    times = []
    for _ in range(7):
        start = time.process_time()
        workload()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


async def _start(
    installation: tuple[Settings, dict[str, str]], cluster: Cluster, port: int
) -> Path:
    settings, _ = installation
    pack = write_pack(settings.packs_base_dir)
    await register_pack(cluster.store, pack)
    async with cluster.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref("core.webhook")
        action = await uow.actions.get_by_ref("bench.true")
        await uow.rules.create(
            Rule(
                ref="bench.on_event",
                pack_ref="bench",
                label="Bench",
                trigger_ref="core.webhook",
                trigger=trigger.id,
                action_ref="bench.true",
                action=action.id,
                action_params={"n": "{{ event.payload.n }}"},
            )
        )
    for service, name in SERVICES:
        cluster.start(service, name)
    await until_true(lambda: count_is(cluster.active_workers(), 2), 90)
    return pack


async def _post(http: KeepAliveClient, n: int) -> None:
    body = json.dumps({"trigger_ref": "core.webhook", "payload": {"n": n}}).encode()
    status, answer = await http.request("POST", "/api/v1/events", body)
    assert status == 201, answer


async def _completed(cluster: Cluster, total: int) -> list[tuple[int, datetime]]:
    """Wait until ``total`` bench executions completed; their (n, completion time)."""
    found: list[Any] = []

    async def done() -> bool:
        nonlocal found
        async with cluster.store.read() as uow:
            found = await uow.executions.list(rule_ref="bench.on_event", limit=None)
        return sum(e.status.is_terminal for e in found) >= total

    await until_true(done, 600)
    failed = [
        (e.id, e.status, e.result) for e in found if e.status is not ExecutionStatus.COMPLETED
    ]
    assert not failed, failed[:5]
    return [(int(e.config["n"]), e.updated) for e in found]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@pytest.mark.timeout(1800)
async def test_distributed_latency_throughput_and_traffic(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    await create_identity(environ)
    port = free_port()
    defaults = WorkerSettings()
    environ = {
        **environ,
        "ATTUNE__SERVER__PORT": str(port),
        # The defaults, not the test cluster's 1 s heartbeats (fast failure detection).
        "ATTUNE__WORKER__HEARTBEAT_INTERVAL": str(defaults.heartbeat_interval),
        "ATTUNE__WORKER__HEARTBEAT_STALE_AFTER": str(defaults.heartbeat_stale_after),
    }
    async with Cluster(settings, environ) as cluster:
        pack = await _start(installation, cluster, port)
        meter = Meter(cluster)
        async with api_client(f"http://127.0.0.1:{port}") as logged_in:
            # Posting through h11 keep-alive connections: httpx costs ~3 ms of CPU per
            # request, taken from the services on a 2-core machine.
            http = KeepAliveClient(
                f"http://127.0.0.1:{port}",
                [("Authorization", logged_in.headers["Authorization"])],
            )
            # Warm-up: connections, caches, prepared statements of every process.
            for n in range(20):
                await _post(http, -1 - n)
            await _completed(cluster, 20)
            spawn = await _spawn_baseline(pack)

            # Latency at 10 events/s.
            sent: dict[int, float] = {}
            before = await meter.snapshot()
            async with anyio.create_task_group() as tg:
                for n in range(LATENCY_EVENTS):
                    sent[n] = time.time()
                    tg.start_soon(_post, http, n)
                    await anyio.sleep(1 / RATE)
            finished = await _completed(cluster, 20 + LATENCY_EVENTS)
            after = await meter.snapshot()
            latencies = [(at.timestamp() - sent[n]) * 1000 for n, at in finished if n in sent]
            p50, p99 = statistics.median(latencies), _percentile(latencies, 99)
            print(
                f"\ndistributed (api, executor, 2 workers, sensor; PostgreSQL + RabbitMQ): "
                f"event -> completed over {LATENCY_EVENTS} events at {RATE:g}/s: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; baseline (spawning the script once) "
                f"{spawn * 1000:.1f} ms: p50 = {p50 / (spawn * 1000):.1f} x baseline"
            )
            print("  at 10/s, " + Meter.per_execution(before, after, LATENCY_EVENTS))

            # Sustained: as fast as 8 clients post.
            speed_before = _python_speed()
            first = 100_000
            numbers = iter(range(first, first + SUSTAINED_EVENTS))
            before = await meter.snapshot()
            start = time.time()

            async def client() -> None:
                for n in numbers:
                    await _post(http, n)

            async with anyio.create_task_group() as tg:
                for _ in range(CLIENTS):
                    tg.start_soon(client)
            posted = time.time() - start
            finished = await _completed(cluster, 20 + LATENCY_EVENTS + SUSTAINED_EVENTS)
            last = max(at.timestamp() for n, at in finished if n >= first)
            after = await meter.snapshot()
            elapsed = last - start
            print(
                f"  sustained: {SUSTAINED_EVENTS} events -> completed shell actions in "
                f"{elapsed:.1f} s = {SUSTAINED_EVENTS / elapsed:.0f} events/s "
                f"(posting alone took {posted:.1f} s = {SUSTAINED_EVENTS / posted:.0f}/s)"
            )
            print("  sustained, " + Meter.per_execution(before, after, SUSTAINED_EVENTS))
            print(
                f"  this machine's speed: a fixed pure-Python workload took {speed_before:.1f} "
                f"ms of CPU before the sustained load, {_python_speed():.1f} ms after "
                "(lower is faster)"
            )
            await http.close()
