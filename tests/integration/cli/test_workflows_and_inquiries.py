"""Workflows run on the server with live task status, and an inquiry answered from the CLI."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.integration.cli.conftest import Invoke, unique

pytestmark = pytest.mark.integration


def test_a_workflow_runs_with_each_task_shown_live(logged_in: Invoke, installed_pack: str) -> None:
    listed = json.loads(logged_in("workflow", "list", "--pack", installed_pack, "-j").stdout)
    assert {"clidemo.hello", "clidemo.approve"} <= {w["ref"] for w in listed}
    shown = json.loads(logged_in("workflow", "show", "clidemo.hello", "-j").stdout)
    assert shown["ref"] == "clidemo.hello"
    result = logged_in("run", "clidemo.hello", "name=Eve")
    assert "said: hello Eve" in result.stdout
    assert re.search(r"task first \(execution \d+, clidemo.greet\): completed", result.stderr)
    assert re.search(r"task second \(execution \d+, clidemo.greet\): completed", result.stderr)
    workflow_id = re.search(r"execution (\d+) completed", result.stderr)
    assert workflow_id is not None
    children = json.loads(
        logged_in("execution", "list", "--parent", workflow_id.group(1), "-j").stdout
    )
    assert sorted(c["workflow_task"]["task_name"] for c in children) == ["first", "second"]


def _pending_inquiry(attune: Invoke, prompt: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = json.loads(attune("inquiry", "list", "--status", "pending", "-j").stdout)
        for item in listed:
            if item["prompt"] == prompt:
                return dict(item)
        time.sleep(0.1)
    raise AssertionError(f"no pending inquiry {prompt!r}")


def test_an_inquiry_is_answered_interactively(logged_in: Invoke, installed_pack: str) -> None:
    name = unique("n")
    workflow_id = logged_in("run", "clidemo.approve", f"name={name}", "--no-wait").stdout.strip()
    inquiry = _pending_inquiry(logged_in, f"Greet {name}?")
    shown = json.loads(logged_in("inquiry", "show", str(inquiry["id"]), "-j").stdout)
    assert set(shown["response_schema"]) == {"approved", "times"}
    answered = logged_in("inquiry", "respond", str(inquiry["id"]), input="y\n2\n")
    assert f"Greet {name}?" in answered.stderr
    assert f"inquiry {inquiry['id']} responded" in answered.stderr
    watched = logged_in("execution", "watch", workflow_id, "--timeout", "30")
    assert re.search(r"task greet \(execution \d+, clidemo.greet\): completed", watched.stderr)
    children = json.loads(logged_in("execution", "list", "--parent", workflow_id, "-j").stdout)
    greet = next(c for c in children if c["workflow_task"]["task_name"] == "greet")
    log = logged_in("execution", "logs", str(greet["id"]))
    assert log.stdout == f"hello {name}\nhello {name}\n"


def test_an_invalid_response_is_refused_with_the_api_message(
    logged_in: Invoke, installed_pack: str
) -> None:
    name = unique("n")
    workflow_id = logged_in("run", "clidemo.approve", f"name={name}", "--no-wait").stdout.strip()
    inquiry = _pending_inquiry(logged_in, f"Greet {name}?")
    refused = logged_in(
        "inquiry", "respond", str(inquiry["id"]), "--response-json", '{"approved": "yes"}', ok=False
    )
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ")
    logged_in(
        "inquiry", "respond", str(inquiry["id"]), "--response-json",
        '{"approved": false, "times": 1}',
    )  # fmt: skip
    watched = logged_in("execution", "watch", workflow_id, "--timeout", "30", "-j")
    assert json.loads(watched.stdout)["status"] == "completed"
