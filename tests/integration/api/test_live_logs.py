"""Logs while an execution runs: a real server (SQLite, and PostgreSQL + its bus) runs a shell
action that prints, then waits for the test to open a gate before it prints again and ends.
What it printed first is readable over HTTP (the log endpoint and its SSE stream) while it
still runs, masked, and the stream ends with the whole log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from attune_core.model import ExecutionStatus
from attune_services.run import Running
from tests.integration.api.conftest import make_pack, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TOKEN = "tok-SECRET-98765"
MASK = "********"

# The secret is also written in two parts with a pause longer than the streaming interval
# between them: the first part must not leave the worker on its own.
SCRIPT = """\
echo "first line for $who"
echo "token is $token"
echo "warming up" >&2
printf '%s' "${token:0:7}"
sleep 0.6
printf '%s\\n' "${token:7}"
for _ in $(seq 600); do [ -e "$gate" ] && break; sleep 0.1; done
echo "last line"
"""


async def _gated_action(admin: httpx.AsyncClient) -> str:
    pack = await make_pack(admin)
    response = await admin.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.gated",
            "pack_ref": pack,
            "label": "Gated",
            "entrypoint": SCRIPT,
            "runtime_ref": "core.shell",
            "param_schema": {
                "who": {"type": "string", "required": True},
                "token": {"type": "string", "secret": True},
                "gate": {"type": "string", "required": True},
            },
        },
    )
    assert response.status_code == 201, response.text
    return f"{pack}.gated"


async def _follow(
    admin: httpx.AsyncClient, url: str, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """Read the SSE stream at ``url`` into ``events`` as (event name, data) until it ends."""
    async with admin.stream("GET", url, timeout=httpx.Timeout(60, read=60)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = "message"
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:])))
                if name == "end":
                    return
            elif not line:
                name = "message"


async def _until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` holds (the server is polled over HTTP: no event to await)."""
    try:
        with anyio.fail_after(timeout):
            while not await predicate():  # noqa: ASYNC110
                await anyio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not seen within {timeout} s: {what}") from None


async def test_output_is_readable_while_the_execution_runs(
    admin: httpx.AsyncClient, server: Running, tmp_path: Path
) -> None:
    ref = await _gated_action(admin)
    gate = tmp_path / "gate"
    started = await admin.post(
        "/api/v1/executions/execute",
        json={
            "action_ref": ref,
            "parameters": {"who": "world", "token": TOKEN, "gate": str(gate)},
        },
    )
    assert started.status_code == 201, started.text
    execution_id = started.json()["data"]["id"]
    base = f"/api/v1/executions/{execution_id}"
    events: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, Any] = {}

    async with anyio.create_task_group() as tg:
        tg.start_soon(_follow, admin, f"{base}/logs/stdout/stream", events)

        async def first_line_served() -> bool:
            seen["log"] = (await admin.get(f"{base}/logs/stdout")).json()["data"]
            return "first line for world" in seen["log"]["content"]

        await _until(first_line_served, "the first line in GET .../logs/stdout")
        # The process is still running: it waits for the gate.
        assert seen["log"]["complete"] is False
        status = (await admin.get(base)).json()["data"]["status"]
        assert status == "running"

        async def first_line_streamed() -> bool:
            return any("first line" in d.get("content", "") for n, d in events if n == "chunk")

        await _until(first_line_streamed, "the first line in the SSE stream")
        # stderr is streamed on its own
        err = (await admin.get(f"{base}/logs/stderr")).json()["data"]
        assert err["content"] in ("", "warming up\n")

        # the rest of the secret, and nothing more, before the gate opens
        async def whole_secret_streamed() -> bool:
            text = "".join(d["content"] for n, d in events if n == "chunk")
            return text.count(MASK) == 2

        await _until(whole_secret_streamed, "the split secret, masked")
        gate.touch()
        done = await wait_for_status(admin, execution_id)

    assert done["status"] == "completed", done["result"]
    chunks = [d for n, d in events if n == "chunk"]
    streamed = "".join(d["content"] for d in chunks)
    # chunks follow each other: each starts where the previous ended
    offsets = [d["offset"] for d in chunks]
    assert offsets == [sum(len(d["content"]) for d in chunks[:i]) for i in range(len(chunks))]
    final = [d for n, d in events if n == "message"]
    assert [n for n, _ in events][-2:] == ["message", "end"]
    whole = "first line for world\ntoken is ********\n********\nlast line\n"
    assert final[-1]["content"] == whole
    assert final[-1]["status"] == "completed"
    assert whole.startswith(streamed)
    # never a secret, nor its first part, in what was streamed
    for text in [streamed, *(d["content"] for d in chunks)]:
        assert TOKEN not in text and TOKEN[:7] not in text
    assert (await admin.get(f"{base}/logs/stdout")).json()["data"] == {
        "execution_id": execution_id,
        "stream": "stdout",
        "content": whole,
        "truncated": False,
        "offset": 0,
        "complete": True,
    }
    # the streamed rows are gone once the outcome is recorded
    async with server.ctx.store.read() as uow:
        assert await uow.execution_logs.read(execution_id, "stdout") == []


async def test_a_short_action_streams_nothing(admin: httpx.AsyncClient, server: Running) -> None:
    """An action that ends within the streaming interval writes no chunk and sends no
    ``execution_log`` notification: it costs what it cost before."""
    pack = await make_pack(admin)
    await admin.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.quick",
            "pack_ref": pack,
            "label": "Quick",
            "entrypoint": "echo quick",
            "runtime_ref": "core.shell",
        },
    )
    assert server.ctx.hub is not None
    subscription = server.ctx.hub.subscribe(["notification_type:execution_log"])
    try:
        started = await admin.post(
            "/api/v1/executions/execute", json={"action_ref": f"{pack}.quick"}
        )
        execution_id = started.json()["data"]["id"]
        done = await wait_for_status(admin, execution_id)
        assert done["status"] == "completed"
        frames = []
        while (frame := await subscription.get_or_timeout(0.3)) is not None:
            frames.append(frame)
        assert [f for f in frames if f["entity_id"] == execution_id] == []
    finally:
        subscription.close()


async def test_log_requests_name_what_is_wrong(admin: httpx.AsyncClient) -> None:
    pack = await make_pack(admin)
    await admin.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.quick",
            "pack_ref": pack,
            "label": "Quick",
            "entrypoint": "echo quick",
            "runtime_ref": "core.shell",
        },
    )
    started = await admin.post("/api/v1/executions/execute", json={"action_ref": f"{pack}.quick"})
    execution_id = started.json()["data"]["id"]
    await wait_for_status(admin, execution_id)
    base = f"/api/v1/executions/{execution_id}/logs"
    negative = await admin.get(f"{base}/stdout", params={"offset": -1})
    assert negative.status_code == 400 and "offset" in negative.json()["error"]
    assert (await admin.get(f"{base}/stdin")).status_code == 404
    assert (await admin.get(f"{base}/stdout/stream", params={"offset": "x"})).status_code == 400
    part = (await admin.get(f"{base}/stdout", params={"offset": 2})).json()["data"]
    assert (part["content"], part["offset"], part["complete"]) == ("ick\n", 2, True)
    assert ExecutionStatus.COMPLETED.value == "completed"
