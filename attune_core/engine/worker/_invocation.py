"""What the process runner is given (:class:`ActionInvocation`) and what it answers
(:class:`ActionOutcome`).

Rules of this file:

1. An invocation carries everything needed to run one execution with no database: the caller
   (the worker service, the test kit) resolves the action, its runtime (or the selected runtime
   version's ``execution_config``), the parameters, the secrets and the environment directory
   before it asks the runner.
2. Both classes are frozen values; the runner never mutates its input.
3. ``ActionOutcome.result`` is exactly the ``execution.result`` document of api-contract.md
   ("Action process contract and results"); anything the contract does not name is either a
   documented optional key (``parse_error``, ``stdout_truncated``, ``stderr_log``) or lives on
   the outcome itself (``stderr``, ``timed_out``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from attune_core.model import ExecutionStatus, OutputFormat, ParameterDelivery, ParameterFormat

__all__ = ["DEFAULT_OUTPUT_CAP", "DEFAULT_TIMEOUT", "ActionInvocation", "ActionOutcome"]

# api-contract.md: "stdout/stderr are kept up to 10 MiB each (configurable)".
DEFAULT_OUTPUT_CAP = 10 * 1024 * 1024
# api-contract.md: "Timeout (default 300 s, per action or per workflow task)".
DEFAULT_TIMEOUT = 300.0


def _as_path(value: str | Path | None) -> Path | None:
    # A Path is kept as it is: attrs.evolve converts every field again, and parsing a path
    # anew costs more than the rest of the conversion.
    return value if value is None or isinstance(value, Path) else Path(value)


def _as_strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class ActionInvocation:
    """Everything needed to run one execution of an action as a subprocess.

    Attributes:
        execution_id: The execution's id (``ATTUNE_EXEC_ID``).
        action_ref: The action's ref (``ATTUNE_ACTION``).
        pack_ref: The pack the action belongs to.
        pack_dir: The pack directory: working directory of the process, and the root of
            ``actions/{entrypoint}`` for pack actions. ``None`` for ad-hoc actions with no pack
            files (they then run in a private temporary directory).
        entrypoint: For pack actions the script path relative to ``{pack_dir}/actions``; for
            ad-hoc actions the inline script text.
        is_adhoc: True for actions created through the API (inline scripts).
        runtime_ref: The runtime's ref (``core.shell``, ``core.python``, ...), or ``None``.
        execution_config: The runtime's (or selected runtime version's) ``execution_config``.
            Empty means native: the entry point is executed directly.
        parameters: The validated parameters (defaults applied), secrets included in clear.
        secrets: Keys made available to the action, by key name.
        parameter_delivery: ``stdin`` or ``file``.
        parameter_format: ``json``, ``dotenv`` or ``yaml``.
        output_format: ``text``, ``json``, ``yaml`` or ``jsonl``.
        timeout: Seconds before the process tree is killed; ``None`` means no limit.
        env_vars: Custom environment variables of the execution (``execution.env_vars``).
        rule_ref: ``ATTUNE_RULE`` when a rule caused the execution.
        trigger_ref: ``ATTUNE_TRIGGER`` when a trigger caused the execution.
        api_url: ``ATTUNE_API_URL``, an API address reachable from the action.
        api_token: ``ATTUNE_API_TOKEN``, an execution-scoped token.
        artifacts_dir: ``ATTUNE_ARTIFACTS_DIR``, where the action may write files.
        env_dir: The runtime environment directory (virtualenv, node_modules prefix), or None.
        log_dir: When set, ``stdout.log`` and ``stderr.log`` are written there and the result
            names the stderr log (``stderr_log``).
        max_stdout_bytes: Bytes of stdout kept; the rest is counted and dropped.
        max_stderr_bytes: Bytes of stderr kept; the rest is counted and dropped.
        masked: Secret strings (see ``secret_needles``) replaced by ``********`` in everything
            the run produces: stdout, stderr, the log files and the result.
    """

    execution_id: int
    action_ref: str
    pack_ref: str
    pack_dir: Path | None = attrs.field(default=None, converter=_as_path)
    entrypoint: str
    is_adhoc: bool = False
    runtime_ref: str | None = None
    execution_config: dict[str, Any] = attrs.Factory(dict)
    parameters: dict[str, Any] = attrs.Factory(dict)
    secrets: dict[str, Any] = attrs.Factory(dict)
    parameter_delivery: ParameterDelivery = attrs.field(
        default=ParameterDelivery.STDIN, converter=ParameterDelivery
    )
    parameter_format: ParameterFormat = attrs.field(
        default=ParameterFormat.JSON, converter=ParameterFormat
    )
    output_format: OutputFormat = attrs.field(default=OutputFormat.TEXT, converter=OutputFormat)
    timeout: float | None = DEFAULT_TIMEOUT
    env_vars: dict[str, str] = attrs.Factory(dict)
    rule_ref: str | None = None
    trigger_ref: str | None = None
    api_url: str | None = None
    api_token: str | None = None
    artifacts_dir: Path | None = attrs.field(default=None, converter=_as_path)
    env_dir: Path | None = attrs.field(default=None, converter=_as_path)
    log_dir: Path | None = attrs.field(default=None, converter=_as_path)
    max_stdout_bytes: int = DEFAULT_OUTPUT_CAP
    max_stderr_bytes: int = DEFAULT_OUTPUT_CAP
    masked: tuple[str, ...] = attrs.field(default=(), converter=_as_strings)


@attrs.frozen(kw_only=True)
class ActionOutcome:
    """How one run ended.

    Attributes:
        status: ``completed``, ``failed`` (a timeout too) or ``cancelled``.
        result: The ``execution.result`` document (see docs/actions.md).
        stdout: What the process printed on stdout, capped, with the truncation marker.
        stderr: What the process printed on stderr, capped, with the truncation marker.
        exit_code: The exit code; negative when a signal ended the process; ``None`` when no
            process was started (missing interpreter, missing entry point, cancelled early).
        duration_ms: Milliseconds from spawn to exit (0 when nothing was spawned).
        timed_out: True when the timeout killed the process tree.
        error: The reason of a failure or cancellation, else ``None``.
        stdout_truncated: True when stdout went over its cap.
        stderr_truncated: True when stderr went over its cap.
    """

    status: ExecutionStatus
    result: dict[str, Any]
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    duration_ms: int = 0
    timed_out: bool = False
    error: str | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @property
    def succeeded(self) -> bool:
        """True when the action completed (exit code 0)."""
        return self.status is ExecutionStatus.COMPLETED
