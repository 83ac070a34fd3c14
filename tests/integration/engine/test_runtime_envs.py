"""Runtime environments and versions, through the embedded engine with real processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from attune_core.app import Attune
from attune_core.config import load_settings
from attune_core.model import ExecutionStatus, PackEnvironmentStatus

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]

ENVPACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "envpack"


async def test_python_actions_run_in_the_packs_virtualenv_and_pick_versions(
    tmp_path: Path,
) -> None:
    async with Attune.embedded(data_dir=tmp_path, packs=[ENVPACK]) as attune:
        where = await attune.run("envpack.where", timeout=120)
        modern = await attune.run("envpack.modern", timeout=120)
        future = await attune.run("envpack.future", timeout=60)
        async with attune.store.read() as uow:
            environments = await uow.pack_environments.list(pack_ref="envpack")
            python = await uow.runtimes.get_by_ref("core.python")
            assert python.id is not None
            versions = await uow.runtime_versions.list_for_runtime(python.id)

    venv = tmp_path / "runtime_envs" / "envpack" / "python"
    assert where.status is ExecutionStatus.COMPLETED, where.result
    assert Path(where.result["data"]["prefix"]) == venv
    assert not (ENVPACK / ".venv").exists()  # the pack directory is never written

    assert modern.status is ExecutionStatus.COMPLETED, modern.result
    assert modern.result["data"]["version"] >= [3, 11]
    assert Path(modern.result["data"]["prefix"]).parent == venv.parent  # python-3.x env

    assert future.status is ExecutionStatus.FAILED
    assert ">=4.0" in future.result["error"]
    assert "3.12" in future.result["error"]  # the versions found are named

    assert {v.version for v in versions} == {"3.11", "3.12", "3.13"}
    assert any(v.available for v in versions)
    assert all(v.verified_at is not None for v in versions)
    assert [(e.runtime_ref, e.status) for e in environments] == [
        ("core.python", PackEnvironmentStatus.READY)
    ]
    assert "pip" in (environments[0].install_log or "")


async def test_a_worker_builds_environments_only_for_the_runtimes_it_offers(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        environ={
            "ATTUNE__DATA_DIR": str(tmp_path),
            "ATTUNE__WORKER__RUNTIMES": "shell",
            "HOME": os.environ.get("HOME", "/"),
        },
        base_dir=tmp_path,
    )
    async with Attune.embedded(settings=settings, packs=[ENVPACK]) as attune:
        echo = await attune.run("core.echo", {"message": "hi"}, timeout=60)
        async with attune.store.read() as uow:
            environments = await uow.pack_environments.list(pack_ref="envpack")

    assert echo.status is ExecutionStatus.COMPLETED, echo.result
    # envpack's actions are Python ones: a shell-only worker leaves them to a Python worker.
    assert environments == []
    assert not (tmp_path / "runtime_envs" / "envpack").exists()
