"""Tests of the release pack, run with the Attune pytest plugin (fixture ``attune_env``)."""

import pytest

from attune_core.model import ExecutionStatus

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_build_runs_for_real(attune_env):
    execution = await attune_env.run("release.build", {"version": "1.2.0"})

    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.result["data"] == {"artifact": "release-1.2.0.tar.gz", "version": "1.2.0"}


async def test_ship_deploys_the_built_artifact_and_announces_it(attune_env):
    deploy = attune_env.mock_action("release.deploy", {"data": {"url": "https://stg/1.2.0"}})

    execution = await attune_env.run("release.ship", {"version": "1.2.0"})

    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.result == {"artifact": "release-1.2.0.tar.gz", "url": "https://stg/1.2.0"}
    assert deploy.calls == [
        {
            "artifact": "release-1.2.0.tar.gz",
            "environment": "staging",
            "api_url": "https://deploy.example.com",
        }
    ]
    tasks = await attune_env.children(execution)
    assert [(t.task, t.status) for t in tasks] == [
        ("build", ExecutionStatus.COMPLETED),
        ("deploy", ExecutionStatus.COMPLETED),
        ("announce", ExecutionStatus.COMPLETED),
    ]
    assert tasks[-1].result["stdout"] == "Released 1.2.0 at https://stg/1.2.0\n"


async def test_a_deploy_that_keeps_failing_is_retried_then_rolled_back(attune_env):
    attune_env.mock_action(
        "release.deploy", {"error": "503 from the deployment API"}, status="failed"
    )

    execution = await attune_env.execute("release.ship", {"version": "1.2.0"})
    # Retries wait 10 s, then 20 s (exponential backoff) on the fake clock.
    for seconds in (10, 20):
        await attune_env.advance(seconds)
    execution = await attune_env.wait(execution)

    assert execution.status == ExecutionStatus.FAILED
    tasks = await attune_env.children(execution)
    assert [(t.task, t.retry_count) for t in tasks] == [
        ("build", 0),
        ("deploy", 0),
        ("deploy", 1),
        ("deploy", 2),
        ("rollback", 0),
    ]


async def test_production_deploys_use_the_production_environment(attune_env):
    seen = []

    def deploy(parameters):
        seen.append(parameters["environment"])
        return {"url": f"https://{parameters['environment']}/x"}

    attune_env.mock_action("release.deploy", deploy)

    execution = await attune_env.run(
        "release.ship", {"version": "2.0.0", "environment": "production"}
    )

    assert execution.result["url"] == "https://production/x"
    assert seen == ["production"]
