"""Test-suite wide rules.

- Ambient ``ATTUNE_*`` variables are scrubbed at session start so a developer's shell cannot
  change what the tests see (``ATTUNE_TEST_*`` switches are kept: they configure the harness).
- Async tests run on anyio's asyncio backend (modules set ``pytestmark = pytest.mark.anyio``).
- A test that needs PostgreSQL or RabbitMQ asks for it through :func:`require_service`: it is
  skipped locally when the service is down, and fails in CI (``ATTUNE_TEST_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import os
import socket

import pytest
from hypothesis import settings

# Property tests explore the same examples on every run (`make test` and CI must not flake on a
# newly found case); set ATTUNE_TEST_HYPOTHESIS=explore to search new ground while developing.
settings.register_profile("attune", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(
    "explore" if os.environ.get("ATTUNE_TEST_HYPOTHESIS") == "explore" else "attune"
)

REQUIRE_SERVICES = os.environ.get("ATTUNE_TEST_REQUIRE_SERVICES", "") not in ("", "0")

POSTGRES_URL = os.environ.get(
    "ATTUNE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_URL = os.environ.get("ATTUNE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def pytest_configure(config: pytest.Config) -> None:
    for name in list(os.environ):
        if name.startswith("ATTUNE") and not name.startswith("ATTUNE_TEST_"):
            del os.environ[name]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI) the calling test when ``name`` is unreachable."""
    if _reachable(host, port):
        return
    message = f"{name} is unreachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and ATTUNE_TEST_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
