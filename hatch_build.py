"""Wheel build hook: ship the built web UI (``web/dist``) as ``attune_core/_data/web``.

The UI is built by ``make web`` (Node.js); an editable install never needs it, and a wheel built
without it still works (the API then says how to build the UI), so its absence only warns.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class WebUiBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        dist = Path(self.root) / "web" / "dist"
        if (dist / "index.html").is_file():
            build_data["force_include"][str(dist)] = "attune_core/_data/web"
        else:
            sys.stderr.write("warning: web/dist is not built (make web); the wheel has no web UI\n")
