"""Authentication: who a bearer token belongs to, and what that identity may do.

Rules of this file:

1. :func:`authenticate` is the only code that reads ``Authorization`` headers (or the
   ``token`` query parameter of streams); routes receive a ready :class:`Subject`.
2. An identity's grants are cached for :data:`SUBJECT_TTL` seconds per process; identity and
   permission routes clear the cache, so a change is seen at once on this API instance.
3. The built-in permission sets exist in every database (:func:`ensure_builtin_sets`), and the
   development identity exists in the development environment (:func:`ensure_dev_identity`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from attune_core.config import Environment
from attune_core.errors import NotFound
from attune_core.model import Identity, PermissionAssignment, PermissionSet
from attune_core.security import (
    BUILTIN_PERMISSION_SETS,
    Subject,
    TokenClaims,
    TokenError,
    TokenKind,
    hash_password,
    merge_grants,
)
from attune_core.storage import Store
from attune_services.api._context import ApiContext
from attune_services.api._errors import Forbidden, Unauthorized

log = logging.getLogger(__name__)

SUBJECT_TTL = 5.0  # seconds; short, because other API instances may change grants
DEV_LOGIN = "test@attune.local"
DEV_PASSWORD = "TestPass123!"
REQUEST_TOKEN_KINDS = (TokenKind.ACCESS, TokenKind.SENSOR, TokenKind.EXECUTION)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    ctx: ApiContext, header: str | None, query_token: str | None = None
) -> tuple[TokenClaims, Subject]:
    """The claims and subject of the request's token; :class:`Unauthorized` otherwise."""
    token = bearer(header) or query_token
    if not token:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    try:
        claims = ctx.tokens.decode(token, REQUEST_TOKEN_KINDS)
    except TokenError as exc:
        raise Unauthorized(exc.message) from exc
    subject = await load_subject(ctx, claims.identity_id, claims.kind)
    if subject is None:
        raise Unauthorized("the identity of this token no longer exists")
    if subject.frozen:
        raise Forbidden("identity is frozen")
    return claims, subject


async def load_subject(ctx: ApiContext, identity_id: int, kind: TokenKind) -> Subject | None:
    cached = ctx.subjects.get(identity_id)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        async with ctx.store.read() as uow:
            identity = await uow.identities.find(identity_id)
            sets = (
                [] if identity is None else await uow.permission_sets.list_for_identity(identity_id)
            )
        if identity is None:
            return None
        cached = (now + SUBJECT_TTL, (identity.frozen, merge_grants(s.grants for s in sets)))
        ctx.subjects[identity_id] = cached
    frozen, grants = cached[1]
    return Subject(identity_id=identity_id, grants=grants, token_kind=kind, frozen=frozen)


async def ensure_builtin_sets(store: Store) -> dict[str, int]:
    """Create (or refresh the grants of) core.admin/editor/executor/viewer; ids by ref."""
    ids: dict[str, int] = {}
    async with store.transaction() as uow:
        for ref, spec in BUILTIN_PERMISSION_SETS.items():
            existing = await uow.permission_sets.find_by_ref(ref)
            grants = [dict(g) for g in spec["grants"]]
            if existing is None:
                stored = await uow.permission_sets.create(
                    PermissionSet(
                        ref=ref, label=spec["label"], description=spec["description"], grants=grants
                    )
                )
            elif existing.grants != grants:
                stored = await uow.permission_sets.update(existing.id, grants=grants)  # type: ignore[arg-type]
            else:
                stored = existing
            assert stored.id is not None
            ids[ref] = stored.id
    return ids


async def create_identity(
    store: Store,
    login: str,
    password: str | None,
    *,
    display_name: str | None = None,
    roles: tuple[str, ...] | list[str] = (),
    attributes: Mapping[str, object] | None = None,
) -> Identity:
    """Create an identity with ``roles`` (permission set refs) in one transaction."""
    password_hash = hash_password(password) if password else None
    async with store.transaction() as uow:
        identity = await uow.identities.create(
            Identity(
                login=login,
                display_name=display_name,
                password_hash=password_hash,
                attributes=dict(attributes or {}),
            )
        )
        assert identity.id is not None
        for role in roles:
            permset = await uow.permission_sets.find_by_ref(role)
            if permset is None:
                raise NotFound(f"permission set {role!r} not found")
            assert permset.id is not None
            await uow.permission_assignments.create(
                PermissionAssignment(identity=identity.id, permset=permset.id)
            )
    return identity


async def ensure_dev_identity(store: Store, env: Environment) -> Identity | None:
    """In development, make sure test@attune.local / TestPass123! exists with core.admin."""
    if env is not Environment.DEVELOPMENT:
        return None
    async with store.read() as uow:
        existing = await uow.identities.find_by_login(DEV_LOGIN)
    if existing is not None:
        return existing
    log.info("creating the development identity %s", DEV_LOGIN)
    return await create_identity(
        store, DEV_LOGIN, DEV_PASSWORD, display_name="Test User", roles=["core.admin"]
    )
