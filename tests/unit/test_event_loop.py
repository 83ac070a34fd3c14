"""Which services run on uvloop: never one that starts actions or sensors (their stdin would
be a socket, and `/dev/stdin` cannot be opened on one)."""

from __future__ import annotations

import pytest

from attune_services.run import event_loop_options


@pytest.mark.parametrize("service", ["worker", "sensor"])
def test_services_that_start_processes_keep_asyncios_loop(service: str) -> None:
    assert event_loop_options(service) == {"use_uvloop": False}


def test_the_api_runs_on_uvloop() -> None:
    assert event_loop_options("api") == {"use_uvloop": True}
