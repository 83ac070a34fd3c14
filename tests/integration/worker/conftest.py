"""Fixtures of the worker's integration tests (helpers live in ``_support``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from attune_core.engine.worker import ProcessRunner, default_base_environment
from tests.integration.worker._support import write_script


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Create a pack directory with ``actions/{name}`` scripts: ``make_pack(name=text, ...)``."""
    root = tmp_path / "packs" / "testpack"

    def make(**scripts: str) -> Path:
        (root / "actions").mkdir(parents=True, exist_ok=True)
        for name, text in scripts.items():
            write_script(root / "actions" / name.replace("__", "."), text)
        return root

    return make


@pytest.fixture
def runner() -> ProcessRunner:
    """A runner with short grace periods, so kill paths finish fast.

    The test interpreter's directory comes first on PATH, as for a worker started from an
    activated virtualenv: ``python3`` is then a real interpreter, not a pyenv shim (a shim costs
    a quarter of a second per process, which the core pack tests would pay dozens of times).
    """
    env = default_base_environment()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return ProcessRunner(base_env=env, kill_grace=0.5, pipe_grace=0.5)
