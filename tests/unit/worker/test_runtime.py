"""Reading execution_config: templates, interpreter, environment and dependency settings."""

from __future__ import annotations

from pathlib import Path

from attune_core.engine.worker import env_dir_name, runtime_env_dir
from attune_core.engine.worker._runtime import (
    DependencySpec,
    EnvironmentSpec,
    InterpreterSpec,
    render_command,
    render_template,
    runtime_env_vars,
)

VARIABLES = {"env_dir": "/envs/p/python", "pack_dir": "/packs/p", "interpreter": None}


def test_templates_substitute_known_variables_only() -> None:
    assert render_template("{env_dir}/bin:{other}", VARIABLES) == "/envs/p/python/bin:{other}"


def test_template_needing_a_missing_variable_renders_none() -> None:
    assert render_template("{interpreter} -m pip", VARIABLES) is None
    assert render_command(["{pack_dir}/x", "{manifest_path}"], VARIABLES) is None
    assert render_command(["{pack_dir}/x", "-v"], VARIABLES) == ["/packs/p/x", "-v"]


def test_env_vars_needing_a_missing_variable_are_skipped() -> None:
    config = {"env_vars": {"NODE_PATH": "{env_dir}/node_modules", "X": "{manifest_path}", "Y": "1"}}
    assert runtime_env_vars(config, VARIABLES) == {
        "NODE_PATH": "/envs/p/python/node_modules",
        "Y": "1",
    }


def test_empty_config_is_native() -> None:
    assert InterpreterSpec.from_config({}).is_native
    assert InterpreterSpec.from_config({"interpreter": {"binary": ""}}).is_native
    assert EnvironmentSpec.from_config({}) is None
    assert DependencySpec.from_config({}) is None


def test_interpreter_spec() -> None:
    spec = InterpreterSpec.from_config(
        {"interpreter": {"binary": "python3", "args": ["-u"], "file_extension": ".py"}}
    )
    assert spec == InterpreterSpec("python3", ("-u",), ".py")
    assert not spec.is_native


def test_string_commands_are_split_like_a_shell() -> None:
    spec = EnvironmentSpec.from_config(
        {"environment": {"type": "virtualenv", "create_command": "python3 -m venv '{env_dir}'"}}
    )
    assert spec is not None
    assert spec.create_command == ["python3", "-m", "venv", "{env_dir}"]


def test_environment_directories() -> None:
    assert env_dir_name("core.python") == "python"
    assert env_dir_name("mypack.Node") == "node"
    assert env_dir_name("core.python", "3.12") == "python-3.12"
    assert runtime_env_dir("/envs", "mypack", "core.nodejs", "20") == Path("/envs/mypack/nodejs-20")
