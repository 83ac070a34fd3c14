"""``attune serve <service>``: run one of Attune's services as its own process (distributed
mode, on PostgreSQL and RabbitMQ). Configuration comes from the usual files and
``ATTUNE__*`` variables (docs/configuration.md)."""

from __future__ import annotations

import click

from attune_core.config import load_settings

SERVICE_NAMES = ("api", "executor", "notifier", "sensor", "worker")


@click.command()
@click.argument("service", type=click.Choice(SERVICE_NAMES))
@click.option(
    "--config",
    "config",
    envvar="ATTUNE_CONFIG",
    show_envvar=True,
    help="Config file or directory (default: $ATTUNE_CONFIG, then ./config.yaml).",
)
def serve(service: str, config: str | None) -> None:
    """Run SERVICE (api, executor, notifier, sensor or worker) until SIGTERM or Ctrl-C.

    Any number of each may run at once, on any number of machines, against the same database
    and broker (sensor hosts share the timers and sensors through leases).
    """
    from attune_services.logs import configure_logging
    from attune_services.run import run_service
    from attune_services.services import serve as serve_service

    settings = load_settings(config_path=config)
    configure_logging(settings.log, service=service)
    run_service(service, serve_service, service, settings)
