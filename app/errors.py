"""Error pages in the user's language, and RFC 9457 problem+json under /api/.

A database that cannot serve the request (unreachable, restarted, read-only, disk full)
is not a bug in the request: it answers 503 with ``Retry-After``, a message that says
nothing was saved, and a stable ``code`` for API clients (``database_unavailable``:
try again in a moment; ``database_unwritable``: the administrator must act). The
session is rolled back and the operator gets one log line without a traceback.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.log_paths import loggable_request_path
from app.messages import DomainError

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

DATABASE_UNAVAILABLE = "database_unavailable"
DATABASE_UNWRITABLE = "database_unwritable"


@dataclass(frozen=True)
class DatabaseFault:
    code: str
    detail: object  # lazy string
    retry_after: int  # seconds, sent as Retry-After
    log_level: str
    log_text: str


FAULTS = {
    DATABASE_UNAVAILABLE: DatabaseFault(
        DATABASE_UNAVAILABLE,
        _l(
            "The database is not reachable right now. Nothing was saved from this request;"
            " try again in a moment."
        ),
        retry_after=5,
        log_level="warning",
        log_text="database unavailable",
    ),
    DATABASE_UNWRITABLE: DatabaseFault(
        DATABASE_UNWRITABLE,
        _l(
            "The server cannot save changes right now: its database is read-only or its"
            " disk is full. Nothing was saved; tell the administrator."
        ),
        retry_after=60,
        log_level="error",
        log_text="database cannot be written (read-only file, full disk or I/O error)",
    ),
}

# SQLite primary result codes (sqlite3 errors carry ``sqlite_errorname`` since Python 3.11);
# anything else (SQLITE_ERROR: a missing table, bad SQL) is a bug and stays a 500
SQLITE_UNWRITABLE = frozenset({"SQLITE_READONLY", "SQLITE_FULL", "SQLITE_IOERR"})
SQLITE_UNAVAILABLE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN"})
# PostgreSQL SQLSTATEs: disk_full, read_only_sql_transaction (connected to a standby)
POSTGRES_UNWRITABLE = frozenset({"53100", "25006"})


def database_fault(exc: BaseException | None) -> str | None:
    """Return the fault code when ``exc`` means the database cannot serve now, else None.

    PostgreSQL: a lost or refused connection, a shutdown, too many connections, a
    timeout — every driver ``OperationalError``/``InterfaceError`` and every error that
    invalidated the connection — is ``database_unavailable``; a full disk or a read-only
    server is ``database_unwritable``. SQLite is told apart by its result code. A full
    connection pool (SQLAlchemy ``TimeoutError``) is ``database_unavailable`` too.
    """
    for candidate in (exc, getattr(exc, "__cause__", None)):
        code = _classify(candidate)
        if code:
            return code
    return None


def _classify(exc: BaseException | None) -> str | None:
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return DATABASE_UNAVAILABLE
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    name = getattr(exc.orig, "sqlite_errorname", None)
    if name:
        primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
        if primary in SQLITE_UNWRITABLE:
            return DATABASE_UNWRITABLE
        if primary in SQLITE_UNAVAILABLE or exc.connection_invalidated:
            return DATABASE_UNAVAILABLE
        return None
    if getattr(exc.orig, "sqlstate", None) in POSTGRES_UNWRITABLE:
        return DATABASE_UNWRITABLE
    if exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ):
        return DATABASE_UNAVAILABLE
    return None


def _where() -> str:
    """Method and route for a log line; never the raw path, which can hold a private link."""
    return f"{request.method} {loggable_request_path()}"


def _describe(exc: BaseException) -> str:
    """The driver's error class and first message line: never the SQL or its parameters."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"[:300]


def database_fault_response(code: str, exc: BaseException):
    """Roll back, log for the operator and answer 503 with Retry-After (page or problem)."""
    fault = FAULTS[code]
    with contextlib.suppress(sa_exc.SQLAlchemyError):
        db.session.rollback()
    # the signed-in user cannot be reloaded now (rollback expired it): the error page,
    # the request log and every later hook of this request treat the visitor as anonymous
    g._login_user = current_app.login_manager.anonymous_user()
    log = getattr(current_app.logger, fault.log_level)
    log("%s on %s: %s", fault.log_text, _where(), _describe(exc))
    detail = str(fault.detail)
    if wants_problem_json():
        response = problem(503, detail, code=code)
    else:
        page = render_template(
            "errors/error.html",
            status=503,
            title=TITLES[503],
            detail=detail,
            retry_url=request.full_path.rstrip("?") if request.method == "GET" else None,
        )
        response = make_response(page, 503)
    response.headers["Retry-After"] = str(fault.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


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
    try:
        page = render_template("errors/error.html", status=status, title=title, detail=detail)
    except Exception as exc:
        # the page itself needed the database (loading the signed-in user) and it is down
        code = database_fault(exc)
        if code is None:
            raise
        return database_fault_response(code, exc)
    return page, status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        detail = _l("The form expired or was sent from elsewhere; reload the page and try again.")
        return render_error(400, str(detail))

    @app.errorhandler(DomainError)
    def refused(exc: DomainError):
        # a refusal no page turned into a form error: nothing was saved, say why
        db.session.rollback()
        if wants_problem_json():
            return problem(422, exc.translated(), code=exc.code)
        return render_error(422, exc.translated())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        detail = exc.description if wants_problem_json() and status != 404 else None
        return render_error(status, detail)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        code = database_fault(exc)
        if code is not None:
            return database_fault_response(code, exc)
        if isinstance(exc, OverflowError | sa_exc.DataError):
            # a number from the request too large for the database: the input is wrong
            db.session.rollback()
            return render_error(400, str(_l("A number in the request is out of range.")))
        app.logger.exception("unhandled error on %s", _where())
        return render_error(500)

    @app.errorhandler(InternalServerError)
    def internal_error(exc: InternalServerError):
        # an exception Flask met outside the view (an after-request hook) arrives wrapped
        original = exc.original_exception
        code = database_fault(original)
        if code is not None and original is not None:
            return database_fault_response(code, original)
        return render_error(500)
