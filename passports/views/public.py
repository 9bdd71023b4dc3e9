"""Public passport pages on the ``passports`` blueprint.

The QR verification page ``/V`` (the token stays in the URL fragment; the page's script
verifies it in the browser and asks ``POST /api/v1/verify`` for the live status), the JWK
Set, the signed status lists, the manual check by number + code and the share page. The
graduate's private pages (``passports.views.holder``) are on this blueprint too.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded, RequestLimit
from flask_login import current_user

from app import metrics, offline
from app.auth.permissions import public
from app.compression import compress_public
from app.errors import render_error
from app.extensions import db, limiter
from assessments import scoring
from passports.forms import CheckForm
from passports.messages import VERIFY_PAGE_TEXTS
from passports.services import (
    PassportError,
    ShareLinkOff,
    keys,
    status,
    trust_lists,
    verification,
    verify_data,
)
from passports.settings import current_settings
from passports.views.common import decimal_text, no_store, passport_context

STATIC = Path(__file__).resolve().parent.parent / "static"

bp = Blueprint(
    "passports", __name__, static_folder=str(STATIC), static_url_path="/static/passports"
)
bp.add_app_template_filter(decimal_text, "decimal_text")

PUBLIC_CACHE = "public, max-age=300"


def _check_limit() -> str:
    return current_app.config["PASSPORT_CHECK_RATE_LIMIT"]


@bp.get("/V")
@bp.get("/v")
@public
def verify_page():
    """The page a QR code opens; the token is in the fragment, never sent here.

    The page embeds the keys and the signed status list (``#verify-data``), so that its
    verdict waits for no request but the live status from the API.
    """
    texts = {key: str(value) for key, value in VERIFY_PAGE_TEXTS.items()}
    data = verify_data.embedded_data(db.session, current_settings())
    response = Response(
        render_template(
            "passports/verify.html",
            texts=texts,
            top_grade=scoring.TOP_GRADE,
            verify_data=data,
        )
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie, Accept-Language"
    if not current_user.is_authenticated:
        # a visitor's page holds no secret (a signed-in user's holds the sign-out form's
        # CSRF token beside the query string it repeats in the language links)
        compress_public(response)
    return offline.keep_as_verify_page(response)


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    return _published(current_app.json.dumps(keys.jwks(db.session)), "application/jwk-set+json")


@bp.get("/.well-known/jwks/<kid>.json")
@public
def jwk(kid: str):
    """One public key of the JWK Set as a JWK: what a credential header's ``kid`` URL names."""
    found = keys.public_jwk_of(db.session, kid)
    if found is None:
        abort(404)
    return _published(current_app.json.dumps(found), "application/jwk+json")


@bp.get("/.well-known/skills-passport/trust-list.jws")
@public
def trust_list():
    """The installed trust list (compact JWS signed by the trust anchor), as installed.

    Served from the per-process parsed copy (services/trust_lists.py), never re-read per
    request; 404 while none is installed.
    """
    installed = trust_lists.current(db.session, current_settings())
    if not installed.jws:
        abort(404)
    response = _published(installed.jws, "application/jose")
    response.set_etag(installed.etag)
    return response.make_conditional(request)


@bp.get("/status/<purpose>")
@public
def status_list(purpose: str):
    """The signed status list (Bitstring Status List credential as VC-JWT)."""
    if purpose not in ("revocation", "message"):
        abort(404)
    try:
        text = status.current_list(db.session, current_settings(), purpose)
    except PassportError:
        abort(503)
    return _published(text, "application/vc+jwt")


def _published(body: str, mimetype: str) -> Response:
    """What verifiers anywhere fetch (keys, trust list, status lists): any origin may read
    it, and caches may keep it for PUBLIC_CACHE."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


def _remember_retry(limit: RequestLimit) -> None:
    """Keep when the breached check limit resets, for the page that says so."""
    g.check_retry_at = limit.reset_at


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded):
    """Over the check limit: the same form with what was typed, and how long to wait."""
    if request.endpoint != "passports.check":
        return render_error(429)
    seconds = max(1, math.ceil(g.get("check_retry_at", time.time() + 60) - time.time()))
    form = CheckForm()  # bound to the posted values, so nothing typed is lost
    context = {"form": form, "checked": False, "retry_after": seconds}
    response = no_store(Response(render_template("passports/check.html", **context), status=429))
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/check", methods=["GET", "POST"])
@public
@limiter.limit(_check_limit, methods=["POST"], on_breach=_remember_retry)
def check():
    """Manual check: passport number + verification code (misses all look the same)."""
    form = CheckForm()
    context: dict[str, Any] = {"form": form, "checked": False}
    if form.validate_on_submit():
        verdict = verification.check_number(
            db.session, current_settings(), form.number.data, form.code.data
        )
        metrics.count_verification("check", verdict.status if verdict else "not_found")
        context["checked"] = True
        if verdict is not None:
            context.update(passport_context(verdict.passport, verdict.status, verdict.reason))
            context["found"] = True
        else:
            context["found"] = False
    return no_store(Response(render_template("passports/check.html", **context)))


SHARE_OFF_TITLE = _l("The holder has switched this link off")
SHARE_OFF_TEXT = _l(
    "The passport's holder no longer shares it through this link. The QR code on the "
    "passport still verifies: scan it, or check the passport by its number and "
    "verification code."
)


def _share_link_off() -> Response:
    """Say in all three languages that the holder switched the link off; no passport data.

    404: the page is not there now (the holder may switch it back on, so not 410).
    """
    notices = []
    for code in ("kk", "ru", "en"):
        with force_locale(code):
            notices.append((code, str(SHARE_OFF_TITLE), str(SHARE_OFF_TEXT)))
    page = render_template("passports/share_off.html", notices=notices)
    response = no_store(Response(page, status=404))
    return response


@bp.get("/s/<slug>")
@public
def share(slug: str):
    """The holder's public share link."""
    try:
        passport = verification.find_by_share_slug(db.session, slug)
    except ShareLinkOff:
        return _share_link_off()
    if passport is None:
        abort(404)
    state, reason = verification.server_status(db.session, current_settings(), passport)
    context = passport_context(passport, state, reason)
    response = Response(render_template("passports/share.html", **context))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
