"""The deployment's trust list: install, read (cached), judge keys, the development list.

The list itself (format, signature, the rules of a key entry) is ``passports/trust.py``;
this module keeps the installed lists in the database (``trust_lists``: the newest row is
current), parses the current one once per process and list, and answers for issuing and
the server's verification whether a key may sign a passport.

The parsed list is cached per process (``PassportSettings.trust_cache``) under the current
row's id and seq. Installing in this process replaces the cache at once; another process
(a second gunicorn worker, ``flask trust install`` on the command line) is noticed within
``RECHECK_SECONDS``, the only database read this costs the verify path.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from assessments.models import Centre
from passports import trust
from passports.models import SigningKey, TrustList
from passports.moments import from_numeric_date, iso_z_or_none
from passports.services import PassportError, keys  # keys imports this module too
from passports.settings import PassportSettings

RECHECK_SECONDS = 5.0
WARN_BEFORE = timedelta(days=7)
DEVELOPMENT_VALIDITY = timedelta(days=365)
DEVELOPMENT_ANCHOR_ID = "development"

# why a passport is untrusted (judge_key's reason codes), in words for the CLI's detail
# (pages and the API show passports/messages.py TRUST_REASONS, translated)
UNTRUSTED_DETAIL = trust.REASONS
# why the best a signature can get is "unchecked"
UNCHECKED_DETAIL = {
    "missing": "no trust list is installed, so the key's permission is not checked",
    "unreadable": "the installed trust list is not signed by the configured trust anchor",
    "no-anchor": "no trust anchor is configured, so the trust list cannot be checked",
    "expired": "the trust list has expired",
}


@dataclass(frozen=True)
class Trust:
    """The current trust list of this deployment, parsed, or why there is none usable.

    ``problem`` is None with a list, else a key of ``UNCHECKED_DETAIL`` ("expired" is
    decided at the moment of use, not here).
    """

    trust_list: trust.TrustList | None
    problem: str | None = None
    row_id: int | None = None
    jws: str = ""  # the installed text, served as is ("" when none is installed)
    etag: str = ""  # a strong validator of ``jws`` (unquoted)


# --- the anchor ----------------------------------------------------------------------


def anchor_jwk(settings: PassportSettings) -> dict | None:
    """The configured anchor's public JWK (cached per setting value); None when unreadable
    (not cached: the development anchor's file may be created a moment later)."""
    cache = settings.trust_cache
    value = settings.trust_anchor
    if cache.get("anchor_value") != value or cache.get("anchor") is None:
        try:
            cache["anchor"] = trust.load_anchor_jwk(value) if value else None
        except (trust.TrustListError, OSError, ValueError):
            cache["anchor"] = None
        cache["anchor_value"] = value
    return cache["anchor"]


# --- installed lists -----------------------------------------------------------------


def current_row(session: Session) -> TrustList | None:
    """The installed trust list (the newest row), or None."""
    return session.scalars(select(TrustList).order_by(TrustList.id.desc()).limit(1)).first()


def install(
    session: Session,
    settings: PassportSettings,
    jws: str,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> TrustList:
    """Check a signed trust list against the anchor and make it the current list.

    Rule: the list must be signed by the configured anchor (``format`` 1), not expired, and
    newer (higher ``seq``) than the installed one; ``force`` installs an older or equal
    ``seq`` or an expired list (going back to an earlier list on purpose). A production
    deployment refuses a development list. Raises PassportError; nothing changes then.
    """
    anchor = anchor_jwk(settings)
    if anchor is None:
        raise PassportError("trust_anchor_missing")
    try:
        parsed = trust.read_trust_list(jws.strip(), anchor)
    except trust.TrustListError as exc:
        raise PassportError("trust_list_invalid", reason=str(exc)) from exc
    if parsed.development and settings.production:
        raise PassportError("trust_list_development")
    moment = now or utcnow()
    if parsed.expired(int(moment.timestamp())) and not force:
        raise PassportError(
            "trust_list_expired", expires=from_numeric_date(parsed.expires_at).isoformat()
        )
    installed = current_row(session)
    if installed is not None and parsed.seq <= installed.seq and not force:
        raise PassportError("trust_list_not_newer", seq=parsed.seq, installed=installed.seq)
    row = TrustList(
        seq=parsed.seq,
        jws=jws.strip(),
        development=parsed.development,
        installed_at=moment,
        issued_at=from_numeric_date(parsed.issued_at),
        expires_at=from_numeric_date(parsed.expires_at),
    )
    session.add(row)
    session.flush()
    _remember(settings, _trust(parsed, None, row.id, row.jws), row.id, row.seq)
    return row


def _trust(listed: trust.TrustList | None, problem: str | None, row_id: int, jws: str) -> Trust:
    digest = hashlib.sha256(jws.encode("utf-8")).hexdigest()[:32]
    return Trust(listed, problem, row_id, jws, digest)


def _remember(settings: PassportSettings, value: Trust, row_id: int | None, seq: int | None):
    cache = settings.trust_cache
    cache["trust"] = value
    cache["key"] = (row_id, seq)
    cache["checked"] = time.monotonic()


def clear_cache(settings: PassportSettings) -> None:
    """Forget the parsed trust list (tests; after restoring a database); the anchors stay."""
    for name in ("trust", "key", "checked"):
        settings.trust_cache.pop(name, None)


def current(session: Session, settings: PassportSettings) -> Trust:
    """The current trust list, parsed once per installed list (the verify API's hot path).

    Rule: the newest row is read again at most every ``RECHECK_SECONDS`` per process, and
    parsed only when its id or seq differs from the cached one.
    """
    cache = settings.trust_cache
    cached: Trust | None = cache.get("trust")
    if cached is not None and time.monotonic() - cache.get("checked", 0.0) < RECHECK_SECONDS:
        return cached
    head = session.execute(
        select(TrustList.id, TrustList.seq).order_by(TrustList.id.desc()).limit(1)
    ).first()
    key = (head.id, head.seq) if head is not None else (None, None)
    if cached is not None and cache.get("key") == key:
        cache["checked"] = time.monotonic()
        return cached
    _remember(settings, _parse(session, settings, head), *key)
    return cache["trust"]


def _parse(session: Session, settings: PassportSettings, head: Any) -> Trust:
    if head is None:
        return Trust(None, "missing")
    jws = session.scalar(select(TrustList.jws).where(TrustList.id == head.id)) or ""
    anchor = anchor_jwk(settings)
    if anchor is None:
        return _trust(None, "no-anchor", head.id, jws)
    try:
        return _trust(trust.read_trust_list(jws, anchor), None, head.id, jws)
    except trust.TrustListError:
        return _trust(None, "unreadable", head.id, jws)


def judge(
    value: Trust, kid: str, *, number: str, competence_code: str, issued_at: int, at: int
) -> tuple[str | None, str]:
    """What the trust list allows a passport's signature: ``(cap, detail)``.

    Rule (spec in docs/trust-list.md): ``("untrusted", reason)`` when the list does not
    allow the key to sign this passport (a key of ``UNTRUSTED_DETAIL``);
    ``("unchecked", reason)`` when there is no usable list (none installed, not signed by
    the anchor, or expired at ``at``: a key of ``UNCHECKED_DETAIL``), so the best verdict is
    unchecked; ``(None, "")`` when the key is trusted.
    """
    if value.trust_list is None:
        return "unchecked", value.problem or "missing"
    listed = value.trust_list
    reason = trust.judge_key(
        listed, kid, number=number, competence_code=competence_code, issued_at=issued_at
    )
    if reason is not None:
        return "untrusted", reason
    if listed.expired(at):
        return "unchecked", "expired"
    return None, ""


def describe(reason: str) -> str:
    """The reason of an untrusted or unchecked verdict in words (English, for the CLI)."""
    return UNTRUSTED_DETAIL.get(reason) or UNCHECKED_DETAIL.get(reason) or reason


# issuance: why a key may not sign, by judge_key's reason (and retirement)
_ISSUE_REFUSALS = {
    "unknown-key": "key_not_in_trust_list",
    "out-of-scope": "key_out_of_scope",
    "outside-validity": "key_outside_validity",
    "compromised": "key_compromised",
}


def check_signer(
    session: Session, settings: PassportSettings, kid: str, competence_code: str, at: int
) -> None:
    """Refuse (PassportError) to sign a passport of ``competence_code`` with ``kid`` now.

    Rule: the installed trust list must list the key as ``active`` (a retired key signs
    nothing new, a compromised one nothing at all), its competences must cover the code and
    ``at`` must lie inside its validity.
    """
    value = current(session, settings)
    if value.trust_list is None:
        missing = value.problem in (None, "missing")
        raise PassportError("no_trust_list" if missing else "trust_list_unusable", kid=kid)
    reason = trust.judge_key(
        value.trust_list, kid, number="", competence_code=competence_code, issued_at=at
    )
    if reason is not None:
        raise PassportError(
            _ISSUE_REFUSALS.get(reason, "key_not_in_trust_list"),
            kid=kid,
            competence=competence_code,
        )
    if value.trust_list.keys[kid].status != "active":  # judge_key found it listed
        raise PassportError("key_retired", kid=kid)


@dataclass(frozen=True)
class ListStatus:
    """What ``flask trust status`` and ``/readyz`` say about the installed list."""

    installed: bool
    seq: int | None = None
    development: bool = False
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    installed_at: datetime | None = None
    state: str = "missing"  # "ok" | "expiring" | "expired" | "missing"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "seq": self.seq,
            "development": self.development,
            "issued_at": iso_z_or_none(self.issued_at),
            "expires_at": iso_z_or_none(self.expires_at),
            "installed_at": iso_z_or_none(self.installed_at),
        }


def list_status(session: Session, now: datetime | None = None) -> ListStatus:
    """The installed list's seq and dates and whether it is expired or expires within 7 days.

    Reads the stored columns only (no signature check): cheap enough for every probe.
    """
    row = session.execute(
        select(
            TrustList.seq,
            TrustList.development,
            TrustList.issued_at,
            TrustList.expires_at,
            TrustList.installed_at,
        )
        .order_by(TrustList.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return ListStatus(False)
    moment = now or utcnow()
    if moment >= row.expires_at:
        state = "expired"
    elif moment >= row.expires_at - WARN_BEFORE:
        state = "expiring"
    else:
        state = "ok"
    return ListStatus(
        True, row.seq, row.development, row.issued_at, row.expires_at, row.installed_at, state
    )


def warning(listed: ListStatus, *, production: bool) -> str | None:
    """What an operator must do about the installed list, or None (``/readyz``, status)."""
    if not listed.installed:
        return "no trust list is installed: passports verify as unchecked and none can be issued"
    if listed.development and production:
        return "a development trust list is installed on a production deployment"
    if listed.state == "expired":
        return "the trust list has expired: passports verify as unchecked; install a new one"
    if listed.state == "expiring":
        return "the trust list expires within 7 days: install the next one"
    return None


# --- development ---------------------------------------------------------------------


def ensure_development_anchor(path: Path) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    """Load the development anchor at ``path``, creating it when missing; True when created.

    Files (``trust.write_anchor_key``): ``path`` (PKCS#8 PEM encrypted with the passphrase
    kept in ``<stem>.pass``) and ``path.pub.jwk`` (the public JWK, ``"development": true``,
    which production refuses).
    """
    passphrase_file = path.with_suffix(".pass")
    try:
        if path.exists() and passphrase_file.exists():
            passphrase = passphrase_file.read_text(encoding="utf-8").strip().encode()
            return trust.load_anchor_key(path, passphrase), False
        path.parent.mkdir(parents=True, exist_ok=True)
        passphrase = secrets.token_urlsafe(32)
        descriptor = os.open(passphrase_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(passphrase + "\n")
        key = trust.new_anchor_key()
        trust.write_anchor_key(path, key, passphrase.encode(), development=True)
    except (trust.AnchorKeyError, OSError) as exc:
        raise PassportError("trust_anchor_unreadable", path=f"{path} ({exc})") from exc
    return key, True


def _development_key(settings: PassportSettings) -> ec.EllipticCurvePrivateKey:
    cache = settings.trust_cache
    path = settings.development_anchor
    if path is None:
        raise PassportError("trust_list_development")
    if cache.get("dev_anchor_path") != path:
        cache["dev_anchor"], _created = ensure_development_anchor(path)
        cache["dev_anchor_path"] = path
    return cache["dev_anchor"]


def issuer_of(
    key: SigningKey, settings: PassportSettings, centre: Centre | None = None
) -> tuple[str, dict[str, str]]:
    """The issuer a key signs for: its id and names (its centre's, else the deployment's)."""
    issuer_id = key.issuer_id or settings.issuer_id
    if centre is not None:
        return issuer_id, {
            "kk": centre.name_kk,
            "ru": centre.name_ru or "",
            "en": centre.name_en or "",
        }
    return issuer_id, dict(settings.issuer_name)


def _development_status(key: SigningKey) -> str:
    """A retired key verifies what it signed and signs nothing new; the others may sign."""
    return "retired" if key.retired_at is not None and not key.active else "active"


def development_payload(
    session: Session, settings: PassportSettings, seq: int, now: datetime
) -> dict[str, Any]:
    """The development list: every ES256 key of the deployment (RS256 keys sign credentials,
    not passports), any competence, any moment, valid for a year."""
    centres = {c.id: c for c in session.scalars(select(Centre))}
    entries = []
    for key in keys.all_keys(session):  # the ES256 keys: only they sign passport tokens
        issuer_id, names = issuer_of(key, settings, centres.get(key.centre_id))
        entries.append(
            {
                "kid": key.kid,
                "jwk": dict(key.public_jwk),
                "issuer": {
                    "id": issuer_id,
                    "name": names,
                    "status_list": settings.issuer_url + "/status/message",
                },
                "competences": ["*"],
                "valid_from": 0,  # development: any moment (tests back-date issuing)
                "valid_to": None,
                "status": _development_status(key),
            }
        )
    return {
        "format": 1,
        "anchor": DEVELOPMENT_ANCHOR_ID,
        "development": True,
        "seq": seq,
        "iat": int(now.timestamp()),
        "exp": int((now + DEVELOPMENT_VALIDITY).timestamp()),
        "keys": entries,
    }


def sign_development_list(
    session: Session, settings: PassportSettings, now: datetime | None = None
) -> TrustList:
    """Sign a development list of every key with the development anchor and install it."""
    moment = (now or utcnow()).replace(microsecond=0)
    installed = current_row(session)
    seq = (installed.seq if installed is not None else 0) + 1
    payload = development_payload(session, settings, seq, moment)
    jws = trust.sign_trust_list(payload, _development_key(settings))
    return install(session, settings, jws, force=True, now=moment)


def enrol_development_keys(
    session: Session, settings: PassportSettings, now: datetime | None = None
) -> TrustList | None:
    """In development, put every key into the development list (a new list when one is
    missing from it, or it expires within 7 days); None when nothing had to change.

    Production never does this: there only the trust anchor signs lists.
    """
    if settings.production or settings.development_anchor is None:
        return None
    anchor = anchor_jwk(settings)
    if anchor is not None and not trust.anchor_is_development(anchor):
        return None  # a real anchor is configured: only it signs lists, even in development
    moment = now or utcnow()
    value = current(session, settings)
    listed = value.trust_list
    fresh = (
        listed is not None
        and listed.development
        and listed.expires_at > int((moment + WARN_BEFORE).timestamp())
    )
    if fresh:
        states = {k.kid: _development_status(k) for k in keys.all_keys(session)}
        if all(
            kid in listed.keys and listed.keys[kid].status == state for kid, state in states.items()
        ):
            return None
    return sign_development_list(session, settings, moment)
