"""The worker's execution core: run an action as a subprocess, prepare runtime environments,
verify and select runtime versions. No database: callers resolve entities first.

- :class:`ProcessRunner` runs one :class:`ActionInvocation` and answers an
  :class:`ActionOutcome` whose ``result`` is the ``execution.result`` document of
  api-contract.md (docs/actions.md is the contract from the action author's side).
- :func:`ensure_environment` builds a pack's virtualenv / node_modules outside the pack;
  :func:`existing_environment` is the cheap check done at execution time.
- :func:`verify_versions` decides which runtime versions are installed;
  :func:`select_version` picks the one an action's ``runtime_version`` constraint asks for.
  (docs/runtimes.md)
"""

from __future__ import annotations

from attune_core.engine.worker._environments import (
    MARKER_FILE,
    EnvironmentResult,
    ensure_environment,
    existing_environment,
)
from attune_core.engine.worker._invocation import (
    DEFAULT_OUTPUT_CAP,
    DEFAULT_TIMEOUT,
    ActionInvocation,
    ActionOutcome,
)
from attune_core.engine.worker._params import (
    build_inline_script,
    format_dotenv,
    format_parameters,
    merge_secrets,
    shell_identifier,
    shell_quote,
)
from attune_core.engine.worker._runner import (
    BASE_ENV_NAMES,
    OutputListener,
    ProcessRunner,
    default_base_environment,
)
from attune_core.engine.worker._runtime import env_dir_name, runtime_env_dir
from attune_core.engine.worker._versions import (
    NoRuntimeVersion,
    VerificationCommand,
    VersionCheck,
    select_version,
    verify_versions,
    version_order,
)

__all__ = [
    "BASE_ENV_NAMES",
    "DEFAULT_OUTPUT_CAP",
    "DEFAULT_TIMEOUT",
    "MARKER_FILE",
    "ActionInvocation",
    "ActionOutcome",
    "EnvironmentResult",
    "NoRuntimeVersion",
    "OutputListener",
    "ProcessRunner",
    "VerificationCommand",
    "VersionCheck",
    "build_inline_script",
    "default_base_environment",
    "ensure_environment",
    "env_dir_name",
    "existing_environment",
    "format_dotenv",
    "format_parameters",
    "merge_secrets",
    "runtime_env_dir",
    "select_version",
    "shell_identifier",
    "shell_quote",
    "verify_versions",
    "version_order",
]
