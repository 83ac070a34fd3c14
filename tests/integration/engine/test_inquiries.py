"""Inquiries and core.ask: a workflow waits for a human without holding a worker."""

from __future__ import annotations

import pytest

from attune_core.errors import BadRequest, Forbidden, ValidationError
from attune_core.model import Execution, ExecutionStatus, Identity, InquiryStatus
from attune_core.testing import AttuneTestEnvironment

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def asking(env: AttuneTestEnvironment, workflow: Execution) -> Execution:
    [ask] = [t.execution for t in await env.children(workflow) if t.task == "ask"]
    return ask


async def test_a_response_completes_the_task_and_the_workflow_advances(
    env: AttuneTestEnvironment,
) -> None:
    workflow = await env.execute("demo.approval")
    await env.settle()
    ask = await asking(env, workflow)
    assert ask.status is ExecutionStatus.RUNNING
    assert ask.worker is None  # no worker holds it
    [inquiry] = await env.attune.inquiries(execution=ask.id)
    assert inquiry.status is InquiryStatus.PENDING
    assert inquiry.prompt == "Deploy?"
    assert inquiry.timeout_at is not None
    assert inquiry.id is not None

    with pytest.raises(ValidationError):
        await env.attune.respond(inquiry.id, {"approved": "yes please"})
    with pytest.raises(Forbidden):
        await env.attune.respond(inquiry.id, {"approved": True}, execution=ask.id)
    answered = await env.attune.respond(inquiry.id, {"approved": True, "by": "Ada"})
    assert answered.status is InquiryStatus.RESPONDED
    assert answered.responded_at is not None
    with pytest.raises(BadRequest):
        await env.attune.respond(inquiry.id, {"approved": False})

    done = await env.wait(workflow)
    assert done.status is ExecutionStatus.COMPLETED
    assert done.result == {"approver": "Ada"}
    ask = await env.attune.get_execution(ask.id)  # type: ignore[arg-type]
    assert ask.result["response"] == {"approved": True, "by": "Ada"}
    assert [t.task for t in await env.children(workflow)] == ["ask", "greet"]


async def test_an_unanswered_inquiry_times_out_and_the_workflow_escalates(
    env: AttuneTestEnvironment,
) -> None:
    workflow = await env.execute("demo.approval", {"timeout": 30})
    await env.settle()
    await env.advance(29)
    ask = await asking(env, workflow)
    assert ask.status is ExecutionStatus.RUNNING
    await env.advance(3)
    [inquiry] = await env.attune.inquiries(execution=ask.id)
    assert inquiry.status is InquiryStatus.TIMEOUT
    done = await env.wait(workflow)
    assert done.status is ExecutionStatus.COMPLETED
    runs = {t.task: t for t in await env.children(workflow)}
    assert runs["ask"].status is ExecutionStatus.TIMEOUT
    assert runs["ask"].execution.workflow_task["timed_out"] is True  # type: ignore[index]
    assert runs["escalate"].status is ExecutionStatus.COMPLETED
    assert inquiry.id is not None
    with pytest.raises(BadRequest):
        await env.attune.respond(inquiry.id, {"approved": True})


async def test_only_the_assignee_may_respond(env: AttuneTestEnvironment) -> None:
    async with env.attune.store.transaction() as uow:
        ada = await uow.identities.create(Identity(login="ada"))
        bob = await uow.identities.create(Identity(login="bob"))
    execution = await env.execute(
        "core.ask", {"prompt": "ok?", "assigned_to": "ada", "response_schema": {}}
    )
    await env.settle()
    [inquiry] = await env.attune.inquiries(execution=execution.id)
    assert inquiry.assigned_to == ada.id and inquiry.id is not None
    with pytest.raises(Forbidden):
        await env.attune.respond(inquiry.id, {"ok": 1}, identity=bob.id)
    await env.attune.respond(inquiry.id, {"ok": 1}, identity=ada.id)
    done = await env.wait(execution)
    assert done.status is ExecutionStatus.COMPLETED
    assert done.result["response"] == {"ok": 1}


async def test_an_unknown_assignee_fails_and_cancel_withdraws_the_inquiry(
    env: AttuneTestEnvironment,
) -> None:
    nobody = await env.execute("core.ask", {"prompt": "?", "assigned_to": "nobody"})
    waiting = await env.execute("core.ask", {"prompt": "?"})
    await env.settle()
    failed = await env.wait(nobody)
    assert failed.status is ExecutionStatus.FAILED
    assert "unknown identity" in failed.result["error"]
    assert waiting.id is not None
    cancelled = await env.attune.cancel(waiting.id)
    assert cancelled.status is ExecutionStatus.CANCELLED
    [inquiry] = await env.attune.inquiries(execution=waiting.id)
    assert inquiry.status is InquiryStatus.CANCELLED


async def test_inquiry_notifications(env: AttuneTestEnvironment) -> None:
    async with env.attune.subscribe(
        ["notification_type:inquiry_created", "notification_type:inquiry_responded"]
    ) as sub:
        execution = await env.execute("core.ask", {"prompt": "?"})
        await env.settle()
        created = await sub.get(timeout=5)
        assert created["payload"]["execution"] == execution.id
        await env.attune.respond(created["entity_id"], {"fine": True})
        responded = await sub.get(timeout=5)
    assert responded["notification_type"] == "inquiry_responded"
    assert responded["payload"]["status"] == "responded"
