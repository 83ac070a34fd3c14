"""The process runner: one execution of an action as a subprocess, per api-contract.md
"Action process contract and results".

Rules of this file:

1. Nothing blocks the event loop. The process is spawned and watched by
   :class:`~attune_core.engine.worker._process.ChildProcess` (loop callbacks on its pidfd and
   non-blocking pipes: no thread, no task per run); writing files (the parameter file, the
   inline script) and parsing large outputs run in a worker thread.
2. Every run ends in an :class:`ActionOutcome`; the runner never raises for anything the action or
   its runtime did wrong (missing interpreter, missing entry point, exec failure, crash, hang,
   binary output, 100 MB of output). Only cancellation of the caller propagates, and then the
   process tree is killed first.
3. Parameters and secrets never enter the environment: they reach the process on stdin, in a
   0400 file, or (ad-hoc ``core.shell``) as non-exported variables of the inline script. The
   environment is a small allow-list of the worker's own variables, the runtime's ``env_vars``,
   the execution's custom ``env_vars``, then the ``ATTUNE_*`` variables, which nothing overrides.
4. Each process is the leader of a new session, so its whole tree shares one process group: a
   timeout or a cancel sends SIGTERM to the group, waits ``kill_grace`` seconds for the process,
   then sends SIGKILL to the group (descendants that trapped SIGTERM included).
5. Output is read as it arrives on both pipes, each capped (see :class:`OutputCapture`). When the
   process has exited but descendants still hold its pipes, they get ``pipe_grace`` seconds,
   then the group is killed: what remains of the tree belongs to this execution.
6. Output is handed to an :data:`OutputListener` while the process runs, when the caller gives
   one: masked (:class:`LiveText`), at most once per ``stream_interval`` with whatever arrived
   meanwhile (never a call per line), the first time only after one interval, so an action that
   ends sooner costs nothing more. A slow or failing listener never holds up the pipes (they
   are read by loop callbacks) nor changes the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs

from attune_core.engine.worker._invocation import ActionInvocation, ActionOutcome
from attune_core.engine.worker._output import (
    LiveText,
    OutputCapture,
    failure_error,
    failure_result,
    mask_text,
    mask_value,
    parse_output,
    success_result,
)
from attune_core.engine.worker._params import build_inline_script, parameter_document
from attune_core.engine.worker._process import ChildProcess
from attune_core.engine.worker._runtime import (
    DependencySpec,
    InterpreterNotFound,
    InterpreterSpec,
    find_executable,
    render_command,
    resolve_interpreter,
    runtime_env_vars,
)
from attune_core.model import ExecutionStatus, LogChunk, ParameterDelivery

__all__ = ["BASE_ENV_NAMES", "OutputListener", "ProcessRunner", "default_base_environment"]

logger = logging.getLogger(__name__)

# The worker variables an action inherits: what programs need to find binaries, locales,
# temporary space, certificates and proxies. Everything else in the worker's environment
# (database URLs, encryption keys, ATTUNE_* settings) stays out of the action.
BASE_ENV_NAMES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "PYENV_ROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# The ad-hoc core.shell contract says "inline bash script".
_INLINE_SHELL = "bash"
_SHELL_RUNTIME = "core.shell"
# Decoding and parsing up to 10 MiB of JSON takes tens of milliseconds: above this size it moves
# off the event loop.
_PARSE_IN_THREAD_BYTES = 256 * 1024
# Output of a running process is handed out at most this often (seconds): five times a second
# reads as live in a browser, and costs a running action at most five listener calls a second
# whatever it prints. An action that ends within one interval is never streamed.
DEFAULT_STREAM_INTERVAL = 0.2
# A listener call that takes longer is abandoned (the pipes are read meanwhile anyway).
_LISTENER_TIMEOUT = 10.0

OutputListener = Callable[[Sequence[LogChunk]], Awaitable[None]]
"""Called while a process runs with the masked output that arrived since the previous call
(one chunk per stream that has new text; see :class:`LiveText`)."""


def default_base_environment() -> dict[str, str]:
    """The allow-listed part of this process's environment (:data:`BASE_ENV_NAMES`), with a
    default ``PATH`` and a UTF-8 ``LANG`` when the worker has none."""
    env = {name: os.environ[name] for name in BASE_ENV_NAMES if name in os.environ}
    env.setdefault("PATH", _DEFAULT_PATH)
    if "LANG" not in env and "LC_ALL" not in env:
        env["LANG"] = "C.UTF-8"
    return env


@attrs.frozen
class _Prepared:
    """A run ready to spawn, or the reason it cannot start."""

    argv: list[str] = attrs.Factory(list)
    cwd: str | None = None
    env: dict[str, str] = attrs.Factory(dict)
    stdin_payload: bytes | None = None
    scratch: _Scratch | None = None
    error: str | None = None


class _Scratch:
    """The private files of one run inside the runner's scratch directory."""

    def __init__(self, root: Path, execution_id: int) -> None:
        self._stem = f"{execution_id}-{secrets.token_hex(6)}"
        self._root = root
        self.paths: list[Path] = []
        self._directory: Path | None = None

    def write(self, name: str, content: bytes, *, mode: int = 0o400) -> Path:
        """Create ``{stem}.{name}`` readable only by its owner (api-contract.md: "a 0400 temp
        file" for parameters; 0500 for inline scripts)."""
        path = self._root / f"{self._stem}.{name}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        self.paths.append(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        return path

    @property
    def used(self) -> bool:
        """True when the run created files to remove."""
        return bool(self.paths) or self._directory is not None

    def directory(self) -> Path:
        """A private working directory, for actions with no pack directory."""
        if self._directory is None:
            self._directory = self._root / f"{self._stem}.d"
            self._directory.mkdir(mode=0o700)
        return self._directory

    def remove(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


class _CannotStart(Exception):
    """Internal: the reason a run fails before its process exists."""


@attrs.define
class _RunState:
    reason: str | None = None  # None, "timeout" or "cancel"


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _signal_group(pgid: int, signum: int) -> None:
    # Already gone (or reaped, and the id no longer ours to signal): nothing to kill.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class ProcessRunner:
    """Runs actions as subprocesses, one :meth:`run` per execution.

    A runner holds no per-run state and may run any number of executions concurrently.

    Args:
        base_env: The environment every action starts from; defaults to
            :func:`default_base_environment` taken when the runner is created.
        kill_grace: Seconds between SIGTERM and SIGKILL on timeout or cancel.
        pipe_grace: Seconds to wait for descendants still holding the pipes after the process
            exited, before the group is killed.
        scratch_dir: Where the runner's private directory (parameter files, inline scripts) is
            created; the system temporary directory by default. :meth:`close` removes it.
        stream_interval: Seconds between two calls of a run's output listener (rule 6).
    """

    def __init__(
        self,
        *,
        base_env: Mapping[str, str] | None = None,
        kill_grace: float = 2.0,
        pipe_grace: float = 1.0,
        scratch_dir: str | os.PathLike[str] | None = None,
        stream_interval: float = DEFAULT_STREAM_INTERVAL,
    ) -> None:
        self._base_env = dict(default_base_environment() if base_env is None else base_env)
        self._kill_grace = kill_grace
        self._pipe_grace = pipe_grace
        self._scratch_dir = None if scratch_dir is None else str(scratch_dir)
        self._scratch: Path | None = None
        self._scratch_lock = threading.Lock()
        self._stream_interval = stream_interval

    def close(self) -> None:
        """Remove the runner's scratch directory (runs in progress keep their files)."""
        with self._scratch_lock:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
                self._scratch = None

    async def run(
        self,
        invocation: ActionInvocation,
        *,
        cancel_event: anyio.Event | None = None,
        on_output: OutputListener | None = None,
    ) -> ActionOutcome:
        """Run one execution to its end.

        Args:
            invocation: What to run and how.
            cancel_event: When set, the process tree gets SIGTERM, then SIGKILL after the
                grace period, and the outcome is ``cancelled``.
            on_output: Given the masked output while the process runs (rule 6 of this file);
                the outcome holds the whole output either way.

        Returns:
            The outcome: ``completed`` (exit code 0), ``failed`` (non-zero exit, timeout, or the
            process could not be started) or ``cancelled``.
        """
        log_extra = {"execution_id": invocation.execution_id, "action_ref": invocation.action_ref}
        if cancel_event is not None and cancel_event.is_set():
            return _not_started(ExecutionStatus.CANCELLED, "Execution cancelled")
        if invocation.is_adhoc or invocation.parameter_delivery is ParameterDelivery.FILE:
            # Writes files (an inline script, a parameter file of any size): off the loop.
            prepared = await anyio.to_thread.run_sync(self._prepare, invocation)
        else:
            # A few path checks and a small dictionary: cheaper here than a thread round trip.
            prepared = self._prepare(invocation)
        try:
            if prepared.error is not None:
                logger.warning("execution cannot start: %s", prepared.error, extra=log_extra)
                return _not_started(ExecutionStatus.FAILED, prepared.error)
            return await self._spawn_and_wait(
                invocation, prepared, cancel_event, on_output, log_extra
            )
        finally:
            if prepared.scratch is not None and prepared.scratch.used:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(prepared.scratch.remove)

    # -- preparation (runs in a worker thread) -------------------------------------------------

    def _scratch_root(self) -> Path:
        """The runner's private directory (0700) for parameter files and inline scripts.

        One directory per runner, files per run: creating and removing a directory per run
        costs milliseconds on ext4, creating and unlinking a file costs microseconds.
        """
        with self._scratch_lock:
            if self._scratch is None or not self._scratch.is_dir():
                self._scratch = Path(
                    tempfile.mkdtemp(prefix="attune-worker-", dir=self._scratch_dir)
                )
            return self._scratch

    def _prepare(self, invocation: ActionInvocation) -> _Prepared:
        scratch = _Scratch(self._scratch_root(), invocation.execution_id)
        try:
            env = self._environment(invocation)
            payload = parameter_document(
                invocation.parameters, invocation.secrets, invocation.parameter_format
            )
            argv = self._command(invocation, env, scratch)
            stdin_payload: bytes | None = payload
            if invocation.parameter_delivery is ParameterDelivery.FILE:
                env["ATTUNE_PARAMETER_FILE"] = str(scratch.write("parameters", payload))
                stdin_payload = None
            pack_dir = invocation.pack_dir
            cwd = pack_dir if pack_dir is not None and pack_dir.is_dir() else scratch.directory()
            return _Prepared(
                argv=argv, cwd=str(cwd), env=env, stdin_payload=stdin_payload, scratch=scratch
            )
        except _CannotStart as exc:
            return _Prepared(scratch=scratch, error=str(exc))
        except OSError as exc:
            return _Prepared(scratch=scratch, error=f"Cannot prepare the execution: {exc}")

    def _template_variables(self, invocation: ActionInvocation) -> dict[str, str | None]:
        config = invocation.execution_config
        dependencies = DependencySpec.from_config(config)
        pack_dir = invocation.pack_dir
        manifest = (
            str(pack_dir / dependencies.manifest_file)
            if dependencies is not None and pack_dir is not None
            else None
        )
        return {
            "env_dir": None if invocation.env_dir is None else str(invocation.env_dir),
            "pack_dir": None if pack_dir is None else str(pack_dir),
            "manifest_path": manifest,
            "interpreter": InterpreterSpec.from_config(config).binary,
        }

    def _environment(self, invocation: ActionInvocation) -> dict[str, str]:
        env = {
            name: value for name, value in self._base_env.items() if not name.startswith("ATTUNE")
        }
        variables = self._template_variables(invocation)
        env.update(runtime_env_vars(invocation.execution_config, variables))
        env.update({str(name): str(value) for name, value in invocation.env_vars.items()})
        attune = {
            "ATTUNE_ACTION": invocation.action_ref,
            "ATTUNE_EXEC_ID": str(invocation.execution_id),
            "ATTUNE_API_URL": invocation.api_url,
            "ATTUNE_API_TOKEN": invocation.api_token,
            "ATTUNE_RULE": invocation.rule_ref,
            "ATTUNE_TRIGGER": invocation.trigger_ref,
            "ATTUNE_ARTIFACTS_DIR": (
                None if invocation.artifacts_dir is None else str(invocation.artifacts_dir)
            ),
            "ATTUNE_PARAMETER_DELIVERY": str(invocation.parameter_delivery),
            "ATTUNE_PARAMETER_FORMAT": str(invocation.parameter_format),
        }
        # Custom env_vars cannot impersonate the platform's variables.
        for name in [name for name in env if name.startswith("ATTUNE_")]:
            del env[name]
        env.update({name: value for name, value in attune.items() if value is not None})
        return env

    def _interpreter(self, invocation: ActionInvocation, env: Mapping[str, str]) -> str | None:
        """The interpreter to run the entry point with, or ``None`` for native."""
        try:
            return resolve_interpreter(
                invocation.execution_config,
                self._template_variables(invocation),
                env_dir=invocation.env_dir,
                path=env.get("PATH"),
                runtime_ref=invocation.runtime_ref,
            )
        except InterpreterNotFound as exc:
            raise _CannotStart(str(exc)) from None

    def _command(
        self, invocation: ActionInvocation, env: Mapping[str, str], scratch: _Scratch
    ) -> list[str]:
        config = invocation.execution_config
        spec = InterpreterSpec.from_config(config)
        args = render_command(list(spec.args), self._template_variables(invocation))
        if args is None:
            raise _CannotStart(
                f"Interpreter arguments of runtime {invocation.runtime_ref} need a runtime "
                "environment, and there is none"
            )
        if invocation.is_adhoc:
            return self._adhoc_command(invocation, env, args, spec, scratch)
        interpreter = self._interpreter(invocation, env)
        script = self._entry_point(invocation, native=interpreter is None)
        if interpreter is None:
            return [str(script)]
        return [interpreter, *args, str(script)]

    def _adhoc_command(
        self,
        invocation: ActionInvocation,
        env: Mapping[str, str],
        args: list[str],
        spec: InterpreterSpec,
        scratch: _Scratch,
    ) -> list[str]:
        if invocation.runtime_ref == _SHELL_RUNTIME:
            program = spec.binary or _INLINE_SHELL
            shell = find_executable(program, env.get("PATH"))
            if shell is None:
                raise _CannotStart(f"Interpreter not found: {program!r} is not on PATH")
            text = build_inline_script(
                invocation.entrypoint, invocation.parameters, invocation.secrets
            )
            script = scratch.write("sh", text.encode(), mode=0o500)
            return [shell, str(script)]
        interpreter = self._interpreter(invocation, env)
        if interpreter is None:
            raise _CannotStart(
                f"Ad-hoc action {invocation.action_ref} has a native runtime: an inline script "
                "needs a runtime with an interpreter"
            )
        extension = spec.file_extension.lstrip(".") or "script"
        script = scratch.write(extension, invocation.entrypoint.encode(), mode=0o500)
        return [interpreter, *args, str(script)]

    def _entry_point(self, invocation: ActionInvocation, *, native: bool) -> Path:
        if invocation.pack_dir is None:
            raise _CannotStart(f"Action {invocation.action_ref} has no pack directory")
        actions_dir = invocation.pack_dir / "actions"
        entry = invocation.entrypoint.strip()
        if not entry:
            raise _CannotStart(f"Action {invocation.action_ref} has no entry point")
        relative = os.path.normpath(entry)
        if os.path.isabs(entry) or relative == ".." or relative.startswith(".." + os.sep):
            raise _CannotStart(
                f"Entry point {entry!r} is outside the pack's actions directory {actions_dir}"
            )
        script = actions_dir / relative
        if not script.is_file():
            raise _CannotStart(f"Entry point not found: {script}")
        if native and not os.access(script, os.X_OK):
            raise _CannotStart(
                f"Entry point is not executable: {script} (a native action runs the file "
                "directly; set its executable bit)"
            )
        return script

    # -- the process ---------------------------------------------------------------------------

    async def _spawn_and_wait(
        self,
        invocation: ActionInvocation,
        prepared: _Prepared,
        cancel_event: anyio.Event | None,
        on_output: OutputListener | None,
        log_extra: dict[str, Any],
    ) -> ActionOutcome:
        stdout = OutputCapture("stdout", invocation.max_stdout_bytes)
        stderr = OutputCapture("stderr", invocation.max_stderr_bytes)
        state = _RunState()
        started = time.monotonic()
        try:
            process = ChildProcess(
                prepared.argv,
                cwd=prepared.cwd,
                env=prepared.env,
                stdin_payload=prepared.stdin_payload,
                stdout=stdout,
                stderr=stderr,
            )
        except OSError as exc:
            reason = f"Cannot start {prepared.argv[0]}: {exc.strerror or exc}"
            logger.warning("execution cannot start: %s", reason, extra=log_extra)
            return _not_started(ExecutionStatus.FAILED, reason)
        logger.debug("execution process %s started", process.pid, extra=log_extra)
        streaming: asyncio.Task[None] | None = None
        try:
            if on_output is not None and not await process.wait(self._stream_interval):
                # Still running after one interval: its output is handed out while it runs
                # (rule 6); a run that ends sooner costs nothing more.
                streaming = asyncio.ensure_future(
                    _stream_output(
                        on_output, invocation.masked, (stdout, stderr), self._stream_interval
                    )
                )
            await self._wait_or_terminate(process, invocation.timeout, cancel_event, state)
            if not await process.wait_drained(self._pipe_grace):
                # The process is gone but descendants still hold its pipes.
                _signal_group(process.pid, signal.SIGKILL)
                await process.wait_drained(self._pipe_grace)
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    # Only reached when our caller was cancelled: take the tree down with us.
                    _signal_group(process.pid, signal.SIGKILL)
                    await process.wait()
                # If descendants escaped the group (setsid) while keeping the pipes, what they
                # print from now on is not read.
                process.close()
                if streaming is not None:
                    streaming.cancel()
                    await asyncio.wait((streaming,))
        duration_ms = int((time.monotonic() - started) * 1000)
        exit_code = process.returncode
        assert exit_code is not None
        outcome = await self._outcome(invocation, state, exit_code, duration_ms, stdout, stderr)
        logger.info(
            "execution finished: %s (exit code %s, %d ms)",
            outcome.status,
            exit_code,
            duration_ms,
            extra=log_extra,
        )
        return outcome

    async def _wait_or_terminate(
        self,
        process: ChildProcess,
        limit: float | None,
        cancel_event: anyio.Event | None,
        state: _RunState,
    ) -> None:
        timeout = limit if limit is not None and limit > 0 else None
        if cancel_event is None:
            exited = await process.wait(timeout)
        else:
            cancelled = asyncio.ensure_future(cancel_event.wait())
            try:
                exit_seen = asyncio.ensure_future(process.wait())
                done, _ = await asyncio.wait(
                    (exit_seen, cancelled), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                exit_seen.cancel()
            finally:
                cancelled.cancel()
            exited = process.returncode is not None
            if not exited and cancelled in done:
                state.reason = "cancel"
        if exited:
            # Ended on its own (also in the same instant as a timeout or cancel: its own exit
            # code stands).
            return
        if state.reason is None:
            state.reason = "timeout"
        _signal_group(process.pid, signal.SIGTERM)
        await process.wait(self._kill_grace)
        # Whatever is left of the tree (and the process itself if it ignored SIGTERM).
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()

    async def _outcome(
        self,
        invocation: ActionInvocation,
        state: _RunState,
        exit_code: int,
        duration_ms: int,
        stdout: OutputCapture,
        stderr: OutputCapture,
    ) -> ActionOutcome:
        if stdout.total + stderr.total > _PARSE_IN_THREAD_BYTES:
            return await anyio.to_thread.run_sync(
                _build_outcome, invocation, state.reason, exit_code, duration_ms, stdout, stderr
            )
        return _build_outcome(invocation, state.reason, exit_code, duration_ms, stdout, stderr)


def _not_started(status: ExecutionStatus, reason: str) -> ActionOutcome:
    return ActionOutcome(
        status=status,
        result=failure_result(exit_code=None, duration_ms=0, error=reason),
        error=reason,
    )


def _write_logs(log_dir: Path, stdout: str, stderr: str) -> str | None:
    """Write stdout.log and stderr.log, each only when the action printed something there
    (a quiet action leaves no directory behind: creating one costs more than its run's
    bookkeeping); return the stderr log's path when there is stderr."""
    if not stdout and not stderr:
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    if stdout:
        (log_dir / "stdout.log").write_text(stdout, encoding="utf-8", errors="replace")
    if not stderr:
        return None
    stderr_path = log_dir / "stderr.log"
    stderr_path.write_text(stderr, encoding="utf-8", errors="replace")
    os.chmod(stderr_path, stat.S_IRUSR | stat.S_IWUSR)
    return str(stderr_path)


def _build_outcome(
    invocation: ActionInvocation,
    reason: str | None,
    exit_code: int,
    duration_ms: int,
    stdout: OutputCapture,
    stderr: OutputCapture,
) -> ActionOutcome:
    masked = invocation.masked
    stdout_text = mask_text(stdout.text(), masked)
    stderr_text = mask_text(stderr.text(), masked)
    stderr_log = None
    if invocation.log_dir is not None:
        try:
            stderr_log = _write_logs(invocation.log_dir, stdout_text, stderr_text)
        except OSError as exc:
            logger.warning(
                "cannot write execution logs to %s: %s",
                invocation.log_dir,
                exc,
                extra={"execution_id": invocation.execution_id},
            )
    timed_out = reason == "timeout"
    if reason is not None or exit_code != 0:
        if timed_out:
            assert invocation.timeout is not None
            error = f"Execution timed out after {_format_seconds(invocation.timeout)} seconds"
            status = ExecutionStatus.FAILED
        elif reason == "cancel":
            error = "Execution cancelled"
            status = ExecutionStatus.CANCELLED
        else:
            kept_stderr = stderr.kept_bytes.decode("utf-8", errors="replace")
            error = failure_error(exit_code, kept_stderr)
            status = ExecutionStatus.FAILED
        result = failure_result(
            exit_code=exit_code,
            duration_ms=duration_ms,
            error=error,
            stdout=stdout_text,
            stdout_truncated=stdout.truncated,
            stderr_log=stderr_log,
        )
    else:
        has_data, data, parse_error = parse_output(
            stdout.kept_bytes.decode("utf-8", errors="replace"),
            invocation.output_format,
            truncated=stdout.truncated,
        )
        status = ExecutionStatus.COMPLETED
        error = None
        result = success_result(
            duration_ms=duration_ms,
            stdout=stdout_text,
            stdout_truncated=stdout.truncated,
            has_data=has_data,
            data=data,
            parse_error=parse_error,
            stderr_log=stderr_log,
        )
    if masked:
        # Parsed data and the error (the last stderr line) come from the raw output.
        result = mask_value(result, masked)
        error = None if error is None else mask_text(error, masked)
    return ActionOutcome(
        status=status,
        result=result,
        stdout=stdout_text,
        stderr=stderr_text,
        exit_code=exit_code,
        duration_ms=duration_ms,
        timed_out=timed_out,
        error=error,
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
    )


async def _stream_output(
    listener: OutputListener,
    masked: tuple[str, ...],
    captures: tuple[OutputCapture, ...],
    interval: float,
) -> None:
    """Hand the output to ``listener`` now, then every ``interval`` seconds until cancelled
    (rule 6; started once the run has lasted one interval)."""
    texts = [LiveText(capture, masked) for capture in captures]
    while True:
        chunks = [chunk for chunk in (text.take() for text in texts) if chunk is not None]
        if chunks:
            # Shielded: the run ending while a listener call is under way lets it finish.
            with anyio.CancelScope(shield=True), anyio.move_on_after(_LISTENER_TIMEOUT):
                try:
                    await listener(chunks)
                except Exception:
                    logger.warning("output listener failed; the run goes on", exc_info=True)
        await anyio.sleep(interval)
