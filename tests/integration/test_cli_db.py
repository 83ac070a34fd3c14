"""`attune db upgrade|current` on both backends, and one clear line for bad input."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from attune_core.storage import migrate
from tests.conftest import POSTGRES_URL, require_service

pytestmark = pytest.mark.integration


def attune(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "attune_cli", *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _run_sql(statement: str) -> None:
    import anyio

    from attune_core.storage import create_engine

    async def run() -> None:
        engine = create_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
        await engine.dispose()

    anyio.run(run)


def test_db_upgrade_then_current_on_sqlite(tmp_path: Path) -> None:
    env = {"ATTUNE__DATABASE__URL": f"sqlite:///{tmp_path}/data/attune.db"}
    before = attune("db", "current", env=env, cwd=tmp_path)
    first = attune("db", "upgrade", env=env, cwd=tmp_path)
    again = attune("db", "upgrade", env=env, cwd=tmp_path)
    after = attune("db", "current", env=env, cwd=tmp_path)
    head = migrate.head()
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == f"database is empty (not migrated); newest revision is {head}"
    assert (first.returncode, first.stdout.strip()) == (
        0,
        f"database upgraded from empty to revision {head}",
    )
    assert again.stdout.strip() == f"database is up to date (revision {head})"
    assert after.stdout.strip() == f"{head} (up to date)"


def test_db_upgrade_on_postgresql_schema(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"attune_cli_{secrets.token_hex(4)}"
    _run_sql(f'CREATE SCHEMA "{schema}"')
    try:
        env = {"ATTUNE__DATABASE__URL": POSTGRES_URL, "ATTUNE__DATABASE__SCHEMA": schema}
        upgraded = attune("db", "upgrade", env=env, cwd=tmp_path)
        current = attune("db", "current", env=env, cwd=tmp_path)
    finally:
        _run_sql(f'DROP SCHEMA "{schema}" CASCADE')
    assert upgraded.returncode == 0, upgraded.stderr
    assert current.stdout.strip() == f"{migrate.head()} (up to date)"


@pytest.mark.parametrize(
    ("env", "config", "code", "message"),
    [
        (
            {"ATTUNE__DATABASE__URL": "postgresql://attune@127.0.0.1:1/attune"},
            None,
            1,
            "error: cannot connect to the database at postgresql+asyncpg://attune@127.0.0.1:1/attune",
        ),
        (
            {"ATTUNE__DATABASE__URL": "::not a url"},
            None,
            2,
            "configuration error: database.url from environment variable ATTUNE__DATABASE__URL",
        ),
        ({}, "databse:\n  url: x\n", 2, "configuration error: databse in "),
    ],
    ids=["unreachable", "malformed-url", "config-typo"],
)
def test_bad_input_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], config: str | None, code: int, message: str
) -> None:
    if config is not None:
        (tmp_path / "config.yaml").write_text(config)
    result = attune("db", "current", env=env, cwd=tmp_path)
    assert result.returncode == code
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
