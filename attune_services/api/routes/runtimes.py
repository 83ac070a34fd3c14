"""Runtimes (with their versions) and workers (read, cordon/uncordon)."""

from __future__ import annotations

from typing import Any

from attune_core.model import Runtime, RuntimeVersion
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._common import drop_none, pack_id
from attune_services.api.routes._registry import api

RT, WK = Resource.RUNTIME, Resource.WORKER
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


async def _versions(uow: Any, runtime: Runtime, versions: list[dict[str, Any]]) -> None:
    import semver

    for spec in versions:
        version = str(spec.get("version", ""))
        parts: list[int | None] = [None, None, None]
        try:
            parsed = semver.Version.parse(version, optional_minor_and_patch=True)
            parts = [parsed.major, parsed.minor, parsed.patch]
        except ValueError:
            pass
        existing = await uow.runtime_versions.find_version(runtime.id, version)
        values = {
            "execution_config": spec.get("execution_config") or {},
            "distributions": spec.get("distributions") or {},
            "is_default": bool(spec.get("is_default", False)),
            "available": bool(spec.get("available", True)),
            "meta": spec.get("meta") or {},
        }
        if existing is None:
            await uow.runtime_versions.create(
                RuntimeVersion(
                    runtime=runtime.id,
                    runtime_ref=runtime.ref,
                    version=version,
                    version_major=parts[0],
                    version_minor=parts[1],
                    version_patch=parts[2],
                    **values,
                )
            )
        else:
            await uow.runtime_versions.update(existing.id, **values)


@api.route(
    "GET",
    "/api/v1/runtimes",
    summary="List runtimes",
    tag="runtimes",
    resource=RT,
    op=R,
    response=m.RUNTIME,
    kind="list",
)
async def list_runtimes(call: Call) -> object:
    return await list_repo(
        call, "runtimes", filters={"pack_ref": call.arg("pack_ref")}, enrich=s.runtimes
    )


@api.route(
    "POST",
    "/api/v1/runtimes",
    summary="Create a runtime",
    tag="runtimes",
    resource=RT,
    op=C,
    body=m.RUNTIME_CREATE,
    response=m.RUNTIME,
    status=201,
)
async def create_runtime(call: Call) -> object:
    values = drop_none(dict(call.body))
    versions = values.pop("versions", [])
    values.setdefault("name", values["ref"].split(".", 1)[-1])
    async with call.ctx.store.transaction() as uow:
        values["pack"] = await pack_id(uow, values.get("pack_ref"))
        runtime = await uow.runtimes.create(Runtime(**values))
        await _versions(uow, runtime, versions)
        return await s.one(s.runtimes, uow, runtime)


@api.route(
    "GET",
    "/api/v1/runtimes/<ref>",
    summary="Get a runtime",
    tag="runtimes",
    resource=RT,
    op=R,
    response=m.RUNTIME,
)
async def get_runtime(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.runtimes, uow, await uow.runtimes.get_by_ref(ref))


@api.route(
    "PUT",
    "/api/v1/runtimes/<ref>",
    summary="Update a runtime",
    tag="runtimes",
    resource=RT,
    op=U,
    body=m.RUNTIME_UPDATE,
    response=m.RUNTIME,
)
async def update_runtime(call: Call, ref: str) -> object:
    changes = drop_none(dict(call.body))
    versions = changes.pop("versions", None)
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    async with call.ctx.store.transaction() as uow:
        runtime = await uow.runtimes.get_by_ref(ref)
        assert runtime.id is not None
        if changes:
            runtime = await uow.runtimes.update(runtime.id, **changes)
        if versions:
            await _versions(uow, runtime, versions)
        return await s.one(s.runtimes, uow, runtime)


@api.route(
    "DELETE",
    "/api/v1/runtimes/<ref>",
    summary="Delete a runtime",
    tag="runtimes",
    resource=RT,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_runtime(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.runtimes.delete_by_ref(ref)
    return f"runtime {ref!r} deleted"


@api.route(
    "GET",
    "/api/v1/workers",
    summary="List workers",
    tag="workers",
    resource=WK,
    op=R,
    response=m.WORKER,
    kind="list",
    query=[
        Param("status", description="only workers in this status (active, inactive, busy, error)"),
        Param("role", description="only workers of this role (action, sensor, hybrid)"),
        Param("name", description="only the worker of this name"),
    ],
)
async def list_workers(call: Call) -> object:
    filters: dict[str, Any] = {
        "status": call.arg("status"),
        "worker_role": call.arg("role"),
        "name": call.arg("name"),
    }
    return await list_repo(call, "workers", filters=filters)


@api.route(
    "GET",
    "/api/v1/workers/<int:id>",
    summary="Get a worker",
    tag="workers",
    resource=WK,
    op=R,
    response=m.WORKER,
)
async def get_worker(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.workers.get(id)


@api.route(
    "POST",
    "/api/v1/workers/<int:id>/cordon",
    summary="Stop sending work to a worker",
    tag="workers",
    resource=WK,
    op=U,
    response=m.WORKER,
)
async def cordon(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        return await uow.workers.update(id, cordoned=True)


@api.route(
    "POST",
    "/api/v1/workers/<int:id>/uncordon",
    summary="Send work to a worker again",
    tag="workers",
    resource=WK,
    op=U,
    response=m.WORKER,
)
async def uncordon(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        return await uow.workers.update(id, cordoned=False)
