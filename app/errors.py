"""Error pages in the user's language, and RFC 9457 problem+json under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    409: _l("Someone else changed this first"),
    413: _l("The file is too large"),
    422: _l("The data is not valid"),
    429: _l("Too many attempts — please wait and try again"),
    500: _l("Something went wrong on our side"),
    503: _l("The service is temporarily unavailable"),
}


def problem(status: int, detail: str | None = None, **extra):
    """Build an application/problem+json response."""
    body = {"type": "about:blank", "title": str(TITLES.get(status, "Error")), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, detail: str | None = None):
    if wants_problem_json():
        return problem(status, detail)
    title = TITLES.get(status, TITLES[500])
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        detail = _l("The form expired or was sent from elsewhere; reload the page and try again.")
        return render_error(400, str(detail))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        detail = exc.description if wants_problem_json() and status != 404 else None
        return render_error(status, detail)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if isinstance(exc, OverflowError | DataError):
            # a number from the request too large for the database: the input is wrong
            db.session.rollback()
            return render_error(400, str(_l("A number in the request is out of range.")))
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    app.register_error_handler(InternalServerError, lambda exc: render_error(500))
