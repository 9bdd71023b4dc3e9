"""``POST /api/v1/verify``: the live status of a passport token (documented in docs/openapi.yaml).

The token is a signature over public claims, so it may travel in a request body; it is never
put in a URL or a log line.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app import metrics
from app.auth.permissions import public
from app.errors import problem
from app.extensions import csrf, db, limiter
from app.messages import N_, DomainError
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


def _limit() -> str:
    return current_app.config["VERIFY_API_RATE_LIMIT"]


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
@limiter.limit(_limit)
def verify():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest(N_('Send a JSON object: {"url": …} or {"token": …}.'))
    data = REQUEST_SCHEMA.load(payload)
    settings = current_settings()
    verdict = verification.verify(db.session, settings, data.get("token") or data["url"])
    # the QR verification page calls from our own origin; everyone else is an API client
    page = request.headers.get("Sec-Fetch-Site") == "same-origin"
    metrics.count_verification("page" if page else "api", verdict.status)
    response = current_app.json.response(verification.api_answer(db.session, settings, verdict))
    response.headers["Cache-Control"] = "no-store"
    return response
