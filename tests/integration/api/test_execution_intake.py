"""The API's execution intake (group commit of ``execute`` requests) on its own: each request
keeps its outcome, a request whose transaction fails is retried alone, and a lone failing
request gets its error back (it does not wait for a batch that will never be published)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from attune_core.bus import InMemoryBus
from attune_core.errors import NotFound
from attune_core.model import Action
from attune_core.packs import register_pack
from attune_core.resources import packs_dir
from attune_core.storage import Store
from attune_services.api._executions import ExecutionIntake, ExecutionRequest

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _allowed(_action: Action) -> None:
    return None


def _request(action_ref: str, parameters: dict[str, Any]) -> ExecutionRequest:
    return ExecutionRequest(action_ref, parameters, None, _allowed)


async def test_each_request_keeps_its_outcome(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", migrate_to_head=True)
    bus = InMemoryBus()
    try:
        await register_pack(store, packs_dir() / "core")
        intake = ExecutionIntake(store, bus)
        # Not storable (no JSON for it): the transaction fails.
        unstorable = {"message": object()}
        with anyio.fail_after(10), pytest.raises(Exception):  # noqa: B017
            await intake.submit(_request("core.noop", unstorable))
        outcomes: dict[str, Any] = {}

        async def submit(name: str, request: ExecutionRequest) -> None:
            try:
                outcomes[name] = await intake.submit(request)
            except Exception as exc:
                outcomes[name] = exc

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(submit, "first", _request("core.noop", {"message": "a"}))
                tg.start_soon(submit, "bad", _request("core.noop", unstorable))
                tg.start_soon(submit, "unknown", _request("no.such", {}))
                tg.start_soon(submit, "last", _request("core.noop", {"message": "b"}))
        assert isinstance(outcomes["bad"], Exception)
        assert isinstance(outcomes["unknown"], NotFound)
        stored = {name: outcomes[name][0] for name in ("first", "last")}
        assert {e.config["message"] for e in stored.values()} == {"a", "b"}
        async with store.read() as uow:
            found = [await uow.executions.get(e.id) for e in stored.values()]
        assert [e.status.value for e in found] == ["requested", "requested"]
        requested = [m.payload["execution_id"] for m in bus.published]
        assert sorted(requested) == sorted(e.id for e in stored.values())
    finally:
        await store.close()
