"""Secrets an execution used never come back out: result, logs and API output show ``********``.

An ad-hoc shell action prints an encrypted pack key and a ``secret: true`` parameter on stdout
(as parsed JSON), on stderr, and in its failure message; a real server runs it (SQLite and
PostgreSQL) and every way of reading the execution back is checked.
"""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from tests.integration.api.conftest import make_pack, unique, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

KEY_VALUE = 'hunter2-key-"quoted"-value'
TOKEN = "tok-ABCDEFG-1234"
MASK = "********"

SCRIPT = """\
printf '{"pw": "%s", "token": "%s", "note": "ok"}\\n' "${db_password//\\"/\\\\\\"}" "$token"
echo "stderr has $db_password and $token" >&2
if [ "$fail" = true ]; then echo "failed with $token" >&2; exit 3; fi
"""


async def _leaky_action(admin: httpx.AsyncClient) -> str:
    pack = await make_pack(admin)
    key = await admin.post(
        "/api/v1/keys",
        json={
            "ref": f"{pack}.db_password",
            "name": "db_password",
            "value": KEY_VALUE,
            "owner_type": "pack",
            "owner_pack_ref": pack,
            "encrypted": True,
        },
    )
    assert key.status_code == 201, key.text
    action = await admin.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.leak",
            "pack_ref": pack,
            "label": "Leak",
            "entrypoint": SCRIPT,
            "runtime_ref": "core.shell",
            "output_format": "json",
            "param_schema": {
                "token": {"type": "string", "secret": True, "required": True},
                "fail": {"type": "boolean", "default": False},
            },
        },
    )
    assert action.status_code == 201, action.text
    return f"{pack}.leak"


def _assert_hidden(text: str) -> None:
    assert TOKEN not in text
    assert "hunter2" not in text
    assert MASK in text


async def _read_back(admin: httpx.AsyncClient, execution_id: int) -> dict[str, str]:
    detail = (await admin.get(f"/api/v1/executions/{execution_id}")).json()["data"]
    out = (await admin.get(f"/api/v1/executions/{execution_id}/logs/stdout")).json()["data"]
    err = (await admin.get(f"/api/v1/executions/{execution_id}/logs/stderr")).json()["data"]
    listed = await admin.get("/api/v1/executions", params={"action_ref": detail["action_ref"]})
    return {
        "detail": json.dumps(detail),
        "stdout": out["content"],
        "stderr": err["content"],
        "list": listed.text,
    }


async def test_secret_values_are_masked_in_results_logs_and_api_output(
    admin: httpx.AsyncClient,
) -> None:
    ref = await _leaky_action(admin)
    started = await admin.post(
        "/api/v1/executions/execute", json={"action_ref": ref, "parameters": {"token": TOKEN}}
    )
    assert started.status_code == 201, started.text
    done = await wait_for_status(admin, started.json()["data"]["id"])
    assert done["status"] == "completed", done["result"]
    # The action did get the real values: it printed them, and they were replaced.
    assert done["result"]["data"] == {"pw": MASK, "token": MASK, "note": "ok"}
    assert done["config"]["token"] == MASK
    views = await _read_back(admin, done["id"])
    for name, text in views.items():
        if name != "list":
            _assert_hidden(text)
        assert TOKEN not in text and "hunter2" not in text, name
    assert views["stderr"] == f"stderr has {MASK} and {MASK}\n"
    # The log files on disk are masked too.
    stderr_log = anyio.Path(done["result"]["stderr_log"])
    _assert_hidden(await stderr_log.read_text())
    _assert_hidden(await (stderr_log.parent / "stdout.log").read_text())


async def test_a_failure_message_quoting_a_secret_is_masked(admin: httpx.AsyncClient) -> None:
    ref = await _leaky_action(admin)
    started = await admin.post(
        "/api/v1/executions/execute",
        json={"action_ref": ref, "parameters": {"token": TOKEN, "fail": True}},
    )
    done = await wait_for_status(admin, started.json()["data"]["id"])
    assert done["status"] == "failed"
    assert done["result"]["error"] in (f"failed with {MASK}", "Command exited with code 3")
    _assert_hidden(json.dumps(done))


async def test_short_and_plain_values_are_left_alone(admin: httpx.AsyncClient) -> None:
    """Unencrypted keys are not secrets; a non-secret parameter is shown as given."""
    pack = await make_pack(admin)
    plain = unique("plainvalue")
    await admin.post(
        "/api/v1/keys",
        json={
            "ref": f"{pack}.region",
            "name": "region",
            "value": plain,
            "owner_type": "pack",
            "owner_pack_ref": pack,
        },
    )
    action = await admin.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.show",
            "pack_ref": pack,
            "label": "Show",
            "entrypoint": 'echo "$region $who"',
            "runtime_ref": "core.shell",
            "param_schema": {"who": {"type": "string"}},
        },
    )
    assert action.status_code == 201, action.text
    started = await admin.post(
        "/api/v1/executions/execute",
        json={"action_ref": f"{pack}.show", "parameters": {"who": "someone"}},
    )
    done = await wait_for_status(admin, started.json()["data"]["id"])
    assert done["result"]["stdout"] == f"{plain} someone\n"
