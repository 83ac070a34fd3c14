"""Runtime environments: a pack's isolated virtualenv or node_modules, outside the pack.

Rules of this file:

1. An environment lives at ``{runtime_envs_dir}/{pack}/{runtime}`` (per runtime version
   ``{runtime}-{version}``) and is built from the runtime's ``execution_config.environment`` and
   ``execution_config.dependencies``. Pack directories are only read: commands run in the
   environment directory, and the manifest is copied there (``npm install --prefix`` needs it).
2. A pack needs an environment only when it ships the runtime's manifest (``requirements.txt``,
   ``package.json``); otherwise the runtime's own interpreter is used and nothing is created.
3. Idempotent: a fingerprint (SHA-256 of the manifest and of the runtime's execution_config) is
   written to ``.attune-environment.json`` in the environment last, after every command
   succeeded. Same fingerprint and a healthy interpreter: nothing is done. Anything else
   (changed manifest, failed or interrupted build, broken venv whose interpreter symlink
   dangles) rebuilds from scratch.
4. Failures are answers, not exceptions: the result carries ``failed``, the reason and the full
   install log for pack_environment. Builds of the same environment are serialised with a file
   lock, so two workers sharing the directory do not build it twice at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import attrs

from attune_core.engine.worker._runner import default_base_environment
from attune_core.engine.worker._runtime import (
    DependencySpec,
    EnvironmentSpec,
    InterpreterSpec,
    find_executable,
    render_command,
    render_template,
    runtime_env_dir,
    runtime_env_vars,
)
from attune_core.model import PackEnvironmentStatus

__all__ = ["MARKER_FILE", "EnvironmentResult", "ensure_environment", "existing_environment"]

logger = logging.getLogger(__name__)

MARKER_FILE = ".attune-environment.json"
# Install logs are kept for pack_environment.install_log; pip and npm are chatty but a log past
# this size is noise, and its tail (kept below) is where the error is.
_MAX_LOG_BYTES = 1024 * 1024
_LOCK_POLL_SECONDS = 0.1


@attrs.frozen(kw_only=True)
class EnvironmentResult:
    """What :func:`ensure_environment` did.

    Attributes:
        env_dir: The environment directory, or ``None`` when the pack needs none (no manifest, or
            a runtime without environment settings). Pass it on as ``ActionInvocation.env_dir``
            when ``status`` is ``ready``.
        status: ``ready`` or ``failed`` (pack_environment statuses).
        changed: True when the environment was (re)built by this call.
        log: The commands run and their combined output (for pack_environment.install_log).
        error: Why the build failed, else ``None``.
        fingerprint: The manifest and configuration fingerprint of a ready environment.
    """

    env_dir: Path | None
    status: PackEnvironmentStatus
    changed: bool = False
    log: str = ""
    error: str | None = None
    fingerprint: str | None = None


class _BuildFailed(Exception):
    pass


def _fingerprint(manifest: bytes, execution_config: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(manifest)
    digest.update(b"\0")
    digest.update(json.dumps(execution_config, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _variables(
    execution_config: Mapping[str, Any], env_dir: Path, pack_dir: Path, manifest: Path | None
) -> dict[str, str | None]:
    variables: dict[str, str | None] = {
        "env_dir": str(env_dir),
        "pack_dir": str(pack_dir),
        "manifest_path": None if manifest is None else str(manifest),
        "interpreter": InterpreterSpec.from_config(execution_config).binary,
    }
    environment = EnvironmentSpec.from_config(execution_config)
    if environment is not None and environment.interpreter_path:
        # Dependencies go into the environment: "{interpreter}" is the environment's own.
        variables["interpreter"] = render_template(environment.interpreter_path, variables)
    return variables


def _healthy(
    env_dir: Path, environment: EnvironmentSpec | None, variables: Mapping[str, Any]
) -> bool:
    if not env_dir.is_dir():
        return False
    if environment is None or not environment.interpreter_path:
        return True
    path = render_template(environment.interpreter_path, variables)
    return path is not None and find_executable(path, None) is not None


def _read_marker(env_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((env_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def existing_environment(
    *,
    pack_ref: str,
    pack_dir: str | os.PathLike[str],
    runtime_ref: str,
    execution_config: Mapping[str, Any],
    runtime_envs_dir: str | os.PathLike[str],
    version: str | None = None,
) -> Path | None:
    """The lightweight check done at execution time (call it from a thread): the environment
    directory when it was built completely from the current manifest and its interpreter is
    usable, else ``None``. Reads two small files and checks one path; spawns nothing."""
    dependencies = DependencySpec.from_config(execution_config)
    if dependencies is None:
        return None
    env_dir = runtime_env_dir(runtime_envs_dir, pack_ref, runtime_ref, version)
    manifest = Path(pack_dir) / dependencies.manifest_file
    try:
        fingerprint = _fingerprint(manifest.read_bytes(), execution_config)
    except OSError:
        return None
    variables = _variables(execution_config, env_dir, Path(pack_dir), manifest)
    environment = EnvironmentSpec.from_config(execution_config)
    if _read_marker(env_dir).get("fingerprint") != fingerprint:
        return None
    return env_dir if _healthy(env_dir, environment, variables) else None


async def ensure_environment(
    *,
    pack_ref: str,
    pack_dir: str | os.PathLike[str],
    runtime_ref: str,
    execution_config: Mapping[str, Any],
    runtime_envs_dir: str | os.PathLike[str],
    version: str | None = None,
    command_timeout: float = 900.0,
    base_env: Mapping[str, str] | None = None,
) -> EnvironmentResult:
    """Create or update a pack's environment for one runtime (or runtime version).

    Args:
        pack_ref: The pack's ref (first directory level under ``runtime_envs_dir``).
        pack_dir: The pack directory, where the manifest is read (never written).
        runtime_ref: The runtime's ref; its last part names the environment directory.
        execution_config: The runtime's (or runtime version's) ``execution_config``.
        runtime_envs_dir: The root of all environments (setting ``runtime_envs_dir``).
        version: The runtime version, for a per-version environment ``{runtime}-{version}``.
        command_timeout: Seconds allowed for each command (venv creation, dependency
            install).
        base_env: Environment of the commands; :func:`default_base_environment` by default.

    Returns:
        The result, ``ready`` or ``failed``, with the install log.
    """
    environment = EnvironmentSpec.from_config(execution_config)
    dependencies = DependencySpec.from_config(execution_config)
    if environment is None and dependencies is None:
        return EnvironmentResult(env_dir=None, status=PackEnvironmentStatus.READY)
    pack_path = Path(pack_dir)
    manifest = None if dependencies is None else pack_path / dependencies.manifest_file
    if manifest is None or not manifest.is_file():
        return EnvironmentResult(
            env_dir=None,
            status=PackEnvironmentStatus.READY,
            log=f"no {dependencies.manifest_file if dependencies else 'manifest'} in the pack: "
            "the runtime's own interpreter is used",
        )
    env_dir = runtime_env_dir(runtime_envs_dir, pack_ref, runtime_ref, version)
    await anyio.to_thread.run_sync(lambda: env_dir.parent.mkdir(parents=True, exist_ok=True))
    lock_path = env_dir.parent / f".{env_dir.name}.lock"
    async with _file_lock(lock_path):
        return await _ensure_locked(
            execution_config=execution_config,
            environment=environment,
            dependencies=dependencies,
            env_dir=env_dir,
            pack_dir=pack_path,
            manifest=manifest,
            command_timeout=command_timeout,
            base_env=default_base_environment() if base_env is None else dict(base_env),
            log_extra={"pack_ref": pack_ref, "runtime_ref": runtime_ref, "version": version},
        )


async def _ensure_locked(
    *,
    execution_config: Mapping[str, Any],
    environment: EnvironmentSpec | None,
    dependencies: DependencySpec | None,
    env_dir: Path,
    pack_dir: Path,
    manifest: Path,
    command_timeout: float,
    base_env: dict[str, str],
    log_extra: dict[str, Any],
) -> EnvironmentResult:
    manifest_bytes = await anyio.Path(manifest).read_bytes()
    fingerprint = _fingerprint(manifest_bytes, execution_config)
    variables = _variables(execution_config, env_dir, pack_dir, manifest)
    marker = await anyio.to_thread.run_sync(_read_marker, env_dir)
    healthy = await anyio.to_thread.run_sync(_healthy, env_dir, environment, variables)
    if marker.get("fingerprint") == fingerprint and healthy:
        return EnvironmentResult(
            env_dir=env_dir,
            status=PackEnvironmentStatus.READY,
            log="environment is up to date",
            fingerprint=fingerprint,
        )
    if marker and not healthy:
        reason = "broken (its interpreter is missing); rebuilding"
    elif marker:
        reason = "outdated (manifest or runtime changed); rebuilding"
    else:
        reason = "missing or incomplete; building"
    logger.info("environment %s is %s", env_dir, reason, extra=log_extra)
    log: list[str] = [f"# environment {env_dir} is {reason}\n"]
    env = dict(base_env)
    env.update(runtime_env_vars(execution_config, variables))
    try:
        await anyio.to_thread.run_sync(_reset_directory, env_dir)
        if environment is not None and environment.create_command:
            await _run_step(
                "create", environment.create_command, variables, env_dir, env, command_timeout, log
            )
        await anyio.to_thread.run_sync(shutil.copyfile, manifest, env_dir / manifest.name)
        if dependencies is not None and dependencies.install_command:
            await _run_step(
                "install",
                dependencies.install_command,
                variables,
                env_dir,
                env,
                command_timeout,
                log,
            )
        if not await anyio.to_thread.run_sync(_healthy, env_dir, environment, variables):
            expected = environment.interpreter_path if environment else env_dir
            raise _BuildFailed(
                f"the environment's interpreter {expected} is missing after the build"
            )
        marker_data = {
            "fingerprint": fingerprint,
            "built_at": datetime.now(UTC).isoformat(),
            "manifest": manifest.name,
        }
        await anyio.Path(env_dir / MARKER_FILE).write_text(json.dumps(marker_data, indent=2))
    except _BuildFailed as exc:
        log.append(f"# failed: {exc}\n")
        logger.warning("environment %s failed: %s", env_dir, exc, extra=log_extra)
        return EnvironmentResult(
            env_dir=env_dir,
            status=PackEnvironmentStatus.FAILED,
            changed=True,
            log="".join(log),
            error=str(exc),
        )
    except OSError as exc:
        log.append(f"# failed: {exc}\n")
        return EnvironmentResult(
            env_dir=env_dir,
            status=PackEnvironmentStatus.FAILED,
            changed=True,
            log="".join(log),
            error=f"cannot prepare {env_dir}: {exc}",
        )
    log.append("# ready\n")
    return EnvironmentResult(
        env_dir=env_dir,
        status=PackEnvironmentStatus.READY,
        changed=True,
        log="".join(log),
        fingerprint=fingerprint,
    )


def _reset_directory(env_dir: Path) -> None:
    if env_dir.is_symlink() or env_dir.is_file():
        env_dir.unlink()
    elif env_dir.exists():
        shutil.rmtree(env_dir)
    env_dir.mkdir(parents=True)


async def _run_step(
    step: str,
    command: list[Any] | str,
    variables: Mapping[str, str | None],
    cwd: Path,
    env: Mapping[str, str],
    command_timeout: float,
    log: list[str],
) -> None:
    argv = render_command(command, variables)
    if argv is None or not argv:
        raise _BuildFailed(f"{step} command {command!r} uses a template variable with no value")
    log.append(f"$ {' '.join(argv)}\n")
    program = find_executable(argv[0], env.get("PATH"))
    if program is None:
        raise _BuildFailed(f"{step} command failed: {argv[0]!r} is not an executable on PATH")
    try:
        process = await anyio.open_process(
            [program, *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            env=dict(env),
            start_new_session=True,
        )
    except OSError as exc:
        raise _BuildFailed(f"{step} command cannot start: {exc}") from exc
    output = bytearray()
    dropped = 0

    async def read() -> None:
        nonlocal dropped
        assert process.stdout is not None
        async for chunk in process.stdout:
            output.extend(chunk)
            if len(output) > _MAX_LOG_BYTES:
                excess = len(output) - _MAX_LOG_BYTES
                del output[:excess]
                dropped += excess

    timed_out = False
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            with anyio.move_on_after(command_timeout) as scope:
                await process.wait()
            if scope.cancelled_caught:
                timed_out = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            await process.aclose()
    if dropped:
        log.append(f"[... {dropped} bytes of output not kept ...]\n")
    log.append(output.decode("utf-8", errors="replace"))
    if timed_out:
        raise _BuildFailed(f"{step} command timed out after {command_timeout:g} seconds")
    if process.returncode != 0:
        raise _BuildFailed(f"{step} command exited with code {process.returncode}")


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> Any:
    fd = await anyio.to_thread.run_sync(lambda: os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Another worker (maybe another process) is building this environment. flock has
                # no awaitable form, so poll; this is waiting on the OS, not scheduling by the
                # clock, hence anyio.sleep rather than the Clock port.
                await anyio.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
