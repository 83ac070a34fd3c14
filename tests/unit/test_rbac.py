"""RBAC decisions: pack-scoped grants and the packs a list may show."""

from __future__ import annotations

from attune_core.security import Subject, TokenKind, is_allowed, pack_scope


def _subject(*grants: dict[str, object], **kw: object) -> Subject:
    return Subject(identity_id=1, grants=list(grants), **kw)  # type: ignore[arg-type]


def test_a_pack_scoped_grant_allows_its_pack_only_and_scopes_lists() -> None:
    subject = _subject(
        {"resource": "action", "operations": ["read"], "pack": "a"},
        {"resource": "action", "operations": ["read"], "pack": "b"},
    )
    assert is_allowed(subject, "action", "read", "a")
    assert not is_allowed(subject, "action", "read", "c")
    assert is_allowed(subject, "action", "read")  # a list: let in, then filtered
    assert pack_scope(subject, "action", "read") == {"a", "b"}
    assert pack_scope(subject, "action", "delete") == frozenset()
    assert pack_scope(subject, "rule", "read") == frozenset()


def test_an_unscoped_grant_means_every_pack() -> None:
    subject = _subject(
        {"resource": "action", "operations": ["read"], "pack": "a"},
        {"resource": "*", "operations": ["*"]},
    )
    assert pack_scope(subject, "action", "read") is None
    assert (
        pack_scope(
            _subject({"resource": "rule", "operations": ["read"], "pack": "*"}), "rule", "read"
        )
        is None
    )


def test_frozen_identities_and_limited_tokens_see_nothing() -> None:
    grant = {"resource": "*", "operations": ["*"]}
    assert pack_scope(_subject(grant, frozen=True), "action", "read") == frozenset()
    sensor = _subject(grant, token_kind=TokenKind.SENSOR)
    assert pack_scope(sensor, "action", "read") == frozenset()
    assert pack_scope(sensor, "trigger", "read") is None
