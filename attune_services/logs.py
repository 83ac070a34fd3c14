"""Logging of the service processes and the server commands, from ``log`` settings.

Rules of this file:

1. ``log.format`` ``console``: ``time level logger: message`` lines for people; ``json``: one
   JSON object per line for log collectors (``python-json-logger``), with ``time`` (ISO 8601,
   UTC), ``level``, ``logger``, ``message``, ``service`` (the process's service, when it runs
   one), every field a record carries in ``extra`` (``message_id``, ``execution_id``...) and
   ``exc_info`` (the traceback) for an exception.
2. Records go to stderr; the root logger gets this one handler (whatever was configured
   before is replaced), at ``log.level``. The library (``attune_core``) only emits records.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from attune_core.config import LogFormat, LogSettings

__all__ = ["configure_logging"]

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log: LogSettings, *, service: str | None = None) -> None:
    """Send log records to stderr as ``log`` says (rule 1), for ``service`` if given."""
    handler = logging.StreamHandler(sys.stderr)
    if log.format is LogFormat.JSON:
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
                static_fields={"service": service} if service else None,
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log.level)
