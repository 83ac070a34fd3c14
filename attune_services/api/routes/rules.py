"""Rules: CRUD, enable/disable (announced on the bus for timers and the rule engine).

Rules of this file:

1. A rule is checked as ``Attune.create_rule``/``update_rule`` check it (conditions with
   :func:`attune_core.rules.validate_conditions`, timer ``trigger_params`` with the engine's
   ``schedule_for``) before it is stored, so a rule the engine cannot evaluate is a 422 here.
2. Every change is announced after the commit with the facade's payload
   (``rule.created`` / ``rule.enabled`` / ``rule.disabled``: ``{rule_id, rule_ref,
   trigger_ref, enabled, deleted}``), so the timer host starts and stops timers. Rules take
   effect for the next event at once: the rule engine reads them in the event's transaction.
3. Only the Store and the Bus are used, so a distributed API behaves as the all-in-one one.
"""

from __future__ import annotations

from typing import Any

from attune_core.bus import RoutingKey
from attune_core.engine._timers import TIMER_TRIGGERS, schedule_for
from attune_core.errors import ValidationError
from attune_core.model import Rule
from attune_core.rules import validate_conditions
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._routing import Call, list_repo
from attune_services.api.routes._common import drop_none, pack_id
from attune_services.api.routes._registry import api

T = "rules"
RU = Resource.RULE
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    if "conditions" in values and values["conditions"] is None:
        values["conditions"] = {}
    for field in ("action_params", "trigger_params"):
        if field in values and values[field] is None:
            values[field] = {}
    return values


def _check(values: dict[str, Any], current: Rule | None = None) -> None:
    """Reject what the rule engine or a timer could not use (as the facade does)."""
    if "conditions" in values:
        validate_conditions(values["conditions"])
    trigger_ref = values.get("trigger_ref", current.trigger_ref if current else None)
    if trigger_ref in TIMER_TRIGGERS:
        params = values.get("trigger_params", current.trigger_params if current else {})
        schedule_for(trigger_ref, params if params is not None else {})


async def _announce(call: Call, key: str, rule: Rule, *, deleted: bool = False) -> None:
    await call.ctx.bus.publish(
        key,
        {
            "rule_id": rule.id,
            "rule_ref": rule.ref,
            "trigger_ref": rule.trigger_ref,
            "enabled": rule.enabled and not deleted,
            "deleted": deleted,
        },
    )


@api.route(
    "GET",
    "/api/v1/rules",
    summary="List rules",
    tag=T,
    resource=RU,
    op=R,
    response=m.RULE,
    kind="list",
)
async def list_rules(call: Call) -> object:
    filters = {
        "pack_ref": call.arg("pack_ref"),
        "trigger_ref": call.arg("trigger_ref"),
        "action_ref": call.arg("action_ref"),
    }
    enabled = call.bool_arg("enabled")
    if enabled is not None:
        filters["enabled"] = enabled  # type: ignore[assignment]
    return await list_repo(call, "rules", filters=filters)


@api.route(
    "GET",
    "/api/v1/rules/enabled",
    summary="List enabled rules",
    tag=T,
    resource=RU,
    op=R,
    response=m.RULE,
    kind="list",
)
async def list_enabled_rules(call: Call) -> object:
    return await list_repo(call, "rules", filters={"enabled": True})


@api.route(
    "POST",
    "/api/v1/rules",
    summary="Create a rule",
    tag=T,
    resource=RU,
    op=C,
    body=m.RULE_CREATE,
    response=m.RULE,
    status=201,
)
async def create_rule(call: Call) -> object:
    values = _normalise(drop_none(dict(call.body), "conditions"))
    _check(values)
    async with call.ctx.store.transaction() as uow:
        values["pack"] = await pack_id(uow, values["pack_ref"])
        values["trigger"] = await uow.triggers.id_of(values["trigger_ref"])
        values["action"] = await uow.actions.id_of(values["action_ref"])
        rule = await uow.rules.create(Rule(is_adhoc=True, **values))
    await _announce(call, RoutingKey.RULE_CREATED, rule)
    return rule


@api.route(
    "POST",
    "/api/v1/rules/validate",
    summary="Check rule conditions and trigger parameters without saving",
    tag=T,
    resource=RU,
    op=R,
    body=m.RULE_CHECK,
    response=m.RULE_CHECK_RESULT,
)
async def validate_rule(call: Call) -> object:
    """What creating the rule would say about its conditions (an expression that does not
    compile, an unknown operator) and timer parameters, as ``{valid, error}`` (always 200)."""
    values = _normalise(dict(call.body))
    try:
        _check(values)
    except ValidationError as exc:
        return {"valid": False, "error": str(exc), "details": exc.details}
    return {"valid": True, "error": None, "details": None}


@api.route(
    "GET", "/api/v1/rules/<ref>", summary="Get a rule", tag=T, resource=RU, op=R, response=m.RULE
)
async def get_rule(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.rules.get_by_ref(ref)


@api.route(
    "PUT",
    "/api/v1/rules/<ref>",
    summary="Update a rule",
    tag=T,
    resource=RU,
    op=U,
    body=m.RULE_UPDATE,
    response=m.RULE,
)
async def update_rule(call: Call, ref: str) -> object:
    changes = _normalise(
        drop_none(dict(call.body), *(["conditions"] if "conditions" in call.body else []))
    )
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    async with call.ctx.store.transaction() as uow:
        rule = await uow.rules.get_by_ref(ref)
        _check(changes, rule)
        if "trigger_ref" in changes:
            changes["trigger"] = await uow.triggers.id_of(changes["trigger_ref"])
        if "action_ref" in changes:
            changes["action"] = await uow.actions.id_of(changes["action_ref"])
        assert rule.id is not None
        if changes:
            rule = await uow.rules.update(rule.id, **changes)
    await _announce(
        call, RoutingKey.RULE_ENABLED if rule.enabled else RoutingKey.RULE_DISABLED, rule
    )
    return rule


@api.route(
    "DELETE",
    "/api/v1/rules/<ref>",
    summary="Delete a rule",
    tag=T,
    resource=RU,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_rule(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        rule = await uow.rules.get_by_ref(ref)
        assert rule.id is not None
        await uow.rules.delete(rule.id)
    await _announce(call, RoutingKey.RULE_DISABLED, rule, deleted=True)
    return f"rule {ref!r} deleted"


async def _set(call: Call, ref: str, enabled: bool) -> Rule:
    async with call.ctx.store.transaction() as uow:
        rule = await uow.rules.get_by_ref(ref)
        assert rule.id is not None
        rule = await uow.rules.update(rule.id, enabled=enabled)
    await _announce(call, RoutingKey.RULE_ENABLED if enabled else RoutingKey.RULE_DISABLED, rule)
    return rule


@api.route(
    "POST",
    "/api/v1/rules/<ref>/enable",
    summary="Enable a rule",
    tag=T,
    resource=RU,
    op=U,
    response=m.RULE,
)
async def enable_rule(call: Call, ref: str) -> object:
    return await _set(call, ref, True)


@api.route(
    "POST",
    "/api/v1/rules/<ref>/disable",
    summary="Disable a rule",
    tag=T,
    resource=RU,
    op=U,
    response=m.RULE,
)
async def disable_rule(call: Call, ref: str) -> object:
    return await _set(call, ref, False)
