"""Password hashing with Argon2id (``cryptography``'s KDF), in a PHC-like string format.

Rules of this file:

1. A stored hash reads ``$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt b64>$<hash b64>``,
   so the parameters travel with the hash and can be raised later without breaking old ones.
2. Verification compares in constant time, and :func:`dummy_verify` costs the same as a real
   check, so a login for an unknown user takes as long as a wrong password.
"""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

__all__ = ["dummy_verify", "hash_password", "verify_password"]

# OWASP's minimum recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane (~50 ms here).
MEMORY_KIB = 19 * 1024
ITERATIONS = 2
LANES = 1
SALT_BYTES = 16
HASH_BYTES = 32


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, memory: int, iterations: int, lanes: int) -> bytes:
    kdf = Argon2id(
        salt=salt, length=HASH_BYTES, iterations=iterations, lanes=lanes, memory_cost=memory
    )
    return kdf.derive(password.encode())


def hash_password(password: str) -> str:
    """Hash ``password`` with a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    digest = _derive(password, salt, MEMORY_KIB, ITERATIONS, LANES)
    return f"$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; ``False`` for a missing or malformed hash."""
    if not stored:
        dummy_verify(password)
        return False
    try:
        _, algorithm, _version, params, salt_text, hash_text = stored.split("$")
        if algorithm != "argon2id":
            return False
        values = dict(item.split("=", 1) for item in params.split(","))
        expected = _unb64(hash_text)
        actual = _derive(
            password, _unb64(salt_text), int(values["m"]), int(values["t"]), int(values["p"])
        )
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(expected, actual)


_DUMMY_SALT = b"attune-dummy-slt"


def dummy_verify(password: str) -> None:
    """Spend the time of one verification (for unknown logins)."""
    _derive(password, _DUMMY_SALT, MEMORY_KIB, ITERATIONS, LANES)
