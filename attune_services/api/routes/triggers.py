"""Triggers, sensors, webhooks (management and the unauthenticated receiver)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from quart import request

from attune_core.engine._sensors import sensor_status_json, stored_sensor_state
from attune_core.engine._webhooks import check_webhook_config
from attune_core.errors import BadRequest, NotFound
from attune_core.model import Sensor, Trigger
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._errors import Forbidden, TooManyRequests, Unauthorized
from attune_services.api._routing import Call, check_storable, list_repo
from attune_services.api.routes._common import drop_none, pack_id
from attune_services.api.routes._events import store_event
from attune_services.api.routes._registry import api
from attune_services.api.routes.actions import resolve_runtime

T = "triggers"
TR, SE = Resource.TRIGGER, Resource.SENSOR
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


def _pack_of_ref(ref: str, pack_ref: str | None) -> str | None:
    return pack_ref if pack_ref is not None else None


# -- triggers ---------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/triggers",
    summary="List triggers",
    tag=T,
    resource=TR,
    op=R,
    response=m.TRIGGER,
    kind="list",
)
async def list_triggers(call: Call) -> object:
    return await list_repo(call, "triggers", filters={"pack_ref": call.arg("pack_ref")})


@api.route(
    "GET",
    "/api/v1/triggers/enabled",
    summary="List enabled triggers",
    tag=T,
    resource=TR,
    op=R,
    response=m.TRIGGER,
    kind="list",
)
async def list_enabled_triggers(call: Call) -> object:
    return await list_repo(call, "triggers", filters={"enabled": True})


@api.route(
    "POST",
    "/api/v1/triggers",
    summary="Create a trigger",
    tag=T,
    resource=TR,
    op=C,
    body=m.TRIGGER_CREATE,
    response=m.TRIGGER,
    status=201,
)
async def create_trigger(call: Call) -> object:
    values = drop_none(dict(call.body))
    if "webhook_config" in values:
        values["webhook_config"] = check_webhook_config(values["webhook_config"])
    async with call.ctx.store.transaction() as uow:
        values["pack"] = await pack_id(uow, values.get("pack_ref"))
        return await uow.triggers.create(Trigger(is_adhoc=True, **values))


@api.route(
    "GET",
    "/api/v1/triggers/<ref>",
    summary="Get a trigger",
    tag=T,
    resource=TR,
    op=R,
    response=m.TRIGGER,
)
async def get_trigger(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.triggers.get_by_ref(ref)


@api.route(
    "PUT",
    "/api/v1/triggers/<ref>",
    summary="Update a trigger",
    tag=T,
    resource=TR,
    op=U,
    body=m.TRIGGER_UPDATE,
    response=m.TRIGGER,
)
async def update_trigger(call: Call, ref: str) -> object:
    changes = drop_none(dict(call.body))
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    if "webhook_config" in changes:
        changes["webhook_config"] = check_webhook_config(changes["webhook_config"])
    async with call.ctx.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref(ref)
        assert trigger.id is not None
        return await uow.triggers.update(trigger.id, **changes) if changes else trigger


@api.route(
    "DELETE",
    "/api/v1/triggers/<ref>",
    summary="Delete a trigger",
    tag=T,
    resource=TR,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_trigger(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.triggers.delete_by_ref(ref)
    return f"trigger {ref!r} deleted"


async def _set_trigger(call: Call, ref: str, **changes: Any) -> Any:
    async with call.ctx.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref(ref)
        assert trigger.id is not None
        return await uow.triggers.update(trigger.id, **changes)


@api.route(
    "POST",
    "/api/v1/triggers/<ref>/enable",
    summary="Enable a trigger",
    tag=T,
    resource=TR,
    op=U,
    response=m.TRIGGER,
)
async def enable_trigger(call: Call, ref: str) -> object:
    return await _set_trigger(call, ref, enabled=True)


@api.route(
    "POST",
    "/api/v1/triggers/<ref>/disable",
    summary="Disable a trigger",
    tag=T,
    resource=TR,
    op=U,
    response=m.TRIGGER,
)
async def disable_trigger(call: Call, ref: str) -> object:
    return await _set_trigger(call, ref, enabled=False)


async def _webhook(call: Call, ref: str, operation: str) -> Any:
    async with call.ctx.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref(ref)
        assert trigger.id is not None
        method = getattr(uow.triggers, f"{operation}_webhook")
        return await method(trigger.id)


@api.route(
    "POST",
    "/api/v1/triggers/<ref>/webhooks/enable",
    summary="Enable the webhook",
    tag=T,
    resource=TR,
    op=U,
    response=m.TRIGGER,
)
async def enable_webhook(call: Call, ref: str) -> object:
    return await _webhook(call, ref, "enable")


@api.route(
    "POST",
    "/api/v1/triggers/<ref>/webhooks/disable",
    summary="Disable the webhook (revokes the key)",
    tag=T,
    resource=TR,
    op=U,
    response=m.TRIGGER,
)
async def disable_webhook(call: Call, ref: str) -> object:
    return await _webhook(call, ref, "disable")


@api.route(
    "POST",
    "/api/v1/triggers/<ref>/webhooks/regenerate",
    summary="New webhook key",
    tag=T,
    resource=TR,
    op=U,
    response=m.TRIGGER,
)
async def regenerate_webhook(call: Call, ref: str) -> object:
    return await _webhook(call, ref, "regenerate")


@api.route(
    "GET",
    "/api/v1/triggers/<ref>/sensors",
    summary="Sensors of a trigger",
    tag=T,
    resource=SE,
    op=R,
    response=m.SENSOR,
    kind="list",
)
async def trigger_sensors(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        await uow.triggers.get_by_ref(ref)
    return await list_repo(call, "sensors", filters={"trigger_ref": ref})


@api.route(
    "GET",
    "/api/v1/triggers/<ref>/rules",
    summary="Rules of a trigger",
    tag=T,
    resource=Resource.RULE,
    op=R,
    response=m.RULE,
    kind="list",
)
async def trigger_rules(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        if await uow.triggers.find_by_ref(ref) is None:
            raise NotFound(f"trigger {ref!r} not found")
    return await list_repo(call, "rules", filters={"trigger_ref": ref})


# -- the webhook receiver ---------------------------------------------------------------------


def _client_ip() -> str:
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        return forwarded.split(",")[0].strip()
    real = request.headers.get("X-Real-IP")
    if real:
        return real.strip()
    return request.remote_addr or ""


def _ip_allowed(ip: str, allowed: list[Any]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(str(entry), strict=False):
                return True
        except ValueError:
            continue
    return False


def _signature_ok(secret: str, algorithm: str, raw: bytes) -> bool:
    header = request.headers.get("X-Webhook-Signature") or request.headers.get(
        "X-Hub-Signature-256"
    )
    if not header or "=" not in header:
        return False
    algo, _, given = header.partition("=")
    if algo.lower() != algorithm or algorithm not in ("sha256", "sha512"):
        return False
    expected = hmac.new(secret.encode(), raw, getattr(hashlib, algorithm)).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


@api.route(
    "POST",
    "/api/v1/webhooks/<key>",
    summary="Receive a webhook (no auth)",
    tag="webhooks",
    public=True,
    response=m.WEBHOOK_RECEIVED,
)
async def receive_webhook(call: Call, key: str) -> object:
    raw = await request.get_data()
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or "payload" not in body:
        raise BadRequest('the body must be a JSON object {"payload": <any JSON>, ...}')
    check_storable(body)
    async with call.ctx.store.read() as uow:
        trigger = await uow.triggers.find_by_webhook_key(key)
    if trigger is None or not trigger.webhook_key:
        raise NotFound("unknown webhook")
    if not trigger.webhook_enabled or not trigger.enabled:
        raise BadRequest("the webhook is disabled")
    config = trigger.webhook_config or {}
    limit_kb = config.get("payload_size_limit_kb")
    if isinstance(limit_kb, (int, float)) and len(raw) > limit_kb * 1024:
        raise BadRequest(f"payload exceeds the limit of {limit_kb} KB")
    whitelist = config.get("ip_whitelist") or {}
    if whitelist.get("enabled") and not _ip_allowed(_client_ip(), list(whitelist.get("ips") or [])):
        raise Forbidden("the client address is not allowed")
    rate = config.get("rate_limit") or {}
    if rate.get("enabled"):
        # The counter is the database (the webhook events stored in the window), so the limit
        # holds across API replicas; see attune_core.engine._webhooks rule 4.
        window = float(rate.get("window_seconds", 60))
        since = call.ctx.clock.now() - timedelta(seconds=window)
        async with call.ctx.store.read() as uow:
            received = await uow.events.count_webhook_events(trigger.ref, since=since)
        if received >= int(rate.get("requests", 100)):
            raise TooManyRequests(
                "webhook rate limit exceeded", retry_after=int(rate.get("window_seconds", 60))
            )
    signing = config.get("hmac") or {}
    if signing.get("enabled") and not _signature_ok(
        str(signing.get("secret", "")), str(signing.get("algorithm", "sha256")).lower(), raw
    ):
        raise Unauthorized("invalid or missing webhook signature")
    event = await store_event(
        call.ctx,
        trigger.ref,
        body["payload"],
        config={
            "source": "webhook",
            "source_ip": body.get("source_ip") or _client_ip(),
            "user_agent": body.get("user_agent") or request.headers.get("User-Agent"),
            "headers": body.get("headers") if isinstance(body.get("headers"), dict) else {},
        },
    )
    return {
        "event_id": event.id,
        "trigger_ref": trigger.ref,
        "received_at": (event.created or datetime.now(UTC)).isoformat(),
        "message": "Webhook received successfully",
    }


# -- sensors ----------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/sensors",
    summary="List sensors",
    tag="sensors",
    resource=SE,
    op=R,
    response=m.SENSOR,
    kind="list",
)
async def list_sensors(call: Call) -> object:
    return await list_repo(call, "sensors", filters={"pack_ref": call.arg("pack_ref")})


@api.route(
    "GET",
    "/api/v1/sensors/enabled",
    summary="List enabled sensors",
    tag="sensors",
    resource=SE,
    op=R,
    response=m.SENSOR,
    kind="list",
)
async def list_enabled_sensors(call: Call) -> object:
    return await list_repo(call, "sensors", filters={"enabled": True})


@api.route(
    "POST",
    "/api/v1/sensors",
    summary="Create a sensor",
    tag="sensors",
    resource=SE,
    op=C,
    body=m.SENSOR_CREATE,
    response=m.SENSOR,
    status=201,
)
async def create_sensor(call: Call) -> object:
    values = drop_none(dict(call.body))
    async with call.ctx.store.transaction() as uow:
        values["pack"] = await pack_id(uow, values.get("pack_ref"))
        runtime_ref = values.get("runtime_ref")
        await resolve_runtime(uow, values)
        values["runtime_ref"] = runtime_ref
        if values.get("trigger_ref"):
            values["trigger"] = await uow.triggers.id_of(values["trigger_ref"])
            values.setdefault("trigger_types", [values["trigger_ref"]])
        return await uow.sensors.create(Sensor(is_adhoc=True, **drop_none(values)))


@api.route(
    "GET",
    "/api/v1/sensors/<ref>",
    summary="Get a sensor",
    tag="sensors",
    resource=SE,
    op=R,
    response=m.SENSOR,
)
async def get_sensor(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.sensors.get_by_ref(ref)


@api.route(
    "PUT",
    "/api/v1/sensors/<ref>",
    summary="Update a sensor",
    tag="sensors",
    resource=SE,
    op=U,
    body=m.SENSOR_UPDATE,
    response=m.SENSOR,
)
async def update_sensor(call: Call, ref: str) -> object:
    changes = drop_none(dict(call.body))
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    async with call.ctx.store.transaction() as uow:
        sensor = await uow.sensors.get_by_ref(ref)
        assert sensor.id is not None
        if "runtime_ref" in changes or "runtime" in changes:
            runtime_ref = changes.get("runtime_ref")
            await resolve_runtime(uow, changes)
            if runtime_ref:
                changes["runtime_ref"] = runtime_ref
        if changes.get("trigger_ref"):
            changes["trigger"] = await uow.triggers.id_of(changes["trigger_ref"])
        return await uow.sensors.update(sensor.id, **changes) if changes else sensor


@api.route(
    "DELETE",
    "/api/v1/sensors/<ref>",
    summary="Delete a sensor",
    tag="sensors",
    resource=SE,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_sensor(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.sensors.delete_by_ref(ref)
    return f"sensor {ref!r} deleted"


async def _set_sensor(call: Call, ref: str, enabled: bool) -> Any:
    async with call.ctx.store.transaction() as uow:
        sensor = await uow.sensors.get_by_ref(ref)
        assert sensor.id is not None
        return await uow.sensors.update(sensor.id, enabled=enabled)


@api.route(
    "POST",
    "/api/v1/sensors/<ref>/enable",
    summary="Enable a sensor",
    tag="sensors",
    resource=SE,
    op=U,
    response=m.SENSOR,
)
async def enable_sensor(call: Call, ref: str) -> object:
    return await _set_sensor(call, ref, True)


@api.route(
    "POST",
    "/api/v1/sensors/<ref>/disable",
    summary="Disable a sensor",
    tag="sensors",
    resource=SE,
    op=U,
    response=m.SENSOR,
)
async def disable_sensor(call: Call, ref: str) -> object:
    return await _set_sensor(call, ref, False)


@api.route(
    "GET",
    "/api/v1/sensors/<ref>/logs",
    summary="A sensor's recent log lines",
    tag="sensors",
    resource=SE,
    op=R,
    response=m.SENSOR_LOGS,
)
async def sensor_logs(call: Call, ref: str) -> object:
    """The log and status of the sensor's process: from this process's sensor host when it
    runs one (all-in-one server), else what the sensor host holding the sensor's lease last
    recorded in the database (distributed mode)."""
    async with call.ctx.store.read() as uow:
        await uow.sensors.get_by_ref(ref)
        stored = await stored_sensor_state(uow, ref)
    if call.ctx.attune is not None and (stored is None or call.ctx.attune.sensor_host.runs(ref)):
        status = await call.ctx.attune.sensor_status(ref)
        return {
            "sensor_ref": ref,
            "logs": await call.ctx.attune.sensor_logs(ref),
            "status": sensor_status_json(status),
        }
    if stored is None:
        return {"sensor_ref": ref, "logs": [], "status": None}
    return {"sensor_ref": ref, "logs": list(stored.get("log") or []), "status": stored["status"]}
