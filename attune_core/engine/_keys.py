"""Keys: stored values (any JSON), optionally encrypted, owned by the system or one owner.

Rules of this file:

1. A value is stored as JSON text, or — when ``encrypted`` — sealed with AES-256-GCM
   (:class:`~attune_core.security.SecretBox`, key SHA-256 of ``security.encryption_key``) with
   the sealing key's hash in ``encryption_key_hash``. It is decrypted only when read.
2. Scopes: ``system`` (no owner), ``identity``, ``pack``, ``action``, ``sensor`` (exactly one
   owner, given by id or ref/login and stored as both). What an action or workflow sees
   (:func:`keystore_for`) is system, then its pack's, then its own keys, by ``name``; the
   narrower owner wins.
3. ``pack.config`` values may reference keys with ``{{ keystore.<name> }}``
   (:func:`resolve_config`); an unknown key renders null, a broken template is left as written.
4. :func:`rotate` re-encrypts every encrypted key under a new encryption key in one
   transaction: all keys or none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attune_core.errors import NotFound, ValidationError
from attune_core.expr import ExpressionError, is_template, render
from attune_core.model import Key, OwnerType
from attune_core.security import SecretBox
from attune_core.storage import UnitOfWork

__all__ = ["keystore_for", "read_value", "resolve_config", "rotate", "write_key"]


def read_value(key: Key, box: SecretBox) -> Any:
    """The decrypted JSON value of a key."""
    if key.encrypted:
        return box.open(key.value)
    try:
        return json.loads(key.value)
    except ValueError:
        return key.value  # written by hand as plain text


async def _owner(uow: UnitOfWork, owner_type: OwnerType, owner: int | str | None) -> dict[str, Any]:
    """The owner columns for ``owner`` (an id, or a ref / login)."""
    if owner_type is OwnerType.SYSTEM:
        if owner not in (None, ""):
            raise ValidationError("a system key has no owner", field="owner")
        return {"owner": None}
    if owner is None or owner == "":
        raise ValidationError(f"a {owner_type.value} key needs an owner", field="owner")
    if owner_type is OwnerType.IDENTITY:
        identity = (
            await uow.identities.find(owner)
            if isinstance(owner, int)
            else await uow.identities.find_by_login(str(owner))
        )
        if identity is None:
            raise NotFound(f"identity {owner!r} not found")
        return {"owner": identity.login, "owner_identity": identity.id}
    repository = {
        OwnerType.PACK: uow.packs,
        OwnerType.ACTION: uow.actions,
        OwnerType.SENSOR: uow.sensors,
    }[owner_type]
    found = (
        await repository.find(owner)
        if isinstance(owner, int)
        else await repository.find_by_ref(str(owner))
    )
    if found is None:
        raise NotFound(f"{owner_type.value} {owner!r} not found")
    column = f"owner_{owner_type.value}"
    return {"owner": found.ref, column: found.id, f"{column}_ref": found.ref}


async def write_key(
    uow: UnitOfWork,
    box: SecretBox,
    ref: str,
    value: Any,
    *,
    name: str | None = None,
    owner_type: OwnerType | str = OwnerType.SYSTEM,
    owner: int | str | None = None,
    encrypted: bool = False,
) -> Key:
    """Create the key ``ref``, or replace its value (and owner/encryption) if it exists.

    Raises:
        ValidationError: a bad ref, owner or value (not JSON).
        NotFound: the owner does not exist.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"a key value must be JSON: {exc}", field="value") from None
    kind = OwnerType(owner_type)
    columns = await _owner(uow, kind, owner)
    stored = box.seal(value) if encrypted else text
    values: dict[str, Any] = {
        "owner_type": kind,
        "owner_identity": None,
        "owner_pack": None,
        "owner_pack_ref": None,
        "owner_action": None,
        "owner_action_ref": None,
        "owner_sensor": None,
        "owner_sensor_ref": None,
        **columns,
        "encrypted": encrypted,
        "encryption_key_hash": box.key_hash if encrypted else None,
        "value": stored,
    }
    existing = await uow.keys.find_by_ref(ref)
    if existing is None:
        key: Key = await uow.keys.create(Key(ref=ref, name=name or ref, **values))
        return key
    assert existing.id is not None
    if name is not None:
        values["name"] = name
    updated: Key = await uow.keys.update(existing.id, **values)
    return updated


async def keystore_for(
    uow: UnitOfWork, box: SecretBox, *, pack_id: int | None, action_id: int | None
) -> dict[str, Any]:
    """The decrypted keys an action (or workflow) sees, by name (narrower owners win)."""
    found: dict[str, Any] = {}
    keys = await uow.keys.list_for_action_cached(pack_id, action_id)
    for key in sorted(keys, key=lambda k: _OWNER_RANK[k.owner_type]):  # narrower owners last
        found[key.name] = read_value(key, box)
    return found


_OWNER_RANK = {OwnerType.SYSTEM: 0, OwnerType.PACK: 1, OwnerType.ACTION: 2}


def resolve_config(config: Mapping[str, Any], keystore: Mapping[str, Any]) -> dict[str, Any]:
    """``pack.config`` with ``{{ keystore.<name> }}`` references replaced by key values."""

    def walk(value: Any) -> Any:
        if isinstance(value, str) and is_template(value):
            try:
                return render(value, {"keystore": keystore})
            except ExpressionError:
                return value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    resolved: dict[str, Any] = walk(dict(config))
    return resolved


async def rotate(uow: UnitOfWork, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every encrypted key from ``old`` to ``new``; returns how many.

    Raises:
        SecretBoxError: a key cannot be decrypted with ``old`` (nothing is changed: the
            caller's transaction rolls back).
    """
    count = 0
    for key in await uow.keys.list(encrypted=True):
        assert key.id is not None
        if key.encryption_key_hash == new.key_hash:
            continue
        value = old.open(key.value)
        await uow.keys.update(key.id, value=new.seal(value), encryption_key_hash=new.key_hash)
        count += 1
    return count
