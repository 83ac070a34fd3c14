"""Keys: values are JSON, optionally encrypted with the secret box; lists omit values.

Execution tokens may read and write keys within their scope: system keys, and keys owned by
the pack or the action of their execution.
"""

from __future__ import annotations

import json
from typing import Any

from attune_core.errors import NotFound
from attune_core.model import Key, OwnerType, to_json
from attune_core.security import Operation, Resource, TokenKind
from attune_core.storage import UnitOfWork
from attune_services.api import _models as m
from attune_services.api._errors import Forbidden
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._registry import api

T = "keys"
K = Resource.KEY
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


def _value(call: Call, key: Key) -> Any:
    if key.encrypted:
        return call.ctx.secrets.open(key.value)
    try:
        return json.loads(key.value)
    except ValueError:
        return key.value


def _seal(call: Call, value: Any, encrypted: bool) -> dict[str, Any]:
    if encrypted:
        return {
            "value": call.ctx.secrets.seal(value),
            "encrypted": True,
            "encryption_key_hash": call.ctx.secrets.key_hash,
        }
    return {"value": json.dumps(value), "encrypted": False, "encryption_key_hash": None}


async def _check_scope(call: Call, uow: UnitOfWork, key: Key | dict[str, Any]) -> None:
    """Pack-scoped key grants reach the keys owned by their packs; execution tokens reach
    system keys and keys of their own pack and action."""
    if call.route.operation is not None:
        scope = call.pack_scope(K, call.route.operation)
        owner_pack = (to_json(key) if isinstance(key, Key) else key).get("owner_pack_ref")
        if scope is not None and owner_pack not in scope:
            raise Forbidden(f"not allowed to {call.route.operation.value} this key")
    if call.claims is None or call.claims.kind is not TokenKind.EXECUTION:
        return
    execution_id = call.claims.metadata.get("execution_id")
    execution = await uow.executions.find(int(execution_id)) if execution_id else None
    if execution is None:
        raise Forbidden("the execution of this token no longer exists")
    data = to_json(key) if isinstance(key, Key) else key
    owner_type = str(data.get("owner_type") or "system")
    pack = execution.action_ref.split(".", 1)[0]
    allowed = (
        owner_type == "system"
        or (owner_type == "pack" and data.get("owner_pack_ref") == pack)
        or (owner_type == "action" and data.get("owner_action_ref") == execution.action_ref)
    )
    if not allowed:
        raise Forbidden("an execution token reaches only system keys and its pack's and action's")


async def _owner(uow: UnitOfWork, values: dict[str, Any]) -> None:
    """Fill the owner columns from refs/ids and the textual ``owner``."""
    owner_type = OwnerType(values.get("owner_type") or "system")
    values["owner_type"] = owner_type
    if owner_type is OwnerType.PACK:
        if values.get("owner_pack") is None and values.get("owner_pack_ref"):
            values["owner_pack"] = await uow.packs.id_of(values["owner_pack_ref"])
        elif values.get("owner_pack") is not None:
            values["owner_pack_ref"] = (await uow.packs.get(values["owner_pack"])).ref
        values["owner"] = values.get("owner_pack_ref")
    elif owner_type is OwnerType.ACTION:
        if values.get("owner_action") is None and values.get("owner_action_ref"):
            values["owner_action"] = await uow.actions.id_of(values["owner_action_ref"])
        elif values.get("owner_action") is not None:
            values["owner_action_ref"] = (await uow.actions.get(values["owner_action"])).ref
        values["owner"] = values.get("owner_action_ref")
    elif owner_type is OwnerType.SENSOR:
        if values.get("owner_sensor") is None and values.get("owner_sensor_ref"):
            values["owner_sensor"] = await uow.sensors.id_of(values["owner_sensor_ref"])
        elif values.get("owner_sensor") is not None:
            values["owner_sensor_ref"] = (await uow.sensors.get(values["owner_sensor"])).ref
        values["owner"] = values.get("owner_sensor_ref")
    elif owner_type is OwnerType.IDENTITY and values.get("owner_identity") is not None:
        await uow.identities.get(values["owner_identity"])
        values["owner"] = str(values["owner_identity"])


@api.route(
    "GET",
    "/api/v1/keys",
    summary="List keys (values omitted)",
    tag=T,
    resource=K,
    op=R,
    response=m.KEY,
    kind="list",
    query=[Param("owner_type"), Param("owner")],
)
async def list_keys(call: Call) -> object:
    owner_type = call.arg("owner_type")
    if owner_type is not None and owner_type not in {o.value for o in OwnerType}:
        from attune_core.errors import BadRequest

        raise BadRequest(f"unknown owner_type {owner_type!r}")
    return await list_repo(
        call, "keys", filters={"owner_type": owner_type, "owner": call.arg("owner")}, enrich=s.keys
    )


@api.route(
    "POST",
    "/api/v1/keys",
    summary="Create a key",
    tag=T,
    resource=K,
    op=C,
    body=m.KEY_CREATE,
    response=m.KEY,
    status=201,
)
async def create_key(call: Call) -> object:
    values = {k: v for k, v in call.body.items() if v is not None or k == "value"}
    value = values.pop("value")
    encrypted = bool(values.pop("encrypted", False))
    values["ref"] = str(values["ref"])
    async with call.ctx.store.transaction() as uow:
        await _owner(uow, values)
        await _check_scope(call, uow, {**values, "owner_type": values["owner_type"].value})
        key = await uow.keys.create(Key(**values, **_seal(call, value, encrypted)))
    return {**to_json(key), "value": value}


@api.route(
    "GET",
    "/api/v1/keys/<ref>",
    summary="Get a key with its value",
    tag=T,
    resource=K,
    op=R,
    response=m.KEY,
)
async def get_key(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        key = await uow.keys.get_by_ref(ref)
        await _check_scope(call, uow, key)
    return {**to_json(key), "value": _value(call, key)}


@api.route(
    "PUT",
    "/api/v1/keys/<ref>",
    summary="Change a key's value",
    tag=T,
    resource=K,
    op=U,
    body=m.KEY_UPDATE,
    response=m.KEY,
)
async def update_key(call: Call, ref: str) -> object:
    value = call.body["value"]
    async with call.ctx.store.transaction() as uow:
        key = await uow.keys.get_by_ref(ref)
        await _check_scope(call, uow, key)
        encrypted = call.body.get("encrypted")
        sealed = _seal(call, value, key.encrypted if encrypted is None else bool(encrypted))
        assert key.id is not None
        key = await uow.keys.update(key.id, **sealed)
    return {**to_json(key), "value": value}


@api.route(
    "DELETE",
    "/api/v1/keys/<ref>",
    summary="Delete a key",
    tag=T,
    resource=K,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_key(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        key = await uow.keys.find_by_ref(ref)
        if key is None:
            raise NotFound(f"key {ref!r} not found")
        await _check_scope(call, uow, key)
        assert key.id is not None
        await uow.keys.delete(key.id)
    return f"key {ref!r} deleted"
