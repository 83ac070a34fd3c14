"""The example pack of docs/testing-packs.md passes its own tests through the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "packs" / "release"


def test_release_pack_tests_pass_with_the_attune_plugin(tmp_path: Path) -> None:
    # Run it the way a pack author does: pytest in the pack directory, the plugin coming from
    # the installed entry point, no configuration of ours.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
