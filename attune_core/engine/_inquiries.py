"""Inquiries: a question to a human, and the ``core.ask`` executions waiting for the answer.

Rules of this file:

1. ``core.ask`` never reaches a worker: the executor moves its execution to ``running`` and
   creates the inquiry (:func:`ask`), so a waiting workflow task holds no worker slot.
2. A response is accepted once, while the inquiry is ``pending``, from the assignee (anyone if
   unassigned) and never from the asking execution or its descendants; it must satisfy the
   ``response_schema``. The inquiry and its execution change in one transaction: the execution
   completes with ``{"response": ...}`` and the workflow advances on ``execution.completed``.
3. Overdue inquiries become ``timeout`` within ``CHECK_INTERVAL`` seconds (Clock time); their
   execution ends ``timeout`` with ``workflow_task.timed_out = true``, which ``timed_out()``
   transitions see.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import anyio
import anyio.abc

from attune_core.bus import RoutingKey
from attune_core.engine._messages import Publish, publish_all
from attune_core.errors import BadRequest, Forbidden, ValidationError
from attune_core.model import Execution, ExecutionStatus, Inquiry, InquiryStatus
from attune_core.ports import Bus, Clock
from attune_core.schema import ParameterValidationError, validate_parameters
from attune_core.storage import Store, UnitOfWork

__all__ = ["ASK_ACTION", "CHECK_INTERVAL", "InquiryMonitor", "ask", "cancel_inquiries", "respond"]

log = logging.getLogger(__name__)

ASK_ACTION = "core.ask"
CHECK_INTERVAL = 1.0  # seconds of Clock time between two looks for overdue inquiries


def _finish_changes(execution: Execution, *, timed_out: bool) -> dict[str, Any]:
    if execution.workflow_task is None:
        return {}
    task = dict(execution.workflow_task)
    task["timed_out"] = timed_out
    return {"workflow_task": task}


def _completed(execution: Execution) -> Publish:
    status = execution.status.value
    return (RoutingKey.EXECUTION_COMPLETED, {"execution_id": execution.id, "status": status})


async def ask(
    uow: UnitOfWork, execution: Execution, parameters: Mapping[str, Any], clock: Clock
) -> list[Publish]:
    """Carry out a ``core.ask`` execution: ``running`` plus a pending inquiry.

    An unknown assignee ends the execution ``failed`` with the reason.
    """
    assert execution.id is not None
    assigned_to = parameters.get("assigned_to")
    identity_id: int | None = None
    if assigned_to is not None and assigned_to != "":
        if isinstance(assigned_to, int) and not isinstance(assigned_to, bool):
            found = await uow.identities.find(assigned_to)
        else:
            found = await uow.identities.find_by_login(str(assigned_to))
        if found is None:
            done = await uow.executions.transition(
                execution.id,
                expected=ExecutionStatus.REQUESTED,
                new=ExecutionStatus.FAILED,
                result={"succeeded": False, "error": f"unknown identity {assigned_to!r}"},
            )
            return [] if done is None else [_completed(done)]
        identity_id = found.id
    running = await uow.executions.transition(
        execution.id,
        expected=ExecutionStatus.REQUESTED,
        new=ExecutionStatus.RUNNING,
        config=dict(parameters),
    )
    if running is None:
        return []
    timeout = parameters.get("timeout") or (execution.workflow_task or {}).get("timeout_seconds")
    timeout_at = None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        timeout_at = clock.now() + timedelta(seconds=float(timeout))
    schema = parameters.get("response_schema")
    inquiry = await uow.inquiries.create(
        Inquiry(
            execution=execution.id,
            prompt=str(parameters.get("prompt", "")),
            response_schema=schema if isinstance(schema, dict) else None,
            assigned_to=identity_id,
            timeout_at=timeout_at,
        )
    )
    return [(RoutingKey.INQUIRY_CREATED, {"inquiry_id": inquiry.id, "execution_id": execution.id})]


def check_response(schema: Mapping[str, Any] | None, response: Any) -> Any:
    """Validate a response against ``response_schema`` (flat format or JSON Schema).

    Raises:
        ValidationError: the response does not satisfy the schema (every problem listed).
    """
    if not schema:
        return response
    if not isinstance(response, dict):
        raise ValidationError("the response must be an object", field="response")
    try:
        validate_parameters(schema, response, what="response")
    except ParameterValidationError:
        raise
    except Exception as exc:  # a broken schema is the asker's problem, reported, never a crash
        raise ValidationError(f"the response_schema cannot be applied: {exc}") from None
    return response


async def _is_self_or_descendant(uow: UnitOfWork, asker: int, execution_id: int) -> bool:
    """Whether ``execution_id`` is ``asker`` or one of its descendants."""
    current: int | None = execution_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current == asker:
            return True
        seen.add(current)
        found = await uow.executions.find(current)
        current = found.parent if found is not None else None
    return False


async def respond(
    uow: UnitOfWork,
    inquiry_id: int,
    response: Any,
    *,
    identity: int | None = None,
    execution: int | None = None,
) -> tuple[Inquiry, list[Publish]]:
    """Answer an inquiry.

    Args:
        uow: The unit of work.
        inquiry_id: The inquiry.
        response: The answer (an object when the inquiry has a ``response_schema``).
        identity: Who responds (checked against ``assigned_to``).
        execution: The execution whose token responds, if an execution token is used.

    Raises:
        NotFound: no such inquiry.
        BadRequest: the inquiry is not pending.
        Forbidden: the responder is not the assignee, or is the asking execution (or one of
            its descendants).
        ValidationError: the response fails the ``response_schema``.
    """
    inquiry = await uow.inquiries.get(inquiry_id)
    if inquiry.status is not InquiryStatus.PENDING:
        raise BadRequest(f"inquiry {inquiry_id} is {inquiry.status.value}, not pending")
    if execution is not None and await _is_self_or_descendant(uow, inquiry.execution, execution):
        raise Forbidden("an execution cannot answer its own inquiry")
    if inquiry.assigned_to is not None and identity != inquiry.assigned_to:
        raise Forbidden(f"inquiry {inquiry_id} is assigned to another identity")
    check_response(inquiry.response_schema, response)
    answered = await uow.inquiries.transition(
        inquiry_id,
        expected=InquiryStatus.PENDING,
        new=InquiryStatus.RESPONDED,
        response=response,
        responded_at=uow.now(),
    )
    if answered is None:
        raise BadRequest(f"inquiry {inquiry_id} was answered or expired meanwhile")
    messages: list[Publish] = [
        (
            RoutingKey.INQUIRY_RESPONDED,
            {"inquiry_id": inquiry_id, "execution_id": inquiry.execution},
        )
    ]
    asker = await uow.executions.find(inquiry.execution)
    if asker is not None and asker.status is ExecutionStatus.RUNNING:
        done = await uow.executions.transition(
            inquiry.execution,
            expected=ExecutionStatus.RUNNING,
            new=ExecutionStatus.COMPLETED,
            result={"succeeded": True, "response": response},
            **_finish_changes(asker, timed_out=False),
        )
        if done is not None:
            messages.append(_completed(done))
    return answered, messages


async def cancel_inquiries(uow: UnitOfWork, execution_id: int) -> None:
    """Cancel the pending inquiries of an execution (it was cancelled)."""
    for inquiry in await uow.inquiries.list(execution=execution_id, status=InquiryStatus.PENDING):
        assert inquiry.id is not None
        await uow.inquiries.transition(
            inquiry.id, expected=InquiryStatus.PENDING, new=InquiryStatus.CANCELLED
        )


class InquiryMonitor:
    """Expires overdue inquiries. Run it with ``await monitor.run()``."""

    def __init__(self, store: Store, bus: Bus, clock: Clock) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._awake = False

    @property
    def busy(self) -> bool:
        """Whether it is expiring inquiries right now (for the test kit's settle)."""
        return self._awake

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Look for overdue inquiries every ``CHECK_INTERVAL`` seconds until cancelled."""
        task_status.started()
        while True:
            await self._clock.sleep(CHECK_INTERVAL)
            self._awake = True
            try:
                await self.expire()
            except Exception:
                log.exception("expiring inquiries failed")
            finally:
                self._awake = False

    async def expire(self) -> int:
        """Time out every overdue pending inquiry and its execution; returns how many."""
        async with self._store.read() as uow:
            overdue = await uow.inquiries.list_overdue(self._clock.now())
        for inquiry in overdue:
            async with self._store.transaction() as uow:
                messages = await self._expire_one(uow, inquiry)
            await publish_all(self._bus, messages)
        return len(overdue)

    async def _expire_one(self, uow: UnitOfWork, inquiry: Inquiry) -> list[Publish]:
        assert inquiry.id is not None
        expired = await uow.inquiries.transition(
            inquiry.id, expected=InquiryStatus.PENDING, new=InquiryStatus.TIMEOUT
        )
        if expired is None:
            return []
        asker = await uow.executions.find(inquiry.execution)
        if asker is None or asker.status is not ExecutionStatus.RUNNING:
            return []
        done = await uow.executions.transition(
            inquiry.execution,
            expected=ExecutionStatus.RUNNING,
            new=ExecutionStatus.TIMEOUT,
            result={
                "succeeded": False,
                "error": f"Inquiry {inquiry.id} timed out without a response",
                "response": None,
            },
            **_finish_changes(asker, timed_out=True),
        )
        return [] if done is None else [_completed(done)]
