"""Pack-scoped grants: an identity allowed to read pack A's resources sees only pack A's rows in
lists and gets 403 on pack B's details (real server, SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from attune_core.model import PermissionSet
from attune_services.api._auth import create_identity
from attune_services.run import Running
from tests.integration.api.conftest import login, make_pack, unique, wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SCOPED_RESOURCES = ("pack", "action", "trigger", "sensor", "rule", "workflow", "execution", "key")
# (list path, field holding the pack ref of an item)
LISTS = [
    ("/api/v1/packs", "ref"),
    ("/api/v1/actions", "pack_ref"),
    ("/api/v1/triggers", "pack_ref"),
    ("/api/v1/sensors", "pack_ref"),
    ("/api/v1/rules", "pack_ref"),
    ("/api/v1/rules/enabled", "pack_ref"),
    ("/api/v1/workflows", "pack_ref"),
    ("/api/v1/keys", "owner_pack_ref"),
    ("/api/v1/executions", "action_ref"),
]


async def _populate(admin: httpx.AsyncClient, pack: str) -> dict[str, Any]:
    """A trigger, sensor, action, rule, workflow, key and a finished execution in ``pack``."""
    created = [
        ("/api/v1/triggers", {"ref": f"{pack}.hook", "label": "Hook", "pack_ref": pack}),
        (
            "/api/v1/sensors",
            {
                "ref": f"{pack}.watch",
                "label": "Watch",
                "pack_ref": pack,
                "entrypoint": "watch.sh",
                "enabled": False,
            },
        ),
        (
            "/api/v1/actions",
            {
                "ref": f"{pack}.hello",
                "pack_ref": pack,
                "label": "Hello",
                "entrypoint": "echo hello",
                "runtime_ref": "core.shell",
            },
        ),
        (
            "/api/v1/rules",
            {
                "ref": f"{pack}.on_hook",
                "pack_ref": pack,
                "label": "On hook",
                "trigger_ref": f"{pack}.hook",
                "action_ref": f"{pack}.hello",
            },
        ),
        (
            "/api/v1/workflows",
            {
                "ref": f"{pack}.flow",
                "pack_ref": pack,
                "label": "Flow",
                "version": "1.0.0",
                "definition": {"tasks": []},
            },
        ),
        (
            "/api/v1/keys",
            {
                "ref": f"{pack}.token",
                "name": "token",
                "value": "v",
                "owner_type": "pack",
                "owner_pack_ref": pack,
            },
        ),
    ]
    for path, body in created:
        response = await admin.post(path, json=body)
        assert response.status_code == 201, (path, response.text)
    started = await admin.post("/api/v1/executions/execute", json={"action_ref": f"{pack}.hello"})
    execution = await wait_for_status(admin, started.json()["data"]["id"])
    return {"pack": pack, "execution": execution["id"]}


@pytest.fixture(scope="module")
async def packs(admin: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    mine = await _populate(admin, await make_pack(admin, unique("mine")))
    theirs = await _populate(admin, await make_pack(admin, unique("theirs")))
    return mine, theirs


@pytest.fixture(scope="module")
async def scoped(
    server: Running, packs: tuple[dict[str, Any], dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose only role reads (and runs) pack ``mine``'s resources."""
    pack = packs[0]["pack"]
    grants: list[dict[str, Any]] = [
        {"resource": r, "operations": ["read"], "pack": pack} for r in SCOPED_RESOURCES
    ]
    grants += [
        {"resource": "action", "operations": ["execute"], "pack": pack},
        {"resource": "execution", "operations": ["create", "execute"], "pack": pack},
    ]
    ref = unique("scoped.reader")
    async with server.ctx.store.transaction() as uow:
        await uow.permission_sets.create(PermissionSet(ref=ref, label="Scoped", grants=grants))
    user = (unique("scoped") + "@test.local", "ScopedPass123!")
    await create_identity(server.ctx.store, user[0], user[1], roles=[ref])
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        tokens = await login(client, *user)
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield client


def _pack_of(item: dict[str, Any], field: str) -> str:
    return str(item[field]).split(".", 1)[0] if field == "action_ref" else str(item[field])


@pytest.mark.parametrize(("path", "field"), LISTS)
async def test_lists_hold_only_the_granted_packs_rows(
    scoped: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    packs: tuple[dict[str, Any], dict[str, Any]],
    path: str,
    field: str,
) -> None:
    mine, theirs = packs[0]["pack"], packs[1]["pack"]
    response = await scoped.get(path, params={"page_size": 100})
    assert response.status_code == 200, response.text
    seen = {_pack_of(item, field) for item in response.json()["items"]}
    assert seen == {mine}
    # The administrator sees the other pack's rows in the same list.
    everything = (await admin.get(path, params={"page_size": 100})).json()["items"]
    assert theirs in {_pack_of(item, field) for item in everything}


async def test_filtering_on_another_pack_gives_an_empty_list(
    scoped: httpx.AsyncClient, packs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    theirs = packs[1]["pack"]
    for path in ("/api/v1/actions", "/api/v1/rules", "/api/v1/workflows"):
        response = await scoped.get(path, params={"pack_ref": theirs})
        assert response.status_code == 200
        assert response.json()["items"] == [], path
    executions = await scoped.get("/api/v1/executions", params={"pack_name": theirs})
    assert executions.json()["items"] == []


async def test_details_of_the_granted_pack_are_readable_and_others_forbidden(
    scoped: httpx.AsyncClient, packs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    def details(p: dict[str, Any]) -> list[str]:
        pack = p["pack"]
        return [
            f"/api/v1/packs/{pack}",
            f"/api/v1/actions/{pack}.hello",
            f"/api/v1/triggers/{pack}.hook",
            f"/api/v1/sensors/{pack}.watch",
            f"/api/v1/rules/{pack}.on_hook",
            f"/api/v1/workflows/{pack}.flow",
            f"/api/v1/keys/{pack}.token",
            f"/api/v1/executions/{p['execution']}",
            f"/api/v1/executions/{p['execution']}/logs/stdout",
        ]

    mine, theirs = packs
    for path in details(mine):
        assert (await scoped.get(path)).status_code == 200, path
    for path in details(theirs):
        assert (await scoped.get(path)).status_code == 403, path


async def test_running_is_limited_to_the_granted_pack(
    scoped: httpx.AsyncClient, packs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mine, theirs = packs
    ok = await scoped.post(
        "/api/v1/executions/execute", json={"action_ref": f"{mine['pack']}.hello"}
    )
    assert ok.status_code == 201, ok.text
    refused = await scoped.post(
        "/api/v1/executions/execute", json={"action_ref": f"{theirs['pack']}.hello"}
    )
    assert refused.status_code == 403
    rerun = await scoped.post(f"/api/v1/executions/{theirs['execution']}/rerun")
    assert rerun.status_code == 403
    # Writing is not granted at all, even in the granted pack.
    created = await scoped.post(
        "/api/v1/keys",
        json={"ref": f"{mine['pack']}.other", "name": "other", "value": 1, "owner_type": "pack",
              "owner_pack_ref": mine["pack"]},
    )  # fmt: skip
    assert created.status_code == 403
