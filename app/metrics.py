"""Prometheus metrics and the ``/metrics`` endpoint.

Families (docs/deployment.md, "Observability"):

- ``skills_passport_http_request_duration_seconds`` (histogram): by ``route`` (the URL
  rule, ``<unmatched>`` for none — never a raw path), ``method`` and ``status`` class;
- ``skills_passport_passport_verifications_total``: by ``channel`` (``page`` = the QR
  verification page's call, ``api`` = any other caller of ``POST /api/v1/verify``,
  ``check`` = the manual check by number and code) and ``verdict`` (the statuses of
  passports.services.verification, and ``not_found`` for a manual check that matched
  nothing);
- ``skills_passport_marks_saved_total``: cells written, by ``source`` (``grid`` = one cell
  saved from the marking grid, ``upload`` = a CSV/XLSX file, ``json`` = a JSON list of
  rows);
- ``skills_passport_passports_issued_total``: by ``how`` (``exam`` = issued for an exam,
  ``reissue``).

Counts are taken at the request's edge after its commit, so a rolled-back or retried
write is never counted. Under gunicorn every worker is its own process: with
``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py sets it) each worker writes its values
to files there and ``/metrics`` adds up all workers', whichever worker answers.

Who may read ``/metrics``: with ``METRICS_TOKEN`` set, a request carrying
``Authorization: Bearer <token>``; without, clients whose address (after
``TRUSTED_PROXIES``) is in ``METRICS_ALLOW_FROM`` (loopback by default) and that did not
come through an untrusted proxy.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Flask, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.auth.permissions import public
from app.config import ConfigError
from app.errors import problem
from app.metrics_store import MULTIPROC_ENV, collect_lock

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
VERIFICATION_CHANNELS = frozenset({"page", "api", "check"})
VERDICTS = frozenset(
    {"damaged", "invalid", "revoked", "superseded", "expired", "genuine", "not_found"}
)
MARK_SOURCES = frozenset({"grid", "upload", "json"})
ISSUE_KINDS = frozenset({"exam", "reissue"})

# in one process the values live here; in multiprocess mode in PROMETHEUS_MULTIPROC_DIR
REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_DURATION = Histogram(
    "skills_passport_http_request_duration_seconds",
    "Time to answer a request, by route (URL rule), method and status class.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
VERIFICATIONS = Counter(
    "skills_passport_passport_verifications",
    "Passport verifications answered, by channel and verdict.",
    ("channel", "verdict"),
    registry=REGISTRY,
)
MARKS_SAVED = Counter(
    "skills_passport_marks_saved",
    "Mark cells written and committed, by source.",
    ("source",),
    registry=REGISTRY,
)
PASSPORTS_ISSUED = Counter(
    "skills_passport_passports_issued",
    "Passports issued, by how (for an exam, or a re-issue).",
    ("how",),
    registry=REGISTRY,
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Record one answered request; labels stay bounded (route templates, known methods)."""
    REQUEST_DURATION.labels(
        route=route,
        method=method if method in METHODS else "other",
        status=f"{status // 100}xx",
    ).observe(seconds)


def count_verification(channel: str, verdict: str) -> None:
    """Count one verification answer (``not_found``: a manual check that matched nothing)."""
    VERIFICATIONS.labels(
        channel=channel if channel in VERIFICATION_CHANNELS else "other",
        verdict=verdict if verdict in VERDICTS else "other",
    ).inc()


def count_marks_saved(source: str, cells: int) -> None:
    """Count mark cells written by one committed request."""
    if cells > 0:
        MARKS_SAVED.labels(source=source if source in MARK_SOURCES else "other").inc(cells)


def count_passports_issued(how: str, passports: int) -> None:
    """Count passports issued by one committed request."""
    if passports > 0:
        PASSPORTS_ISSUED.labels(how=how if how in ISSUE_KINDS else "other").inc(passports)


def exposition() -> bytes:
    """The metrics in Prometheus text format, summed over every worker in multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    with collect_lock(path):
        return generate_latest(registry)


def allowed_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse ``METRICS_ALLOW_FROM``: addresses or networks, separated by commas or spaces."""
    networks = []
    for item in setting.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOW_FROM: {item!r} is not an address or network") from exc
    return networks


def _bearer_token() -> str:
    scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _from_allowed_network(networks) -> bool:
    if not current_app.config["TRUSTED_PROXIES"] and "X-Forwarded-For" in request.headers:
        # it came through a proxy the app does not trust: the real client is unknown
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return any(address in network for network in networks)


bp = Blueprint("observability", __name__)


@bp.get("/metrics")
@public  # guarded by METRICS_TOKEN / METRICS_ALLOW_FROM below, not by a role
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if token:
        if not hmac.compare_digest(_bearer_token().encode(), token.encode()):
            response = problem(401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not _from_allowed_network(current_app.extensions["metrics_networks"]):
        return problem(403)
    response = current_app.response_class(exposition(), mimetype=None)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    path = os.environ.get(MULTIPROC_ENV)
    if path and not os.path.isdir(path):
        raise ConfigError(f"{MULTIPROC_ENV}={path!r} is not a directory")
    app.extensions["metrics_networks"] = allowed_networks(app.config["METRICS_ALLOW_FROM"])
    app.register_blueprint(bp)
