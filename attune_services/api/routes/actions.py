"""Actions: CRUD (API-created actions are ad hoc), queue stats, the rules that use an action."""

from __future__ import annotations

from typing import Any

from attune_core.errors import NotFound
from attune_core.model import Action, QueueStats
from attune_core.security import Operation, Resource
from attune_core.storage import UnitOfWork
from attune_services.api import _models as m
from attune_services.api._routing import Call, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._common import drop_none, pack_id
from attune_services.api.routes._registry import api

T = "actions"
A = Resource.ACTION
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


async def resolve_runtime(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Turn ``runtime_ref`` into the ``runtime`` id (either may be given)."""
    runtime_ref = values.pop("runtime_ref", None)
    if runtime_ref is not None and values.get("runtime") is None:
        values["runtime"] = await uow.runtimes.id_of(runtime_ref)
    elif values.get("runtime") is not None:
        await uow.runtimes.get(values["runtime"])


@api.route(
    "GET",
    "/api/v1/actions",
    summary="List actions",
    tag=T,
    resource=A,
    op=R,
    response=m.ACTION,
    kind="list",
    query=[],
)
async def list_actions(call: Call) -> object:
    return await list_repo(
        call, "actions", filters={"pack_ref": call.arg("pack_ref")}, enrich=s.actions
    )


@api.route(
    "POST",
    "/api/v1/actions",
    summary="Create an (ad-hoc) action",
    tag=T,
    resource=A,
    op=C,
    body=m.ACTION_CREATE,
    response=m.ACTION,
    status=201,
)
async def create_action(call: Call) -> object:
    values = drop_none(dict(call.body))
    async with call.ctx.store.transaction() as uow:
        values["pack"] = await pack_id(uow, values["pack_ref"])
        await resolve_runtime(uow, values)
        action = await uow.actions.create(Action(is_adhoc=True, **values))
        return await s.one(s.actions, uow, action)


@api.route(
    "GET",
    "/api/v1/actions/<ref>",
    summary="Get an action",
    tag=T,
    resource=A,
    op=R,
    response=m.ACTION,
)
async def get_action(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.actions, uow, await uow.actions.get_by_ref(ref))


@api.route(
    "PUT",
    "/api/v1/actions/<ref>",
    summary="Update an action",
    tag=T,
    resource=A,
    op=U,
    body=m.ACTION_UPDATE,
    response=m.ACTION,
)
async def update_action(call: Call, ref: str) -> object:
    changes = drop_none(dict(call.body))
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    async with call.ctx.store.transaction() as uow:
        action = await uow.actions.get_by_ref(ref)
        await resolve_runtime(uow, changes)
        assert action.id is not None
        if changes:
            action = await uow.actions.update(action.id, **changes)
        return await s.one(s.actions, uow, action)


@api.route(
    "DELETE",
    "/api/v1/actions/<ref>",
    summary="Delete an action",
    tag=T,
    resource=A,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_action(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.actions.delete_by_ref(ref)
    return f"action {ref!r} deleted"


@api.route(
    "GET",
    "/api/v1/actions/<ref>/queue-stats",
    summary="An action's queue figures",
    tag=T,
    resource=A,
    op=R,
    response=m.QUEUE_STATS,
)
async def queue_stats(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        action = await uow.actions.get_by_ref(ref)
        assert action.id is not None
        stats = await uow.queue_stats.find(action.id) or QueueStats(action_id=action.id)
    from attune_core.model import to_json

    return {**to_json(stats), "action_ref": ref}


@api.route(
    "GET",
    "/api/v1/actions/<ref>/rules",
    summary="Rules that run an action",
    tag=T,
    resource=Resource.RULE,
    op=R,
    response=m.RULE,
    kind="list",
)
async def action_rules(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        if await uow.actions.find_by_ref(ref) is None:
            raise NotFound(f"action {ref!r} not found")
    return await list_repo(call, "rules", filters={"action_ref": ref})
