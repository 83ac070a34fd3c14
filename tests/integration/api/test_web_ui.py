"""The API serves the built web UI at ``/``: its files, index.html for client-side routes (so a
shared URL or a reload works), long caching for content-hashed assets, and nothing of it on the
API's own paths. ``make test`` builds the UI (``make web``) before the tests run."""

from __future__ import annotations

import httpx
import pytest

from attune_core.resources import web_dir

pytestmark = pytest.mark.anyio


def _built() -> None:
    assert web_dir() is not None, "the web UI is not built: run `make web` (needs Node.js)"


async def test_root_and_client_routes_serve_the_app(anon: httpx.AsyncClient) -> None:
    _built()
    for path in ("/", "/executions", "/executions/42", "/actions/workflows/new", "/login?next=/"):
        response = await anon.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<div id="root">' in response.text, path
        assert response.headers["cache-control"] == "no-cache"


async def test_assets_are_served_with_long_caching(anon: httpx.AsyncClient) -> None:
    _built()
    index = (await anon.get("/")).text
    start = index.index("/assets/")
    asset = index[start : index.index('"', start)]
    response = await anon.get(asset)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert (await anon.get("/assets/no-such-file.js")).status_code == 404


async def test_api_paths_keep_their_own_errors(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert (await anon.get("/auth/login")).status_code == 405
    assert (await anon.get("/health")).json()["status"]
    assert (await anon.get("/api-spec/openapi.json")).json()["openapi"].startswith("3.")
