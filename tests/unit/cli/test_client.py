"""The HTTP client against an in-process fake server (httpx.MockTransport: the HTTP edge)."""

from __future__ import annotations

import json

import httpx
import pytest

from attune_cli.client import EXIT_AUTH, EXIT_NOT_FOUND, EXIT_UNREACHABLE, ApiClient, ApiError


class FakeApi:
    """Answers like the API: a token that expires, a refresh endpoint, error envelopes."""

    def __init__(self) -> None:
        self.valid = {"new-access"}
        self.requests: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        self.requests.append((request.method, request.url.path, auth))
        if request.url.path == "/auth/refresh":
            body = json.loads(request.content)
            if body["refresh_token"] != "good-refresh":
                return httpx.Response(
                    401, json={"error": "invalid refresh token", "code": "UNAUTHORIZED"}
                )
            return httpx.Response(
                200, json={"data": {"access_token": "new-access", "refresh_token": "next-refresh"}}
            )
        if auth not in {f"Bearer {t}" for t in self.valid}:
            return httpx.Response(401, json={"error": "token expired", "code": "UNAUTHORIZED"})
        if request.url.path == "/api/v1/packs":
            return httpx.Response(
                200, json={"items": [{"ref": "core"}], "pagination": {"page": 1, "has_next": False}}
            )
        if request.url.path == "/api/v1/packs/broken":
            return httpx.Response(
                422,
                json={
                    "error": "invalid pack",
                    "code": "VALIDATION_ERROR",
                    "details": [{"path": "pack.yaml", "line": 3, "message": "ref is required"}],
                },
            )
        return httpx.Response(404, json={"error": "pack 'x' not found", "code": "NOT_FOUND"})


def client(api: FakeApi, **kwargs: object) -> ApiClient:
    return ApiClient("http://api", transport=httpx.MockTransport(api), **kwargs)  # type: ignore[arg-type]


def test_an_expired_token_is_refreshed_once_and_the_request_repeated() -> None:
    api = FakeApi()
    saved: list[tuple[str, str | None]] = []
    c = client(
        api,
        access_token="old",
        refresh_token="good-refresh",
        on_tokens=lambda a, r: saved.append((a, r)),
    )
    page = c.page("/api/v1/packs")
    assert page.items == [{"ref": "core"}]
    assert saved == [("new-access", "next-refresh")]
    assert [r[1] for r in api.requests] == ["/api/v1/packs", "/auth/refresh", "/api/v1/packs"]


def test_a_failed_refresh_asks_to_log_in_again() -> None:
    c = client(FakeApi(), access_token="old", refresh_token="stale")
    with pytest.raises(ApiError, match="run 'attune auth login'") as caught:
        c.get("/api/v1/packs")
    assert caught.value.exit_code == EXIT_AUTH


def test_error_envelopes_keep_the_api_message_code_and_details() -> None:
    c = client(FakeApi(), access_token="new-access")
    with pytest.raises(ApiError) as caught:
        c.get("/api/v1/packs/x")
    assert (caught.value.message, caught.value.code) == ("pack 'x' not found", "NOT_FOUND")
    assert caught.value.exit_code == EXIT_NOT_FOUND
    with pytest.raises(ApiError, match=r"pack.yaml \(line 3\): ref is required") as caught:
        c.get("/api/v1/packs/broken")
    assert caught.value.to_dict()["code"] == "VALIDATION_ERROR"


def test_an_unreachable_server_is_an_error_not_a_traceback() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    c = ApiClient("http://api", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiError, match="cannot reach the API at http://api") as caught:
        c.get("/health")
    assert caught.value.exit_code == EXIT_UNREACHABLE


def test_an_idempotent_request_is_sent_again_once_when_the_connection_drops() -> None:
    api = FakeApi()
    dropped: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        if len(dropped) < 2:  # the first request of each method: the server drops it
            method = request.method
            if method not in dropped:
                dropped.append(method)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return api(request)

    c = ApiClient("http://api", access_token="new-access", transport=httpx.MockTransport(flaky))
    assert c.page("/api/v1/packs").items == [{"ref": "core"}]
    assert [r[:2] for r in api.requests] == [("GET", "/api/v1/packs")]
    # Not one that may have changed something already: the error is the user's to judge.
    with pytest.raises(ApiError) as caught:
        c.post("/api/v1/packs", json={"ref": "x"})
    assert caught.value.exit_code == EXIT_UNREACHABLE
    assert "Server disconnected" in str(caught.value)
    assert [r[:2] for r in api.requests] == [("GET", "/api/v1/packs")]
