"""``attune key rotate``: every encrypted key re-encrypted under the new key, on the database."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from attune_cli.main import cli
from attune_core.config import load_settings
from attune_core.model import Key, OwnerType
from attune_core.security import SecretBox
from attune_core.storage import Store, migrate

pytestmark = pytest.mark.integration

OLD, NEW = "old-encryption-key-for-the-test-0001", "new-encryption-key-for-the-test-0002"


async def _seed(config: Path) -> None:
    settings = load_settings(config_path=config)
    store = await Store.from_settings(settings.database)
    try:
        await migrate.upgrade(store.engine)
        box = SecretBox(OLD)
        async with store.transaction() as uow:
            await uow.keys.create(
                Key(ref="app.password", name="password", owner_type=OwnerType.SYSTEM,
                    value=box.seal("hunter2"), encrypted=True, encryption_key_hash=box.key_hash)
            )  # fmt: skip
    finally:
        await store.close()


async def _stored(config: Path) -> str:
    settings = load_settings(config_path=config)
    store = await Store.from_settings(settings.database)
    try:
        async with store.read() as uow:
            return str((await uow.keys.get_by_ref("app.password")).value)
    finally:
        await store.close()


def test_rotate_reencrypts_and_a_wrong_current_key_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nsecurity:\n  encryption_key: {OLD}\n")
    anyio.run(_seed, config)
    runner = CliRunner()
    env = {"ATTUNE_CLI_CONFIG_DIR": str(tmp_path / "cfg")}
    result = runner.invoke(
        cli, ["key", "rotate", "--config", str(config), "--new-key", NEW], env=env
    )
    assert result.exit_code == 0, result.output
    assert "1 encrypted key(s) re-encrypted" in result.stderr
    assert SecretBox(NEW).open(anyio.run(_stored, config)) == "hunter2"
    # The config still names the old key, which no longer opens anything: refused, no change.
    again = runner.invoke(
        cli, ["key", "rotate", "--config", str(config), "--new-key", "third-key-000000000003"],
        env=env,
    )  # fmt: skip
    assert again.exit_code == 1
    assert again.stderr.startswith("error: cannot decrypt a stored secret")
    assert SecretBox(NEW).open(anyio.run(_stored, config)) == "hunter2"
