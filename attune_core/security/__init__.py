"""Security primitives: the secret box (AES-256-GCM) for stored keys."""

from attune_core.security._secretbox import SecretBox, SecretBoxError

__all__ = ["SecretBox", "SecretBoxError"]
