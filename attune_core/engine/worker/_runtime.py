"""Reading a runtime's ``execution_config``: interpreter, environment, dependencies, templates.

Rules of this file:

1. Runtimes are data (pack-format.md "runtimes/*.yaml"); this module is the one place that reads
   the keys of ``execution_config``. An empty config, or one without ``interpreter.binary``,
   means native: the entry point is executed directly.
2. Templates know exactly four variables, ``{env_dir}``, ``{pack_dir}``, ``{interpreter}`` and
   ``{manifest_path}``; any other ``{...}`` is left as written. A template that needs a variable
   with no value renders to ``None`` and the caller decides (skip an env var, fail a command).
3. Nothing here performs I/O except :func:`find_executable`, which only looks at the filesystem.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "DependencySpec",
    "EnvironmentSpec",
    "InterpreterNotFound",
    "InterpreterSpec",
    "env_dir_name",
    "find_executable",
    "render_command",
    "render_template",
    "resolve_interpreter",
    "runtime_env_dir",
    "runtime_env_vars",
]

_TEMPLATE = re.compile(r"\{(env_dir|pack_dir|interpreter|manifest_path)\}")


def render_template(template: str, variables: Mapping[str, str | None]) -> str | None:
    """Substitute the known template variables in ``template``.

    Returns:
        The rendered text, or ``None`` when a variable it uses has no value.
    """
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = variables.get(match.group(1))
        if value is None:
            missing = True
            return match.group(0)
        return value

    rendered = _TEMPLATE.sub(substitute, template)
    return None if missing else rendered


def render_command(
    command: list[Any] | str, variables: Mapping[str, str | None]
) -> list[str] | None:
    """Render each argument of ``command`` (a string is one argument); ``None`` if any needs a
    variable with no value."""
    parts = [command] if isinstance(command, str) else list(command)
    rendered: list[str] = []
    for part in parts:
        text = render_template(str(part), variables)
        if text is None:
            return None
        rendered.append(text)
    return rendered


def _command_or_none(value: Any) -> list[Any] | None:
    """A command as an argv list; a string is one shell-like line, split with shlex."""
    if isinstance(value, str) and value.strip():
        return shlex.split(value)
    if isinstance(value, list) and value:
        return value
    return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@attrs.frozen
class InterpreterSpec:
    """``execution_config.interpreter``: ``binary`` + ``args``; no binary means native."""

    binary: str | None
    args: tuple[str, ...] = ()
    file_extension: str = ""

    @classmethod
    def from_config(cls, execution_config: Mapping[str, Any]) -> InterpreterSpec:
        raw = _mapping(execution_config.get("interpreter"))
        binary = raw.get("binary")
        args = raw.get("args") or []
        return cls(
            binary=str(binary) if binary else None,
            args=tuple(str(arg) for arg in (args if isinstance(args, list) else [args])),
            file_extension=str(raw.get("file_extension") or ""),
        )

    @property
    def is_native(self) -> bool:
        return self.binary is None


@attrs.frozen
class EnvironmentSpec:
    """``execution_config.environment``: how an isolated environment is created."""

    type: str
    create_command: list[Any] | None
    interpreter_path: str | None

    @classmethod
    def from_config(cls, execution_config: Mapping[str, Any]) -> EnvironmentSpec | None:
        raw = execution_config.get("environment")
        if not isinstance(raw, dict) or not raw:
            return None
        create = raw.get("create_command")
        path = raw.get("interpreter_path")
        return cls(
            type=str(raw.get("type") or ""),
            create_command=_command_or_none(create),
            interpreter_path=str(path) if path else None,
        )


@attrs.frozen
class DependencySpec:
    """``execution_config.dependencies``: the pack's manifest and how to install it."""

    manifest_file: str
    install_command: list[Any] | None

    @classmethod
    def from_config(cls, execution_config: Mapping[str, Any]) -> DependencySpec | None:
        raw = execution_config.get("dependencies")
        if not isinstance(raw, dict) or not raw.get("manifest_file"):
            return None
        install = raw.get("install_command")
        return cls(
            manifest_file=str(raw["manifest_file"]),
            install_command=_command_or_none(install),
        )


def runtime_env_vars(
    execution_config: Mapping[str, Any], variables: Mapping[str, str | None]
) -> dict[str, str]:
    """The runtime's ``env_vars`` rendered; an entry needing a missing variable is skipped (a
    ``NODE_PATH`` of ``{env_dir}/node_modules`` means nothing without an environment)."""
    rendered: dict[str, str] = {}
    for name, template in _mapping(execution_config.get("env_vars")).items():
        value = render_template(str(template), variables)
        if value is not None:
            rendered[str(name)] = value
    return rendered


def env_dir_name(runtime_ref: str, version: str | None = None) -> str:
    """The directory name of a runtime's environment: the last part of its ref, lowercased
    (``core.python`` -> ``python``), with ``-{version}`` for a runtime version."""
    name = runtime_ref.rsplit(".", 1)[-1].lower()
    return f"{name}-{version}" if version else name


def runtime_env_dir(
    runtime_envs_dir: str | os.PathLike[str],
    pack_ref: str,
    runtime_ref: str,
    version: str | None = None,
) -> Path:
    """``{runtime_envs_dir}/{pack}/{runtime}`` (per version ``{runtime}-{version}``)."""
    return Path(runtime_envs_dir) / pack_ref / env_dir_name(runtime_ref, version)


_FOUND_ON_PATH: dict[tuple[str, str | None], str] = {}


def find_executable(program: str, path: str | None) -> str | None:
    """The absolute path of ``program``: looked up on ``path`` unless it contains a slash;
    ``None`` unless it exists and is executable (a broken symlink does not exist).

    A program found on ``path`` is remembered (every run of a runtime looks up the same
    interpreter) and checked again with one ``access`` call; once it is gone the lookup runs
    again.
    """
    if os.sep in program:
        candidate = Path(program)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        return None
    key = (program, path)
    known = _FOUND_ON_PATH.get(key)
    if known is not None and os.access(known, os.X_OK):
        return known
    found = shutil.which(program, path=path)
    if found is None:
        _FOUND_ON_PATH.pop(key, None)
    else:
        if len(_FOUND_ON_PATH) >= 256:  # PATHs set per execution: keep it bounded
            _FOUND_ON_PATH.clear()
        _FOUND_ON_PATH[key] = found
    return found


class InterpreterNotFound(Exception):
    """The runtime's interpreter (or its environment's) is not an executable: the message says
    which one and why."""


def resolve_interpreter(
    execution_config: Mapping[str, Any],
    variables: Mapping[str, str | None],
    *,
    env_dir: str | os.PathLike[str] | None,
    path: str | None,
    runtime_ref: str | None = None,
) -> str | None:
    """The absolute path of the interpreter a runtime runs its entry points with.

    The environment's ``interpreter_path`` wins when there is an environment; else
    ``interpreter.binary`` is looked up on ``path``. Shared by the worker (actions) and the
    sensor host (sensors), so both start programs the same way.

    Args:
        execution_config: The runtime's (or runtime version's) ``execution_config``.
        variables: The template variables (``env_dir``, ``pack_dir``, ...).
        env_dir: The pack's environment for this runtime, if it has one.
        path: The ``PATH`` to look the binary up on.
        runtime_ref: For messages.

    Returns:
        The interpreter, or ``None`` for a native runtime (run the entry point itself).

    Raises:
        InterpreterNotFound: the interpreter is missing or not executable.
    """
    spec = InterpreterSpec.from_config(execution_config)
    environment = EnvironmentSpec.from_config(execution_config)
    if env_dir is not None and environment and environment.interpreter_path:
        interpreter = render_template(environment.interpreter_path, variables)
        found = None if interpreter is None else find_executable(interpreter, None)
        if found is None:
            raise InterpreterNotFound(
                f"Runtime environment interpreter not found: {interpreter} (the environment at "
                f"{env_dir} is missing or broken; it is rebuilt when the worker "
                "prepares environments)"
            )
        return found
    if spec.binary is None:
        return None
    found = find_executable(spec.binary, path)
    if found is None:
        runtime = runtime_ref or "the action's runtime"
        raise InterpreterNotFound(
            f"Interpreter not found: {spec.binary!r} is not an executable on PATH "
            f"(runtime {runtime})"
        )
    return found
