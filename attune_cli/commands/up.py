"""``attune up``: the all-in-one server (API + notifier + executor + worker) on 127.0.0.1:8080.

Runs migrations, registers the core pack and every pack under ``packs_base_dir``, creates the
development identity in the development environment, prints the URLs, and shuts down
gracefully on Ctrl-C.
"""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click

from attune_core.config import Settings, load_settings
from attune_core.resources import web_dir

if TYPE_CHECKING:
    from attune_services.supervisor import Started


def _packs_in(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob("*/pack.yaml"))


async def _watch_packs(base: Path, ctx: object, interval: float = 2.0) -> None:
    """``--reload``: re-register a pack whose files changed."""
    from attune_services.api.routes._common import register_directory

    def snapshot() -> dict[Path, float]:
        stamps: dict[Path, float] = {}
        for pack in _packs_in(base):
            files = [f for f in pack.rglob("*") if f.is_file()]
            stamps[pack] = max((f.stat().st_mtime for f in files), default=0.0)
        return stamps

    seen = await anyio.to_thread.run_sync(snapshot)
    while True:
        await anyio.sleep(interval)
        current = await anyio.to_thread.run_sync(snapshot)
        for pack, stamp in current.items():
            if seen.get(pack) != stamp:
                try:
                    await register_directory(ctx, pack, force=True)  # type: ignore[arg-type]
                    click.echo(f"re-registered pack {pack.name}")
                except Exception as exc:  # a broken edit must not stop the server
                    click.echo(f"pack {pack.name} not re-registered: {exc}", err=True)
        seen = current


def _derived_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


async def _run(config: str | None, host: str | None, port: int | None, reload: bool) -> None:
    from attune_services.logs import configure_logging
    from attune_services.run import Running, run_all_in_one

    settings = _settings(config, host, port)
    configure_logging(settings.log)
    packs = _packs_in(settings.packs_base_dir)
    async with anyio.create_task_group() as tg:
        running: Running = await tg.start(functools.partial(run_all_in_one, settings, packs=packs))
        click.echo(f"Attune {settings.env.value} server is up")
        ui = running.url + "/" if web_dir() else "not built (run `make web`)"
        click.echo(f"  Web UI    {ui}")
        click.echo(f"  API       {running.url}/api/v1")
        click.echo(f"  Docs      {running.url}/docs")
        click.echo(f"  OpenAPI   {running.url}/api-spec/openapi.json")
        click.echo(f"  WebSocket {running.url.replace('http', 'ws', 1)}/ws")
        click.echo(f"  Database  {settings.redacted()['database']['url']}")
        click.echo(f"  Packs     {settings.packs_base_dir}")
        if running.dev_identity:
            from attune_services.api._auth import DEV_PASSWORD

            click.echo(f"  Login     {running.dev_identity} / {DEV_PASSWORD} (development only)")
        click.echo("Press Ctrl-C to stop.")
        if reload:
            tg.start_soon(_watch_packs, settings.packs_base_dir, running.ctx)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                click.echo("shutting down...")
                tg.cancel_scope.cancel()
                break


@click.command()
@click.option("--config", "config", default=None, help="Config file or directory.")
@click.option("--host", default=None, help="Interface to listen on (default server.host).")
@click.option("--port", type=int, default=None, help="Port (default server.port, 8080).")
@click.option("--reload", is_flag=True, help="Re-register packs when their files change.")
@click.option(
    "--distributed",
    is_flag=True,
    help="Each service in its own process (attune serve ...) on the PostgreSQL and RabbitMQ "
    "of the configuration.",
)
def up(
    config: str | None, host: str | None, port: int | None, reload: bool, distributed: bool
) -> None:
    """Run Attune: API, notifier, executor, worker and sensor host in one process.

    With --distributed, each of them in its own process instead (for local trials of the
    distributed layout); Ctrl-C stops them all gracefully.
    """
    if distributed:
        if reload:
            raise click.UsageError("--reload works with the all-in-one server only")
        # The services resolve a relative path from their own directory: pass it absolute.
        absolute = os.path.abspath(config) if config is not None else None
        code = anyio.run(_run_distributed, absolute, host, port)
        raise SystemExit(code)
    anyio.run(_run, config, host, port, reload)


def _settings(config: str | None, host: str | None, port: int | None) -> Settings:
    os.environ.setdefault("ATTUNE_ENV", "development")
    settings = load_settings(config_path=config)
    if host is not None or port is not None:
        import attrs

        old = settings.server
        server = attrs.evolve(
            old,
            host=host if host is not None else old.host,
            port=port if port is not None else old.port,
        )
        # public_url derived from the old address follows the new one; one set on purpose
        # (a proxy in front, say) stays as configured.
        if old.public_url == _derived_url(old.host, old.port):
            server = attrs.evolve(server, public_url=_derived_url(server.host, server.port))
        settings = attrs.evolve(settings, server=server)
    return settings


async def _run_distributed(config: str | None, host: str | None, port: int | None) -> int:
    """``attune up --distributed``: the services as processes; the exit code."""
    from attune_core.errors import AttuneError
    from attune_services import supervisor
    from attune_services.logs import configure_logging

    settings = _settings(config, host, port)
    configure_logging(settings.log)
    environ = dict(os.environ)
    environ["ATTUNE_ENV"] = settings.env.value
    if config is not None:
        environ["ATTUNE_CONFIG"] = config  # absolute: made so by up()
    environ["ATTUNE__SERVER__HOST"] = settings.server.host
    environ["ATTUNE__SERVER__PORT"] = str(settings.server.port)
    environ["ATTUNE__SERVER__PUBLIC_URL"] = settings.server.public_url
    try:
        supervisor.check(settings)
    except AttuneError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("migrating the database and registering packs, then starting the services...")
    errors: list[str] = []
    try:
        # Listening for Ctrl-C before anything starts: a signal arriving while the services
        # start (or just as they are up) stops them gracefully too.
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as tg:

                async def stop_on_signal() -> None:
                    async for _ in signals:
                        click.echo("stopping the services...")
                        tg.cancel_scope.cancel()
                        return

                tg.start_soon(stop_on_signal)
                started: supervisor.Started = await tg.start(
                    functools.partial(supervisor.run, settings, environ)
                )
                _print_started(settings, started)
                await anyio.sleep_forever()
    except* supervisor.ServiceExited as group:
        errors += [f"{exc}; the other services were stopped" for exc in group.exceptions]
    except* AttuneError as group:
        errors += [str(exc) for exc in group.exceptions]
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        return 1
    click.echo("all services stopped")
    return 0


def _print_started(settings: Settings, started: Started) -> None:
    click.echo(f"Attune {settings.env.value} services are up (distributed)")
    for name, pid in started.pids.items():
        click.echo(f"  {name:<9} pid {pid}")
    ui = started.url + "/" if web_dir() else "not built (run `make web`)"
    click.echo(f"  Web UI    {ui}")
    click.echo(f"  API       {started.url}/api/v1")
    click.echo(f"  WebSocket {started.url.replace('http', 'ws', 1)}/ws")
    click.echo(f"  Database  {settings.redacted()['database']['url']}")
    click.echo(f"  Broker    {settings.redacted()['message_queue']['url']}")
    click.echo(f"  Packs     {', '.join(started.registered)}")
    for problem in started.problems:
        click.echo(f"  ! {problem}", err=True)
    if settings.env.value == "development":
        from attune_services.api._auth import DEV_LOGIN, DEV_PASSWORD

        click.echo(f"  Login     {DEV_LOGIN} / {DEV_PASSWORD} (development only)")
    click.echo("Press Ctrl-C to stop.")
