"""Runtime environments with real tools: a Python virtualenv from requirements.txt (pip), a
Node.js node_modules from package.json (npm), idempotence, rebuilds, failures, and actions
running inside the environment. Pack directories are never written.

The mechanics tests use a fast Python configuration (a venv without pip, dependencies installed
by the test interpreter's pip with ``--python``); one test builds with the core pack's own
core.python settings end to end, one with core.nodejs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from attune_core.engine.worker import (
    MARKER_FILE,
    ProcessRunner,
    ensure_environment,
    existing_environment,
    runtime_env_dir,
)
from attune_core.model import ExecutionStatus, PackEnvironmentStatus
from tests.integration.worker._support import core_runtime, shell_invocation, write_script

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAST_PYTHON: dict[str, Any] = {
    "interpreter": {"binary": sys.executable, "args": ["-u"], "file_extension": ".py"},
    "environment": {
        "type": "virtualenv",
        "create_command": [sys.executable, "-m", "venv", "--without-pip", "{env_dir}"],
        "interpreter_path": "{env_dir}/bin/python3",
    },
    "dependencies": {
        "manifest_file": "requirements.txt",
        "install_command": [
            sys.executable,
            "-m",
            "pip",
            "--python",
            "{interpreter}",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "-r",
            "{manifest_path}",
        ],
    },
    "env_vars": {"PYTHONDONTWRITEBYTECODE": "1", "VIRTUAL_ENV": "{env_dir}"},
}

USE_DEP = "import attune_testdep, sys\nprint(attune_testdep.VALUE, sys.prefix)\n"


def build_wheel(directory: Path, value: str = "from the environment") -> Path:
    """A minimal pure-Python wheel, so installs need no network and no build backend."""
    files = {
        "attune_testdep.py": f"VALUE = {value!r}\n".encode(),
        "attune_testdep-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.1\nName: attune-testdep\nVersion: 1.0\n"
        ),
        "attune_testdep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: attune-tests\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(content)}")
    record.append("attune_testdep-1.0.dist-info/RECORD,,")
    files["attune_testdep-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / "attune_testdep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return wheel


def python_pack(root: Path, wheel: Path) -> Path:
    pack = root / "packs" / "pypack"
    write_script(pack / "actions" / "use_dep.py", USE_DEP)
    (pack / "requirements.txt").write_text(f"--no-index\n{wheel}\n")
    return pack


def snapshot(directory: Path) -> dict[str, tuple[int, float]]:
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime)
        for path in sorted(directory.rglob("*"))
    }


async def ensure(pack: Path, envs: Path, config: dict[str, Any], **kwargs: Any) -> Any:
    return await ensure_environment(
        pack_ref=pack.name,
        pack_dir=pack,
        runtime_ref="core.python",
        execution_config=config,
        runtime_envs_dir=envs,
        **kwargs,
    )


async def test_python_environment_lifecycle(tmp_path: Path, runner: ProcessRunner) -> None:
    envs = tmp_path / "runtime_envs"
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    before = snapshot(pack)

    first = await ensure(pack, envs, FAST_PYTHON)
    assert first.status is PackEnvironmentStatus.READY, first.log
    assert first.changed
    assert first.env_dir == envs / "pypack" / "python"
    assert "Successfully installed attune-testdep-1.0" in first.log
    assert (first.env_dir / MARKER_FILE).is_file()
    assert (first.env_dir / "requirements.txt").read_text() == (
        pack / "requirements.txt"
    ).read_text()

    # The action runs with the environment's interpreter and sees the installed package.
    outcome = await runner.run(
        shell_invocation(
            pack,
            "use_dep.py",
            runtime_ref="core.python",
            execution_config=FAST_PYTHON,
            env_dir=first.env_dir,
        )
    )
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    assert outcome.stdout == f"from the environment {first.env_dir}\n"

    # Idempotent.
    again = await ensure(pack, envs, FAST_PYTHON)
    assert (again.status, again.changed, again.log) == (
        PackEnvironmentStatus.READY,
        False,
        "environment is up to date",
    )
    assert again.fingerprint == first.fingerprint
    assert (
        existing_environment(
            pack_ref="pypack",
            pack_dir=pack,
            runtime_ref="core.python",
            execution_config=FAST_PYTHON,
            runtime_envs_dir=envs,
        )
        == first.env_dir
    )

    # A broken venv (its interpreter symlink dangles) is detected and rebuilt.
    interpreter = first.env_dir / "bin" / "python3"
    interpreter.unlink()
    interpreter.symlink_to(tmp_path / "vanished" / "python3")
    assert (
        existing_environment(
            pack_ref="pypack",
            pack_dir=pack,
            runtime_ref="core.python",
            execution_config=FAST_PYTHON,
            runtime_envs_dir=envs,
        )
        is None
    )
    repaired = await ensure(pack, envs, FAST_PYTHON)
    assert repaired.status is PackEnvironmentStatus.READY
    assert repaired.changed
    assert "broken" in repaired.log
    assert os.access(interpreter, os.X_OK)

    assert snapshot(pack) == before, "the pack directory was written to"

    # A changed manifest rebuilds.
    (pack / "requirements.txt").write_text(f"--no-index\n{build_wheel(tmp_path / 'w2', 'v2')}\n")
    before = snapshot(pack)
    assert (
        existing_environment(
            pack_ref="pypack",
            pack_dir=pack,
            runtime_ref="core.python",
            execution_config=FAST_PYTHON,
            runtime_envs_dir=envs,
        )
        is None
    ), "an environment built from another manifest is not used"
    updated = await ensure(pack, envs, FAST_PYTHON)
    assert updated.changed
    assert "outdated" in updated.log
    assert updated.fingerprint != first.fingerprint
    outcome = await runner.run(
        shell_invocation(pack, "use_dep.py", execution_config=FAST_PYTHON, env_dir=updated.env_dir)
    )
    assert outcome.stdout.startswith("v2 ")

    assert snapshot(pack) == before, "the pack directory was written to"


async def test_a_pack_without_manifest_needs_no_environment(tmp_path: Path) -> None:
    pack = tmp_path / "packs" / "plain"
    (pack / "actions").mkdir(parents=True)
    result = await ensure(pack, tmp_path / "envs", FAST_PYTHON)
    assert result.env_dir is None
    assert result.status is PackEnvironmentStatus.READY
    assert not (tmp_path / "envs" / "plain" / "python").exists()


async def test_a_runtime_without_environment_settings_needs_none(tmp_path: Path) -> None:
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    result = await ensure(pack, tmp_path / "envs", {"interpreter": {"binary": "bash"}})
    assert (result.env_dir, result.status) == (None, PackEnvironmentStatus.READY)


async def test_a_failing_install_is_reported_and_retried_next_time(tmp_path: Path) -> None:
    pack = tmp_path / "packs" / "broken"
    (pack / "actions").mkdir(parents=True)
    (pack / "requirements.txt").write_text(f"--no-index\n{tmp_path}/missing-1.0-py3-none-any.whl\n")
    result = await ensure(pack, tmp_path / "envs", FAST_PYTHON)
    assert result.status is PackEnvironmentStatus.FAILED
    assert result.error == "install command exited with code 1"
    assert "missing-1.0-py3-none-any.whl" in result.log
    assert result.env_dir is not None
    assert not (result.env_dir / MARKER_FILE).exists()
    (pack / "requirements.txt").write_text("--no-index\n")
    assert (
        await ensure(pack, tmp_path / "envs", FAST_PYTHON)
    ).status is PackEnvironmentStatus.READY


async def test_a_missing_tool_is_reported(tmp_path: Path) -> None:
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    config = {**FAST_PYTHON, "environment": {"create_command": ["no-such-venv-tool", "{env_dir}"]}}
    result = await ensure(pack, tmp_path / "envs", config)
    assert result.status is PackEnvironmentStatus.FAILED
    assert result.error == "create command failed: 'no-such-venv-tool' is not an executable on PATH"


async def test_a_hanging_install_times_out(tmp_path: Path) -> None:
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    config = {
        **FAST_PYTHON,
        "dependencies": {"manifest_file": "requirements.txt", "install_command": ["sleep", "30"]},
    }
    # Long enough for the venv creation step on a loaded machine; the install sleeps 30 s.
    result = await ensure(pack, tmp_path / "envs", config, command_timeout=5)
    assert result.status is PackEnvironmentStatus.FAILED
    assert result.error == "install command timed out after 5 seconds"


async def test_per_version_environment_directory(tmp_path: Path) -> None:
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    result = await ensure(pack, tmp_path / "envs", FAST_PYTHON, version="3.11")
    assert result.env_dir == runtime_env_dir(tmp_path / "envs", "pypack", "core.python", "3.11")
    assert result.env_dir.name == "python-3.11"
    assert result.status is PackEnvironmentStatus.READY


async def test_core_python_runtime_end_to_end(tmp_path: Path) -> None:
    """core.python's own settings: python3 -m venv --copies, then the venv's pip."""
    config = core_runtime("core.python")["execution_config"]
    pack = python_pack(tmp_path, build_wheel(tmp_path / "wheels"))
    before = snapshot(pack)
    result = await ensure(pack, tmp_path / "envs", config)
    assert result.status is PackEnvironmentStatus.READY, result.log
    runner = ProcessRunner()
    outcome = await runner.run(
        shell_invocation(
            pack,
            "use_dep.py",
            runtime_ref="core.python",
            execution_config=config,
            env_dir=result.env_dir,
        )
    )
    assert outcome.stdout == f"from the environment {result.env_dir}\n", outcome.result
    assert snapshot(pack) == before


async def test_core_nodejs_runtime_end_to_end(tmp_path: Path, runner: ProcessRunner) -> None:
    config = core_runtime("core.nodejs")["execution_config"]
    library = tmp_path / "lib" / "attune-testdep"
    library.mkdir(parents=True)
    (library / "package.json").write_text(
        json.dumps({"name": "attune-testdep", "version": "1.0.0"})
    )
    (library / "index.js").write_text("module.exports = { value: 'from node_modules' };\n")
    pack = tmp_path / "packs" / "nodepack"
    write_script(
        pack / "actions" / "use_dep.js",
        "const dep = require('attune-testdep');\n"
        "let input = '';\n"
        "process.stdin.on('data', (c) => (input += c));\n"
        "process.stdin.on('end', () => console.log(dep.value, JSON.parse(input).n));\n",
    )
    (pack / "package.json").write_text(
        json.dumps(
            {
                "name": "nodepack",
                "version": "1.0.0",
                "dependencies": {"attune-testdep": f"file:{library}"},
            }
        )
    )
    before = snapshot(pack)
    result = await ensure_environment(
        pack_ref="nodepack",
        pack_dir=pack,
        runtime_ref="core.nodejs",
        execution_config=config,
        runtime_envs_dir=tmp_path / "envs",
        version="20",
    )
    assert result.status is PackEnvironmentStatus.READY, result.log
    assert result.env_dir == tmp_path / "envs" / "nodepack" / "nodejs-20"
    assert (result.env_dir / "node_modules" / "attune-testdep").exists()
    outcome = await runner.run(
        shell_invocation(
            pack,
            "use_dep.js",
            runtime_ref="core.nodejs",
            execution_config=config,
            env_dir=result.env_dir,
            parameters={"n": 7},
        )
    )
    assert outcome.stdout == "from node_modules 7\n", outcome.result
    assert snapshot(pack) == before, "npm wrote into the pack directory"
