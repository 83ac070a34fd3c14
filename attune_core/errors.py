"""The one exception root of attune_core.

Rule: every error the engine raises on purpose derives from :class:`AttuneError`. The API maps
these classes to HTTP statuses in exactly one place; the CLI maps them to exit codes. Driver
exceptions (SQLAlchemy, asyncpg, aiosqlite) never escape the storage layer: they are translated
into :class:`Conflict`, :class:`NotFound` or :class:`ValidationError` there.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AttuneError",
    "BadRequest",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PackError",
    "StorageError",
    "TooManyRequests",
    "Unauthorized",
    "ValidationError",
]


class AttuneError(Exception):
    """Root of every error raised deliberately by Attune."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ValidationError(AttuneError):
    """Input that breaks a rule of the data model (bad field value, bad reference format)."""

    code = "VALIDATION_ERROR"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.field = field


class BadRequest(AttuneError):
    """The request is well-formed but not allowed in the current state (e.g. regenerate a
    webhook key while webhooks are disabled)."""

    code = "BAD_REQUEST"


class NotFound(AttuneError):
    """The entity asked for does not exist."""

    code = "NOT_FOUND"


class Unauthorized(AttuneError):
    """The caller did not prove who it is (a missing or wrong signature or token)."""

    code = "UNAUTHORIZED"


class Forbidden(AttuneError):
    """The caller is known but not allowed to do this (RBAC, an IP allow-list, an inquiry
    assigned to someone else)."""

    code = "FORBIDDEN"


class TooManyRequests(AttuneError):
    """A rate limit was exceeded; try again later."""

    code = "TOO_MANY_REQUESTS"


class Conflict(AttuneError):
    """The change collides with existing data (a unique ref, a referenced row)."""

    code = "CONFLICT"


class StorageError(AttuneError):
    """The database could not be reached or answered in a way no caller can act on."""

    code = "INTERNAL_SERVER_ERROR"


class ConfigError(AttuneError):
    """A setting is missing, unknown or invalid. The message names the key and its source."""

    code = "BAD_REQUEST"


class PackError(AttuneError):
    """A pack file is invalid. Carries the file and, when known, the 1-based line."""

    code = "VALIDATION_ERROR"

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, details: Any = None
    ) -> None:
        location = path or ""
        if path and line:
            location = f"{path}:{line}"
        super().__init__(f"{location}: {message}" if location else message, details=details)
        self.path = path
        self.line = line
        self.reason = message
