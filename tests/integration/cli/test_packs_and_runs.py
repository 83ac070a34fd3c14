"""Install a pack from a directory, run its actions, follow executions and their logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.cli.conftest import Invoke

pytestmark = pytest.mark.integration


def test_the_installed_pack_is_listed_with_its_actions(
    logged_in: Invoke, installed_pack: str
) -> None:
    packs = logged_in("pack", "list").stdout
    assert re.search(r"clidemo\s+1\.0\.0\s+CLI demo", packs)
    shown = json.loads(logged_in("pack", "show", installed_pack, "-j").stdout)
    assert shown["ref"] == "clidemo"
    actions = json.loads(logged_in("action", "list", "--pack", "clidemo", "-j").stdout)
    assert {"clidemo.greet", "clidemo.fail", "clidemo.hello"} <= {a["ref"] for a in actions}
    action = logged_in("action", "show", "clidemo.greet")
    assert "times" in action.stderr  # the parameters, shown after the table


def test_pack_test_runs_the_pack_tests_on_the_server(
    logged_in: Invoke, installed_pack: str
) -> None:
    result = logged_in("pack", "test", installed_pack)
    assert "1 passed, 0 failed of 1" in result.stderr


def test_run_types_parameters_and_prints_the_result(logged_in: Invoke, installed_pack: str) -> None:
    result = logged_in("run", "clidemo.greet", "name=Ada", "times=2", "loud=true")
    assert "stdout: |\n  HELLO ADA\n  HELLO ADA" in result.stdout
    assert re.search(r"execution \d+ \(clidemo.greet\): completed", result.stderr)
    assert re.search(r"execution \d+ completed", result.stderr)
    as_json = json.loads(logged_in("run", "clidemo.greet", "name=Bo", "-j").stdout)
    assert as_json["status"] == "completed"
    assert as_json["config"] == {"name": "Bo"} or as_json["config"]["name"] == "Bo"
    assert as_json["result"]["stdout"] == "hello Bo\n"


def test_a_failing_execution_exits_1_with_its_reason(
    logged_in: Invoke, installed_pack: str
) -> None:
    result = logged_in("run", "clidemo.fail", ok=False)
    assert result.exit_code == 1
    assert re.search(r"execution \d+ failed: ", result.stderr)
    missing = logged_in("run", "clidemo.greet", ok=False)  # required `name` not given
    assert missing.exit_code == 1
    assert "name" in missing.stderr


def test_an_unknown_action_exits_4(logged_in: Invoke) -> None:
    result = logged_in("run", "clidemo.nope", ok=False)
    assert result.exit_code == 4
    assert result.stderr == "error: action 'clidemo.nope' not found\n"


def test_execute_then_show_logs_watch_rerun(logged_in: Invoke, installed_pack: str) -> None:
    started = logged_in("action", "execute", "clidemo.greet", "name=Cy", "times=3")
    execution_id = started.stdout.strip()
    assert execution_id.isdigit()
    followed = logged_in("execution", "logs", execution_id, "--follow")
    assert followed.stdout == "hello Cy\nhello Cy\nhello Cy\n"
    stderr = logged_in("execution", "logs", execution_id, "--stream", "stderr", "-j")
    assert json.loads(stderr.stdout)["stream"] == "stderr"
    watched = logged_in("execution", "watch", execution_id, "--timeout", "30")
    assert f"execution {execution_id} completed" in watched.stderr
    shown = json.loads(logged_in("execution", "show", execution_id, "-j").stdout)
    assert shown["status"] == "completed"
    result = json.loads(logged_in("execution", "result", execution_id, "-j").stdout)
    assert result["exit_code"] == 0
    listed = json.loads(
        logged_in("execution", "list", "--action", "clidemo.greet", "--limit", "100", "-j").stdout
    )
    assert int(execution_id) in [e["id"] for e in listed]
    rerun = logged_in("execution", "rerun", execution_id, "--wait", "-j")
    again = json.loads(rerun.stdout)
    assert again["id"] != int(execution_id)
    assert again["result"]["stdout"] == "hello Cy\nhello Cy\nhello Cy\n"


def test_cancel_a_running_execution(logged_in: Invoke) -> None:
    execution_id = logged_in("action", "execute", "core.sleep", "seconds=30").stdout.strip()
    logged_in("execution", "cancel", execution_id)
    watched = logged_in("execution", "watch", execution_id, "--timeout", "20", ok=False)
    assert watched.exit_code == 1
    assert f"execution {execution_id} cancelled" in watched.stderr


def test_waiting_gives_up_after_the_timeout_with_exit_6(logged_in: Invoke) -> None:
    result = logged_in("run", "core.sleep", "seconds=5", "--timeout", "0.3", ok=False)
    assert result.exit_code == 6
    assert "it goes on" in result.stderr
    execution_id = re.search(r"execution (\d+)", result.stderr)
    assert execution_id is not None
    logged_in("execution", "cancel", execution_id.group(1))


def test_shell_completion_offers_the_servers_refs(
    logged_in: Invoke, installed_pack: str, api_url: str, config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from click.shell_completion import ShellComplete

    from attune_cli.main import cli

    monkeypatch.setenv("ATTUNE_CLI_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("ATTUNE_API_URL", api_url)
    complete = ShellComplete(cli, {}, "attune", "_ATTUNE_COMPLETE")
    offered = [c.value for c in complete.get_completions(["run"], "clidemo.gr")]
    assert offered == ["clidemo.greet"]
    packs = [c.value for c in complete.get_completions(["pack", "show"], "cli")]
    assert packs == ["clidemo"]
