"""The process runner against real processes: every rule of api-contract.md "Action process
contract and results" and of the ad-hoc inline shell actions."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from attune_core.engine.worker import ActionInvocation, ProcessRunner
from attune_core.model import ExecutionStatus, OutputFormat, ParameterDelivery, ParameterFormat
from tests.integration.worker._support import (
    adhoc,
    eventually,
    shell_invocation,
    wait_dead,
    write_script,
)

pytestmark = pytest.mark.anyio

MakePack = Callable[..., Path]

SHOW_STDIN = "#!/bin/bash\ncat\n"
SHOW_ENV = "#!/bin/bash\nenv\n"


# -- parameters ------------------------------------------------------------------------------


async def test_json_parameters_on_stdin_then_newline_then_eof(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"show.sh": SHOW_STDIN})
    outcome = await runner.run(
        shell_invocation(pack, "show.sh", parameters={"b": [1, 2], "a": "x"}, secrets={"k": "s"})
    )
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout.endswith("}\n")
    assert json.loads(outcome.stdout) == {"a": "x", "b": [1, 2], "k": "s"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (ParameterFormat.DOTENV, "k='s'\nname='it'\\''s'\nobj_inner='1'\n"),
        (ParameterFormat.YAML, "k: s\nname: it's\nobj:\n  inner: 1\n"),
    ],
)
async def test_other_parameter_formats(
    runner: ProcessRunner, make_pack: MakePack, fmt: ParameterFormat, expected: str
) -> None:
    pack = make_pack(**{"show.sh": SHOW_STDIN})
    outcome = await runner.run(
        shell_invocation(
            pack,
            "show.sh",
            parameters={"name": "it's", "obj": {"inner": 1}},
            secrets={"k": "s"},
            parameter_format=fmt,
        )
    )
    assert outcome.stdout == expected


async def test_file_delivery_writes_a_private_file_and_leaves_stdin_empty(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    script = (
        "#!/bin/bash\n"
        'stat -c %a "$ATTUNE_PARAMETER_FILE"\n'
        'cat "$ATTUNE_PARAMETER_FILE"\n'
        'echo "stdin:[$(cat)]"\n'
        'echo "$ATTUNE_PARAMETER_DELIVERY $ATTUNE_PARAMETER_FORMAT $ATTUNE_PARAMETER_FILE"\n'
    )
    pack = make_pack(**{"file.sh": script})
    outcome = await runner.run(
        shell_invocation(
            pack, "file.sh", parameters={"x": 1}, parameter_delivery=ParameterDelivery.FILE
        )
    )
    mode, document, stdin, env_line = outcome.stdout.splitlines()
    assert mode == "400"
    assert json.loads(document) == {"x": 1}
    assert stdin == "stdin:[]"
    delivery, fmt, path = env_line.split()
    assert (delivery, fmt) == ("file", "json")
    assert not await anyio.Path(path).exists(), "the parameter file is removed after the run"


async def test_an_action_that_ignores_a_large_stdin_document_does_not_hang(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"ignore.sh": "#!/bin/bash\necho done\n"})
    big = {"blob": "x" * 2_000_000}
    outcome = await runner.run(shell_invocation(pack, "ignore.sh", parameters=big))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout == "done\n"


async def test_a_large_stdin_document_is_delivered_whole(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"count.sh": "#!/bin/bash\nwc -c\n"})
    big = {"blob": "x" * 2_000_000}
    outcome = await runner.run(shell_invocation(pack, "count.sh", parameters=big))
    assert int(outcome.stdout) == len(json.dumps(big)) + 1


# -- environment -----------------------------------------------------------------------------


async def test_attune_environment(
    runner: ProcessRunner, make_pack: MakePack, tmp_path: Path
) -> None:
    pack = make_pack(**{"env.sh": SHOW_ENV})
    outcome = await runner.run(
        shell_invocation(
            pack,
            "env.sh",
            execution_id=77,
            action_ref="testpack.env",
            rule_ref="testpack.rule",
            trigger_ref="core.intervaltimer",
            api_url="http://127.0.0.1:8080",
            api_token="exec-token",
            artifacts_dir=tmp_path / "artifacts",
            parameter_format=ParameterFormat.YAML,
        )
    )
    env = dict(line.split("=", 1) for line in outcome.stdout.splitlines() if "=" in line)
    assert {name: value for name, value in env.items() if name.startswith("ATTUNE_")} == {
        "ATTUNE_ACTION": "testpack.env",
        "ATTUNE_EXEC_ID": "77",
        "ATTUNE_API_URL": "http://127.0.0.1:8080",
        "ATTUNE_API_TOKEN": "exec-token",
        "ATTUNE_RULE": "testpack.rule",
        "ATTUNE_TRIGGER": "core.intervaltimer",
        "ATTUNE_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "ATTUNE_PARAMETER_DELIVERY": "stdin",
        "ATTUNE_PARAMETER_FORMAT": "yaml",
    }


async def test_optional_attune_variables_are_absent_when_unknown(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"env.sh": SHOW_ENV})
    outcome = await runner.run(shell_invocation(pack, "env.sh"))
    names = {line.split("=", 1)[0] for line in outcome.stdout.splitlines()}
    assert {"ATTUNE_ACTION", "ATTUNE_EXEC_ID", "ATTUNE_PARAMETER_FORMAT"} <= names
    assert not names & {"ATTUNE_RULE", "ATTUNE_TRIGGER", "ATTUNE_API_TOKEN", "ATTUNE_API_URL"}


async def test_parameters_and_secrets_never_reach_the_environment(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"env.sh": SHOW_ENV})
    for delivery in ParameterDelivery:
        outcome = await runner.run(
            shell_invocation(
                pack,
                "env.sh",
                parameters={"password": "p4r4m-value"},
                secrets={"api_key": "s3cr3t-value"},
                parameter_delivery=delivery,
            )
        )
        assert outcome.status is ExecutionStatus.COMPLETED
        assert "p4r4m-value" not in outcome.stdout
        assert "s3cr3t-value" not in outcome.stdout
        assert "api_key" not in outcome.stdout


async def test_only_allow_listed_worker_variables_are_inherited(
    make_pack: MakePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", "worker-only")
    monkeypatch.setenv("ATTUNE_EXEC_ID", "spoofed")
    monkeypatch.setenv("TZ", "Europe/Paris")
    runner = ProcessRunner()
    pack = make_pack(**{"env.sh": SHOW_ENV})
    outcome = await runner.run(shell_invocation(pack, "env.sh", execution_id=5))
    assert "worker-only" not in outcome.stdout
    assert "ATTUNE_EXEC_ID=5\n" in outcome.stdout
    assert "TZ=Europe/Paris\n" in outcome.stdout
    assert f"PATH={os.environ['PATH']}\n" in outcome.stdout


async def test_custom_and_runtime_env_vars(runner: ProcessRunner, make_pack: MakePack) -> None:
    pack = make_pack(**{"env.sh": SHOW_ENV})
    config = {
        "interpreter": {"binary": "bash"},
        "env_vars": {"PACK_HOME": "{pack_dir}/lib", "NODE_PATH": "{env_dir}/node_modules"},
    }
    outcome = await runner.run(
        shell_invocation(
            pack,
            "env.sh",
            execution_config=config,
            env_vars={"DEBUG": "1", "ATTUNE_ACTION": "spoofed"},
        )
    )
    env = dict(line.split("=", 1) for line in outcome.stdout.splitlines() if "=" in line)
    assert env["PACK_HOME"] == f"{pack}/lib"
    assert "NODE_PATH" not in env, "no environment dir: the template cannot be rendered"
    assert env["DEBUG"] == "1"
    assert env["ATTUNE_ACTION"] == "testpack.action"


async def test_working_directory_is_the_pack_directory(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"pwd.sh": "#!/bin/bash\npwd\n"})
    outcome = await runner.run(shell_invocation(pack, "pwd.sh"))
    assert outcome.stdout == f"{pack}\n"


# -- interpreters, entry points --------------------------------------------------------------


async def test_interpreter_binary_and_args_from_the_runtime(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"who.py": "import sys\nprint(sys.argv[0]); print(sys.orig_argv[1])\n"})
    config = {"interpreter": {"binary": sys.executable, "args": ["-u"]}}
    outcome = await runner.run(
        shell_invocation(pack, "who.py", runtime_ref="core.python", execution_config=config)
    )
    assert outcome.stdout == f"{pack}/actions/who.py\n-u\n"


async def test_environment_interpreter_is_used_when_there_is_an_environment(
    runner: ProcessRunner, make_pack: MakePack, tmp_path: Path
) -> None:
    env_dir = tmp_path / "envs" / "testpack" / "python"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python3").symlink_to(sys.executable)
    pack = make_pack(**{"who.py": "import os, sys\nprint(os.environ['VIRTUAL_ENV'])\n"})
    config = {
        "interpreter": {"binary": "no-such-python", "args": ["-u"]},
        "environment": {"type": "virtualenv", "interpreter_path": "{env_dir}/bin/python3"},
        "env_vars": {"VIRTUAL_ENV": "{env_dir}"},
    }
    outcome = await runner.run(
        shell_invocation(
            pack, "who.py", runtime_ref="core.python", execution_config=config, env_dir=env_dir
        )
    )
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    assert outcome.stdout == f"{env_dir}\n"


async def test_broken_environment_interpreter_fails_with_the_reason(
    runner: ProcessRunner, make_pack: MakePack, tmp_path: Path
) -> None:
    env_dir = tmp_path / "env"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python3").symlink_to(tmp_path / "gone" / "python3")
    pack = make_pack(**{"a.py": "print(1)\n"})
    config = {
        "interpreter": {"binary": "python3"},
        "environment": {"interpreter_path": "{env_dir}/bin/python3"},
    }
    outcome = await runner.run(
        shell_invocation(pack, "a.py", execution_config=config, env_dir=env_dir)
    )
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.startswith(f"Runtime environment interpreter not found: {env_dir}/bin")


async def test_missing_interpreter_fails_with_the_reason(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(**{"a.py": "print(1)\n"})
    config = {"interpreter": {"binary": "python2.4"}}
    outcome = await runner.run(
        shell_invocation(pack, "a.py", runtime_ref="core.python", execution_config=config)
    )
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.exit_code is None
    assert outcome.result == {
        "succeeded": False,
        "exit_code": None,
        "duration_ms": 0,
        "error": "Interpreter not found: 'python2.4' is not an executable on PATH "
        "(runtime core.python)",
    }


async def test_missing_entry_point_fails_with_the_reason(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack()
    outcome = await runner.run(shell_invocation(pack, "nope.sh"))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error == f"Entry point not found: {pack}/actions/nope.sh"


@pytest.mark.parametrize("entry", ["../../etc/passwd", "/etc/passwd", "lib/../../x.sh"])
async def test_entry_points_outside_the_actions_directory_are_refused(
    runner: ProcessRunner, make_pack: MakePack, entry: str
) -> None:
    outcome = await runner.run(shell_invocation(make_pack(), entry))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error is not None
    assert "outside the pack's actions directory" in outcome.error


async def test_native_runs_the_file_directly(runner: ProcessRunner, make_pack: MakePack) -> None:
    pack = make_pack(tool='#!/bin/sh\necho native "$0"\n')
    outcome = await runner.run(
        shell_invocation(pack, "tool", runtime_ref="core.native", execution_config={})
    )
    assert outcome.stdout == f"native {pack}/actions/tool\n"


async def test_native_file_without_executable_bit_fails(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack()
    write_script(pack / "actions" / "tool", "#!/bin/sh\necho hi\n", executable=False)
    outcome = await runner.run(shell_invocation(pack, "tool", execution_config={}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.startswith(f"Entry point is not executable: {pack}/actions/tool")


async def test_native_file_that_cannot_be_executed_fails(
    runner: ProcessRunner, make_pack: MakePack
) -> None:
    pack = make_pack(tool="echo no shebang, not a binary\n")
    pack_file = pack / "actions" / "tool"
    pack_file.write_bytes(b"\x00\x01garbage")
    outcome = await runner.run(shell_invocation(pack, "tool", execution_config={}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error == f"Cannot start {pack_file}: Exec format error"


# -- ad-hoc inline shell ---------------------------------------------------------------------


async def test_adhoc_shell_parameters_are_quoted_variables(runner: ProcessRunner) -> None:
    nasty = 'it\'s $(touch /tmp/pwned) `id` "q" \\ $HOME\nsecond line'
    script = (
        'printf "%s|" "$message" "$PARAM_MESSAGE" "$count" "$flag" "$items" "$my_param"\n'
        'printf "%s|" "$PARAM_MY_PARAM" "$PARAM_PATH"\n'
    )
    outcome = await runner.run(
        adhoc(
            script,
            parameters={
                "message": nasty,
                "count": 3,
                "flag": False,
                "items": [1, "a"],
                "my-param": "dash",
                "PATH": "/not/used",
            },
        )
    )
    assert outcome.status is ExecutionStatus.COMPLETED, outcome.result
    assert outcome.stdout.split("|")[:-1] == [
        nasty,
        nasty,
        "3",
        "false",
        '[1, "a"]',
        "dash",
        "dash",
        "/not/used",
    ]
    assert not await anyio.Path("/tmp/pwned").exists()


async def test_adhoc_shell_variables_and_secrets_are_not_exported(runner: ProcessRunner) -> None:
    script = 'echo "$api_key"\nenv | grep -c -e s3cr3t -e visible || true\n'
    outcome = await runner.run(
        adhoc(script, parameters={"word": "visible"}, secrets={"api_key": "s3cr3t", "db-pw": "x"})
    )
    assert outcome.stdout == "s3cr3t\n0\n"


async def test_adhoc_shell_runs_with_set_e(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("echo before\nfalse\necho after\n"))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.result["stdout"] == "before\n"
    assert outcome.error == "Command exited with code 1"


async def test_adhoc_without_pack_runs_in_a_private_directory(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("pwd; touch scratch-file; stat -c %a ."))
    directory, mode = outcome.stdout.split()
    assert mode == "700"
    assert not await anyio.Path(directory).exists(), "removed after the run"


async def test_adhoc_python_is_inline_source(runner: ProcessRunner) -> None:
    config = {"interpreter": {"binary": sys.executable, "args": ["-u"], "file_extension": ".py"}}
    outcome = await runner.run(
        adhoc(
            "import json, sys\nprint(json.load(sys.stdin)['n'] * 2)\n",
            runtime_ref="core.python",
            execution_config=config,
            parameters={"n": 21},
        )
    )
    assert outcome.stdout == "42\n"


async def test_adhoc_native_is_refused(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("echo hi", runtime_ref="core.native", execution_config={}))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.error is not None
    assert "needs a runtime with an interpreter" in outcome.error


# -- results and output ----------------------------------------------------------------------


async def test_success_result_shape(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("echo out; echo err >&2"))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert set(outcome.result) == {"exit_code", "duration_ms", "succeeded", "stdout"}
    assert outcome.result["exit_code"] == 0
    assert outcome.result["succeeded"] is True
    assert outcome.result["stdout"] == "out\n"
    assert isinstance(outcome.result["duration_ms"], int)
    assert outcome.stderr == "err\n"


async def test_failure_error_is_the_last_stderr_line(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        adhoc("echo partial; echo noise >&2; echo 'real reason' >&2; exit 3")
    )
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.result == {
        "succeeded": False,
        "exit_code": 3,
        "duration_ms": outcome.duration_ms,
        "error": "real reason",
        "stdout": "partial\n",
    }


async def test_failure_without_stderr_names_the_exit_code(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("exit 7"))
    assert outcome.result["error"] == "Command exited with code 7"
    assert "stdout" not in outcome.result


async def test_a_crash_is_a_failure(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("kill -SEGV $$"))
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.exit_code == -11
    assert outcome.error == "Command was killed by SIGSEGV (exit code -11)"


@pytest.mark.parametrize(
    ("fmt", "stdout", "data"),
    [
        (OutputFormat.JSON, 'echo "starting"; echo \'{"a": [1, 2]}\'', {"a": [1, 2]}),
        (OutputFormat.YAML, "printf 'a: 1\\nb: [x]\\n'", {"a": 1, "b": ["x"]}),
        (OutputFormat.JSONL, "echo '{\"n\": 1}'; echo '{\"n\": 2}'", [{"n": 1}, {"n": 2}]),
    ],
)
async def test_declared_output_is_parsed_into_data(
    runner: ProcessRunner, fmt: OutputFormat, stdout: str, data: object
) -> None:
    outcome = await runner.run(adhoc(stdout, output_format=fmt))
    assert outcome.result["data"] == data


async def test_unparseable_declared_output_still_succeeds(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("echo 'not json'", output_format=OutputFormat.JSON))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.result["succeeded"] is True
    assert "data" not in outcome.result
    assert outcome.result["parse_error"].startswith("stdout is not valid JSON")


async def test_text_output_has_no_data(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("echo '{\"a\": 1}'"))
    assert "data" not in outcome.result


async def test_stdout_and_stderr_are_capped_with_a_marker(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        adhoc(
            "head -c 5000 /dev/zero | tr '\\0' o; head -c 3000 /dev/zero | tr '\\0' e >&2",
            max_stdout_bytes=1000,
            max_stderr_bytes=100,
        )
    )
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout == "o" * 1000 + (
        "\n[attune: stdout truncated at 1000 bytes, 4000 more bytes not kept]\n"
    )
    assert outcome.stderr.startswith("e" * 100 + "\n[attune: stderr truncated at 100 bytes")
    assert outcome.stdout_truncated and outcome.stderr_truncated
    assert outcome.result["stdout_truncated"] is True


async def test_failure_with_truncated_output(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        adhoc(
            "head -c 500 /dev/zero | tr '\\0' o; echo; echo 'bad thing' >&2; exit 4",
            max_stdout_bytes=10,
        )
    )
    assert outcome.result["stdout_truncated"] is True
    assert outcome.result["error"] == "bad thing"


async def test_binary_output_is_decoded_with_replacement(runner: ProcessRunner) -> None:
    outcome = await runner.run(
        adhoc("printf 'bin\\377\\376\\000end'; printf '\\377' >&2", output_format=OutputFormat.JSON)
    )
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout == "bin\ufffd\ufffd\x00end"
    assert outcome.stderr == "\ufffd"
    assert "parse_error" in outcome.result


async def test_a_hundred_megabytes_of_output_costs_only_the_cap(runner: ProcessRunner) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = await runner.run(adhoc("head -c 100000000 /dev/zero", max_stdout_bytes=1_000_000))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout_truncated
    assert "99000000 more bytes not kept" in outcome.stdout
    assert grown_kib < 40_000, f"peak memory grew by {grown_kib} KiB"


async def test_default_caps_are_ten_mebibytes(runner: ProcessRunner) -> None:
    outcome = await runner.run(adhoc("head -c 11000000 /dev/zero; head -c 10 /dev/zero >&2"))
    assert outcome.stdout.startswith("\0" * 10_485_760 + "\n[attune: stdout truncated")
    assert outcome.stderr == "\0" * 10


async def test_logs_are_written_when_a_log_dir_is_given(
    runner: ProcessRunner, tmp_path: Path
) -> None:
    log_dir = tmp_path / "logs" / "42"
    outcome = await runner.run(adhoc("echo out; echo warn >&2", log_dir=log_dir))
    assert outcome.result["stderr_log"] == str(log_dir / "stderr.log")
    assert (log_dir / "stderr.log").read_text() == "warn\n"
    assert (log_dir / "stdout.log").read_text() == "out\n"


async def test_a_quiet_action_leaves_no_log_files(runner: ProcessRunner, tmp_path: Path) -> None:
    log_dir = tmp_path / "logs" / "43"
    outcome = await runner.run(adhoc("true", log_dir=log_dir))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert "stderr_log" not in outcome.result
    assert not log_dir.exists()
    printed = tmp_path / "logs" / "44"
    outcome = await runner.run(adhoc("echo out", log_dir=printed))
    assert "stderr_log" not in outcome.result
    assert sorted(p.name for p in printed.iterdir()) == ["stdout.log"]


# -- timeout, cancel, process groups ---------------------------------------------------------

TREE = (
    # A grandchild that ignores SIGTERM and one that does not; both record their pids.
    'bash -c \'trap "" TERM; echo $$ > "$1/stubborn"; sleep 30\' _ "{d}" &\n'
    'bash -c \'echo $$ > "$1/plain"; sleep 30\' _ "{d}" &\n'
    'while [ ! -s "{d}/stubborn" ] || [ ! -s "{d}/plain" ]; do sleep 0.02; done\n'
    "echo ready\n"
    "sleep 30\n"
)


def tree_pids(directory: Path) -> list[int]:
    return [int((directory / name).read_text()) for name in ("stubborn", "plain")]


def tree_started(directory: Path) -> bool:
    """Both grandchildren wrote their pid (the shell creates the file before writing it)."""
    try:
        return all((directory / name).read_text().endswith("\n") for name in ("stubborn", "plain"))
    except FileNotFoundError:
        return False


async def test_timeout_kills_the_whole_process_group(runner: ProcessRunner, tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = await runner.run(adhoc(TREE.format(d=tmp_path), timeout=1))
    elapsed = time.monotonic() - started
    assert outcome.status is ExecutionStatus.FAILED
    assert outcome.timed_out
    assert outcome.error == "Execution timed out after 1 seconds"
    assert outcome.result["error"] == "Execution timed out after 1 seconds"
    assert outcome.result["succeeded"] is False
    assert outcome.result["stdout"] == "ready\n"
    assert elapsed < 1 + 0.5 + 1.0
    assert await wait_dead(tree_pids(tmp_path)), "grandchildren survived the timeout"


async def test_a_process_ignoring_sigterm_is_killed_after_the_grace(
    runner: ProcessRunner,
) -> None:
    started = time.monotonic()
    outcome = await runner.run(adhoc("trap '' TERM\nsleep 30 & wait\n", timeout=0.3))
    assert outcome.timed_out
    assert outcome.exit_code == -9
    assert time.monotonic() - started < 0.3 + 0.5 + 1.0


async def test_cancel_terminates_the_tree(runner: ProcessRunner, tmp_path: Path) -> None:
    cancel = anyio.Event()
    outcomes = []

    async def run() -> None:
        outcomes.append(await runner.run(adhoc(TREE.format(d=tmp_path)), cancel_event=cancel))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        assert await eventually(lambda: tree_started(tmp_path))
        started = time.monotonic()
        cancel.set()
    assert time.monotonic() - started < 0.5 + 1.0
    (outcome,) = outcomes
    assert outcome.status is ExecutionStatus.CANCELLED
    assert outcome.error == "Execution cancelled"
    assert outcome.result["succeeded"] is False
    assert not outcome.timed_out
    assert await wait_dead(tree_pids(tmp_path))


async def test_cancel_before_start_spawns_nothing(runner: ProcessRunner, tmp_path: Path) -> None:
    cancel = anyio.Event()
    cancel.set()
    marker = tmp_path / "ran"
    outcome = await runner.run(adhoc(f"touch {marker}"), cancel_event=cancel)
    assert outcome.status is ExecutionStatus.CANCELLED
    assert outcome.exit_code is None
    assert not marker.exists()


async def test_descendants_holding_the_pipes_are_killed_after_exit(
    runner: ProcessRunner, tmp_path: Path
) -> None:
    script = f'sleep 30 & echo $! > "{tmp_path}/bg"\necho main done\n'
    started = time.monotonic()
    outcome = await runner.run(adhoc(script))
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout == "main done\n"
    assert time.monotonic() - started < 0.5 + 0.5 + 1.0
    assert await wait_dead([int((tmp_path / "bg").read_text())])


async def test_cancelling_the_caller_kills_the_tree(runner: ProcessRunner, tmp_path: Path) -> None:
    with anyio.move_on_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(runner.run, adhoc(TREE.format(d=tmp_path)))
            assert await eventually(lambda: tree_started(tmp_path))
            tg.cancel_scope.cancel()
    assert await wait_dead(tree_pids(tmp_path))


async def test_runs_are_concurrent_and_the_loop_stays_responsive(runner: ProcessRunner) -> None:
    ticks = 0
    outcomes = []

    async def tick() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0.01)
            ticks += 1

    async def run(n: int) -> None:
        outcomes.append(await runner.run(adhoc(f"sleep 0.3; echo {n}")))

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        async with anyio.create_task_group() as runs:
            for n in range(10):
                runs.start_soon(run, n)
        tg.cancel_scope.cancel()
    assert time.monotonic() - started < 2.0, "ten 0.3 s runs ran concurrently"
    assert sorted(int(o.stdout) for o in outcomes) == list(range(10))
    assert ticks >= 15, "the event loop kept running while processes ran"


async def test_the_worker_survives_everything_in_a_row(runner: ProcessRunner) -> None:
    scripts = ["exit 1", "kill -9 $$", "printf '\\377'", "sleep 5", "head -c 3000000 /dev/urandom"]
    for script in scripts:
        outcome = await runner.run(adhoc(script, timeout=0.3))
        assert outcome.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)
    assert (await runner.run(adhoc("echo still here"))).stdout == "still here\n"


def test_invocation_converts_plain_values() -> None:
    invocation = ActionInvocation(
        execution_id=1,
        action_ref="a.b",
        pack_ref="a",
        pack_dir="/packs/a",
        entrypoint="x.sh",
        parameter_delivery="file",
        parameter_format="yaml",
        output_format="jsonl",
    )
    assert invocation.pack_dir == Path("/packs/a")
    assert invocation.parameter_delivery is ParameterDelivery.FILE
    assert invocation.parameter_format is ParameterFormat.YAML
    assert invocation.output_format is OutputFormat.JSONL
    assert invocation.timeout == 300
    assert invocation.max_stdout_bytes == invocation.max_stderr_bytes == 10 * 1024 * 1024
    assert yaml.safe_dump(invocation.parameters) == "{}\n"


# -- output while the process runs -------------------------------------------------------------


async def test_output_reaches_the_listener_while_the_process_runs_throttled_and_masked(
    runner: ProcessRunner,
) -> None:
    calls: list[tuple[float, list[tuple[str, int, str]]]] = []
    started = time.monotonic()

    async def listener(chunks: Any) -> None:
        calls.append(
            (time.monotonic() - started, [(c.stream, c.position, c.content) for c in chunks])
        )

    # 100 lines over about a second, the secret among them, then a line on stderr
    script = (
        'for i in $(seq 100); do echo "line $i $token"; sleep 0.01; done\n'
        'echo "done" >&2\nsleep 0.5\n'
    )
    outcome = await runner.run(
        adhoc(script, parameters={"token": "s3cr3t-value"}, masked=("s3cr3t-value",)),
        on_output=listener,
    )
    assert outcome.status is ExecutionStatus.COMPLETED
    # far fewer calls than lines: at most one per interval (0.2 s) of the run
    assert 1 <= len(calls) <= outcome.duration_ms / 200 + 1
    assert calls[0][0] >= 0.2
    stdout = "".join(text for _, chunks in calls for s, _, text in chunks if s == "stdout")
    stderr = "".join(text for _, chunks in calls for s, _, text in chunks if s == "stderr")
    assert stdout == outcome.stdout
    assert "s3cr3t" not in stdout and "line 100 ********\n" in stdout
    assert stderr == "done\n"
    positions = [p for _, chunks in calls for s, p, _ in chunks if s == "stdout"]
    assert positions[0] == 0 and positions == sorted(positions)


async def test_a_short_run_never_calls_the_listener(runner: ProcessRunner) -> None:
    calls: list[Any] = []

    async def listener(chunks: Any) -> None:
        calls.append(chunks)

    outcome = await runner.run(adhoc("echo quick"), on_output=listener)
    assert outcome.stdout == "quick\n"
    assert calls == []


async def test_a_failing_listener_changes_nothing(runner: ProcessRunner) -> None:
    async def listener(chunks: Any) -> None:
        raise RuntimeError("the database is down")

    outcome = await runner.run(adhoc("echo a; sleep 0.5; echo b"), on_output=listener)
    assert outcome.status is ExecutionStatus.COMPLETED
    assert outcome.stdout == "a\nb\n"
