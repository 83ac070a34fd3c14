"""POST /api/v1/rules/validate: the rule form's live check of conditions and timer params."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def _check(client: httpx.AsyncClient, body: dict[str, object]) -> dict[str, object]:
    response = await client.post("/api/v1/rules/validate", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_valid_conditions_and_params(admin: httpx.AsyncClient) -> None:
    for conditions in (None, {}, [], {"expression": "{{ event.payload.n > 2 }}"}):
        assert await _check(admin, {"conditions": conditions}) == {
            "valid": True,
            "error": None,
            "details": None,
        }
    criteria = [{"field": "payload.status", "operator": "equals", "value": "down"}]
    assert (await _check(admin, {"conditions": criteria}))["valid"] is True
    timer = {
        "trigger_ref": "core.intervaltimer",
        "trigger_params": {"unit": "seconds", "interval": 5},
    }
    assert (await _check(admin, timer))["valid"] is True


async def test_invalid_conditions_and_params_name_the_problem(admin: httpx.AsyncClient) -> None:
    bad_expr = await _check(admin, {"conditions": {"expression": "payload.n >"}})
    assert bad_expr["valid"] is False and "conditions.expression" in str(bad_expr["error"])
    bad_op = await _check(admin, {"conditions": [{"field": "x", "operator": "nope", "value": 1}]})
    assert bad_op["valid"] is False and "unknown operator 'nope'" in str(bad_op["error"])
    bad_timer = await _check(
        admin, {"trigger_ref": "core.intervaltimer", "trigger_params": {"unit": "weeks"}}
    )
    assert bad_timer["valid"] is False and bad_timer["error"]
