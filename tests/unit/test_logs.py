"""Service logs: readable lines, or one JSON object per line (log.format)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from attune_core.config import LogFormat, LogSettings
from attune_services.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_service_extras_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(LogSettings(level="info", format=LogFormat.JSON), service="worker")
    log = logging.getLogger("attune.test")
    log.debug("not shown")
    log.info("execution %s: ran", 42, extra={"execution_id": 42})
    try:
        raise ValueError("bad «value»")
    except ValueError:
        log.exception("failed")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert {k: first[k] for k in ("level", "logger", "message", "service", "execution_id")} == {
        "level": "INFO",
        "logger": "attune.test",
        "message": "execution 42: ran",
        "service": "worker",
        "execution_id": 42,
    }
    assert (second["level"], second["message"]) == ("ERROR", "failed")
    assert "ValueError: bad «value»" in second["exc_info"]


def test_console_lines_are_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(level="WARNING", format=LogFormat.CONSOLE), service="api")
    logging.getLogger("attune.test").info("not shown")
    logging.getLogger("attune.test").warning("disk %d%% full", 91)
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(" WARNING attune.test: disk 91% full")
