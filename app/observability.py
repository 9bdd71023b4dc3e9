"""One log line per request, with a request id; and the request-latency metric.

The line holds when, which request (id), method, route, status, duration, response
size, the signed-in user's id and the client address — never the query string, form
data, cookies, an IIN or a token. The route is the URL rule (``/my/<token>``), not the
path, so secrets carried in a path (the graduate's private link) stay out; a path that
matched no route is logged with every segment that could hold a secret blanked.

Settings (docs/configuration.md): ``REQUEST_LOG`` on/off and ``LOG_FORMAT`` ``json``
(one JSON object per line, for log collectors) or ``text`` (for people; the default in
development). Lines go to standard output through the ``skills_passport.request``
logger, which does not propagate: attach your own handler to send them elsewhere.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, request
from flask.wrappers import Response

from app import metrics
from app.config import ConfigError
from app.log_paths import loggable_path

LOGGER_NAME = "skills_passport.request"
LOG_FORMATS = ("json", "text")
REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED = metrics.UNMATCHED

# an incoming request id is kept only when it is a short, plain token (a proxy's or a
# load balancer's id, a UUID); anything else is replaced by one of ours
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_STARTED = "skills_passport.started"


class _StdoutHandler(logging.StreamHandler):
    """Write to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


class _DropWerkzeugRequestLines(logging.Filter):
    """Drop the development server's own per-request line (it would double ours and
    it prints the query string); its start-up and error messages pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.endswith('"%s" %s %s'))


def log_format(app: Flask) -> str:
    """The request-log format: ``LOG_FORMAT``, or text in development and json elsewhere."""
    chosen = (app.config.get("LOG_FORMAT") or "").strip().lower()
    if not chosen:
        return "text" if app.config["ENVIRONMENT"] == "development" else "json"
    if chosen not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {chosen!r}")
    return chosen


def request_id(incoming: str | None) -> str:
    """Keep a safe incoming id (``X-Request-ID``), else make a new random one."""
    if incoming and _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _user_id() -> int | None:
    # only a user the request already loaded: looking one up here would cost a query
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id
    return None


def request_fields(response: Response, duration: float) -> dict[str, Any]:
    """What the log line says about the current request and its response."""
    route = _route()
    fields: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": "info",
        "logger": LOGGER_NAME,
        "request_id": g.get("request_id"),
        "method": request.method,
        "route": route,
        "status": response.status_code,
        "duration_ms": round(duration * 1000, 2),
        "size": response.content_length,
        "user_id": _user_id(),
        "remote_addr": request.remote_addr,
    }
    if route == UNMATCHED:
        fields["path"] = loggable_path(request.path)
    return fields


def text_line(fields: dict[str, Any]) -> str:
    size = "-" if fields["size"] is None else f"{fields['size']}B"
    user = fields["user_id"] if fields["user_id"] is not None else "-"
    where = fields["route"] if "path" not in fields else f"{fields['route']} {fields['path']}"
    return (
        f"{fields['time']} {fields['method']} {where} {fields['status']} "
        f"{fields['duration_ms']}ms {size} user={user} ip={fields['remote_addr']} "
        f"id={fields['request_id']}"
    )


def _install_handlers() -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    if not logger.handlers:  # an operator's own logging configuration wins
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropWerkzeugRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(_DropWerkzeugRequestLines())
    return logger


def init_app(app: Flask) -> None:
    """Time, count and (with ``REQUEST_LOG``) log every request; echo its id.

    Registered before every other ``after_request`` hook, so it runs last and sees the
    final status and size.
    """
    log_format(app)  # a wrong LOG_FORMAT stops the start, not the first request
    logger = _install_handlers() if app.config["REQUEST_LOG"] else None

    @app.before_request
    def start_request() -> None:
        request.environ[_STARTED] = time.perf_counter()
        g.request_id = request_id(request.headers.get(REQUEST_ID_HEADER))

    @app.after_request
    def finish_request(response: Response) -> Response:
        started = request.environ.get(_STARTED)
        duration = time.perf_counter() - started if started is not None else 0.0
        response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id(None)
        metrics.observe_request(_route(), request.method, response.status_code, duration)
        if logger is not None and current_app.config["REQUEST_LOG"]:
            fields = request_fields(response, duration)
            if log_format(current_app) == "json":
                logger.info(json.dumps(fields, ensure_ascii=False))
            else:
                logger.info(text_line(fields))
        return response
