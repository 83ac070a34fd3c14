"""The webhook receiver: the contract's checks, in order, then one event for every rule."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from attune_core.engine._webhooks import WebhookReceiver
from attune_core.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationError,
)
from attune_core.model import ExecutionStatus
from attune_core.testing import AttuneTestEnvironment

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def body(payload: Any) -> bytes:
    return json.dumps({"payload": payload}).encode()


def sign(raw: bytes, secret: str = "s3cret", algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), raw, getattr(hashlib, algorithm)).hexdigest()


async def test_enable_regenerate_disable(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    with pytest.raises(BadRequest):
        await attune.regenerate_webhook("core.webhook")
    trigger = await attune.enable_webhook("core.webhook")
    assert trigger.webhook_enabled is True
    assert trigger.webhook_key is not None and trigger.webhook_key.startswith("wh_")
    assert len(trigger.webhook_key) == 3 + 32
    again = await attune.regenerate_webhook("core.webhook")
    assert again.webhook_key != trigger.webhook_key
    with pytest.raises(NotFound):
        await attune.receive_webhook(trigger.webhook_key, body({}))
    off = await attune.disable_webhook("core.webhook")
    assert off.webhook_enabled is False and off.webhook_key is None
    with pytest.raises(NotFound):
        await attune.receive_webhook(str(again.webhook_key), body({}))
    # Any trigger can have a webhook, a timer trigger too.
    assert (await attune.enable_webhook("core.intervaltimer")).webhook_enabled


async def test_an_accepted_webhook_is_one_event_fanned_out_to_every_rule(
    env: AttuneTestEnvironment,
) -> None:
    attune = env.attune
    echo = env.mock_action("core.echo", {"stdout": "ok"})
    for name in ("one", "two"):
        await attune.create_rule(
            f"demo.hook_{name}",
            trigger_ref="core.webhook",
            action_ref="core.echo",
            action_params={"message": "{{ event.payload.text }}"},
        )
    key = str((await attune.enable_webhook("core.webhook")).webhook_key)
    receipt = await attune.receive_webhook(key, body({"text": "hi"}), {}, "10.0.0.1")
    assert receipt["trigger_ref"] == "core.webhook"
    assert receipt["message"] == "Webhook received successfully"
    event = await attune.get_event(receipt["event_id"])
    assert event.payload == {"text": "hi"}
    await env.settle()
    assert len(await attune.enforcements(event=event.id)) == 2
    assert [c["message"] for c in echo.calls] == ["hi", "hi"]
    runs = await attune.executions(action_ref="core.echo")
    assert {r.status for r in runs} == {ExecutionStatus.COMPLETED}


async def test_checks_run_in_the_contract_order(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    key = str(
        (
            await attune.enable_webhook(
                "core.webhook",
                {
                    "payload_size_limit_kb": 1,
                    "ip_whitelist": {"enabled": True, "ips": ["10.0.0.0/8", "2001:db8::1"]},
                    "rate_limit": {"enabled": True, "requests": 3, "window_seconds": 60},
                    "hmac": {"enabled": True, "secret": "s3cret", "algorithm": "sha256"},
                },
            )
        ).webhook_key
    )
    raw = body({"n": 1})
    good = {"X-Webhook-Signature": sign(raw)}
    # 1. the wrapper, before anything else (even before the key)
    for bad in (b"not json", b"[1]", b'{"data": 1}'):
        with pytest.raises(BadRequest):
            await attune.receive_webhook("wh_" + "0" * 32, bad)
    # 2. unknown key
    with pytest.raises(NotFound):
        await attune.receive_webhook("wh_" + "0" * 32, raw, good, "10.0.0.1")
    # 4. size limit, before the allow-list
    large = body({"blob": "x" * 2000})
    with pytest.raises(BadRequest, match="too large"):
        await attune.receive_webhook(key, large, {}, "8.8.8.8")
    # 5. allow-list: X-Forwarded-For first, then X-Real-IP, then the peer
    with pytest.raises(Forbidden):
        await attune.receive_webhook(key, raw, good, "8.8.8.8")
    with pytest.raises(Forbidden):
        await attune.receive_webhook(key, raw, {**good, "X-Forwarded-For": "8.8.8.8"}, "10.0.0.1")
    with pytest.raises(Forbidden):
        await attune.receive_webhook(key, raw, {**good, "X-Real-IP": "1.2.3.4"}, "10.0.0.1")
    # 7. signature (checked after the rate limit; a refused request is not counted)
    with pytest.raises(Unauthorized):
        await attune.receive_webhook(key, raw, {"X-Webhook-Signature": sign(b"other")}, "10.1.2.3")
    ok = await attune.receive_webhook(key, raw, {**good, "X-Real-IP": "2001:db8::1"}, "8.8.8.8")
    assert ok["event_id"]
    github = {"X-Hub-Signature-256": sign(raw), "X-Forwarded-For": "10.9.9.9, 8.8.8.8"}
    await attune.receive_webhook(key, raw, github, "8.8.8.8")
    await attune.receive_webhook(key, raw, good, "10.0.0.1")
    # 6. rate limit: 3 accepted per 60 s (counted in the database: the stored webhook events)
    with pytest.raises(TooManyRequests):
        await attune.receive_webhook(key, raw, good, "10.0.0.1")
    await env.clock.advance(61)
    await attune.receive_webhook(key, raw, good, "10.0.0.1")
    # 3. a disabled trigger refuses, after the key check
    async with attune.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref("core.webhook")
        await uow.triggers.update(trigger.id, enabled=False)
    with pytest.raises(BadRequest, match="disabled"):
        await attune.receive_webhook(key, b'{"payload": null}', {}, "8.8.8.8")
    assert len(await attune.events(trigger_ref="core.webhook")) == 4


async def test_sha512_signatures_and_bad_configs(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    config = {"hmac": {"enabled": True, "secret": "k", "algorithm": "sha512"}}
    key = str((await attune.enable_webhook("core.webhook", config)).webhook_key)
    raw = body([1, 2, 3])
    receipt = await attune.receive_webhook(
        key, raw, {"x-webhook-signature": sign(raw, "k", "sha512")}
    )
    assert (await attune.get_event(receipt["event_id"])).payload == [1, 2, 3]
    with pytest.raises(Unauthorized):  # the algorithm must match
        await attune.receive_webhook(key, raw, {"x-webhook-signature": sign(raw, "k", "sha256")})
    for bad in (
        {"ip_whitelist": {"enabled": True, "ips": ["not-an-ip"]}},
        {"rate_limit": {"enabled": True, "requests": 0, "window_seconds": 1}},
        {"hmac": {"enabled": True, "secret": "", "algorithm": "sha256"}},
        {"hmac": {"enabled": True, "secret": "x", "algorithm": "md5"}},
        {"payload_size_limit_kb": -1},
    ):
        with pytest.raises(ValidationError):
            await attune.configure_webhook("core.webhook", bad)


async def test_the_rate_limit_is_shared_by_every_receiver_of_the_database(
    env: AttuneTestEnvironment,
) -> None:
    """Two receivers (as in two API processes) on one database share one limit."""
    attune = env.attune
    config = {"rate_limit": {"enabled": True, "requests": 4, "window_seconds": 30}}
    key = str((await attune.enable_webhook("core.webhook", config)).webhook_key)
    other = WebhookReceiver(attune.store, attune.bus, env.clock)
    receivers = [attune.webhooks, other]
    for n in range(4):
        await receivers[n % 2].receive(key, body({"n": n}))
    for receiver in receivers:
        with pytest.raises(TooManyRequests):
            await receiver.receive(key, body({"n": "over"}))
    await env.clock.advance(31)
    await other.receive(key, body({"n": "later"}))
    events = await attune.events(trigger_ref="core.webhook")
    assert len(events) == 5
    assert all(e.config == {"source": "webhook"} for e in events)
