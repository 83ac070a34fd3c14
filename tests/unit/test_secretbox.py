import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune_core.security import SecretBox, SecretBoxError

KEY = "k" * 32


@pytest.mark.parametrize("value", ["s3cret", 42, {"user": "a", "pw": [1, 2]}, None, True])
def test_round_trip_keeps_the_json_type(value: object) -> None:
    box = SecretBox(KEY)
    sealed = box.seal(value)
    assert box.open(sealed) == value
    assert sealed != box.seal(value)  # a fresh nonce each time


def test_wire_format_is_base64_nonce_ciphertext_tag_under_sha256_key() -> None:
    sealed = SecretBox(KEY).seal("hello")
    raw = base64.b64decode(sealed)
    aead = AESGCM(hashlib.sha256(KEY.encode()).digest())
    assert aead.decrypt(raw[:12], raw[12:], None) == b'"hello"'
    assert len(raw) == 12 + len(b'"hello"') + 16


def test_wrong_key_or_garbage_is_a_clear_error() -> None:
    sealed = SecretBox(KEY).seal("x")
    with pytest.raises(SecretBoxError, match="encryption_key"):
        SecretBox("o" * 32).open(sealed)
    with pytest.raises(SecretBoxError):
        SecretBox(KEY).open("not base64!")
