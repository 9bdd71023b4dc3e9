"""Protect the IIN at rest: a keyed hash for look-ups, AES-GCM for the value."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


def _key(setting: str, purpose: bytes) -> bytes:
    secret = current_app.config[setting].encode()
    return hashlib.sha256(purpose + b"\0" + secret).digest()


def iin_lookup_hash(iin: str) -> str:
    """Return the keyed hash (HMAC-SHA256, hex) used to find a candidate by IIN."""
    return hmac.new(_key("IIN_HASH_KEY", b"iin-lookup"), iin.encode(), hashlib.sha256).hexdigest()


def encrypt_iin(iin: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key("IIN_ENCRYPTION_KEY", b"iin-encryption")).encrypt(
        nonce, iin.encode(), b"iin"
    )
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_iin(token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return (
        AESGCM(_key("IIN_ENCRYPTION_KEY", b"iin-encryption"))
        .decrypt(raw[:12], raw[12:], b"iin")
        .decode()
    )
