"""Tokens: a token verified once is remembered, yet expiry, kind and secret hold every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attune_core.security import TokenError, TokenKind, TokenService
from attune_core.security._tokens import VERIFIED_CACHE_SIZE


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current


def test_a_remembered_token_still_expires() -> None:
    clock = Clock()
    tokens = TokenService(secret="s" * 32, access_ttl=60, now=clock)
    token = tokens.issue(7, "ann", TokenKind.ACCESS)
    assert tokens.decode(token, [TokenKind.ACCESS]).identity_id == 7
    assert tokens.decode(token, [TokenKind.ACCESS]).login == "ann"
    clock.current += timedelta(seconds=61)
    with pytest.raises(TokenError, match="expired"):
        tokens.decode(token, [TokenKind.ACCESS])


def test_a_remembered_token_keeps_its_kind() -> None:
    tokens = TokenService(secret="s" * 32)
    refresh = tokens.issue(7, "ann", TokenKind.REFRESH)
    assert tokens.decode(refresh, [TokenKind.REFRESH]).kind is TokenKind.REFRESH
    with pytest.raises(TokenError, match="refresh token cannot be used here"):
        tokens.decode(refresh, [TokenKind.ACCESS])


def test_a_new_secret_rejects_tokens_verified_with_the_old_one() -> None:
    tokens = TokenService(secret="old" * 11)
    token = tokens.issue(7, "ann", TokenKind.ACCESS)
    tokens.decode(token, [TokenKind.ACCESS])
    tokens.secret = "new" * 11
    with pytest.raises(TokenError, match="invalid token"):
        tokens.decode(token, [TokenKind.ACCESS])


def test_tampered_tokens_are_never_remembered_as_valid() -> None:
    tokens = TokenService(secret="s" * 32)
    token = tokens.issue(7, "ann", TokenKind.ACCESS)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(TokenError, match="invalid token"):
            tokens.decode(tampered, [TokenKind.ACCESS])


def test_claims_metadata_cannot_be_changed_by_one_request_for_the_next() -> None:
    tokens = TokenService(secret="s" * 32)
    token = tokens.execution_token(7, "ann", execution_id=42, timeout=60)
    claims = tokens.decode(token, [TokenKind.EXECUTION])
    assert claims.metadata == {"execution_id": 42}
    with pytest.raises(TypeError):
        claims.metadata["execution_id"] = 1  # type: ignore[index]


def test_the_memory_of_verified_tokens_is_bounded() -> None:
    tokens = TokenService(secret="s" * 32)
    first = tokens.issue(0, "u0", TokenKind.ACCESS)
    tokens.decode(first, [TokenKind.ACCESS])
    for n in range(1, VERIFIED_CACHE_SIZE + 10):
        tokens.decode(tokens.issue(n, f"u{n}", TokenKind.ACCESS), [TokenKind.ACCESS])
    assert len(tokens._verified) == VERIFIED_CACHE_SIZE
    assert first not in tokens._verified
    assert tokens.decode(first, [TokenKind.ACCESS]).identity_id == 0  # verified again
