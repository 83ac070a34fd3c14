"""AES-256-GCM encryption of stored secrets (keys with ``encrypted: true``).

Wire format (api-contract.md "Keys"): the AES key is SHA-256 of the configured
``ENCRYPTION_KEY``; a stored value is base64(nonce(12) || ciphertext || tag(16)). Values are
JSON: ``seal`` encrypts the JSON text of any JSON value, ``open`` gives it back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune_core.errors import AttuneError

__all__ = ["SecretBox", "SecretBoxError"]

NONCE_BYTES = 12  # the GCM standard nonce size; random per value


class SecretBoxError(AttuneError):
    """A stored secret cannot be decrypted (wrong ENCRYPTION_KEY or corrupted value)."""


class SecretBox:
    """Encrypts and decrypts key values with the installation's encryption key."""

    def __init__(self, encryption_key: str) -> None:
        digest = hashlib.sha256(encryption_key.encode()).digest()
        self._aead = AESGCM(digest)
        # Identifies which key sealed a value (stored in key.encryption_key_hash).
        self.key_hash = hashlib.sha256(digest).hexdigest()

    def seal(self, value: Any) -> str:
        """Encrypt the JSON value ``value``."""
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, None)).decode()

    def open(self, stored: str) -> Any:
        """Decrypt a value made by :meth:`seal`; :class:`SecretBoxError` if it cannot be."""
        try:
            raw = base64.b64decode(stored, validate=True)
            plaintext = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
            return json.loads(plaintext)
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise SecretBoxError(
                "cannot decrypt a stored secret: wrong security.encryption_key or a corrupted value"
            ) from exc
