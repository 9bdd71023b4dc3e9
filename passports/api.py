"""``POST /api/v1/verify``: the live status of a passport token (documented in docs/openapi.yaml).

The token is a signature over public claims, so it may travel in a request body; it is never
put in a URL or a log line.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app import metrics
from app.auth.permissions import public
from app.errors import problem
from app.extensions import csrf, db, limiter
from app.messages import N_, DomainError
from app.rate_limits import AddressLimit
from passports.services import verification
from passports.settings import current_settings

bp = Blueprint("passports_api", __name__, url_prefix="/api/v1")

MAX_FIELD = 2048


class VerifyRequest(Schema):
    """Exactly one of ``url`` (the QR URL) and ``token`` (the text after ``#``)."""

    url = fields.String(validate=validate.Length(min=1, max=MAX_FIELD))
    token = fields.String(validate=validate.Length(min=1, max=MAX_FIELD))

    @validates_schema
    def one_of(self, data, **kwargs):
        if ("url" in data) == ("token" in data):
            raise ValidationError(_("Give exactly one of url and token."), "_schema")


REQUEST_SCHEMA = VerifyRequest()  # stateless: one instance serves every request


def _value(payload: dict) -> str:
    """The url or token of a request body; raises ValidationError as ``REQUEST_SCHEMA`` does.

    The common body, one string field of an allowed length, is read directly (what the
    schema would load from it); every other body goes through the schema, so its errors
    are the schema's own.
    """
    if len(payload) == 1:
        ((name, value),) = payload.items()
        if name in ("url", "token") and isinstance(value, str) and 0 < len(value) <= MAX_FIELD:
            return value
    data = REQUEST_SCHEMA.load(payload)
    return data.get("token") or data["url"]


def _body() -> Any:
    """The request's JSON body, or None when it is not JSON (``get_json(silent=True)``).

    The common body, a flat JSON object of strings, is parsed by orjson; any other body,
    or one orjson refuses, is read by ``request.get_json``, so that its answer (the
    nesting limit's 400, None for bad JSON) is the app's own.
    """
    if request.is_json:
        try:
            payload = orjson.loads(request.get_data())
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and all(isinstance(v, str) for v in payload.values()):
            return payload
    return request.get_json(silent=True)


# VERIFY_API_RATE_LIMIT per client address, counted directly (app/rate_limits.py)
VERIFY_LIMIT = AddressLimit("VERIFY_API_RATE_LIMIT", scope="passports_api")
limiter.exempt(bp)
bp.before_request(VERIFY_LIMIT.count)


class BadRequest(DomainError):
    """The body is not a JSON object."""

    code = "bad_request"


@bp.errorhandler(BadRequest)
def bad_request(exc: BadRequest):
    return problem(400, exc.translated(), code=exc.code)


@bp.errorhandler(ValidationError)
def invalid_request(exc: ValidationError):
    return problem(422, _("The request is not valid."), code="invalid", errors=exc.messages)


@bp.errorhandler(DomainError)
def refused(exc: DomainError):
    return problem(422, exc.translated(), code=exc.code)


@bp.post("/verify")
@public
@csrf.exempt
def verify():
    payload = _body()
    if not isinstance(payload, dict):
        raise BadRequest(N_('Send a JSON object: {"url": …} or {"token": …}.'))
    settings = current_settings()
    verdict = verification.verify(db.session, settings, _value(payload))
    # the QR verification page calls from our own origin; everyone else is an API client
    page = request.headers.get("Sec-Fetch-Site") == "same-origin"
    metrics.count_verification("page" if page else "api", verdict.status)
    return _json(verification.api_answer(db.session, settings, verdict))


def _json(answer: dict) -> Response:
    """The answer as JSON: sorted keys as the app's other JSON, UTF-8 text unescaped.

    orjson writes it in a tenth of the time of the standard library: this is the API that
    employers' systems call in bulk.
    """
    response = current_app.response_class(
        orjson.dumps(answer, option=orjson.OPT_SORT_KEYS), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
