"""Attune's embeddable engine.

Importing this package does nothing but define names: engines, tasks and connections are made
by the composition root (:class:`attune_core.app.Attune`), never at import time.
"""

from typing import TYPE_CHECKING, Any

from attune_core.errors import (
    AttuneError,
    BadRequest,
    ConfigError,
    Conflict,
    NotFound,
    PackError,
    StorageError,
    ValidationError,
)

if TYPE_CHECKING:
    from attune_core.app import Attune

__version__ = "0.1.0"

__all__ = [
    "Attune",
    "AttuneError",
    "BadRequest",
    "ConfigError",
    "Conflict",
    "NotFound",
    "PackError",
    "StorageError",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # The engine (SQLAlchemy, the executor, ...) loads on first use of `attune_core.Attune`,
    # so `import attune_core` stays cheap for the CLI and for tools reading __version__.
    if name == "Attune":
        from attune_core.app import Attune

        return Attune
    raise AttributeError(f"module 'attune_core' has no attribute {name!r}")
