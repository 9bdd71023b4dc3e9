"""Per-passport secrets: the verification code, the graduate's private link, the share slug.

The code and the private link are derived, with HMAC-SHA256 under keys derived from
``KEY_ENCRYPTION_SECRET``, from random nonces stored with the passport. So the PDF can be
printed again at any time (the code is re-derived), an administrator regenerates a link by
drawing a new nonce, and a database dump alone reveals neither: the database keeps only
keyed hashes of them for look-ups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from passports.numbers import code_from_bytes, format_code
from passports.settings import PassportSettings


def _key(settings: PassportSettings, purpose: bytes) -> bytes:
    secret = settings.key_encryption_secret.encode()
    return hashlib.sha256(b"passport-" + purpose + b"\0" + secret).digest()


def _mac(settings: PassportSettings, purpose: bytes, message: str) -> bytes:
    return hmac.new(_key(settings, purpose), message.encode("utf-8"), hashlib.sha256).digest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def new_share_slug() -> str:
    """A public, unguessable slug for the share page (80 bits, lower-case base32)."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def verification_code(settings: PassportSettings, number: str, nonce: str) -> str:
    """Return the passport's 8-character verification code (unformatted)."""
    return code_from_bytes(_mac(settings, b"code", f"{number}:{nonce}"))


def printed_code(settings: PassportSettings, number: str, nonce: str) -> str:
    """The code as printed: ``ABCD-EFGH``."""
    return format_code(verification_code(settings, number, nonce))


def code_hash(settings: PassportSettings, number: str, code: str) -> str:
    """Keyed hash of a normalised code, bound to the passport number."""
    return _mac(settings, b"code-hash", f"{number}:{code}").hex()


def code_matches(settings: PassportSettings, number: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(settings, number, code), stored_hash)


def link_token(settings: PassportSettings, nonce: str) -> str:
    """The secret in the graduate's private link (128 bits, base64url)."""
    mac = _mac(settings, b"link", nonce)
    return base64.urlsafe_b64encode(mac[:16]).decode("ascii").rstrip("=")


def link_hash(token: str) -> str:
    """What the database keeps to find a passport by its private link."""
    return hashlib.sha256(b"passport-link\0" + token.encode("ascii", "replace")).hexdigest()
