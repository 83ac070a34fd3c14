"""Runtime versions: verification (is this version installed here?) and selection (which
available version satisfies an action's ``runtime_version`` constraint?).

Rules of this file:

1. Versions and constraints are read by :mod:`attune_core.packs` (``parse_version``,
   ``VersionConstraint``, built on the ``semver`` package), the same code that validates an
   action's ``runtime_version`` and a pack's ``dependencies`` when the pack is registered: one
   syntax, one meaning. A bare version means tilde (``3.12`` is ``>=3.12.0, <3.13.0``).
2. Selection picks the highest *available* version that matches; no constraint picks the default
   version when it is available, else the highest available. Nothing available raises
   :class:`NoRuntimeVersion` naming the constraint and every version found.
3. Verification runs each version's ``distributions.verification.commands`` as plain argv lists
   (no shell), in ``priority`` order; the first that passes makes the version available. The
   command format is documented in docs/runtimes.md and in :func:`verify_versions`.
"""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import anyio
import attrs
import semver

from attune_core.engine.worker._runner import default_base_environment
from attune_core.engine.worker._runtime import InterpreterSpec, find_executable
from attune_core.errors import AttuneError, ValidationError
from attune_core.model import RuntimeVersion
from attune_core.packs import VersionConstraint, parse_version

__all__ = [
    "NoRuntimeVersion",
    "VerificationCommand",
    "VersionCheck",
    "select_version",
    "verify_versions",
    "version_order",
]

logger = logging.getLogger(__name__)

_VERIFY_TIMEOUT = 10.0
# Verification output only needs to show the version banner.
_MAX_OUTPUT_CHARS = 4000


class NoRuntimeVersion(AttuneError):
    """No available runtime version satisfies an action's constraint."""

    code = "BAD_REQUEST"


def _describe(versions: Sequence[RuntimeVersion]) -> str:
    if not versions:
        return "no versions are registered"
    described = ", ".join(
        f"{v.version} ({'available' if v.available else 'unavailable'})"
        for v in sorted(versions, key=version_order)
    )
    return f"versions found: {described}"


def version_order(version: RuntimeVersion) -> tuple[int, semver.Version | str]:
    """Sort key of runtime versions, lowest first; one that is not a version (never
    selected) before the others."""
    try:
        return (1, parse_version(version.version))
    except ValueError:
        return (0, version.version)


def select_version(
    constraint: str | None, versions: Iterable[RuntimeVersion], *, runtime_ref: str | None = None
) -> RuntimeVersion:
    """Pick the runtime version an execution runs with.

    Args:
        constraint: The action's ``runtime_version`` constraint, or ``None``/empty for "any".
        versions: The runtime's versions (with ``available`` set by verification).
        runtime_ref: Named in the error message.

    Returns:
        The highest available version satisfying the constraint; with no constraint the
        available default version, else the highest available one.

    Raises:
        NoRuntimeVersion: nothing available satisfies the constraint.
        ValidationError: the constraint cannot be parsed.
    """
    candidates = list(versions)
    usable: list[tuple[semver.Version, RuntimeVersion]] = []
    for candidate in candidates:
        if not candidate.available:
            continue
        try:
            usable.append((parse_version(candidate.version), candidate))
        except ValueError:
            logger.warning("runtime version %r is not a version; ignored", candidate.version)
    subject = f"runtime {runtime_ref}" if runtime_ref else "the runtime"
    if constraint is None or not constraint.strip():
        defaults = [item for item in usable if item[1].is_default]
        chosen = max(defaults or usable, key=lambda item: item[0], default=None)
        if chosen is None:
            raise NoRuntimeVersion(
                f"No available version of {subject} ({_describe(candidates)})",
                details={"constraint": None, "versions": [v.version for v in candidates]},
            )
        return chosen[1]
    try:
        parsed = VersionConstraint.parse(constraint)
    except ValueError as exc:
        raise ValidationError(
            f"invalid runtime_version {constraint!r}: {exc}", field="runtime_version"
        ) from None
    matching = [item for item in usable if parsed.matches(item[0])]
    if not matching:
        raise NoRuntimeVersion(
            f"No available version of {subject} satisfies {constraint!r} ({_describe(candidates)})",
            details={"constraint": constraint, "versions": [v.version for v in candidates]},
        )
    return max(matching, key=lambda item: item[0])[1]


# -- verification ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class VerificationCommand:
    """One entry of ``distributions.verification.commands``.

    Accepted forms: a mapping ``{binary, args?, exit_code? (default 0), pattern? (regular
    expression searched in stdout and stderr), priority? (lower runs first, default 0)}``; a list
    (argv); or a string, split like a shell would (no shell runs it).
    """

    binary: str
    args: tuple[str, ...] = ()
    exit_code: int = 0
    pattern: str | None = None
    priority: int = 0

    @classmethod
    def parse(cls, raw: Any) -> VerificationCommand:
        """Read one command entry; raises :class:`ValidationError` on a malformed one."""
        if isinstance(raw, str):
            argv = shlex.split(raw)
            if not argv:
                raise ValidationError("empty verification command")
            return cls(binary=argv[0], args=tuple(argv[1:]))
        if isinstance(raw, list) and raw:
            return cls(binary=str(raw[0]), args=tuple(str(arg) for arg in raw[1:]))
        if isinstance(raw, Mapping) and raw.get("binary"):
            args = raw.get("args") or []
            return cls(
                binary=str(raw["binary"]),
                args=tuple(str(arg) for arg in (args if isinstance(args, list) else [args])),
                exit_code=int(raw.get("exit_code", 0)),
                pattern=str(raw["pattern"]) if raw.get("pattern") else None,
                priority=int(raw.get("priority", 0)),
            )
        raise ValidationError(f"invalid verification command: {raw!r}")

    @property
    def argv(self) -> list[str]:
        return [self.binary, *self.args]


@attrs.frozen(kw_only=True)
class VersionCheck:
    """The verdict on one runtime version.

    Attributes:
        runtime_version: The version checked (unchanged; store ``available`` yourself).
        available: True when a verification command passed.
        detail: Which command passed, or why each failed.
        output: The output of the deciding command (or of the last one tried).
    """

    runtime_version: RuntimeVersion
    available: bool
    detail: str
    output: str = ""

    @property
    def version(self) -> str:
        return self.runtime_version.version


def _commands(version: RuntimeVersion) -> list[VerificationCommand]:
    verification = version.distributions.get("verification")
    raw = verification.get("commands") if isinstance(verification, Mapping) else None
    if not raw:
        return []
    entries = raw if isinstance(raw, list) else [raw]
    return sorted((VerificationCommand.parse(entry) for entry in entries), key=lambda c: c.priority)


async def _run_check(
    command: VerificationCommand, env: Mapping[str, str], limit: float
) -> tuple[bool, str, str]:
    program = find_executable(command.binary, env.get("PATH"))
    if program is None:
        return False, f"{command.binary!r} is not on PATH", ""
    try:
        with anyio.fail_after(limit):
            completed = await anyio.run_process(
                [program, *command.args],
                stdin=subprocess.DEVNULL,
                env=dict(env),
                check=False,
            )
    except TimeoutError:
        return False, f"{' '.join(command.argv)} timed out after {limit:g} s", ""
    except OSError as exc:
        return False, f"{' '.join(command.argv)} cannot start: {exc}", ""
    output = (
        completed.stdout.decode("utf-8", errors="replace")
        + completed.stderr.decode("utf-8", errors="replace")
    )[:_MAX_OUTPUT_CHARS]
    shown = " ".join(command.argv)
    if completed.returncode != command.exit_code:
        return False, f"{shown} exited with {completed.returncode}", output
    if command.pattern is not None and re.search(command.pattern, output) is None:
        return False, f"{shown} output does not match {command.pattern!r}", output
    return True, f"{shown} passed", output


async def _check_version(
    version: RuntimeVersion, env: Mapping[str, str], limit: float
) -> VersionCheck:
    try:
        commands = _commands(version)
    except ValidationError as exc:
        return VersionCheck(runtime_version=version, available=False, detail=str(exc))
    if not commands:
        # Nothing to run: the version is usable when its interpreter can be found.
        binary = InterpreterSpec.from_config(version.execution_config).binary
        if binary is None:
            return VersionCheck(
                runtime_version=version, available=True, detail="no verification needed"
            )
        found = find_executable(binary, env.get("PATH")) is not None
        detail = f"{binary!r} {'found' if found else 'is not'} on PATH (no verification commands)"
        return VersionCheck(runtime_version=version, available=found, detail=detail)
    failures: list[str] = []
    output = ""
    for command in commands:
        passed, detail, output = await _run_check(command, env, limit)
        if passed:
            return VersionCheck(
                runtime_version=version, available=True, detail=detail, output=output
            )
        failures.append(detail)
    return VersionCheck(
        runtime_version=version, available=False, detail="; ".join(failures), output=output
    )


async def verify_versions(
    versions: Iterable[RuntimeVersion],
    *,
    env: Mapping[str, str] | None = None,
    command_timeout: float = _VERIFY_TIMEOUT,
) -> list[VersionCheck]:
    """Run each version's verification commands (concurrently) to decide ``available``.

    ``distributions.verification.commands`` is a list; each entry is a mapping
    ``{binary, args, exit_code, pattern, priority}``, an argv list or a string (see
    :class:`VerificationCommand`). Commands run without a shell, with the worker's base
    environment. The first passing command (lowest ``priority`` first) makes the version
    available; a version with no commands is available when its interpreter is on ``PATH``.

    Args:
        versions: The runtime versions to check.
        env: Environment of the commands; :func:`default_base_environment` by default.
        command_timeout: Seconds allowed for each command.

    Returns:
        One :class:`VersionCheck` per version, in input order.
    """
    items = list(versions)
    environment = default_base_environment() if env is None else dict(env)
    results: list[VersionCheck | None] = [None] * len(items)

    async def check(index: int, version: RuntimeVersion) -> None:
        results[index] = await _check_version(version, environment, command_timeout)

    async with anyio.create_task_group() as tg:
        for index, version in enumerate(items):
            tg.start_soon(check, index, version)
    return [result for result in results if result is not None]
