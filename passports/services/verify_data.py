"""What the QR verification page embeds so that its verdict needs no request but the API's.

The page carries one ``<script type="application/json"
id="verify-data">`` holding the trust anchor's public JWK, the installed trust list (compact
JWS), the JWK Set and the last signed status list (the 2-bit message list); the page's
script reads them from there and fetches a member from its URL only when it is null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from passports.services import PassportError, keys, status
from passports.settings import PassportSettings


def embedded_data(
    session: Session, settings: PassportSettings, now: datetime | None = None
) -> dict[str, Any]:
    """The ``#verify-data`` object: ``anchor``, ``trustList``, ``jwks``, ``statusList``.

    Rule: the status list is the one ``GET /status/message`` serves at this moment (the
    same signed text, ``status.current_list``), or None when no key can sign one; the
    anchor and the trust list are None until the deployment has them.
    """
    try:
        status_list = status.current_list(session, settings, "message", now)
    except PassportError:
        status_list = None
    return {
        "anchor": None,
        "trustList": None,
        "jwks": keys.jwks(session),
        "statusList": status_list,
    }
