"""Workflows: definitions stored verbatim, each with a companion action of the same ref."""

from __future__ import annotations

from typing import Any

import anyio
import yaml

from attune_core.errors import Conflict, ValidationError
from attune_core.model import Action, WorkflowDefinition
from attune_core.security import Operation, Resource
from attune_core.storage import UnitOfWork
from attune_core.workflow import WorkflowDefinitionError, parse_workflow
from attune_services.api import _models as m
from attune_services.api._routing import Call, Param, page_of, paging
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._common import drop_none
from attune_services.api.routes._registry import api

T = "workflows"
WF = Resource.WORKFLOW
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE


def _check_text(values: dict[str, Any]) -> None:
    for field in ("ref", "label"):
        if field in values and not str(values[field]).strip():
            raise ValidationError(f"{field} must not be empty", field=field)


async def _save(uow: UnitOfWork, values: dict[str, Any]) -> WorkflowDefinition:
    """Create the definition and its companion action (ad hoc, runtime none)."""
    pack = await uow.packs.get_by_ref(values["pack_ref"])
    workflow = await uow.workflow_definitions.create(WorkflowDefinition(pack=pack.id, **values))
    if await uow.actions.find_by_ref(workflow.ref) is not None:
        raise Conflict(f"an action {workflow.ref!r} already exists")
    await uow.actions.create(
        Action(
            ref=workflow.ref,
            pack=pack.id,
            pack_ref=pack.ref,
            label=workflow.label,
            description=workflow.description,
            entrypoint=f"workflows/{workflow.ref.split('.', 1)[1]}.workflow.yaml",
            param_schema=workflow.param_schema,
            out_schema=workflow.out_schema,
            workflow_def=workflow.id,
            is_adhoc=True,
            tags=list(workflow.tags),
        )
    )
    return workflow


@api.route(
    "GET",
    "/api/v1/workflows",
    summary="List workflows",
    tag=T,
    resource=WF,
    op=R,
    response=m.WORKFLOW,
    kind="list",
    query=[
        Param("pack_ref"),
        Param("tags"),
        Param("enabled", {"type": "boolean"}),
        Param("search"),
    ],
)
async def list_workflows(call: Call) -> object:
    paged = paging(call)
    filters: dict[str, Any] = {}
    if call.arg("pack_ref"):
        filters["pack_ref"] = call.arg("pack_ref")
    enabled = call.bool_arg("enabled")
    if enabled is not None:
        filters["enabled"] = enabled
    tags = {t.strip() for t in (call.arg("tags") or "").split(",") if t.strip()}
    search = (call.arg("search") or "").lower()
    scope = call.pack_scope(WF)
    if scope is not None:  # a pack-scoped grant: only its packs' workflows
        wanted = filters.get("pack_ref")
        filters["pack_ref"] = (
            sorted(scope) if wanted is None else [wanted] if wanted in scope else []
        )
    async with call.ctx.store.read() as uow:
        rows = await uow.workflow_definitions.list(**filters)
        rows = [
            w
            for w in rows
            if (not tags or tags & set(w.tags))
            and (
                not search
                or search in w.ref.lower()
                or search in w.label.lower()
                or search in (w.description or "").lower()
            )
        ]
        total = len(rows)
        window = rows[paged.offset : paged.offset + paged.size + 1]
        items = await s.workflows(uow, window)
    return page_of(items, paged, total)


@api.route(
    "POST",
    "/api/v1/workflows",
    summary="Create a workflow (and its action)",
    tag=T,
    resource=WF,
    op=C,
    body=m.WORKFLOW_CREATE,
    response=m.WORKFLOW,
    status=201,
)
async def create_workflow(call: Call) -> object:
    values = drop_none(dict(call.body))
    _check_text(values)
    async with call.ctx.store.transaction() as uow:
        workflow = await _save(uow, values)
        return await s.one(s.workflows, uow, workflow)


@api.route(
    "GET",
    "/api/v1/workflows/<ref>",
    summary="Get a workflow",
    tag=T,
    resource=WF,
    op=R,
    response=m.WORKFLOW,
)
async def get_workflow(call: Call, ref: str) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.workflows, uow, await uow.workflow_definitions.get_by_ref(ref))


async def _update(uow: UnitOfWork, ref: str, changes: dict[str, Any]) -> Any:
    for fixed in ("ref", "pack_ref"):
        changes.pop(fixed, None)
    _check_text(changes)
    workflow = await uow.workflow_definitions.get_by_ref(ref)
    assert workflow.id is not None
    if changes:
        workflow = await uow.workflow_definitions.update(workflow.id, **changes)
    action = await uow.actions.find_by_workflow(workflow.id)
    mirrored = {
        k: v
        for k, v in changes.items()
        if k in ("label", "description", "param_schema", "out_schema", "tags")
    }
    if action is not None and action.id is not None and mirrored:
        await uow.actions.update(action.id, **mirrored)
    return workflow


@api.route(
    "PUT",
    "/api/v1/workflows/<ref>",
    summary="Update a workflow",
    tag=T,
    resource=WF,
    op=U,
    body=m.WORKFLOW_UPDATE,
    response=m.WORKFLOW,
)
async def update_workflow(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        workflow = await _update(uow, ref, drop_none(dict(call.body)))
        return await s.one(s.workflows, uow, workflow)


@api.route(
    "DELETE",
    "/api/v1/workflows/<ref>",
    summary="Delete a workflow and its action",
    tag=T,
    resource=WF,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_workflow(call: Call, ref: str) -> object:
    async with call.ctx.store.transaction() as uow:
        workflow = await uow.workflow_definitions.get_by_ref(ref)
        assert workflow.id is not None
        action = await uow.actions.find_by_workflow(workflow.id)
        if action is not None and action.id is not None:
            await uow.actions.delete(action.id)
        await uow.workflow_definitions.delete(workflow.id)
    return f"workflow {ref!r} deleted"


def _file_body(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("content"):
        try:
            parsed = yaml.safe_load(values["content"])
        except yaml.YAMLError as exc:
            raise ValidationError(f"content is not valid YAML: {exc}", field="content") from exc
        if not isinstance(parsed, dict):
            raise ValidationError("content must be a YAML mapping", field="content")
        return parsed
    return dict(values.get("definition") or {})


async def _write_file(call: Call, pack_ref: str, name: str, definition: dict[str, Any]) -> str:
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValidationError("name may hold letters, digits, '_' and '-' only", field="name")
    path = (
        call.ctx.settings.packs_base_dir
        / pack_ref
        / "actions"
        / "workflows"
        / f"{name}.workflow.yaml"
    )

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(definition, sort_keys=False))

    await anyio.to_thread.run_sync(write)
    return str(path)


@api.route(
    "PUT",
    "/api/v1/workflows/<ref>/file",
    summary="Write a workflow's definition to its pack file (and store it)",
    tag=T,
    resource=WF,
    op=U,
    body=m.WORKFLOW_FILE,
    response=m.WORKFLOW_FILE_RESULT,
)
async def put_workflow_file(call: Call, ref: str) -> object:
    definition = _file_body(call.body)
    async with call.ctx.store.transaction() as uow:
        workflow = await _update(uow, ref, {"definition": definition})
        data = await s.one(s.workflows, uow, workflow)
    path = await _write_file(call, workflow.pack_ref, ref.split(".", 1)[1], definition)
    return {"path": path, "workflow": m.WORKFLOW.render(data)}


@api.route(
    "POST",
    "/api/v1/packs/<ref>/workflow-files",
    summary="Write a workflow file into a pack and register the workflow",
    tag=T,
    resource=Resource.PACK,
    op=U,
    body=m.WORKFLOW_FILE,
    response=m.WORKFLOW_FILE_RESULT,
    status=201,
)
async def create_workflow_file(call: Call, ref: str) -> object:
    name = call.body.get("name") or str(call.body.get("ref") or "").split(".", 1)[-1]
    if not name:
        raise ValidationError("name is required", field="name")
    definition = _file_body(call.body)
    wf_ref = f"{ref}.{name}"
    async with call.ctx.store.transaction() as uow:
        existing = await uow.workflow_definitions.find_by_ref(wf_ref)
        if existing is not None:
            workflow = await _update(uow, wf_ref, {"definition": definition})
        else:
            workflow = await _save(
                uow,
                drop_none(
                    {
                        "ref": wf_ref,
                        "pack_ref": ref,
                        "label": call.body.get("label") or name,
                        "description": call.body.get("description"),
                        "version": call.body.get("version") or "1.0.0",
                        "definition": definition,
                        "param_schema": call.body.get("param_schema"),
                        "out_schema": call.body.get("out_schema"),
                        "tags": call.body.get("tags"),
                    }
                ),
            )
        data = await s.one(s.workflows, uow, workflow)
    path = await _write_file(call, ref, name, definition)
    return {"path": path, "workflow": m.WORKFLOW.render(data)}


@api.route(
    "POST",
    "/api/v1/workflows/validate",
    summary="Validate a workflow definition without saving it (every problem, with its task)",
    tag=T,
    resource=WF,
    op=R,
    body=m.WORKFLOW_VALIDATE,
    response=m.WORKFLOW_VALIDATION,
)
async def validate_workflow(call: Call) -> object:
    ref = call.body.get("ref") or None
    source: Any = call.body.get("content") or dict(call.body.get("definition") or {})
    try:
        parsed = parse_workflow(source, ref=ref or "draft.workflow")
    except WorkflowDefinitionError as exc:
        problems = [p.to_dict() for p in exc.problems]
        warnings = [p.to_dict() for p in exc.warnings]
    except ValidationError as exc:
        problems = [{"path": "", "message": str(exc), "severity": "error"}]
        warnings = []
    else:
        problems = []
        warnings = [p.to_dict() for p in parsed.warnings]
    render = m.WORKFLOW_PROBLEM.render
    return {
        "valid": not problems,
        "problems": [render(p) for p in problems],
        "warnings": [render(p) for p in warnings],
    }
