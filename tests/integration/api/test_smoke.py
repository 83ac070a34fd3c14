from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_health(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/health")
    assert response.json() == {"status": "ok"}
