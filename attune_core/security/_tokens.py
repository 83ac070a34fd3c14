"""JWT access, refresh, sensor and execution tokens (HS256, pyjwt).

Rules of this file:

1. Claims are the contract's: ``sub`` (identity id, as a string), ``login``, ``iat``, ``exp``,
   ``token_type`` (access | refresh | sensor | execution), ``scope`` and ``metadata``
   (execution tokens carry ``execution_id``; sensor tokens their trigger refs).
2. :meth:`TokenService.decode` accepts a token only of the kinds its caller names, so a
   refresh token never authenticates a request and an access token never refreshes.
3. Time comes from the caller's clock (``now``), so tests can expire tokens without sleeping.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import jwt

from attune_core.errors import AttuneError

__all__ = ["TokenClaims", "TokenError", "TokenKind", "TokenPair", "TokenService"]

ALGORITHM = "HS256"
# An execution token outlives its action's timeout by this much, so the action's last API
# calls (writing a key, an artifact) still authenticate.
EXECUTION_TOKEN_MARGIN = 300


class TokenKind(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    SENSOR = "sensor"
    EXECUTION = "execution"


class TokenError(AttuneError):
    """A token is missing, malformed, expired, or of the wrong kind (HTTP 401)."""

    code = "UNAUTHORIZED"


@attrs.frozen(kw_only=True)
class TokenClaims:
    """The decoded claims of a valid token."""

    identity_id: int
    login: str
    kind: TokenKind
    scope: str
    issued_at: int
    expires_at: int
    metadata: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.define
class TokenService:
    """Issues and checks tokens signed with ``secret``."""

    secret: str
    access_ttl: int = 3600
    refresh_ttl: int = 7 * 24 * 3600
    sensor_ttl: int = 24 * 3600
    now: Callable[[], datetime] = _utcnow

    def issue(
        self,
        identity_id: int,
        login: str,
        kind: TokenKind,
        *,
        ttl: int | None = None,
        scope: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token of ``kind`` for the identity."""
        lifetime = ttl if ttl is not None else self._ttl(kind)
        issued = int(self.now().timestamp())
        claims = {
            "sub": str(identity_id),
            "login": login,
            "iat": issued,
            "exp": issued + lifetime,
            "token_type": kind.value,
            "scope": scope or kind.value,
            "metadata": dict(metadata or {}),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def pair(self, identity_id: int, login: str) -> TokenPair:
        """A fresh access + refresh token pair (login, register, refresh)."""
        return TokenPair(
            access_token=self.issue(identity_id, login, TokenKind.ACCESS),
            refresh_token=self.issue(identity_id, login, TokenKind.REFRESH),
            expires_in=self.access_ttl,
        )

    def execution_token(self, identity_id: int, login: str, execution_id: int, timeout: int) -> str:
        """The token an action gets as ``ATTUNE_API_TOKEN``."""
        return self.issue(
            identity_id,
            login,
            TokenKind.EXECUTION,
            ttl=timeout + EXECUTION_TOKEN_MARGIN,
            metadata={"execution_id": execution_id},
        )

    def decode(self, token: str, kinds: Collection[TokenKind]) -> TokenClaims:
        """Check signature, expiry and kind; :class:`TokenError` when anything is wrong."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False, "require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError("invalid token") from exc
        try:
            kind = TokenKind(str(claims.get("token_type")))
            expires = int(claims["exp"])
            identity_id = int(claims["sub"])
        except (ValueError, TypeError) as exc:
            raise TokenError("invalid token") from exc
        if expires <= self.now().timestamp():
            raise TokenError("token expired")
        if kind not in kinds:
            raise TokenError(f"a {kind.value} token cannot be used here")
        metadata = claims.get("metadata")
        return TokenClaims(
            identity_id=identity_id,
            login=str(claims.get("login", "")),
            kind=kind,
            scope=str(claims.get("scope", kind.value)),
            issued_at=int(claims["iat"]),
            expires_at=expires,
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    def _ttl(self, kind: TokenKind) -> int:
        if kind is TokenKind.REFRESH:
            return self.refresh_ttl
        if kind is TokenKind.SENSOR:
            return self.sensor_ttl
        return self.access_ttl
