"""The worker's public surface changes deliberately."""

from __future__ import annotations

import attune_core.engine.worker as worker


def test_public_surface_is_pinned() -> None:
    assert sorted(worker.__all__) == sorted(
        [
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
    )
    for name in worker.__all__:
        assert getattr(worker, name) is not None
