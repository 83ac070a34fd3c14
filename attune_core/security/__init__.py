"""Security primitives: passwords (Argon2id), tokens (JWT), RBAC decisions, the secret box.

Everything here is pure (no web framework, no database): the API asks these modules and acts.
"""

from attune_core.security._passwords import dummy_verify, hash_password, verify_password
from attune_core.security._rbac import (
    BUILTIN_PERMISSION_SETS,
    Operation,
    Resource,
    Subject,
    is_allowed,
    merge_grants,
    pack_scope,
    validate_grants,
)
from attune_core.security._secretbox import SecretBox, SecretBoxError
from attune_core.security._tokens import (
    TokenClaims,
    TokenError,
    TokenKind,
    TokenPair,
    TokenService,
)

__all__ = [
    "BUILTIN_PERMISSION_SETS",
    "Operation",
    "Resource",
    "SecretBox",
    "SecretBoxError",
    "Subject",
    "TokenClaims",
    "TokenError",
    "TokenKind",
    "TokenPair",
    "TokenService",
    "dummy_verify",
    "hash_password",
    "is_allowed",
    "merge_grants",
    "pack_scope",
    "validate_grants",
    "verify_password",
]
