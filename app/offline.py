"""Offline support: the service worker at the site root and what it may keep.

One script, ``/sw.js`` (scope ``/``), keeps two separate caches in the browser:

- ``grid-v1``: the marking grid pages an expert opened and their assets, so a reload with
  the server unreachable opens the form from the device. Only answers marked
  ``X-Offline-Cache: grid; owner=<key>`` are kept (an editable grid of a signed-in marker);
  the owner key is an HMAC of the user id, so a page of another user on the same tablet
  replaces the whole cache, and a signed-out page or signing out deletes it.
- ``verify-v1``: the verification page ``/V`` as a visitor gets it (``X-Offline-Cache:
  verify``), its scripts, styles and fonts, the trust list, the JWKS and the last signed
  status list, so the page verifies a passport with no network at all.

Service workers exist only in secure contexts (https, localhost); on plain http the pages
register nothing and work online as before.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flask import Flask, Response, current_app
from flask_login import current_user

from app.auth.permissions import public

HEADER = "X-Offline-Cache"
SCRIPT = Path(__file__).resolve().parent / "sw.js"


def owner_key(secret: str, user_id: int) -> str:
    """The opaque key the grid cache is kept under: HMAC-SHA256 of the user id, 16 hex digits."""
    digest = hmac.new(secret.encode(), f"offline-grid:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def current_owner() -> str:
    """The signed-in user's grid-cache key, or "" for a visitor."""
    if not current_user.is_authenticated:
        return ""
    return owner_key(current_app.config["SECRET_KEY"], current_user.id)


def keep_as_grid(response: Response) -> Response:
    """Let the service worker keep this answer (an editable marking grid) for its owner."""
    response.headers[HEADER] = f"grid; owner={current_owner()}"
    return response


def keep_as_verify_page(response: Response) -> Response:
    """Let the service worker keep this verification page, unless it names a signed-in user."""
    if not current_user.is_authenticated:
        response.headers[HEADER] = "verify"
    return response


@public
def service_worker():
    """The service worker script; browsers check it for updates on every navigation."""
    response = current_app.response_class(
        SCRIPT.read_bytes(), content_type="text/javascript; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/sw.js", endpoint="offline.service_worker", view_func=service_worker)

    @app.context_processor
    def offline_context() -> dict[str, object]:
        return {"offline_owner": current_owner}
