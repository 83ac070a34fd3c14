"""Helpers shared by the route modules: serialisers that add computed fields, pack lookups."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import anyio

from attune_core.bus import RoutingKey
from attune_core.errors import NotFound
from attune_core.model import to_json
from attune_core.packs import RegistrationResult, load_pack, register_pack
from attune_core.resources import packs_dir
from attune_core.storage import UnitOfWork
from attune_services.api._context import ApiContext


async def pack_id(uow: UnitOfWork, pack_ref: str | None) -> int | None:
    """The id of pack ``pack_ref`` (``None`` for ``None``); :class:`NotFound` if unknown."""
    if pack_ref is None:
        return None
    return await uow.packs.id_of(pack_ref)


def drop_none(values: dict[str, Any], *keep: str) -> dict[str, Any]:
    """``values`` without keys whose value is ``None`` (except ``keep``)."""
    return {k: v for k, v in values.items() if v is not None or k in keep}


def copy_tree(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``source`` (copy, then swap)."""
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    shutil.copytree(source, staging, symlinks=True)
    if target.exists():
        old = target.with_name(f".{target.name}.old.{uuid.uuid4().hex}")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)


async def register_directory(
    ctx: ApiContext, path: str | Path, *, force: bool = False
) -> RegistrationResult:
    """Copy the pack at ``path`` to ``{packs_base_dir}/{ref}`` and register it there."""
    base = ctx.settings.packs_base_dir

    def load_and_install() -> Path:
        source = Path(path).resolve()
        if not source.is_dir():
            raise NotFound(f"no pack directory at {str(path)!r}")
        spec = load_pack(source)
        target = base / spec.ref
        if source.parent == packs_dir().resolve() or source == target.resolve():
            return source
        copy_tree(source, target)
        return target

    installed = await anyio.to_thread.run_sync(load_and_install)
    spec = await anyio.to_thread.run_sync(load_pack, installed)
    result = await register_pack(ctx.store, spec, force=force)
    await ctx.bus.publish(RoutingKey.PACK_REGISTERED, {"pack_ref": spec.ref})
    return result


def warnings_of(result: RegistrationResult) -> list[str]:
    return [str(w) for w in result.warnings]


def entity_json(entity: Any) -> dict[str, Any]:
    data: dict[str, Any] = to_json(entity)
    return data
