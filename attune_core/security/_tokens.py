"""JWT access, refresh, sensor and execution tokens (HS256, pyjwt).

Rules of this file:

1. Claims are the contract's: ``sub`` (identity id, as a string), ``login``, ``iat``, ``exp``,
   ``token_type`` (access | refresh | sensor | execution), ``scope`` and ``metadata``
   (execution tokens carry ``execution_id``; sensor tokens their trigger refs).
2. :meth:`TokenService.decode` accepts a token only of the kinds its caller names, so a
   refresh token never authenticates a request and an access token never refreshes.
3. Time comes from the caller's clock (``now``), so tests can expire tokens without sleeping.
4. A token whose signature was checked once is remembered (:data:`VERIFIED_CACHE_SIZE`
   tokens): a client sends the same token with every request, and the HS256 check plus the
   JSON parsing are most of the CPU of authenticating one. Expiry and kind are checked on
   every use; the memory is dropped when the secret changes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import attrs
import jwt

from attune_core.errors import AttuneError

__all__ = ["TokenClaims", "TokenError", "TokenKind", "TokenPair", "TokenService"]

ALGORITHM = "HS256"
# An execution token outlives its action's timeout by this much, so the action's last API
# calls (writing a key, an artifact) still authenticate.
EXECUTION_TOKEN_MARGIN = 300
# Tokens remembered as verified: a few per active client; the oldest is forgotten first.
VERIFIED_CACHE_SIZE = 4096


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
    # token -> its claims (signature checked) and the secret that checked it
    _verified: dict[str, tuple[str, TokenClaims]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

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
        known = self._verified.get(token)
        if known is not None and known[0] == self.secret:
            claims = known[1]
        else:
            claims = self._verify(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (self.secret, claims)
        if claims.expires_at <= self.now().timestamp():
            raise TokenError("token expired")
        if claims.kind not in kinds:
            raise TokenError(f"a {claims.kind.value} token cannot be used here")
        return claims

    def _verify(self, token: str) -> TokenClaims:
        """The claims of a token signed with our secret (expiry and kind not checked)."""
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
        metadata = claims.get("metadata")
        return TokenClaims(
            identity_id=identity_id,
            login=str(claims.get("login", "")),
            kind=kind,
            scope=str(claims.get("scope", kind.value)),
            issued_at=int(claims["iat"]),
            expires_at=expires,
            metadata=MappingProxyType(metadata if isinstance(metadata, dict) else {}),
        )

    def _ttl(self, kind: TokenKind) -> int:
        if kind is TokenKind.REFRESH:
            return self.refresh_ttl
        if kind is TokenKind.SENSOR:
            return self.sensor_ttl
        return self.access_ttl
