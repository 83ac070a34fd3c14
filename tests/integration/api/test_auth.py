"""Health, authentication, tokens, and the error envelope, over HTTP."""

from __future__ import annotations

import httpx
import pytest

from attune_core.security import TokenKind
from attune_services.run import Running
from tests.integration.api.conftest import ADMIN, login, unique

pytestmark = pytest.mark.anyio


async def test_health_endpoints(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/health")).json() == {"status": "ok"}
    detailed = (await anon.get("/health/detailed")).json()
    assert detailed["status"] == "ok" and detailed["database"] == "connected"
    assert detailed["version"]
    assert (await anon.get("/health/ready")).status_code == 200
    assert (await anon.get("/health/live")).status_code == 200


async def test_login_refresh_me(anon: httpx.AsyncClient) -> None:
    tokens = await login(anon, *ADMIN)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["user"]["login"] == ADMIN[0]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await anon.get("/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["data"]["login"] == ADMIN[0]
    assert "core.admin" in me.json()["data"]["roles"]
    assert "password_hash" not in me.json()["data"]

    refreshed = await anon.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["data"]["access_token"]
    # an access token is not a refresh token, and a refresh token does not authenticate
    wrong = await anon.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "UNAUTHORIZED"
    as_bearer = await anon.get(
        "/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert as_bearer.status_code == 401


async def test_bad_credentials_look_the_same(anon: httpx.AsyncClient) -> None:
    unknown = await anon.post("/auth/login", json={"login": "nobody@x", "password": "whatever1"})
    wrong = await anon.post("/auth/login", json={"login": ADMIN[0], "password": "wrongpass1"})
    assert unknown.status_code == wrong.status_code == 401
    assert (
        unknown.json()
        == wrong.json()
        == {
            "error": "invalid login or password",
            "code": "UNAUTHORIZED",
        }
    )


async def test_login_rate_limit(anon: httpx.AsyncClient) -> None:
    name = unique("victim")
    statuses = [
        (await anon.post("/auth/login", json={"login": name, "password": "badpass12"})).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


async def test_register_and_change_password(anon: httpx.AsyncClient) -> None:
    name = unique("user") + "@example.com"
    created = await anon.post("/auth/register", json={"login": name, "password": "Password1!"})
    assert created.status_code == 200
    token = created.json()["data"]["access_token"]
    duplicate = await anon.post("/auth/register", json={"login": name, "password": "Password1!"})
    assert duplicate.status_code == 409
    short = await anon.post("/auth/register", json={"login": "ab", "password": "Password1!"})
    assert short.status_code == 422
    weak = await anon.post("/auth/register", json={"login": unique("u"), "password": "short"})
    assert weak.status_code == 422
    assert weak.json()["code"] == "VALIDATION_ERROR"

    headers = {"Authorization": f"Bearer {token}"}
    bad = await anon.post(
        "/auth/change-password",
        json={"current_password": "nope-nope", "new_password": "NewPassword2!"},
        headers=headers,
    )
    assert bad.status_code == 401
    ok = await anon.post(
        "/auth/change-password",
        json={"current_password": "Password1!", "new_password": "NewPassword2!"},
        headers=headers,
    )
    assert ok.status_code == 200
    await login(anon, name, "NewPassword2!")
    updated = await anon.put("/auth/me", json={"display_name": "Renamed"}, headers=headers)
    assert updated.json()["data"]["display_name"] == "Renamed"
    # a self-registered identity has no role: it may not read packs
    forbidden = await anon.get("/api/v1/packs", headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "FORBIDDEN"


async def test_expired_and_garbage_tokens(server: Running, anon: httpx.AsyncClient) -> None:
    expired = server.ctx.tokens.issue(1, ADMIN[0], TokenKind.ACCESS, ttl=0)
    response = await anon.get("/api/v1/packs", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json() == {"error": "token expired", "code": "UNAUTHORIZED"}
    garbage = await anon.get("/api/v1/packs", headers={"Authorization": "Bearer x.y.z"})
    assert garbage.status_code == 401
    missing = await anon.get("/api/v1/packs")
    assert missing.status_code == 401
    assert set(missing.json()) == {"error", "code"}


async def test_error_envelopes(admin: httpx.AsyncClient, server: Running) -> None:
    unknown_route = await admin.get("/api/v1/nothing-here")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["code"] == "NOT_FOUND"
    bad_json = await admin.post(
        "/api/v1/packs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["code"] == "BAD_REQUEST"
    assert bad_json.headers["X-Request-ID"]
    too_big = await admin.post(
        "/api/v1/packs",
        content=b"x" * (server.ctx.settings.server.request_body_limit + 1),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "PAYLOAD_TOO_LARGE"
    wrong_type = await admin.post("/api/v1/packs", json={"ref": 5, "label": "x", "version": "1"})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["details"][0]["field"] == "ref"


async def test_sensor_token_limits(admin: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    response = await admin.post("/auth/sensor-token", json={"trigger_types": ["core.webhook"]})
    assert response.status_code == 200
    token = response.json()["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anon.get("/api/v1/triggers", headers=headers)).status_code == 200
    assert (await anon.get("/api/v1/packs", headers=headers)).status_code == 403


async def test_openapi_and_docs(anon: httpx.AsyncClient) -> None:
    spec = (await anon.get("/api-spec/openapi.json")).json()
    assert spec["openapi"].startswith("3.0")
    assert "/api/v1/executions/execute" in spec["paths"]
    assert "/auth/login" in spec["paths"]
    assert "Execution" in spec["components"]["schemas"]
    docs = await anon.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert "http" not in docs.text.split("<body>")[1].split("url:")[0]  # no CDN
    assert (await anon.get("/docs/static/swagger-ui-bundle.js")).status_code == 200
