"""Login, registration, token refresh, the current identity, sensor tokens.

Failure paths do not reveal whether a login exists: an unknown login costs one password
verification too, and both answer the same 401 message. Failed logins are rate limited per
client address and login.
"""

from __future__ import annotations

from typing import Any

from quart import request

from attune_core.errors import Conflict, ValidationError
from attune_core.model import Identity
from attune_core.security import (
    TokenError,
    TokenKind,
    dummy_verify,
    hash_password,
    verify_password,
)
from attune_services.api import _models as m
from attune_services.api._auth import create_identity
from attune_services.api._errors import Forbidden, TooManyRequests, Unauthorized
from attune_services.api._routing import Call, Message
from attune_services.api.routes._registry import api

T = "auth"
BAD_CREDENTIALS = "invalid login or password"
LOGIN_FAILURES_PER_WINDOW = 10
LOGIN_WINDOW = 60.0  # seconds


def user(identity: Identity) -> dict[str, Any]:
    return {"id": identity.id, "login": identity.login, "display_name": identity.display_name}


def tokens_for(call: Call, identity: Identity) -> dict[str, Any]:
    assert identity.id is not None
    pair = call.ctx.tokens.pair(identity.id, identity.login)
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "user": user(identity),
    }


def _check_credentials_shape(login: str, password: str) -> None:
    if not 3 <= len(login) <= 255:
        raise ValidationError("login must be 3 to 255 characters", field="login")
    if not 8 <= len(password) <= 128:
        raise ValidationError("password must be 8 to 128 characters", field="password")


@api.route(
    "POST", "/auth/login", summary="Log in", tag=T, public=True, body=m.LOGIN, response=m.TOKEN
)
async def login(call: Call) -> object:
    login_name, password = str(call.body["login"]), str(call.body["password"])
    key = f"{request.remote_addr}|{login_name.lower()}"
    if call.ctx.login_limiter.count(key, LOGIN_WINDOW) >= LOGIN_FAILURES_PER_WINDOW:
        raise TooManyRequests("too many failed logins; try again in a minute", retry_after=60)
    async with call.ctx.store.read() as uow:
        identity = await uow.identities.find_by_login(login_name)
    if identity is None:
        dummy_verify(password)
        ok = False
    else:
        ok = verify_password(password, identity.password_hash)
    if not ok or identity is None:
        call.ctx.login_limiter.hit(key, LOGIN_FAILURES_PER_WINDOW + 1, LOGIN_WINDOW)
        raise Unauthorized(BAD_CREDENTIALS)
    if identity.frozen:
        raise Forbidden("identity is frozen")
    call.ctx.login_limiter.reset(key)
    return tokens_for(call, identity)


@api.route(
    "POST",
    "/auth/register",
    summary="Register (when self-registration is enabled)",
    tag=T,
    public=True,
    body=m.REGISTER,
    response=m.TOKEN,
)
async def register(call: Call) -> object:
    if not call.ctx.settings.security.allow_self_registration:
        raise Forbidden("self-registration is disabled")
    login_name, password = str(call.body["login"]), str(call.body["password"])
    _check_credentials_shape(login_name, password)
    async with call.ctx.store.read() as uow:
        if await uow.identities.find_by_login(login_name) is not None:
            raise Conflict(f"login {login_name!r} is already taken")
    identity = await create_identity(
        call.ctx.store, login_name, password, display_name=call.body.get("display_name")
    )
    return tokens_for(call, identity)


@api.route(
    "POST",
    "/auth/refresh",
    summary="Exchange a refresh token for a new token pair",
    tag=T,
    public=True,
    body=m.REFRESH,
    response=m.TOKEN,
)
async def refresh(call: Call) -> object:
    try:
        claims = call.ctx.tokens.decode(str(call.body["refresh_token"]), [TokenKind.REFRESH])
    except TokenError as exc:
        raise Unauthorized(f"invalid refresh token: {exc.message}") from exc
    async with call.ctx.store.read() as uow:
        identity = await uow.identities.find(claims.identity_id)
    if identity is None:
        raise Unauthorized("invalid refresh token: the identity no longer exists")
    if identity.frozen:
        raise Forbidden("identity is frozen")
    return tokens_for(call, identity)


async def _me(call: Call) -> dict[str, Any]:
    async with call.ctx.store.read() as uow:
        identity = await uow.identities.get(call.identity_id)
        roles = [s.ref for s in await uow.permission_sets.list_for_identity(call.identity_id)]
    return {**_identity_json(identity), "roles": roles}


def _identity_json(identity: Identity) -> dict[str, Any]:
    from attune_core.model import to_json

    data = to_json(identity)
    data.pop("password_hash", None)
    return data


@api.route("GET", "/auth/me", summary="The current identity", tag=T, response=m.IDENTITY)
async def me(call: Call) -> object:
    return await _me(call)


@api.route(
    "PUT",
    "/auth/me",
    summary="Change the current identity",
    tag=T,
    body=m.ME_UPDATE,
    response=m.IDENTITY,
)
async def update_me(call: Call) -> object:
    changes = {k: v for k, v in call.body.items() if k in ("display_name", "attributes")}
    if changes.get("attributes") is None:
        changes.pop("attributes", None)
    if changes:
        async with call.ctx.store.transaction() as uow:
            await uow.identities.update(call.identity_id, **changes)
    return await _me(call)


@api.route(
    "POST",
    "/auth/change-password",
    summary="Change the current identity's password",
    tag=T,
    body=m.CHANGE_PASSWORD,
    response=m.EMPTY,
)
async def change_password(call: Call) -> object:
    current, new = str(call.body["current_password"]), str(call.body["new_password"])
    async with call.ctx.store.read() as uow:
        identity = await uow.identities.get(call.identity_id)
    if not verify_password(current, identity.password_hash):
        raise Unauthorized("the current password is wrong")
    if not 8 <= len(new) <= 128:
        raise ValidationError("new_password must be 8 to 128 characters", field="new_password")
    async with call.ctx.store.transaction() as uow:
        await uow.identities.update(call.identity_id, password_hash=hash_password(new))
    return Message({}, "password changed")


@api.route(
    "POST",
    "/auth/sensor-token",
    summary="A sensor-scoped token for a sensor host",
    tag=T,
    body=m.SENSOR_TOKEN_REQUEST,
    response=m.SENSOR_TOKEN,
    status=200,
)
async def sensor_token(call: Call) -> object:
    from attune_core.security import Operation, Resource

    call.require(Resource.SENSOR, Operation.UPDATE)
    assert call.claims is not None
    triggers = [str(t) for t in call.body.get("trigger_types") or []]
    token = call.ctx.tokens.issue(
        call.identity_id,
        call.claims.login,
        TokenKind.SENSOR,
        metadata={"sensor_ref": call.body.get("sensor_ref"), "trigger_types": triggers},
    )
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": call.ctx.tokens.sensor_ttl,
        "trigger_types": triggers,
    }
