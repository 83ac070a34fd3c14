"""Computed fields of responses (runtime_ref, roles, has_payload, ...), added in one pass.

Each enricher takes the unit of work and a list of entities and returns JSON dicts; the route's
response model then picks the declared fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from attune_core.model import to_json
from attune_core.storage import UnitOfWork


async def actions(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    ids = {a.runtime for a in rows if a.runtime is not None}
    refs = {r.id: r.ref for r in await uow.runtimes.list(id=list(ids))} if ids else {}
    return [{**to_json(a), "runtime_ref": refs.get(a.runtime)} for a in rows]


async def identities(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    out = []
    for identity in rows:
        data = to_json(identity)
        data.pop("password_hash", None)
        data["roles"] = [s.ref for s in await uow.permission_sets.list_for_identity(identity.id)]
        out.append(data)
    return out


def event_json(event: Any) -> dict[str, Any]:
    return {**to_json(event), "has_payload": bool(event.payload)}


async def events(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    return [event_json(e) for e in rows]


async def inquiries(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    return [{**to_json(i), "has_response": i.response is not None} for i in rows]


async def keys(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    return [{**to_json(k), "value": None} for k in rows]


async def workflows(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    out = []
    for workflow in rows:
        action = await uow.actions.find_by_workflow(workflow.id)
        out.append({**to_json(workflow), "action": action.id if action else None})
    return out


async def runtimes(uow: UnitOfWork, rows: Sequence[Any]) -> list[Any]:
    out = []
    for runtime in rows:
        versions = await uow.runtime_versions.list_for_runtime(runtime.id)
        out.append({**to_json(runtime), "versions": [to_json(v) for v in versions]})
    return out


async def one(
    enricher: Callable[[UnitOfWork, Sequence[Any]], Awaitable[list[Any]]],
    uow: UnitOfWork,
    entity: Any,
) -> Any:
    return (await enricher(uow, [entity]))[0]


ENRICHERS: dict[str, Callable[[UnitOfWork, list[Any]], Awaitable[list[Any]]]] = {
    "actions": actions,
    "identities": identities,
    "events": events,
    "inquiries": inquiries,
    "keys": keys,
    "workflow_definitions": workflows,
    "runtimes": runtimes,
}
