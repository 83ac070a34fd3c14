"""Attune's embeddable engine.

Importing this package does nothing but define names: engines, tasks and connections are made
by the composition root (:class:`attune_core.app.Attune`), never at import time.
"""

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

__version__ = "0.1.0"

__all__ = [
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
