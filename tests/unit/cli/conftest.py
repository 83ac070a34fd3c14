"""In-process CLI tests: ``cli`` run by click's CliRunner with its own config directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from attune_cli.main import cli

Invoke = Callable[..., Result]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "cfg"


@pytest.fixture
def attune(config_dir: Path) -> Invoke:
    """Run ``attune <args>`` in-process; returns click's Result (stdout, stderr, exit_code)."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli,
            list(args),
            input=input,
            env={"ATTUNE_CLI_CONFIG_DIR": str(config_dir), "COLUMNS": "200", **(env or {})},
            catch_exceptions=False,
        )

    return invoke
