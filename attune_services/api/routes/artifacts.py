"""Artifacts: metadata, progress entries, versioned content with streamed download."""

from __future__ import annotations

import base64
import json
from typing import Any

from quart import Response, request

from attune_core.errors import BadRequest, NotFound
from attune_core.model import Artifact, ArtifactType
from attune_core.security import Operation, Resource
from attune_services.api import _models as m
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes._common import drop_none
from attune_services.api.routes._registry import api

T = "artifacts"
AR = Resource.ARTIFACT
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE
CHUNK = 64 * 1024


@api.route(
    "GET",
    "/api/v1/artifacts",
    summary="List artifacts (newest first)",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT,
    kind="list",
    query=[
        Param("execution", {"type": "integer"}),
        Param("type"),
        Param("scope"),
        Param("owner"),
        Param("ref"),
    ],
)
async def list_artifacts(call: Call) -> object:
    filters = {
        "execution": call.int_arg("execution"),
        "type": call.arg("type"),
        "scope": call.arg("scope"),
        "owner": call.arg("owner"),
        "ref": call.arg("ref"),
    }
    if filters["type"] is not None and filters["type"] not in {t.value for t in ArtifactType}:
        raise BadRequest(f"unknown artifact type {filters['type']!r}")
    return await list_repo(call, "artifacts", filters=filters)


@api.route(
    "POST",
    "/api/v1/artifacts",
    summary="Create an artifact",
    tag=T,
    resource=AR,
    op=C,
    body=m.ARTIFACT_CREATE,
    response=m.ARTIFACT,
    status=201,
)
async def create_artifact(call: Call) -> object:
    values = drop_none(dict(call.body))
    async with call.ctx.store.transaction() as uow:
        if values.get("execution") is not None:
            await uow.executions.get(values["execution"])
        return await uow.artifacts.create(Artifact(**values))


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>",
    summary="Get an artifact",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT,
)
async def get_artifact(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await uow.artifacts.get(id)


@api.route(
    "GET",
    "/api/v1/artifacts/ref/<ref>",
    summary="The newest artifact with a ref",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT,
)
async def get_by_ref(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        found = await uow.artifacts.find_by_ref(ref)
    if found is None:
        raise NotFound(f"artifact {ref!r} not found")
    return found


@api.route(
    "PUT",
    "/api/v1/artifacts/<int:id>",
    summary="Update an artifact",
    tag=T,
    resource=AR,
    op=U,
    body=m.ARTIFACT_UPDATE,
    response=m.ARTIFACT,
)
async def update_artifact(call: Call, id: int) -> object:
    changes = drop_none(dict(call.body))
    async with call.ctx.store.transaction() as uow:
        artifact = await uow.artifacts.get(id)
        return await uow.artifacts.update(id, **changes) if changes else artifact


@api.route(
    "DELETE",
    "/api/v1/artifacts/<int:id>",
    summary="Delete an artifact",
    tag=T,
    resource=AR,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_artifact(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.artifacts.delete(id)
    return f"artifact {id} deleted"


@api.route(
    "POST",
    "/api/v1/artifacts/<int:id>/progress",
    summary="Append a progress entry",
    tag=T,
    resource=AR,
    op=U,
    body=m.ARTIFACT_PROGRESS,
    response=m.ARTIFACT,
)
async def progress(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        artifact = await uow.artifacts.get(id)
        if artifact.type is not ArtifactType.PROGRESS:
            raise BadRequest(f"artifact {id} is not a progress artifact")
        return await uow.artifacts.append_progress(id, call.body["entry"])


@api.route(
    "PUT",
    "/api/v1/artifacts/<int:id>/data",
    summary="Replace an artifact's content (a new version)",
    tag=T,
    resource=AR,
    op=U,
    body=m.ARTIFACT_DATA,
    response=m.ARTIFACT_VERSION,
)
async def put_data(call: Call, id: int) -> object:
    return await _add_version(call, id, call.body)


async def _add_version(call: Call, id: int, body: dict[str, Any]) -> Any:
    content = body.get("content")
    content_json = body.get("content_json", body.get("data"))
    raw = None
    if content is not None:
        raw = str(content).encode()
    limit = call.ctx.settings.server.request_body_limit
    if raw is not None and len(raw) > limit:
        raise BadRequest("content too large")
    async with call.ctx.store.transaction() as uow:
        version = await uow.artifact_versions.add(
            id,
            content=raw,
            content_json=content_json if raw is None else None,
            content_type=body.get("content_type"),
            meta=body.get("meta"),
            created_by=str(call.identity_id),
        )
        if raw is None and content_json is not None:
            await uow.artifacts.update(id, data=content_json)
    return version


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>/versions",
    summary="An artifact's versions",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT_VERSION,
    kind="list",
)
async def versions(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        await uow.artifacts.get(id)
    return await list_repo(call, "artifact_versions", filters={"artifact": id})


@api.route(
    "POST",
    "/api/v1/artifacts/<int:id>/versions",
    summary="Add a version (JSON)",
    tag=T,
    resource=AR,
    op=U,
    body=m.ARTIFACT_VERSION_CREATE,
    response=m.ARTIFACT_VERSION,
    status=201,
)
async def add_version(call: Call, id: int) -> object:
    return await _add_version(call, id, call.body)


@api.route(
    "POST",
    "/api/v1/artifacts/<int:id>/versions/upload",
    summary="Add a version (multipart field 'file')",
    tag=T,
    resource=AR,
    op=U,
    response=m.ARTIFACT_VERSION,
    status=201,
    form={"file": {"type": "string", "format": "binary"}, "content_type": m.STR},
)
async def upload_version(call: Call, id: int) -> object:
    files = await request.files
    form = await request.form
    upload = files.get("file") or next(iter(files.values()), None)
    if upload is None:
        raise BadRequest("multipart field 'file' is required")
    data = upload.read()
    content_type = form.get("content_type") or upload.content_type or "application/octet-stream"
    async with call.ctx.store.transaction() as uow:
        return await uow.artifact_versions.add(
            id,
            content=data,
            content_type=content_type,
            meta={"filename": upload.filename} if upload.filename else None,
            created_by=str(call.identity_id),
        )


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>/versions/latest",
    summary="The newest version",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT_VERSION,
)
async def latest(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        await uow.artifacts.get(id)
        found = await uow.artifact_versions.latest(id)
    if found is None:
        raise NotFound(f"artifact {id} has no versions")
    return found


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>/versions/<int:version>",
    summary="One version",
    tag=T,
    resource=AR,
    op=R,
    response=m.ARTIFACT_VERSION,
)
async def get_version(call: Call, id: int, version: int) -> object:
    async with call.ctx.store.read() as uow:
        found = await uow.artifact_versions.find_version(id, version)
    if found is None:
        raise NotFound(f"artifact {id} has no version {version}")
    return found


@api.route(
    "DELETE",
    "/api/v1/artifacts/<int:id>/versions/<int:version>",
    summary="Delete a version",
    tag=T,
    resource=AR,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_version(call: Call, id: int, version: int) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.artifact_versions.delete_version(id, version)
    return f"version {version} of artifact {id} deleted"


def _download(
    content: bytes | None, content_json: Any, content_type: str | None, name: str
) -> Response:
    if content is None:
        # JSON content (``null`` for a version created without any) is always a JSON document
        content = json.dumps(content_json).encode()
        content_type = content_type or "application/json"

    async def chunks() -> Any:
        for start in range(0, len(content), CHUNK):
            yield content[start : start + CHUNK]

    response = Response(chunks(), mimetype=content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Length"] = str(len(content))
    return response


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>/download",
    summary="Download the newest content",
    tag=T,
    resource=AR,
    op=R,
    kind="raw",
    produces="*/*",  # the stored content type of the version
)
async def download(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        artifact = await uow.artifacts.get(id)
        version = await uow.artifact_versions.latest(id)
    if version is None:
        if artifact.data is None:
            raise NotFound(f"artifact {id} has no content")
        return _download(None, artifact.data, None, f"{artifact.ref}.json")
    return _download(
        version.content,
        version.content_json,
        version.content_type,
        _filename(artifact.ref, version.meta),
    )


@api.route(
    "GET",
    "/api/v1/artifacts/<int:id>/versions/<int:version>/download",
    summary="Download one version",
    tag=T,
    resource=AR,
    op=R,
    kind="raw",
    produces="*/*",  # the stored content type of the version
)
async def download_version(call: Call, id: int, version: int) -> object:
    async with call.ctx.store.read() as uow:
        artifact = await uow.artifacts.get(id)
        found = await uow.artifact_versions.find_version(id, version)
    if found is None:
        raise NotFound(f"artifact {id} has no version {version}")
    return _download(
        found.content, found.content_json, found.content_type, _filename(artifact.ref, found.meta)
    )


def _filename(ref: str, meta: dict[str, Any] | None) -> str:
    name = (meta or {}).get("filename") or ref
    return str(name).replace('"', "").replace("\n", "")


__all__ = ["base64"]
