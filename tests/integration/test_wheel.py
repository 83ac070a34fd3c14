"""The built wheel, installed alone into a fresh virtualenv, finds its payload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, json, sys, tempfile
import attune_core
from attune_core.resources import migrations_dir, packs_dir, web_dir
from attune_core.storage import Store, migrate

async def migrated_revision():
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/a.db")
        await migrate.upgrade(store.engine)
        revision = await migrate.current(store.engine)
        await store.close()
        return revision

print(json.dumps({
    "package": attune_core.__file__,
    "packs": str(packs_dir()),
    "core_pack": (packs_dir() / "core" / "pack.yaml").is_file(),
    "migrations": str(migrations_dir()),
    "versions": sorted(p.name for p in (migrations_dir() / "versions").glob("*.py")),
    "revision": asyncio.run(migrated_revision()),
    "head": migrate.head(),
    "web": str(web_dir()),
}))
"""


def test_wheel_installs_and_finds_migrations_core_pack_and_web_ui(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("attune-*.whl")

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Dependencies come from the test's own environment, appended after the fresh venv's
    # site-packages so the installed wheel (not the source checkout) provides attune_core.
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}
    probe = tmp_path / "probe.py"
    probe.write_text(f"import sys; sys.path.append({deps!r})\n" + PROBE)
    out = subprocess.run(
        [python, str(probe)], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    site = str(env_dir)
    assert found["package"].startswith(site)
    assert found["packs"].startswith(site) and found["packs"].endswith("attune_core/_data/packs")
    assert found["core_pack"] is True
    assert found["migrations"].startswith(site)
    assert "0001_initial_schema.py" in found["versions"]
    assert found["revision"] == found["head"]
    # the built web UI ships inside the wheel (make test builds web/dist first)
    assert found["web"].startswith(site) and found["web"].endswith("attune_core/_data/web")

    version = subprocess.run(
        [env_dir / "bin" / "attune", "--version"],
        env={**env, "PYTHONPATH": deps},
        check=True,
        capture_output=True,
        text=True,
    )
    assert version.stdout.startswith("attune, version ")
