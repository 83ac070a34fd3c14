"""Events (read, and created by sensors) and enforcements (read)."""

from __future__ import annotations

from attune_core.errors import NotFound
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._events import parse_trigger_instance, store_event
from attune_services.api.routes._registry import api
from attune_services.api.routes.executions import list_executions_page

EV, EN = Resource.EVENT, Resource.ENFORCEMENT
R = Operation.READ
INCLUDE_TOTAL = Param("include_total", {"type": "boolean"})


@api.route(
    "GET",
    "/api/v1/events",
    summary="List events (newest first)",
    tag="events",
    resource=EV,
    op=R,
    response=m.EVENT,
    kind="list",
    query=[
        Param("trigger", {"type": "integer"}),
        Param("trigger_ref"),
        Param("rule_ref"),
        Param("source", {"type": "integer"}),
        INCLUDE_TOTAL,
    ],
)
async def list_events(call: Call) -> object:
    filters = {
        "trigger": call.int_arg("trigger"),
        "trigger_ref": call.arg("trigger_ref"),
        "rule_ref": call.arg("rule_ref"),
        "source": call.int_arg("source"),
    }
    return await list_repo(call, "events", filters=filters, totals=False, enrich=s.events)


@api.route(
    "POST",
    "/api/v1/events",
    summary="Create an event (sensors)",
    tag="events",
    resource=EV,
    op=Operation.CREATE,
    body=m.EVENT_CREATE,
    response=m.EVENT,
    status=201,
)
async def create_event(call: Call) -> object:
    rule_id = parse_trigger_instance(call.body.get("trigger_instance_id"))
    source_ref = None
    if call.claims is not None and call.claims.kind.value == "sensor":
        source_ref = call.claims.metadata.get("sensor_ref")
    event = await store_event(
        call.ctx,
        call.body["trigger_ref"],
        call.body.get("payload"),
        rule_id=rule_id,
        source_ref=source_ref,
        config=call.body.get("config"),
    )
    return s.event_json(event)  # no read: the event as stored is at hand


@api.route(
    "GET",
    "/api/v1/events/<int:id>",
    summary="Get an event",
    tag="events",
    resource=EV,
    op=R,
    response=m.EVENT,
)
async def get_event(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.events, uow, await uow.events.get(id))


@api.route(
    "GET",
    "/api/v1/enforcements",
    summary="List enforcements (newest first)",
    tag="enforcements",
    resource=EN,
    op=R,
    response=m.ENFORCEMENT,
    kind="list",
    query=[
        Param("rule", {"type": "integer"}),
        Param("rule_ref"),
        Param("event", {"type": "integer"}),
        Param("status"),
        Param("trigger_ref"),
        INCLUDE_TOTAL,
    ],
)
async def list_enforcements(call: Call) -> object:
    filters = {
        "rule": call.int_arg("rule"),
        "rule_ref": call.arg("rule_ref"),
        "event": call.int_arg("event"),
        "status": call.arg("status"),
        "trigger_ref": call.arg("trigger_ref"),
    }
    from attune_core.model import EnforcementStatus

    if filters["status"] is not None and filters["status"] not in {
        s.value for s in EnforcementStatus
    }:
        from attune_core.errors import BadRequest

        raise BadRequest(f"unknown enforcement status {filters['status']!r}")
    return await list_repo(call, "enforcements", filters=filters, totals=False)


@api.route(
    "GET",
    "/api/v1/enforcements/<int:id>",
    summary="Get an enforcement",
    tag="enforcements",
    resource=EN,
    op=R,
    response=m.ENFORCEMENT,
)
async def get_enforcement(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.enforcements.get(id)


@api.route(
    "GET",
    "/api/v1/enforcements/<int:id>/executions",
    summary="Executions of an enforcement",
    tag="enforcements",
    resource=Resource.EXECUTION,
    op=R,
    response=m.EXECUTION_SUMMARY,
    kind="list",
)
async def enforcement_executions(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        if await uow.enforcements.find(id) is None:
            raise NotFound(f"enforcement {id} not found")
    return await list_executions_page(call, {"enforcement": id})
