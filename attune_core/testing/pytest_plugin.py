"""pytest plugin for pack authors (registered through the ``pytest11`` entry point).

Fixtures (async tests run under anyio: mark them ``@pytest.mark.anyio``):

- ``attune_pack_dir``: the pack under test. Default: the nearest directory above the test file
  that holds a ``pack.yaml``, or ``None``. Override it in your ``conftest.py`` to choose.
- ``attune_env``: an :class:`~attune_core.testing.AttuneTestEnvironment`: embedded Attune on a
  temporary SQLite database with the core pack and the pack under test registered, a fake
  clock, and ``mock_action()``.
- ``attune_clock``: the environment's :class:`~attune_core.clock.FakeClock`.

Importing this module stays cheap: Attune itself is imported when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from attune_core.clock import FakeClock
    from attune_core.testing._kit import AttuneTestEnvironment


@pytest.fixture
def attune_pack_dir(request: pytest.FixtureRequest) -> Path | None:
    """The pack under test: the nearest ancestor of the test file holding ``pack.yaml``."""
    for directory in Path(str(request.path)).resolve().parents:
        if (directory / "pack.yaml").is_file():
            return directory
    return None


@pytest.fixture
async def attune_env(
    attune_pack_dir: Path | None, tmp_path: Path
) -> AsyncIterator[AttuneTestEnvironment]:
    """An embedded Attune with the pack under test registered (see the module docstring)."""
    from attune_core.testing._kit import AttuneTestEnvironment

    packs = [attune_pack_dir] if attune_pack_dir is not None else []
    async with AttuneTestEnvironment.start(packs=packs, data_dir=tmp_path / "attune") as env:
        yield env


@pytest.fixture
def attune_clock(attune_env: AttuneTestEnvironment) -> FakeClock:
    """The fake clock of ``attune_env`` (``await attune_clock.advance(seconds)``)."""
    return attune_env.clock
