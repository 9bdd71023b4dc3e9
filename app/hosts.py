"""Which ``Host`` a request may name: the public address, TRUSTED_HOSTS, loopback in development.

A request's ``Host`` header is chosen by whoever sends it. The app builds every absolute
link it mails or prints from PUBLIC_BASE_URL (``public_url``), and on top answers 400 to a
request for a host it does not serve, so a forged ``Host`` reaches no page at all. The
health probes and ``/metrics`` are exempt: load balancers and Prometheus call them by the
instance's address.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request, url_for
from flask_babel import lazy_gettext as _l

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(host: str) -> str:
    """Return the lower-case name of ``host`` (``Host`` header or URL netloc) without port."""
    host = (host or "").strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def parse_host_list(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """Split a TRUSTED_HOSTS value (commas or spaces between names) into host names."""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw or ())
    return tuple(dict.fromkeys(host_name(item) for item in items if host_name(item)))


def accepted_hosts(config) -> frozenset[str]:
    """The host names this instance answers: PUBLIC_BASE_URL's, TRUSTED_HOSTS, and in
    development the loopback names."""
    names = {host_name(urlsplit(config["PUBLIC_BASE_URL"]).netloc)}
    names.update(config["ACCEPTED_HOSTS"])
    if config["ENVIRONMENT"] == "development":
        names.update(LOOPBACK_HOSTS)
    names.discard("")
    return frozenset(names)


def public_url(endpoint: str, **values) -> str:
    """Return the absolute URL of ``endpoint`` on PUBLIC_BASE_URL, never on the request's host.

    Every link that leaves the app (an e-mail, a printout, a CLI line) is built here.
    """
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, _external=False, **values)


UNKNOWN_HOST = _l("This server does not answer for that address.")


def init_app(app: Flask) -> None:
    hosts = accepted_hosts(app.config)

    def refuse_unknown_host():
        if request.path in PROBE_PATHS:
            return None
        if host_name(request.host) not in hosts:
            abort(400, description=str(UNKNOWN_HOST))
        return None

    # first of all before-request hooks: an unknown host gets no session, no rate-limit count
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unknown_host)
