"""Identities, roles (permission-set assignments), freeze, and permission sets."""

from __future__ import annotations

from typing import Any

from attune_core.errors import BadRequest, Conflict, ValidationError
from attune_core.model import PermissionAssignment, PermissionSet
from attune_core.security import Operation, Resource, hash_password, merge_grants, validate_grants
from attune_core.storage import UnitOfWork
from attune_services.api import _models as m
from attune_services.api._auth import create_identity
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._registry import api

T = "identities"
ID, PM = Resource.IDENTITY, Resource.PERMISSION
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


@api.route(
    "GET",
    "/api/v1/identities",
    summary="List identities",
    tag=T,
    resource=ID,
    op=R,
    response=m.IDENTITY,
    kind="list",
)
async def list_identities(call: Call) -> object:
    return await list_repo(call, "identities", enrich=s.identities)


@api.route(
    "POST",
    "/api/v1/identities",
    summary="Create an identity",
    tag=T,
    resource=ID,
    op=C,
    body=m.IDENTITY_CREATE,
    response=m.IDENTITY,
    status=201,
)
async def create(call: Call) -> object:
    login = str(call.body["login"])
    if not 3 <= len(login) <= 255:
        raise ValidationError("login must be 3 to 255 characters", field="login")
    password = call.body.get("password")
    if password is not None and not 8 <= len(password) <= 128:
        raise ValidationError("password must be 8 to 128 characters", field="password")
    async with call.ctx.store.read() as uow:
        if await uow.identities.find_by_login(login) is not None:
            raise Conflict(f"login {login!r} is already taken")
    identity = await create_identity(
        call.ctx.store,
        login,
        password,
        display_name=call.body.get("display_name"),
        roles=list(call.body.get("roles") or []),
        attributes=call.body.get("attributes"),
    )
    async with call.ctx.store.read() as uow:
        return await s.one(s.identities, uow, identity)


@api.route(
    "GET",
    "/api/v1/identities/<int:id>",
    summary="Get an identity",
    tag=T,
    resource=ID,
    op=R,
    response=m.IDENTITY,
)
async def get_identity(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.identities, uow, await uow.identities.get(id))


@api.route(
    "PUT",
    "/api/v1/identities/<int:id>",
    summary="Update an identity",
    tag=T,
    resource=ID,
    op=U,
    body=m.IDENTITY_UPDATE,
    response=m.IDENTITY,
)
async def update_identity(call: Call, id: int) -> object:
    changes = {k: v for k, v in call.body.items() if v is not None}
    password = changes.pop("password", None)
    if password is not None:
        if not 8 <= len(password) <= 128:
            raise ValidationError("password must be 8 to 128 characters", field="password")
        changes["password_hash"] = hash_password(password)
    async with call.ctx.store.transaction() as uow:
        identity = await uow.identities.get(id)
        if changes:
            identity = await uow.identities.update(id, **changes)
        result = await s.one(s.identities, uow, identity)
    call.ctx.forget_subjects()
    return result


@api.route(
    "DELETE",
    "/api/v1/identities/<int:id>",
    summary="Delete an identity",
    tag=T,
    resource=ID,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_identity(call: Call, id: int) -> object:
    if id == call.identity_id:
        raise BadRequest("you cannot delete your own identity")
    async with call.ctx.store.transaction() as uow:
        await uow.identities.delete(id)
    call.ctx.forget_subjects()
    return f"identity {id} deleted"


async def _permset_id(uow: UnitOfWork, body: dict[str, Any]) -> int:
    candidate = body.get("permset") or body.get("permission_set")
    ref = body.get("permission_set_ref") or body.get("role")
    if isinstance(candidate, str):
        ref, candidate = candidate, None
    if candidate is not None:
        found = await uow.permission_sets.get(int(candidate))
        assert found.id is not None
        return found.id
    if ref:
        return await uow.permission_sets.id_of(str(ref))
    raise ValidationError(
        "name the permission set: permset (id) or permission_set_ref", field="permission_set_ref"
    )


async def _assign(call: Call, identity: int, permset: int) -> Any:
    async with call.ctx.store.transaction() as uow:
        await uow.identities.get(identity)
        existing = await uow.permission_assignments.list(identity=identity, permset=permset)
        if existing:
            raise Conflict("the identity already has this permission set")
        assignment = await uow.permission_assignments.create(
            PermissionAssignment(identity=identity, permset=permset)
        )
    call.ctx.forget_subjects()
    return assignment


@api.route(
    "POST",
    "/api/v1/identities/<int:id>/roles",
    summary="Give an identity a permission set",
    tag=T,
    resource=PM,
    op=C,
    body=m.ROLE_ASSIGN,
    response=m.ASSIGNMENT,
    status=201,
)
async def add_role(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        permset = await _permset_id(uow, call.body)
    return await _assign(call, id, permset)


@api.route(
    "DELETE",
    "/api/v1/identities/roles/<int:id>",
    summary="Remove a role assignment",
    tag=T,
    resource=PM,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def remove_role(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.permission_assignments.delete(id)
    call.ctx.forget_subjects()
    return f"assignment {id} removed"


@api.route(
    "GET",
    "/api/v1/identities/<int:id>/permissions",
    summary="An identity's roles and grants",
    tag=T,
    resource=ID,
    op=R,
    response=m.EFFECTIVE_PERMISSIONS,
)
async def permissions(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        identity = await uow.identities.get(id)
        sets = await uow.permission_sets.list_for_identity(id)
    return {
        "identity": id,
        "roles": [p.ref for p in sets],
        "grants": [dict(g) for g in merge_grants(p.grants for p in sets)],
        "frozen": identity.frozen,
    }


async def _freeze(call: Call, id: int, frozen: bool) -> Any:
    if frozen and id == call.identity_id:
        raise BadRequest("you cannot freeze your own identity")
    async with call.ctx.store.transaction() as uow:
        identity = await uow.identities.update(id, frozen=frozen)
        result = await s.one(s.identities, uow, identity)
    call.ctx.forget_subjects()
    return result


@api.route(
    "POST",
    "/api/v1/identities/<int:id>/freeze",
    summary="Freeze an identity (its tokens stop working)",
    tag=T,
    resource=ID,
    op=U,
    response=m.IDENTITY,
)
async def freeze(call: Call, id: int) -> object:
    return await _freeze(call, id, True)


@api.route(
    "POST",
    "/api/v1/identities/<int:id>/unfreeze",
    summary="Unfreeze an identity",
    tag=T,
    resource=ID,
    op=U,
    response=m.IDENTITY,
)
async def unfreeze(call: Call, id: int) -> object:
    return await _freeze(call, id, False)


# -- permission sets and assignments ----------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/permissions/sets",
    summary="List permission sets",
    tag="permissions",
    resource=PM,
    op=R,
    response=m.PERMISSION_SET,
    kind="list",
)
async def list_sets(call: Call) -> object:
    return await list_repo(call, "permission_sets")


@api.route(
    "POST",
    "/api/v1/permissions/sets",
    summary="Create a permission set",
    tag="permissions",
    resource=PM,
    op=C,
    body=m.PERMISSION_SET_CREATE,
    response=m.PERMISSION_SET,
    status=201,
)
async def create_set(call: Call) -> object:
    values = {k: v for k, v in call.body.items() if v is not None}
    problems = validate_grants(values.get("grants", []))
    if problems:
        raise ValidationError(problems[0], field="grants", details=problems)
    async with call.ctx.store.transaction() as uow:
        if values.get("pack_ref"):
            values["pack"] = await uow.packs.id_of(values["pack_ref"])
        permset = await uow.permission_sets.create(PermissionSet(**values))
    call.ctx.forget_subjects()
    return permset


@api.route(
    "PUT",
    "/api/v1/permissions/sets/<int:id>",
    summary="Change a permission set",
    tag="permissions",
    resource=PM,
    op=U,
    body=m.PERMISSION_SET_UPDATE,
    response=m.PERMISSION_SET,
)
async def update_set(call: Call, id: int) -> object:
    changes = {k: v for k, v in call.body.items() if v is not None}
    if "grants" in changes:
        problems = validate_grants(changes["grants"])
        if problems:
            raise ValidationError(problems[0], field="grants", details=problems)
    async with call.ctx.store.transaction() as uow:
        permset = await uow.permission_sets.get(id)
        if changes:
            permset = await uow.permission_sets.update(id, **changes)
    call.ctx.forget_subjects()
    return permset


@api.route(
    "POST",
    "/api/v1/permissions/sets/<int:id>/roles",
    summary="Give a permission set to an identity",
    tag="permissions",
    resource=PM,
    op=C,
    body=m.ASSIGNMENT_CREATE,
    response=m.ASSIGNMENT,
    status=201,
)
async def set_roles(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        await uow.permission_sets.get(id)
    return await _assign(call, int(call.body["identity"]), id)


@api.route(
    "GET",
    "/api/v1/permissions/assignments",
    summary="List assignments (who holds which permission set)",
    tag="permissions",
    resource=PM,
    op=R,
    response=m.ASSIGNMENT,
    kind="list",
    query=[
        Param("identity", m.INT, "an identity's id"),
        Param("permset", m.INT, "a permission set's id"),
    ],
)
async def list_assignments(call: Call) -> object:
    filters: dict[str, int] = {}
    for name in ("identity", "permset"):
        value = call.arg(name)
        if value is not None:
            try:
                filters[name] = int(value)
            except ValueError:
                raise BadRequest(f"{name} must be an integer id") from None
    return await list_repo(call, "permission_assignments", filters=filters)


@api.route(
    "POST",
    "/api/v1/permissions/assignments",
    summary="Create an assignment",
    tag="permissions",
    resource=PM,
    op=C,
    body=m.ASSIGNMENT_CREATE,
    response=m.ASSIGNMENT,
    status=201,
)
async def create_assignment(call: Call) -> object:
    async with call.ctx.store.read() as uow:
        permset = await _permset_id(uow, call.body)
    return await _assign(call, int(call.body["identity"]), permset)


@api.route(
    "DELETE",
    "/api/v1/permissions/assignments/<int:id>",
    summary="Delete an assignment",
    tag="permissions",
    resource=PM,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_assignment(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.permission_assignments.delete(id)
    call.ctx.forget_subjects()
    return f"assignment {id} deleted"
