"""What the QR verification page embeds so that its verdict needs no request but the API's.

The page carries one ``<script type="application/json" id="verify-data">`` holding the
trust anchor's public JWK, the installed trust list (compact JWS), the ES256 keys of the JWK
Set and the last signed status list (the 2-bit message list); the page's script reads them
from there and fetches a member from its URL only when it is null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from passports.services import PassportError, keys, status, trust_lists
from passports.settings import PassportSettings


def embedded_data(
    session: Session, settings: PassportSettings, now: datetime | None = None
) -> dict[str, Any]:
    """The ``#verify-data`` object: ``anchor``, ``trustList``, ``jwks``, ``statusList``.

    Rule: the status list is the one ``GET /status/message`` serves at this moment (the
    same signed text, ``status.current_list``), or None when no key can sign one; the
    anchor (TRUST_ANCHOR_JWK) and the installed trust list come from the per-process trust
    cache (services/trust_lists.py), None while the deployment has none.
    """
    try:
        status_list = status.current_list(session, settings, "message", now)
    except PassportError:
        status_list = None
    installed = trust_lists.current(session, settings)
    return {
        "anchor": trust_lists.anchor_jwk(settings),
        "trustList": installed.jws or None,
        # the page checks tokens and status lists: ES256 only (an RSA key is ~400 bytes)
        "jwks": keys.jwks(session, keys.ES256),
        "statusList": status_list,
    }
