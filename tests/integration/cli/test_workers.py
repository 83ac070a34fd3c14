"""``attune worker`` and ``attune runtime`` against a running server (``attune up``)."""

from __future__ import annotations

import json

import pytest

from tests.integration.cli.conftest import Invoke

pytestmark = pytest.mark.integration


def _workers(attune: Invoke) -> list[dict[str, object]]:
    return json.loads(attune("worker", "list", "-j").stdout)


def test_a_worker_is_listed_shown_cordoned_and_uncordoned_by_name_or_id(
    logged_in: Invoke,
) -> None:
    listed = _workers(logged_in)
    assert listed, "attune up runs a worker"
    worker = listed[0]
    name, worker_id = str(worker["name"]), int(worker["id"])  # type: ignore[call-overload]
    table = logged_in("worker", "list", "--status", "active").stdout
    assert name in table and "any" in table  # its runtimes: any (``*``)
    assert json.loads(logged_in("worker", "show", name, "-j").stdout)["id"] == worker_id
    shown = json.loads(logged_in("worker", "show", str(worker_id), "-j").stdout)
    assert (shown["name"], shown["status"]) == (name, "active")
    try:
        cordoned = logged_in("worker", "cordon", name)
        assert f"worker {name} cordoned" in cordoned.stderr
        assert [w["cordoned"] for w in _workers(logged_in) if w["id"] == worker_id] == [True]
    finally:
        logged_in("worker", "uncordon", str(worker_id))
    assert [w["cordoned"] for w in _workers(logged_in) if w["id"] == worker_id] == [False]
    inactive = json.loads(logged_in("worker", "list", "--status", "inactive", "-j").stdout)
    assert worker_id not in [w["id"] for w in inactive]


def test_an_unknown_worker_is_a_clear_not_found(logged_in: Invoke) -> None:
    by_name = logged_in("worker", "cordon", "no-such-worker", ok=False)
    assert by_name.exit_code == 4
    assert "worker 'no-such-worker' not found" in by_name.stderr
    by_id = logged_in("worker", "show", "987654", ok=False)
    assert by_id.exit_code == 4
    assert "worker 987654 not found" in by_id.stderr


def test_runtimes_are_listed_with_their_versions(logged_in: Invoke) -> None:
    table = logged_in("runtime", "list").stdout
    for ref in ("core.shell", "core.python", "core.nodejs", "core.native"):
        assert ref in table
    python = json.loads(logged_in("runtime", "show", "core.python", "-j").stdout)
    assert python["execution_config"]["interpreter"]["binary"].startswith("python")
    assert {"3.11", "3.12", "3.13"} <= {v["version"] for v in python["versions"]}
    missing = logged_in("runtime", "show", "core.cobol", ok=False)
    assert missing.exit_code == 4


def test_executions_are_listed_by_the_worker_they_ran_on(
    logged_in: Invoke, installed_pack: str
) -> None:
    ran = json.loads(logged_in("run", "clidemo.greet", "name=Wo", "-j").stdout)
    worker = next(w for w in _workers(logged_in) if w["id"] == ran["worker"])
    listed = logged_in(
        "execution", "list", "--worker", str(worker["name"]), "--action", "clidemo.greet", "-j"
    )
    assert ran["id"] in [e["id"] for e in json.loads(listed.stdout)]
    unknown = logged_in("execution", "list", "--worker", "no-such-worker", ok=False)
    assert unknown.exit_code == 4
    assert "worker 'no-such-worker' not found" in unknown.stderr
