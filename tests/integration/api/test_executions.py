"""Executions over HTTP, the RBAC matrix, and the notifier (WebSocket and SSE)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import websockets.asyncio.client
from websockets.exceptions import InvalidStatus

from attune_core.bus import RoutingKey
from attune_services.run import Running
from tests.integration.api.conftest import login, make_pack, unique, wait_for_status

pytestmark = pytest.mark.anyio


async def _shell_action(admin: httpx.AsyncClient, script: str) -> str:
    pack = await make_pack(admin)
    ref = f"{pack}.run"
    response = await admin.post(
        "/api/v1/actions",
        json={
            "ref": ref,
            "pack_ref": pack,
            "label": "Run",
            "entrypoint": script,
            "runtime_ref": "core.shell",
            "param_schema": {
                "who": {"type": "string", "required": True},
                "token": {"type": "string", "secret": True},
            },
        },
    )
    assert response.status_code == 201, response.text
    return ref


async def test_execute_inline_shell(admin: httpx.AsyncClient) -> None:
    ref = await _shell_action(admin, 'echo "hello $who"')
    created = await admin.post(
        "/api/v1/executions/execute",
        json={"action_ref": ref, "parameters": {"who": "world", "token": "hunter2"}},
    )
    assert created.status_code == 201, created.text
    execution = created.json()["data"]
    assert execution["status"] == "requested"
    assert execution["config"]["token"] != "hunter2"  # secrets masked
    done = await wait_for_status(admin, execution["id"])
    assert done["status"] == "completed", done
    assert done["result"]["stdout"] == "hello world\n"
    assert done["started_at"] is not None
    logs = (await admin.get(f"/api/v1/executions/{execution['id']}/logs/stdout")).json()["data"]
    assert logs["content"] == "hello world\n"
    history = (await admin.get(f"/api/v1/executions/{execution['id']}/history")).json()
    assert history["items"]

    listed = (await admin.get("/api/v1/executions", params={"action_ref": ref})).json()
    assert [e["id"] for e in listed["items"]] == [execution["id"]]
    assert "total_items" not in listed["pagination"]
    # A listed execution shows the values of its details, timestamps written the same way.
    item = listed["items"][0]
    details = (await admin.get(f"/api/v1/executions/{execution['id']}")).json()["data"]
    assert item == {name: details[name] for name in item}
    assert {"id", "status", "created", "updated", "started_at"} <= set(item)
    assert item["created"].endswith("+00:00") and "T" in item["created"]
    counted = (
        await admin.get("/api/v1/executions", params={"action_ref": ref, "include_total": "true"})
    ).json()
    assert counted["pagination"]["total_items"] == 1
    by_pack = await admin.get(
        "/api/v1/executions",
        params={
            "pack_name": ref.split(".")[0],
            "status": "completed",
            "top_level_only": "true",
            "result_contains": "hello",
        },
    )
    assert [e["id"] for e in by_pack.json()["items"]] == [execution["id"]]
    assert (await admin.get("/api/v1/executions", params={"status": "bogus"})).status_code == 400
    # By the worker it ran on: there, and not on another one.
    assert done["worker"] is not None
    on_worker = {"action_ref": ref, "worker": done["worker"]}
    listed = (await admin.get("/api/v1/executions", params=on_worker)).json()
    assert [e["id"] for e in listed["items"]] == [execution["id"]]
    elsewhere = {"action_ref": ref, "worker": done["worker"] + 1000}
    assert (await admin.get("/api/v1/executions", params=elsewhere)).json()["items"] == []

    rerun = await admin.post(f"/api/v1/executions/{execution['id']}/rerun")
    assert rerun.status_code == 201
    again = await wait_for_status(admin, rerun.json()["data"]["id"])
    assert again["original_execution"] == execution["id"]
    stats = (await admin.get("/api/v1/executions/stats")).json()["data"]
    assert stats["completed"] >= 2


async def test_missing_parameter_fails_in_executor(admin: httpx.AsyncClient) -> None:
    ref = await _shell_action(admin, "echo never")
    created = await admin.post("/api/v1/executions/execute", json={"action_ref": ref})
    assert created.status_code == 201
    done = await wait_for_status(admin, created.json()["data"]["id"])
    assert done["status"] == "failed"
    unknown = await admin.post("/api/v1/executions/execute", json={"action_ref": "no.such"})
    assert unknown.status_code == 404


async def test_cancel_running(admin: httpx.AsyncClient) -> None:
    ref = await _shell_action(admin, "sleep 30")
    execution = (
        await admin.post(
            "/api/v1/executions/execute", json={"action_ref": ref, "parameters": {"who": "x"}}
        )
    ).json()["data"]
    with anyio.fail_after(15):
        status = ""
        while status != "running":  # polling the API is the point of this test
            await anyio.sleep(0.05)
            response = await admin.get(f"/api/v1/executions/{execution['id']}")
            status = response.json()["data"]["status"]
    cancelled = await admin.post(f"/api/v1/executions/{execution['id']}/cancel")
    assert cancelled.status_code == 200
    done = await wait_for_status(admin, execution["id"])
    assert done["status"] == "cancelled"
    assert (await admin.post(f"/api/v1/executions/{execution['id']}/cancel")).status_code == 400


ROLE_MATRIX: list[tuple[str, str, str, dict[str, int]]] = [
    # method, path, body-kind, expected status per role (admin, editor, executor, viewer)
    ("GET", "/api/v1/packs", "", {"admin": 200, "editor": 200, "executor": 200, "viewer": 200}),
    (
        "POST",
        "/api/v1/packs",
        "pack",
        {"admin": 201, "editor": 201, "executor": 403, "viewer": 403},
    ),
    (
        "POST",
        "/api/v1/executions/execute",
        "execute",
        {"admin": 201, "editor": 201, "executor": 201, "viewer": 403},
    ),
    (
        "GET",
        "/api/v1/identities",
        "",
        {"admin": 200, "editor": 403, "executor": 403, "viewer": 403},
    ),
    ("GET", "/api/v1/keys", "", {"admin": 200, "editor": 200, "executor": 200, "viewer": 200}),
    ("POST", "/api/v1/keys", "key", {"admin": 201, "editor": 201, "executor": 403, "viewer": 403}),
    (
        "POST",
        "/api/v1/events",
        "event",
        {"admin": 201, "editor": 201, "executor": 201, "viewer": 403},
    ),
    (
        "GET",
        "/api/v1/permissions/sets",
        "",
        {"admin": 200, "editor": 403, "executor": 403, "viewer": 403},
    ),
    (
        "GET",
        "/api/v1/analytics/dashboard",
        "",
        {"admin": 200, "editor": 200, "executor": 200, "viewer": 200},
    ),
    (
        "DELETE",
        "/api/v1/actions/core.noop-missing",
        "",
        {"admin": 404, "editor": 404, "executor": 403, "viewer": 403},
    ),
]


async def test_rbac_matrix(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    clients: dict[str, dict[str, str]] = {}
    for role in ("admin", "editor", "executor", "viewer"):
        name, password = unique(role), "Password1!"
        created = await admin.post(
            "/api/v1/identities",
            json={"login": name, "password": password, "roles": [f"core.{role}"]},
        )
        assert created.status_code == 201
        tokens = await login(anon, name, password)
        clients[role] = {"Authorization": f"Bearer {tokens['access_token']}"}
    trigger_pack = await make_pack(admin)
    await admin.post(
        "/api/v1/triggers",
        json={"ref": f"{trigger_pack}.t", "label": "T", "pack_ref": trigger_pack},
    )

    def body(kind: str) -> Any:
        return {
            "": None,
            "pack": {"ref": unique("rb"), "label": "x", "version": "1.0.0"},
            "execute": {"action_ref": "core.noop"},
            "key": {"ref": unique("rbk"), "name": "n", "value": 1},
            "event": {"trigger_ref": f"{trigger_pack}.t", "payload": {}},
        }[kind]

    failures = []
    for method, path, kind, expected in ROLE_MATRIX:
        for role, headers in clients.items():
            response = await anon.request(method, path, json=body(kind), headers=headers)
            if response.status_code != expected[role]:
                failures.append((method, path, role, response.status_code, response.text[:80]))
    assert failures == []

    # a frozen identity is locked out at once
    me = (await anon.get("/auth/me", headers=clients["viewer"])).json()["data"]
    await admin.post(f"/api/v1/identities/{me['id']}/freeze")
    assert (await anon.get("/api/v1/packs", headers=clients["viewer"])).status_code == 403
    await admin.post(f"/api/v1/identities/{me['id']}/unfreeze")
    assert (await anon.get("/api/v1/packs", headers=clients["viewer"])).status_code == 200


async def test_websocket_frames(server: Running, admin: httpx.AsyncClient) -> None:
    token = admin.headers["Authorization"].split()[1]
    url = server.url.replace("http", "ws", 1) + "/ws"
    with pytest.raises(InvalidStatus):
        async with websockets.asyncio.client.connect(url):
            pass
    async with websockets.asyncio.client.connect(
        f"{url}?token={token}", subprotocols=["attune.v1"]
    ) as ws:
        assert ws.subprotocol == "attune.v1"
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome" and welcome["client_id"]
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}
        await ws.send(json.dumps({"type": "subscribe", "filter": "entity:execution:424242"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        await ws.send(json.dumps({"type": "subscribe", "filter": "bogus"}))
        assert json.loads(await ws.recv())["type"] == "error"
        frame = {
            "notification_type": "execution_status_changed",
            "entity_type": "execution",
            "entity_id": 424242,
            "user_id": None,
            "payload": {"status": "running", "old_status": "scheduled"},
            "timestamp": "2026-01-01T00:00:00+00:00",
        }
        await server.ctx.bus.publish(RoutingKey.NOTIFICATION_CREATED, {**frame, "entity_id": 1})
        await server.ctx.bus.publish(RoutingKey.NOTIFICATION_CREATED, frame)
        with anyio.fail_after(5):
            received = json.loads(await ws.recv())
        assert received == {"type": "notification", **frame}


async def test_sse_execution_stream(server: Running, admin: httpx.AsyncClient) -> None:
    token = admin.headers["Authorization"].split()[1]
    frame = {
        "notification_type": "execution_status_changed",
        "entity_type": "execution",
        "entity_id": 777001,
        "user_id": None,
        "payload": {"status": "completed", "old_status": "running"},
        "timestamp": "2026-01-01T00:00:00+00:00",
    }
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream(
            "GET", "/api/v1/executions/stream", params={"execution_id": 777001, "token": token}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith(": connected")
        await server.ctx.bus.publish(RoutingKey.NOTIFICATION_CREATED, frame)
        with anyio.fail_after(5):
            async for line in lines:
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    break
    assert data["entity_type"] == "execution" and data["entity_id"] == 777001
    assert data["status"] == "completed"


async def test_workflow_state_with_the_conductors_reasons(admin: httpx.AsyncClient) -> None:
    pack = await make_pack(admin)
    created = await admin.post(
        "/api/v1/workflows",
        json={
            "ref": f"{pack}.two",
            "pack_ref": pack,
            "label": "Two",
            "version": "1.0.0",
            "definition": {
                "tasks": [
                    {
                        "name": "first",
                        "action": "core.noop",
                        "next": [
                            {"when": "{{ succeeded() }}", "do": "second"},
                            {"when": "{{ failed() }}", "do": "third"},
                        ],
                    },
                    {"name": "second", "action": "core.noop"},
                    {"name": "third", "action": "core.noop"},
                ]
            },
        },
    )
    assert created.status_code == 201, created.text
    execution = (
        await admin.post("/api/v1/executions/execute", json={"action_ref": f"{pack}.two"})
    ).json()["data"]
    done = await wait_for_status(admin, execution["id"])
    assert done["status"] == "completed", done
    response = await admin.get(f"/api/v1/executions/{execution['id']}/workflow")
    assert response.status_code == 200, response.text
    state = response.json()["data"]
    assert state["execution"] == execution["id"]
    assert state["task_graph"]["tasks"] == ["first", "second", "third"]
    assert state["tasks"]["first"]["status"] == "succeeded"
    assert state["tasks"]["second"]["status"] == "succeeded"
    assert "third" not in state["tasks"]
    dispatched = [d for d in state["decisions"] if d["command"] == "DispatchTask"]
    assert [d["task"] for d in dispatched] == ["first", "second"]
    evaluations = dispatched[1]["why"]["evaluations"]
    assert [(e["transition"], e["fired"]) for e in evaluations] == [
        ("next[0]", True),
        ("next[1]", False),
    ]
    children = (await admin.get("/api/v1/executions", params={"parent": execution["id"]})).json()[
        "items"
    ]
    assert {c["workflow_task"]["task_name"] for c in children} == {"first", "second"}
    plain = (await admin.get("/api/v1/executions", params={"page_size": 1})).json()["items"][0]
    if plain["workflow_task"]:
        return
    not_workflow = await admin.get(f"/api/v1/executions/{plain['id']}/workflow")
    assert not_workflow.status_code == 404


async def test_concurrent_executes_share_transactions_and_keep_their_outcomes(
    server: Running, admin: httpx.AsyncClient
) -> None:
    ref = await _shell_action(admin, 'echo "hello $who"')
    intake = server.ctx.executions
    assert intake is not None
    before = intake.transactions
    answers: dict[int, httpx.Response] = {}

    async def execute(n: int) -> None:
        action_ref = "nosuch.action" if n == 7 else ref
        answers[n] = await admin.post(
            "/api/v1/executions/execute",
            json={"action_ref": action_ref, "parameters": {"who": f"w{n}"}},
        )

    async with anyio.create_task_group() as tg:
        for n in range(24):
            tg.start_soon(execute, n)
    # Each request its own outcome: the unknown action is refused alone.
    assert answers[7].status_code == 404, answers[7].text
    created = {n: r.json()["data"] for n, r in answers.items() if n != 7}
    assert all(answers[n].status_code == 201 for n in created)
    assert {d["config"]["who"] for d in created.values()} == {f"w{n}" for n in created}
    assert len({d["id"] for d in created.values()}) == 23
    # Requests that arrived while a batch was stored were stored together.
    assert intake.transactions - before < 24
    for data in created.values():
        done = await wait_for_status(admin, data["id"])
        assert done["status"] == "completed", done
        assert done["result"]["stdout"] == f"hello {data['config']['who']}\n"
