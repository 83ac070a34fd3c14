"""``attune up --distributed``: every service as its own process, for local trials.

Rules of this file:

1. Before anything starts, the database is migrated and the core pack plus every pack under
   ``packs_base_dir`` registered (what ``attune db upgrade`` and ``attune pack register`` would
   do), so the services find a ready installation.
2. Each service is ``python -m attune_cli serve <name>`` with the environment it is given, its
   output copied to ours line by line with a ``[name]`` prefix.
3. Leaving (Ctrl-C, SIGTERM, cancellation, a service that died) stops every service still
   running with SIGTERM (their graceful stop), waits up to ``STOP_GRACE`` seconds, then SIGKILLs
   what is left. Nothing is left behind.
4. Distributed mode needs PostgreSQL and RabbitMQ: anything else is a ``ConfigError`` that says
   what to set, raised before any process starts.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import anyio
import anyio.abc
import attrs
import httpx

from attune_core.config import Settings
from attune_core.errors import ConfigError
from attune_core.packs import register_packs
from attune_core.resources import packs_dir
from attune_core.storage import Store, migrate, normalise_url

__all__ = ["SERVICE_ORDER", "STOP_GRACE", "ServiceExited", "Started", "check", "prepare", "run"]

# Started in this order; the API last, so that it is the one whose health says "ready".
SERVICE_ORDER = ("executor", "worker", "sensor", "notifier", "api")
# Seconds a service gets to stop after SIGTERM: a worker lets running actions finish for
# worker.stop_grace_period (25 s), then stops them (kill_grace_period, 5 s).
STOP_GRACE = 40.0
READY_TIMEOUT = 90.0  # seconds the API gets to answer /health


class ServiceExited(Exception):
    """A service process ended while it should have been running."""


@attrs.frozen
class Started:
    """What a started installation reports."""

    url: str
    pids: Mapping[str, int]
    registered: Sequence[str]
    problems: Sequence[str]


def check(settings: Settings) -> None:
    """Raise ``ConfigError`` unless the settings name PostgreSQL and RabbitMQ (rule 4)."""
    backend = normalise_url(settings.database.url).get_backend_name()
    if backend != "postgresql":
        raise ConfigError(
            f"attune up --distributed needs PostgreSQL, but database.url is {backend}: set "
            "ATTUNE__DATABASE__URL (e.g. postgresql+asyncpg://attune:pw@127.0.0.1:5432/attune)"
        )
    if settings.message_queue.in_memory:
        raise ConfigError(
            "attune up --distributed needs RabbitMQ, but message_queue.url is empty: set "
            "ATTUNE__MESSAGE_QUEUE__URL (e.g. amqp://guest:guest@127.0.0.1:5672/)"
        )


async def prepare(settings: Settings) -> tuple[list[str], list[str]]:
    """Migrate and register the packs (rule 1): the refs registered, and what went wrong."""
    store = await Store.from_settings(settings.database)
    try:
        await migrate.upgrade(store.engine)
        base = settings.packs_base_dir
        paths = [packs_dir() / "core"]
        if base.is_dir():
            paths += sorted(p.parent for p in base.glob("*/pack.yaml") if p.parent.name != "core")
        results = await register_packs(store, paths)
    finally:
        await store.close()
    registered, problems = [], []
    for path, result in results.items():
        if isinstance(result, Exception):
            problems.append(f"pack {path} not registered: {result}")
        else:
            registered.append(Path(path).name)
    return registered, problems


async def run(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    services: Sequence[str] = SERVICE_ORDER,
    output: TextIO | None = None,
    task_status: anyio.abc.TaskStatus[Started] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Prepare, start ``services`` and supervise them until cancelled (rules 1-3).

    Raises:
        ConfigError: not PostgreSQL and RabbitMQ.
        ServiceExited: a service stopped on its own (the others are stopped first).
    """
    check(settings)
    registered, problems = await prepare(settings)
    out = output or sys.stdout
    processes: dict[str, anyio.abc.Process] = {}
    try:
        async with anyio.create_task_group() as tg:
            for name in services:
                process = await anyio.open_process(
                    [sys.executable, "-m", "attune_cli", "serve", name],
                    env=dict(environ),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
                processes[name] = process
                tg.start_soon(_copy_output, name, process, out)
            exited = anyio.Event()
            gone: list[tuple[str, int]] = []
            for name, process in processes.items():
                tg.start_soon(_watch_exit, name, process, gone, exited)
            url = settings.server.public_url
            if "api" in processes:
                await _until_ready(url, exited)
            if gone:
                raise ServiceExited(_describe(gone))
            task_status.started(
                Started(
                    url=url,
                    pids={name: p.pid for name, p in processes.items()},
                    registered=registered,
                    problems=problems,
                )
            )
            await exited.wait()
            raise ServiceExited(_describe(gone))
    finally:
        with anyio.CancelScope(shield=True):
            await stop_all(processes)


async def _watch_exit(
    name: str, process: anyio.abc.Process, gone: list[tuple[str, int]], exited: anyio.Event
) -> None:
    code = await process.wait()
    gone.append((name, code))
    exited.set()


def _describe(gone: list[tuple[str, int]]) -> str:
    return "; ".join(f"the {name} service exited with code {code}" for name, code in gone)


async def _until_ready(url: str, exited: anyio.Event) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per poll
    with anyio.fail_after(READY_TIMEOUT):
        async with httpx.AsyncClient(base_url=url, timeout=2) as http:
            while not exited.is_set():
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/health")).status_code == 200:
                        return
                await anyio.sleep(0.2)


async def _copy_output(name: str, process: anyio.abc.Process, out: TextIO) -> None:
    if process.stdout is None:
        return
    buffer = b""
    prefix = f"[{name}] "
    with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
        async for chunk in process.stdout:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                out.write(prefix + line.decode("utf-8", errors="replace") + "\n")
            out.flush()
    if buffer:
        out.write(prefix + buffer.decode("utf-8", errors="replace") + "\n")
        out.flush()


async def stop_all(processes: Mapping[str, anyio.abc.Process]) -> dict[str, int]:
    """SIGTERM every running service, SIGKILL what is left after ``STOP_GRACE``; exit codes."""
    for process in processes.values():
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    codes: dict[str, int] = {}
    with anyio.move_on_after(STOP_GRACE):
        for name, process in processes.items():
            codes[name] = await process.wait()
    for name, process in processes.items():
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            codes[name] = await process.wait()
        await process.aclose()
    return codes
