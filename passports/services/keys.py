"""The issuer's signing keys: generate, rotate, publish as a JWK Set, decrypt one to sign.

Two kinds of key, told apart by ``alg``: ES256 (P-256) keys sign passport tokens and status
lists; RS256 (RSA 2048) keys sign the Open Badges credentials. One key of each kind is active
at a time; rotating makes a new key of that kind active and retires the old one, which stays
in the JWK Set so what it signed keeps verifying. Everything that verifies passport tokens
reads only the ES256 keys (``all_keys``' default).

Per issuer: the deployment's default ES256 key signs every new passport, except those of a
competence centre that holds its own active ES256 key. In development every new key joins
the development trust list at once (services/trust_lists.py); in production the trust
anchor must add it to the list before it may sign.
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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from assessments.models import Centre
from passports import jws
from passports.models import KEY_ALGORITHMS, SigningKey
from passports.services import SigningKeyError, trust_lists
from passports.settings import PassportSettings
from passports.token import key_id, new_signing_key, public_jwk, public_key_from_jwk

ES256 = "ES256"
RS256 = "RS256"
ALGORITHMS = (ES256, RS256)
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Signer:
    """The active key, decrypted, ready to sign."""

    kid: str
    private_key: PrivateKey


def _key_encryption_key(settings: PassportSettings) -> bytes:
    secret = settings.key_encryption_secret.encode()
    return hashlib.sha256(b"passport-signing-key\0" + secret).digest()


def seal_private_key(settings: PassportSettings, private_key: PrivateKey, kid: str) -> str:
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
    settings: PassportSettings, sealed: str, kid: str, alg: str = ES256
) -> PrivateKey:
    """Decrypt a sealed private key of algorithm ``alg``.

    A wrong secret, altered data or a key of another type raises SigningKeyError.
    """
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        pem = AESGCM(_key_encryption_key(settings)).decrypt(raw[:12], raw[12:], kid.encode())
    except (InvalidTag, ValueError) as exc:
        raise SigningKeyError("key_undecryptable", kid=kid) from exc
    key = serialization.load_pem_private_key(pem, password=None)
    expected = rsa.RSAPrivateKey if alg == RS256 else ec.EllipticCurvePrivateKey
    if not isinstance(key, expected):
        raise SigningKeyError("key_wrong_type", kid=kid, alg=alg)
    return key


def all_keys(session: Session, alg: str | None = ES256) -> list[SigningKey]:
    """Every key of algorithm ``alg`` (None: of every algorithm), oldest first.

    The default is the ES256 keys: the ones passport tokens and status lists verify with.
    """
    query = select(SigningKey)
    if alg is not None:
        query = query.where(SigningKey.alg == alg)
    return list(session.scalars(query.order_by(SigningKey.created_at, SigningKey.id)))


def active_key(
    session: Session, alg: str = ES256, *, lock: bool = False, centre_id: int | None = None
) -> SigningKey | None:
    """The key of algorithm ``alg`` that signs now for a centre (``centre_id``) or, without
    one, the deployment's default key; or None."""
    query = select(SigningKey).where(
        SigningKey.active.is_(True),
        SigningKey.alg == alg,
        SigningKey.centre_id.is_(None) if centre_id is None else SigningKey.centre_id == centre_id,
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query.order_by(SigningKey.id.desc())).first()


def _activate(session: Session, key: SigningKey) -> SigningKey | None:
    """Make ``key`` the signing key of its algorithm and issuer; retire and return the one it
    replaces."""
    previous = active_key(session, key.alg, lock=True, centre_id=key.centre_id)
    now = utcnow()
    if previous is not None and previous.id != key.id:
        previous.active = False
        previous.retired_at = now
    key.active = True
    key.activated_at = now
    key.retired_at = None
    session.flush()
    return previous if previous is not None and previous.id != key.id else None


def _new_key(alg: str) -> tuple[PrivateKey, str, dict]:
    if alg == RS256:
        rsa_key = jws.new_rsa_key()
        kid = jws.rsa_key_id(rsa_key)
        return rsa_key, kid, jws.rsa_public_jwk(rsa_key.public_key(), kid)
    ec_key = new_signing_key()
    kid = key_id(ec_key)
    return ec_key, kid, public_jwk(ec_key.public_key(), kid)


def generate_key(
    session: Session,
    settings: PassportSettings,
    *,
    activate: bool | None = None,
    alg: str = ES256,
    centre: Centre | None = None,
) -> SigningKey:
    """Create a new key of algorithm ``alg`` (ES256: P-256; RS256: RSA 2048) and publish it.

    Rule: it becomes the signing key of its algorithm (and of ``centre`` when given, else
    the deployment's default) when ``activate`` is true, or when it is None and no such key
    is active yet; otherwise it is published (in the JWK Set) but does not sign, so
    verifiers' caches learn it before a later rotation uses it. A centre's key signs as
    issuer ``<ISSUER_ID>-<centre code>``.
    """
    if alg not in KEY_ALGORITHMS:
        raise ValueError(f"unknown key algorithm {alg!r}")
    private_key, kid, jwk = _new_key(alg)
    key = SigningKey(
        kid=kid,
        kty=KEY_ALGORITHMS[alg],
        alg=alg,
        public_jwk=jwk,
        private_key_encrypted=seal_private_key(settings, private_key, kid),
        active=False,
        created_at=utcnow(),
        issuer_id=issuer_for(settings, centre),
        centre_id=centre.id if centre is not None else None,
    )
    session.add(key)
    session.flush()
    if activate or (activate is None and active_key(session, alg, centre_id=key.centre_id) is None):
        _activate(session, key)
    trust_lists.enrol_development_keys(session, settings)
    return key


def issuer_for(settings: PassportSettings, centre: Centre | None) -> str:
    """The trust-list issuer id of a new key: the deployment's, or its centre's."""
    if centre is None:
        return settings.issuer_id
    return f"{settings.issuer_id}-{centre.code.lower()}"


def rotate_key(
    session: Session, settings: PassportSettings, alg: str = ES256, *, centre: Centre | None = None
) -> tuple[SigningKey, SigningKey | None]:
    """Make a new key the signing key of ``alg`` (of ``centre``, else the deployment's
    default); return it and the retired one (or None)."""
    # the key it replaces, read (and locked) first: then one activation and one enrolment
    # in the development list, after it (not a list with both keys active, then another)
    centre_id = centre.id if centre is not None else None
    previous = active_key(session, alg, lock=True, centre_id=centre_id)
    key = generate_key(session, settings, activate=True, alg=alg, centre=centre)
    return key, previous


def activate_key(
    session: Session, settings: PassportSettings, kid: str
) -> tuple[SigningKey, SigningKey | None]:
    """Make the published key ``kid`` the signing key of its algorithm and issuer; return it
    and the one it retires (None if there was none). SigningKeyError for an unknown kid."""
    key = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if key is None:
        raise SigningKeyError("unknown_key", kid=kid)
    previous = _activate(session, key)
    trust_lists.enrol_development_keys(session, settings)
    return key, previous


def ensure_key(
    session: Session, settings: PassportSettings, alg: str = ES256
) -> tuple[SigningKey, bool]:
    """Return the signing key of ``alg``, creating one when there is none; True when created.

    In development it also makes sure every key is in a fresh development trust list.
    """
    key = active_key(session, alg)
    if key is not None:
        trust_lists.enrol_development_keys(session, settings)
        return key, False
    return generate_key(session, settings, activate=True, alg=alg), True


def signer(
    session: Session, settings: PassportSettings, alg: str = ES256, centre_id: int | None = None
) -> Signer:
    """Decrypt the active key of ``alg`` that signs for a centre: its own, else the
    deployment's default; SigningKeyError when there is none."""
    key = None
    if centre_id is not None:
        key = active_key(session, alg, lock=True, centre_id=centre_id)
    if key is None:
        key = active_key(session, alg, lock=True)
    if key is None:
        raise SigningKeyError("no_key")
    return Signer(key.kid, open_private_key(settings, key.private_key_encrypted, key.kid, alg))


def jwks(session: Session, alg: str | None = None) -> dict:
    """The JWK Set of every key of algorithm ``alg`` (None: of every algorithm), public parts
    only, newest first.

    Each JWK carries its ``alg`` (ES256 or RS256) and ``use`` "sig", so a verifier picks
    the keys of the algorithm it checks.
    """
    keys = sorted(all_keys(session, alg), key=lambda k: (k.created_at, k.id), reverse=True)
    return {"keys": [dict(k.public_jwk) for k in keys]}


def public_jwk_of(session: Session, kid: str) -> dict | None:
    """The public JWK of the key ``kid`` (any algorithm), or None."""
    key = session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()
    return dict(key.public_jwk) if key is not None else None


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
    """Forget the cached verification keys and the status lists they signed (tests, and
    after restoring a database)."""
    settings.key_cache.clear()
    settings.list_cache.clear()
