"""End-to-end CLI fixtures: a real ``attune up`` server process, and the CLI run in-process.

Rules of this file:

1. One server per test session (per xdist worker): ``python -m attune_cli up --port 0`` in
   the development profile (SQLite, in-memory bus, the development identity), in its own
   temporary HOME and data directory; it is stopped with SIGINT (its graceful shutdown) at the
   end. Tests share it, so they use unique refs and never assume an empty database.
2. The CLI runs in-process (click's CliRunner) against the server's URL, with its own
   config directory per test (``ATTUNE_CLI_CONFIG_DIR``): nothing touches the user's files.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from attune_cli.main import cli

DEV_LOGIN = ("test@attune.local", "TestPass123!")
PACK_DIR = Path(__file__).parent / "packs" / "clidemo"
START_TIMEOUT = 60.0  # seconds: migrations + core pack + first bind on a slow CI machine

Invoke = Callable[..., Result]
# The pack's own tests run on the server (`attune pack test`), not in this suite.
collect_ignore = ["packs"]


@pytest.fixture(scope="session")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``attune up`` and yield its base URL."""
    home = tmp_path_factory.mktemp("attune-up")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ATTUNE_ENV": "development",
        "ATTUNE__DATA_DIR": str(home / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "attune_cli", "up", "--port", "0"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + START_TIMEOUT
    while url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"API\s+(http://\S+)/api/v1", line)
        if match:
            url = match.group(1)
    try:
        if url is None:
            process.kill()
            pytest.fail(f"attune up did not start:\n{(home / 'server.log').read_text()[-3000:]}")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        log.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "cfg"


@pytest.fixture
def attune(api_url: str, config_dir: Path) -> Invoke:
    """Run ``attune <args>`` in-process against the server; returns click's Result."""

    def invoke(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, ok: bool = True
    ) -> Result:
        result = CliRunner().invoke(
            cli,
            list(args),
            input=input,
            env={
                "ATTUNE_CLI_CONFIG_DIR": str(config_dir),
                "ATTUNE_API_URL": api_url,
                "COLUMNS": "200",
                **(env or {}),
            },
            catch_exceptions=False,
        )
        if ok:
            assert result.exit_code == 0, f"attune {' '.join(args)}:\n{result.output}"
        return result

    return invoke


@pytest.fixture
def logged_in(attune: Invoke) -> Invoke:
    """The CLI after ``attune auth login`` with the development identity."""
    attune("auth", "login", "--username", DEV_LOGIN[0], "--password", DEV_LOGIN[1])
    return attune


@pytest.fixture(scope="session")
def installed_pack(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Install the clidemo pack once per session, through the CLI."""
    config = tmp_path_factory.mktemp("cfg")
    env = {"ATTUNE_CLI_CONFIG_DIR": str(config), "ATTUNE_API_URL": api_url}
    runner = CliRunner()
    login = runner.invoke(cli, ["auth", "login", "-u", DEV_LOGIN[0], "-p", DEV_LOGIN[1]], env=env)
    assert login.exit_code == 0, login.output
    result = runner.invoke(cli, ["pack", "install", str(PACK_DIR), "--force"], env=env)
    assert result.exit_code == 0, result.output
    return "clidemo"


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"
