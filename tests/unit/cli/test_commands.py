"""``attune`` in-process: commands that need no server, help, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.unit.cli.conftest import Invoke

WORKFLOW = """\
parameters:
  version: {type: string, required: true}
  retries: {type: integer, default: 1}
tasks:
  - name: build
    action: demo.build
    input: {version: "{{ parameters.version }}"}
    next:
      - when: "{{ succeeded() }}"
        publish: [{artifact: "{{ result().data.artifact }}"}]
        do: deploy
      - when: "{{ failed() }}"
        do: cleanup
  - name: deploy
    action: demo.deploy
    retry: {count: 1, delay: 5}
    input: {artifact: "{{ workflow.artifact }}"}
  - name: cleanup
    action: core.echo
    input: {message: cleanup}
    next:
      - do: fail
output_map:
  artifact: "{{ workflow.artifact }}"
"""


def test_help_names_the_environment_variable_of_each_global_option(attune: Invoke) -> None:
    result = attune("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # help wraps at the terminal width
    for variable in ("ATTUNE_API_URL", "ATTUNE_PROFILE", "ATTUNE_OUTPUT", "ATTUNE_VERBOSE"):
        assert f"env var: {variable}" in text
    for group in ("auth", "pack", "action", "run", "execution", "rule", "trigger", "sensor",
                  "event", "enforcement", "key", "inquiry", "workflow", "artifact",
                  "identity", "permission", "config", "db", "up"):  # fmt: skip
        assert f"\n  {group} " in result.stdout


def test_identity_help_says_which_commands_need_the_api(attune: Invoke) -> None:
    result = attune("identity", "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "create` works directly on the configured database" in text
    assert "first administrator" in text
    for command in ("create", "list", "show", "update", "delete", "freeze", "permissions"):
        assert f"\n  {command} " in result.stdout


def test_profiles_are_added_listed_used_and_removed(attune: Invoke, config_dir: Path) -> None:
    added = attune("config", "add-profile", "prod", "--api-url", "https://attune.example/", "--use")
    assert added.exit_code == 0, added.output
    assert "now current" in added.stderr
    listed = attune("-j", "config", "profiles")
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["current"], r["api_url"]) for r in rows] == [
        ("default", False, "http://127.0.0.1:8080"),
        ("prod", True, "https://attune.example"),
    ]
    shown = attune("config", "show", "-y")
    assert yaml.safe_load(shown.stdout)["api_url"] == "https://attune.example"
    # option > environment > profile
    env = attune("config", "show", "-j", env={"ATTUNE_API_URL": "http://env:1"})
    assert json.loads(env.stdout)["api_url"] == "http://env:1"
    flag = attune("--api-url", "http://flag:2", "config", "show", "-j")
    assert json.loads(flag.stdout)["api_url"] == "http://flag:2"
    assert attune("config", "use", "default").exit_code == 0
    assert attune("config", "remove-profile", "prod").exit_code == 0
    assert "prod" not in (config_dir / "cli.yaml").read_text()


def test_an_unknown_profile_is_a_configuration_error(attune: Invoke) -> None:
    result = attune("--profile", "nope", "pack", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith("configuration error: no profile 'nope'")


def test_an_unreachable_api_is_one_line_or_one_error_document(attune: Invoke) -> None:
    result = attune("--api-url", "http://127.0.0.1:1", "pack", "list")
    assert result.exit_code == 5
    assert result.stderr.startswith("error: cannot reach the API at http://127.0.0.1:1")
    assert result.stdout == ""
    as_json = attune("--api-url", "http://127.0.0.1:1", "pack", "list", "-o", "json")
    assert as_json.exit_code == 5
    assert json.loads(as_json.stderr)["code"] == "UNREACHABLE"


def test_bad_parameters_are_usage_errors(attune: Invoke) -> None:
    result = attune("--api-url", "http://127.0.0.1:1", "rule", "create", "--conditions", "{")
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_validate_reports_every_problem_with_its_line(attune: Invoke, tmp_path: Path) -> None:
    good = tmp_path / "ship.workflow.yaml"
    good.write_text(WORKFLOW)
    ok = attune("workflow", "validate", str(good))
    assert ok.exit_code == 0
    assert "valid (3 task(s), 0 warning(s))" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks:\n  - name: a\n    next: [{do: nowhere}]\n  - name: a\n")
    result = attune("workflow", "validate", str(bad), "-j")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert all(p["line"] for p in report["problems"])
    assert any("nowhere" in p["message"] for p in report["problems"])


def test_local_run_prints_each_decision_and_its_reason(attune: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "ship.workflow.yaml"
    path.write_text(WORKFLOW)
    build = tmp_path / "build.json"
    build.write_text(json.dumps({"succeeded": True, "data": {"artifact": "app-1.tgz"}}))
    result = attune(
        "workflow", "run", "--local", str(path), "version=1",
        "--mock", f"demo.build={build}",
        "--mock", 'deploy=[{"succeeded": false, "error": "flaky"}, {"succeeded": true}]',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "dispatch build: demo.build" in out
    assert "why: entry task" in out
    assert "next[0] when {{ succeeded() }} -> true (fired)" in out
    assert "next[1] when {{ failed() }} -> false" in out
    assert "dispatch deploy retry 1" in out
    assert "after 5 s (not waited for)" in out
    assert 'workflow completed, output {"artifact":"app-1.tgz"}' in out
    assert "completed (local run)" in result.stderr


def test_a_failing_local_run_exits_1_and_reports_as_json(attune: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "ship.workflow.yaml"
    path.write_text(WORKFLOW)
    result = attune(
        "-j", "workflow", "run", "--local", str(path), "version=1",
        "--mock", 'demo.build={"status": "failed", "result": {"error": "no compiler"}}',
    )  # fmt: skip
    assert result.exit_code == 1
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "failed"
    tasks = [s["task"] for s in outcome["steps"] if s["command"] == "DispatchTask"]
    assert tasks == ["build", "cleanup"]


def test_completion_offers_commands_and_stays_quiet_without_a_server(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.shell_completion import ShellComplete

    from attune_cli.main import cli

    monkeypatch.setenv("ATTUNE_CLI_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("ATTUNE_API_URL", "http://127.0.0.1:1")
    complete = ShellComplete(cli, {}, "attune", "_ATTUNE_COMPLETE")
    assert [c.value for c in complete.get_completions([], "ex")] == ["execution"]
    assert complete.get_completions(["run"], "core.") == []
