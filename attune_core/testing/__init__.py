"""Testing utilities for Attune users and pack authors: fakes that honour the ports' contracts
(:class:`FakeClock`, :class:`MockingRunner`), isolated resources (:func:`temporary_store`) and
the pack author's test environment (:class:`AttuneTestEnvironment`). The pytest plugin's
``attune_*`` fixtures wrap these.

Names are imported on first use, so loading the pytest plugin (which every pytest run in an
environment with Attune does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune_core.clock import FakeClock
    from attune_core.testing._database import temporary_store
    from attune_core.testing._kit import (
        ActionMock,
        AttuneTestEnvironment,
        MockingRunner,
        TaskRun,
    )

__all__ = [
    "ActionMock",
    "AttuneTestEnvironment",
    "FakeClock",
    "MockingRunner",
    "TaskRun",
    "temporary_store",
]

_HOMES = {
    "FakeClock": "attune_core.clock",
    "temporary_store": "attune_core.testing._database",
    "ActionMock": "attune_core.testing._kit",
    "AttuneTestEnvironment": "attune_core.testing._kit",
    "MockingRunner": "attune_core.testing._kit",
    "TaskRun": "attune_core.testing._kit",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'attune_core.testing' has no attribute {name!r}")
