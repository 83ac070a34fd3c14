"""What the web workflow builder and the execution graph need from the API: validating a
draft definition (every problem with its task) and a workflow run's decisions."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.conftest import make_pack, wait_for_status

pytestmark = pytest.mark.anyio


async def test_validate_reports_problems_with_their_task(admin: httpx.AsyncClient) -> None:
    good = {"tasks": [{"name": "a", "action": "core.noop", "next": [{"do": "b"}]}, {"name": "b"}]}
    response = await admin.post("/api/v1/workflows/validate", json={"definition": good})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data == {"valid": True, "problems": [], "warnings": []}

    bad = {
        "tasks": [
            {
                "name": "a",
                "action": "core.noop",
                "next": [{"when": "{{ succeeded( }}", "do": "zz"}],
            },
            {"name": "b", "action": "core.noop", "on_sucess": "a"},
        ]
    }
    data = (await admin.post("/api/v1/workflows/validate", json={"definition": bad})).json()["data"]
    assert data["valid"] is False
    paths = {p["path"].split(".")[0] for p in data["problems"]}
    assert paths == {"tasks[0]", "tasks[1]"}, data
    assert any(p["task"] == "a" and p["field"] == "next[0].when" for p in data["problems"]), data
    assert all(p["message"] and p["severity"] == "error" for p in data["problems"])

    text = "tasks:\n  - name: a\n    action: core.noop\n    next: [{do: nope}]\n"
    data = (await admin.post("/api/v1/workflows/validate", json={"content": text})).json()["data"]
    assert data["valid"] is False and data["problems"][0]["line"] is not None
    broken = (await admin.post("/api/v1/workflows/validate", json={"content": "a: [b"})).json()
    assert broken["data"]["valid"] is False


async def test_workflow_run_lists_decisions(admin: httpx.AsyncClient) -> None:
    pack = await make_pack(admin)
    definition = {
        "tasks": [
            {
                "name": "first",
                "action": "core.noop",
                "next": [
                    {"when": "{{ succeeded() }}", "do": "second"},
                    {"when": "{{ failed() }}", "do": "fail"},
                ],
            },
            {"name": "second", "action": "core.noop"},
        ]
    }
    saved = await admin.post(
        f"/api/v1/packs/{pack}/workflow-files", json={"name": "flow", "definition": definition}
    )
    assert saved.status_code == 201, saved.text
    created = await admin.post("/api/v1/executions/execute", json={"action_ref": f"{pack}.flow"})
    assert created.status_code == 201, created.text
    execution = created.json()["data"]["id"]
    done = await wait_for_status(admin, execution, timeout=60)
    assert done["status"] == "completed", done

    run = (await admin.get(f"/api/v1/executions/{execution}/workflow")).json()["data"]
    assert run["execution"] == execution
    dispatched = [d for d in run["decisions"] if d["command"] == "DispatchTask"]
    assert [d["task"] for d in dispatched] == ["first", "second"]
    evaluations = dispatched[1]["why"]["evaluations"]
    assert [e["fired"] for e in evaluations] == [True, False]

    children = (await admin.get("/api/v1/executions", params={"parent": execution})).json()
    child = children["items"][0]["id"]
    missing = await admin.get(f"/api/v1/executions/{child}/workflow")
    assert missing.status_code == 404
