"""The end-to-end scenario of issue 7, over HTTP only (both backends).

Log in, create a webhook trigger, an inline shell action and a rule with a templated
parameter, post to the webhook, and watch the rule engine create one enforcement and an
execution that completes with the rendered parameter. Also: a rule whose condition fails
creates no enforcement, and a signed webhook refuses a bad signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from attune_services.run import Running
from tests.integration.api.conftest import ADMIN, unique, wait_for_status

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _session(server: Running) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in over HTTP (``POST /auth/login``)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post("/auth/login", json={"login": ADMIN[0], "password": ADMIN[1]})
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['data']['access_token']}"
        yield client


async def _setup(http: httpx.AsyncClient) -> dict[str, str]:
    """A pack with a webhook trigger (webhook enabled) and an inline shell action."""
    pack = unique("scn")
    created = await http.post(
        "/api/v1/packs", json={"ref": pack, "label": pack, "version": "1.0.0"}
    )
    assert created.status_code == 201, created.text
    trigger = await http.post(
        "/api/v1/triggers",
        json={"ref": f"{pack}.deploy_hook", "label": "Deploy hook", "pack_ref": pack},
    )
    assert trigger.status_code == 201, trigger.text
    enabled = await http.post(f"/api/v1/triggers/{pack}.deploy_hook/webhooks/enable")
    assert enabled.status_code == 200, enabled.text
    key = enabled.json()["data"]["webhook_key"]
    action = await http.post(
        "/api/v1/actions",
        json={
            "ref": f"{pack}.deploy",
            "pack_ref": pack,
            "label": "Deploy",
            "entrypoint": 'echo "deploy $env"',
            "runtime_ref": "core.shell",
            "param_schema": {"env": {"type": "string", "required": True}},
        },
    )
    assert action.status_code == 201, action.text
    return {"pack": pack, "trigger": f"{pack}.deploy_hook", "action": f"{pack}.deploy", "key": key}


async def _rule(http: httpx.AsyncClient, refs: dict[str, str], name: str, **extra: Any) -> str:
    ref = f"{refs['pack']}.{name}"
    response = await http.post(
        "/api/v1/rules",
        json={
            "ref": ref,
            "pack_ref": refs["pack"],
            "label": name,
            "trigger_ref": refs["trigger"],
            "action_ref": refs["action"],
            "action_params": {"env": "{{ event.payload.env }}"},
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return ref


async def _enforcements(http: httpx.AsyncClient, rule_ref: str) -> list[dict[str, Any]]:
    response = await http.get("/api/v1/enforcements", params={"rule_ref": rule_ref})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_webhook_rule_runs_templated_shell_action(server: Running) -> None:
    async with _session(server) as http:
        refs = await _setup(http)
        rule = await _rule(http, refs, "on_deploy")
        skipped = await _rule(
            http,
            refs,
            "only_staging",
            conditions=[{"field": "payload.env", "operator": "equals", "value": "staging"}],
        )
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
            received = await anon.post(
                f"/api/v1/webhooks/{refs['key']}", json={"payload": {"env": "prod"}}
            )
        assert received.status_code == 200, received.text
        event_id = received.json()["data"]["event_id"]

        # The event, its enforcement and the execution were stored together by the webhook.
        enforcements = await _enforcements(http, rule)
        assert len(enforcements) == 1, enforcements
        enforcement = enforcements[0]
        assert enforcement["event"] == event_id
        assert enforcement["status"] == "processed"
        assert enforcement["config"] == {"env": "prod"}
        assert await _enforcements(http, skipped) == []

        listed = await http.get(f"/api/v1/enforcements/{enforcement['id']}/executions")
        assert listed.status_code == 200, listed.text
        executions = listed.json()["items"]
        assert len(executions) == 1
        done = await wait_for_status(http, executions[0]["id"])
        assert done["status"] == "completed", done
        assert done["action_ref"] == refs["action"]
        assert done["config"] == {"env": "prod"}
        assert done["result"]["stdout"] == "deploy prod\n"

        # A disabled rule fires no more; the condition rule fires on its own payload.
        assert (await http.post(f"/api/v1/rules/{rule}/disable")).status_code == 200
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
            staging = await anon.post(
                f"/api/v1/webhooks/{refs['key']}", json={"payload": {"env": "staging"}}
            )
        assert staging.status_code == 200, staging.text
        assert len(await _enforcements(http, rule)) == 1
        matched = await _enforcements(http, skipped)
        assert [e["config"] for e in matched] == [{"env": "staging"}]
        listed = await http.get(f"/api/v1/enforcements/{matched[0]['id']}/executions")
        staged = await wait_for_status(http, listed.json()["items"][0]["id"])
        assert staged["result"]["stdout"] == "deploy staging\n"


async def test_post_event_applies_rules(server: Running) -> None:
    async with _session(server) as http:
        refs = await _setup(http)
        rule = await _rule(http, refs, "on_event")
        created = await http.post(
            "/api/v1/events", json={"trigger_ref": refs["trigger"], "payload": {"env": "qa"}}
        )
        assert created.status_code == 201, created.text
        enforcements = await _enforcements(http, rule)
        assert [e["event"] for e in enforcements] == [created.json()["data"]["id"]]
        listed = await http.get(f"/api/v1/enforcements/{enforcements[0]['id']}/executions")
        done = await wait_for_status(http, listed.json()["items"][0]["id"])
        assert done["result"]["stdout"] == "deploy qa\n"


async def test_rule_validation_and_signed_webhook(server: Running) -> None:
    async with _session(server) as http:
        refs = await _setup(http)
        bad = await http.post(
            "/api/v1/rules",
            json={
                "ref": f"{refs['pack']}.bad",
                "pack_ref": refs["pack"],
                "label": "bad",
                "trigger_ref": refs["trigger"],
                "action_ref": refs["action"],
                "conditions": [{"field": "payload.env", "operator": "no_such_operator"}],
            },
        )
        assert bad.status_code in (400, 422), bad.text
        timer = await http.post(
            "/api/v1/rules",
            json={
                "ref": f"{refs['pack']}.tick",
                "pack_ref": refs["pack"],
                "label": "tick",
                "trigger_ref": "core.intervaltimer",
                "action_ref": refs["action"],
                "trigger_params": {"interval": 0},
            },
        )
        assert timer.status_code in (400, 422), timer.text
        rule = await _rule(http, refs, "signed")
        secret = "scenario-secret"
        configured = await http.put(
            f"/api/v1/triggers/{refs['trigger']}",
            json={"webhook_config": {"hmac": {"enabled": True, "secret": secret}}},
        )
        assert configured.status_code == 200, configured.text
        raw = json.dumps({"payload": {"env": "prod"}}).encode()
        headers = {"Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
            forged = await anon.post(
                f"/api/v1/webhooks/{refs['key']}",
                content=raw,
                headers={**headers, "X-Webhook-Signature": "sha256=" + "0" * 64},
            )
            assert forged.status_code == 401, forged.text
            assert "signature" in forged.text
            assert await _enforcements(http, rule) == []
            good = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            signed = await anon.post(
                f"/api/v1/webhooks/{refs['key']}",
                content=raw,
                headers={**headers, "X-Webhook-Signature": good},
            )
        assert signed.status_code == 200, signed.text
        assert len(await _enforcements(http, rule)) == 1


async def test_timer_rule_follows_enable_and_disable(server: Running) -> None:
    async with _session(server) as http:
        refs = await _setup(http)
        rule = f"{refs['pack']}.every_second"
        created = await http.post(
            "/api/v1/rules",
            json={
                "ref": rule,
                "pack_ref": refs["pack"],
                "label": "every second",
                "trigger_ref": "core.intervaltimer",
                "trigger_params": {"unit": "seconds", "interval": 1},
                "action_ref": refs["action"],
                "action_params": {"env": "timer"},
            },
        )
        assert created.status_code == 201, created.text
        with anyio.fail_after(20):  # the timer host started it from rule.created
            while not await _enforcements(http, rule):  # noqa: ASYNC110 - polling over HTTP
                await anyio.sleep(0.2)
        assert (await http.post(f"/api/v1/rules/{rule}/disable")).status_code == 200
        await anyio.sleep(1.5)  # a tick already in flight may still land
        stopped = len(await _enforcements(http, rule))
        await anyio.sleep(2.5)
        assert len(await _enforcements(http, rule)) == stopped  # rule.disabled stopped it
        assert (await http.post(f"/api/v1/rules/{rule}/enable")).status_code == 200
        with anyio.fail_after(20):
            while len(await _enforcements(http, rule)) == stopped:  # noqa: ASYNC110
                await anyio.sleep(0.2)
        assert (await http.delete(f"/api/v1/rules/{rule}")).status_code == 200
