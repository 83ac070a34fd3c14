"""Inquiries: questions to humans; ``respond`` answers one and wakes the asking workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attune_core.bus import RoutingKey
from attune_core.engine._inquiries import respond as respond_to_inquiry
from attune_core.engine._messages import publish_all
from attune_core.errors import BadRequest, ValidationError
from attune_core.model import Inquiry, InquiryStatus, to_json
from attune_core.schema import validate_parameters
from attune_core.security import Operation, Resource, TokenKind
from attune_services.api import _models as m
from attune_services.api._errors import Forbidden
from attune_services.api._routing import Call, Param, list_repo
from attune_services.api.routes import _serialize as s
from attune_services.api.routes._registry import api

T = "inquiries"
IQ = Resource.INQUIRY
R, C, U, D = Operation.READ, Operation.CREATE, Operation.UPDATE, Operation.DELETE
MAX_INQUIRY_PAGE = 500


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"timeout_at must be an ISO 8601 timestamp, got {value!r}") from exc


def _status(value: str | None) -> str | None:
    if value is not None and value not in {s.value for s in InquiryStatus}:
        raise BadRequest(f"unknown inquiry status {value!r}")
    return value


@api.route(
    "GET",
    "/api/v1/inquiries",
    summary="List inquiries (newest first)",
    tag=T,
    resource=IQ,
    op=R,
    response=m.INQUIRY,
    kind="list",
    query=[
        Param("status"),
        Param("execution", {"type": "integer"}),
        Param("assigned_to", {"type": "integer"}),
    ],
)
async def list_inquiries(call: Call) -> object:
    filters = {
        "status": _status(call.arg("status")),
        "execution": call.int_arg("execution"),
        "assigned_to": call.int_arg("assigned_to"),
    }
    return await list_repo(
        call, "inquiries", filters=filters, max_size=MAX_INQUIRY_PAGE, enrich=s.inquiries
    )


@api.route(
    "GET",
    "/api/v1/inquiries/status/<status>",
    summary="Inquiries in one status",
    tag=T,
    resource=IQ,
    op=R,
    response=m.INQUIRY,
    kind="list",
)
async def inquiries_in_status(call: Call, status: str) -> object:
    return await list_repo(
        call,
        "inquiries",
        filters={"status": _status(status)},
        max_size=MAX_INQUIRY_PAGE,
        enrich=s.inquiries,
    )


@api.route(
    "POST",
    "/api/v1/inquiries",
    summary="Ask a question",
    tag=T,
    resource=IQ,
    op=C,
    body=m.INQUIRY_CREATE,
    response=m.INQUIRY,
    status=201,
)
async def create_inquiry(call: Call) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.executions.get(call.body["execution"])
        if call.body.get("assigned_to") is not None:
            await uow.identities.get(call.body["assigned_to"])
        inquiry = await uow.inquiries.create(
            Inquiry(
                execution=call.body["execution"],
                prompt=call.body["prompt"],
                response_schema=call.body.get("response_schema"),
                assigned_to=call.body.get("assigned_to"),
                timeout_at=_when(call.body.get("timeout_at")),
            )
        )
        result = await s.one(s.inquiries, uow, inquiry)
    await call.ctx.bus.publish(
        RoutingKey.INQUIRY_CREATED, {"inquiry_id": inquiry.id, "execution_id": inquiry.execution}
    )
    return result


@api.route(
    "GET",
    "/api/v1/inquiries/<int:id>",
    summary="Get an inquiry",
    tag=T,
    resource=IQ,
    op=R,
    response=m.INQUIRY,
)
async def get_inquiry(call: Call, id: int) -> object:
    async with call.ctx.store.read() as uow:
        return await s.one(s.inquiries, uow, await uow.inquiries.get(id))


@api.route(
    "PUT",
    "/api/v1/inquiries/<int:id>",
    summary="Change an inquiry",
    tag=T,
    resource=IQ,
    op=U,
    body=m.INQUIRY_UPDATE,
    response=m.INQUIRY,
)
async def update_inquiry(call: Call, id: int) -> object:
    changes = {k: v for k, v in call.body.items() if v is not None or k == "assigned_to"}
    if "timeout_at" in changes:
        changes["timeout_at"] = _when(changes["timeout_at"])
    if "status" in changes:
        changes["status"] = InquiryStatus(changes["status"])
    async with call.ctx.store.transaction() as uow:
        inquiry = await uow.inquiries.get(id)
        if changes:
            inquiry = await uow.inquiries.update(id, **changes)
        return await s.one(s.inquiries, uow, inquiry)


@api.route(
    "DELETE",
    "/api/v1/inquiries/<int:id>",
    summary="Delete an inquiry",
    tag=T,
    resource=IQ,
    op=D,
    response=m.DELETED,
    kind="delete",
)
async def delete_inquiry(call: Call, id: int) -> object:
    async with call.ctx.store.transaction() as uow:
        await uow.inquiries.delete(id)
    return f"inquiry {id} deleted"


async def _is_descendant(uow: Any, execution_id: int, ancestor: int) -> bool:
    current: int | None = execution_id
    for _ in range(100):  # workflows nest a few levels; a cycle cannot hang the request
        if current is None:
            return False
        if current == ancestor:
            return True
        execution = await uow.executions.find(current)
        current = execution.parent if execution is not None else None
    return False


@api.route(
    "POST",
    "/api/v1/inquiries/<int:id>/respond",
    summary="Answer an inquiry",
    tag=T,
    resource=IQ,
    op=Operation.RESPOND,
    body=m.INQUIRY_RESPOND,
    response=m.INQUIRY,
)
async def respond(call: Call, id: int) -> object:
    """Answer through the engine: the asking ``core.ask`` task completes in the same commit."""
    response = call.body["response"]
    own: int | None = None
    async with call.ctx.store.transaction() as uow:
        inquiry = await uow.inquiries.get(id)
        if call.claims is not None and call.claims.kind is TokenKind.EXECUTION:
            raw = call.claims.metadata.get("execution_id")
            own = int(raw) if raw is not None else None
            if own is not None and await _is_descendant(uow, own, inquiry.execution):
                raise Forbidden("an execution cannot answer its own inquiry")
            if own is not None and await _is_descendant(uow, inquiry.execution, own):
                raise Forbidden("an execution cannot answer the inquiries of its descendants")
        responder = call.identity_id
        if inquiry.assigned_to is not None and inquiry.assigned_to != responder:
            assert call.subject is not None
            if not call.subject.is_admin:
                raise Forbidden("this inquiry is assigned to another identity")
            responder = inquiry.assigned_to  # an admin may answer for the assignee
        if inquiry.status is not InquiryStatus.PENDING:
            raise BadRequest(f"inquiry {id} is not pending (status {inquiry.status.value})")
        if inquiry.response_schema:
            if not isinstance(response, dict):
                raise ValidationError("the response must be an object", field="response")
            response = validate_parameters(inquiry.response_schema, response, what="response")
        answered, messages = await respond_to_inquiry(
            uow, id, response, identity=responder, execution=own
        )
    await publish_all(call.ctx.bus, messages)
    return {**to_json(answered), "has_response": True}
