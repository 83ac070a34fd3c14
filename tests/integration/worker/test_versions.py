"""Runtime version verification with real commands, and the core pack's versions on this
machine (compared with what the interpreters themselves answer)."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from attune_core.engine.worker import select_version, verify_versions
from attune_core.model import RuntimeVersion
from tests.integration.worker._support import core_runtime

pytestmark = pytest.mark.anyio


def version(
    number: str, commands: list[Any] | None, config: dict[str, Any] | None = None
) -> RuntimeVersion:
    distributions = {} if commands is None else {"verification": {"commands": commands}}
    return RuntimeVersion(
        runtime=1,
        runtime_ref="test.runtime",
        version=number,
        distributions=distributions,
        execution_config=config or {},
    )


async def test_verification_outcomes() -> None:
    versions = [
        version(
            "1.0", [{"binary": "sh", "args": ["-c", "echo tool v1.0.3"], "pattern": r"v1\.0\."}]
        ),
        version(
            "1.1", [{"binary": "sh", "args": ["-c", "echo tool v2.0.0"], "pattern": r"v1\.1\."}]
        ),
        version("1.2", [{"binary": "no-such-binary-anywhere", "args": ["--version"]}]),
        version("1.3", [{"binary": "sh", "args": ["-c", "exit 3"]}]),
        version("1.4", [{"binary": "sh", "args": ["-c", "exit 3"], "exit_code": 3}]),
        version(
            "1.5",
            [
                {"binary": "sh", "args": ["-c", "exit 1"], "priority": 1},
                {
                    "binary": "sh",
                    "args": ["-c", "echo second >&2"],
                    "pattern": "second",
                    "priority": 2,
                },
            ],
        ),
        version("1.6", ["sh -c 'echo quoted arg'"]),
        version("1.7", None, {"interpreter": {"binary": "sh"}}),
        version("1.8", None, {"interpreter": {"binary": "no-such-binary-anywhere"}}),
        version("1.9", [{"args": ["missing binary"]}]),
    ]
    checks = await verify_versions(versions)
    assert [c.version for c in checks] == [v.version for v in versions]
    verdicts = {c.version: (c.available, c.detail) for c in checks}
    assert verdicts == {
        "1.0": (True, "sh -c echo tool v1.0.3 passed"),
        "1.1": (False, "sh -c echo tool v2.0.0 output does not match 'v1\\\\.1\\\\.'"),
        "1.2": (False, "'no-such-binary-anywhere' is not on PATH"),
        "1.3": (False, "sh -c exit 3 exited with 3"),
        "1.4": (True, "sh -c exit 3 passed"),
        "1.5": (True, "sh -c echo second >&2 passed"),
        "1.6": (True, "sh -c echo quoted arg passed"),
        "1.7": (True, "'sh' found on PATH (no verification commands)"),
        "1.8": (False, "'no-such-binary-anywhere' is not on PATH (no verification commands)"),
        "1.9": (False, "invalid verification command: {'args': ['missing binary']}"),
    }
    assert checks[0].output == "tool v1.0.3\n"


async def test_a_hanging_verification_command_times_out() -> None:
    (check,) = await verify_versions(
        [version("1.0", [{"binary": "sleep", "args": ["10"]}])], command_timeout=0.2
    )
    assert not check.available
    assert check.detail == "sleep 10 timed out after 0.2 s"


def _really_answers(binary: str, pattern: str) -> bool:
    """Ask the interpreter directly, the way an operator would."""
    try:
        completed = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    output = completed.stdout + completed.stderr
    return completed.returncode == 0 and re.search(pattern, output) is not None


@pytest.mark.parametrize("ref", ["core.python", "core.nodejs"])
async def test_core_runtime_versions_match_this_machine(ref: str) -> None:
    runtime = core_runtime(ref)
    versions = [
        RuntimeVersion(
            runtime=1,
            runtime_ref=ref,
            version=entry["version"],
            is_default=entry["is_default"],
            distributions=entry["distributions"],
            execution_config=entry["execution_config"],
        )
        for entry in runtime["versions"]
    ]
    checks = await verify_versions(versions)
    for check in checks:
        (command,) = check.runtime_version.distributions["verification"]["commands"]
        assert check.available is _really_answers(command["binary"], command["pattern"]), check
    # python3.11 runs this test suite's tooling and node 20 is installed here.
    available = {c.version for c in checks if c.available}
    assert {"3.11", "20"} & available
    chosen = select_version(
        ">=3" if ref == "core.python" else ">=18",
        [v for v, c in zip(versions, checks, strict=True) if c.available],
    )
    assert chosen.version in available
