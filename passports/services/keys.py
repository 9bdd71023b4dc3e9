"""The issuer's ES256 keys: generate, rotate, publish as a JWK Set, decrypt one to sign.

One key is active at a time and signs every new passport; rotating makes a new key active
and retires the old one, which stays in the JWK Set so what it signed keeps verifying.
Private keys are stored sealed (AES-GCM) under a key derived from ``KEY_ENCRYPTION_SECRET``;
they never leave this module in clear and are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from passports.models import SigningKey
from passports.services import SigningKeyError
from passports.settings import PassportSettings
from passports.token import key_id, new_signing_key, public_jwk, public_key_from_jwk


@dataclass(frozen=True)
class Signer:
    """The active key, decrypted, ready to sign."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey


def _key_encryption_key(settings: PassportSettings) -> bytes:
    secret = settings.key_encryption_secret.encode()
    return hashlib.sha256(b"passport-signing-key\0" + secret).digest()


def seal_private_key(
    settings: PassportSettings, private_key: ec.EllipticCurvePrivateKey, kid: str
) -> str:
    """Return the private key as PKCS#8 PEM sealed with AES-GCM (kid as associated data)."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    sealed = AESGCM(_key_encryption_key(settings)).encrypt(nonce, pem, kid.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_private_key(
    settings: PassportSettings, sealed: str, kid: str
) -> ec.EllipticCurvePrivateKey:
    """Decrypt a sealed private key; a wrong secret or altered data raises SigningKeyError."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        pem = AESGCM(_key_encryption_key(settings)).decrypt(raw[:12], raw[12:], kid.encode())
    except (InvalidTag, ValueError) as exc:
        raise SigningKeyError("key_undecryptable", kid=kid) from exc
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningKeyError("key_not_ec", kid=kid)
    return key


def all_keys(session: Session) -> list[SigningKey]:
    """Every key, oldest first."""
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))


def active_key(session: Session, *, lock: bool = False) -> SigningKey | None:
    query = select(SigningKey).where(SigningKey.active.is_(True))
    if lock:
        query = query.with_for_update()
    return session.scalars(query.order_by(SigningKey.id.desc())).first()


def _activate(session: Session, key: SigningKey) -> SigningKey | None:
    """Make ``key`` the signing key; retire and return the one it replaces."""
    previous = active_key(session, lock=True)
    now = utcnow()
    if previous is not None and previous.id != key.id:
        previous.active = False
        previous.retired_at = now
    key.active = True
    key.activated_at = now
    key.retired_at = None
    session.flush()
    return previous if previous is not None and previous.id != key.id else None


def generate_key(
    session: Session, settings: PassportSettings, *, activate: bool | None = None
) -> SigningKey:
    """Create a new P-256 key and publish it.

    Rule: it becomes the signing key when ``activate`` is true, or when it is None and no key
    is active yet; otherwise it is published (in the JWK Set) but does not sign, so verifiers'
    caches learn it before a later rotation uses it.
    """
    private_key = new_signing_key()
    kid = key_id(private_key)
    key = SigningKey(
        kid=kid,
        public_jwk=public_jwk(private_key.public_key(), kid),
        private_key_encrypted=seal_private_key(settings, private_key, kid),
        active=False,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()
    if activate or (activate is None and active_key(session) is None):
        _activate(session, key)
    return key


def rotate_key(
    session: Session, settings: PassportSettings
) -> tuple[SigningKey, SigningKey | None]:
    """Make a new key the signing key; return it and the retired one (None if there was none)."""
    key = generate_key(session, settings, activate=False)
    return key, _activate(session, key)


def ensure_key(session: Session, settings: PassportSettings) -> tuple[SigningKey, bool]:
    """Return the signing key, creating one when there is none; True when it was created."""
    key = active_key(session)
    if key is not None:
        return key, False
    return generate_key(session, settings, activate=True), True


def signer(session: Session, settings: PassportSettings) -> Signer:
    """Decrypt the active key for signing; SigningKeyError when there is none."""
    key = active_key(session, lock=True)
    if key is None:
        raise SigningKeyError("no_key")
    return Signer(key.kid, open_private_key(settings, key.private_key_encrypted, key.kid))


def jwks(session: Session) -> dict:
    """The JWK Set of every key, public parts only, newest first."""
    keys = sorted(all_keys(session), key=lambda k: (k.created_at, k.id), reverse=True)
    return {"keys": [dict(k.public_jwk) for k in keys]}


def public_keys(
    session: Session, settings: PassportSettings | None = None
) -> dict[str, ec.EllipticCurvePublicKey]:
    """Every verification key by kid, read from the database now (refreshing the cache of
    ``settings`` when given)."""
    loaded = {k.kid: public_key_from_jwk(k.public_jwk) for k in all_keys(session)}
    if settings is not None:
        settings.key_cache.clear()
        settings.key_cache.update(loaded)
    return loaded


def cached_public_keys(
    session: Session, settings: PassportSettings, kid: str | None = None
) -> dict[str, ec.EllipticCurvePublicKey]:
    """The verification keys from a per-process cache (the verify API's hot path).

    Keys never change once created: the cache is reloaded from the database when it is
    empty or ``kid`` is not in it (a key created by another app instance).
    """
    cache = settings.key_cache
    if not cache or (kid is not None and kid not in cache):
        return public_keys(session, settings)
    return cache


def clear_cache(settings: PassportSettings) -> None:
    """Forget the cached verification keys (tests, and after restoring a database)."""
    settings.key_cache.clear()
