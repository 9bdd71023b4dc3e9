"""Gunicorn settings for the production server: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read from the environment so one file serves every instance:

- ``HOST`` (default ``127.0.0.1``) and ``PORT`` (default ``8000``): where to listen;
  ``BIND`` overrides both (e.g. ``unix:/run/skills-passport.sock``);
- ``WEB_CONCURRENCY``: worker processes (default 2 × cores + 1, at most 12);
- ``GUNICORN_THREADS``: threads per worker (default 1);
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 60).

The access log goes to stdout and holds the path only, never the query string: a
query string can carry an IIN (search forms) or a token, and neither may be logged.
Passport tokens travel in the URL fragment, which browsers never send.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"environment variable {name}: expected an integer, got {raw!r}") from exc


MAX_WORKERS = 12

bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 8000)}"
workers = max(1, _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, MAX_WORKERS)))
threads = max(1, _int("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"

timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# recycle workers now and then so a slow leak cannot grow forever
max_requests = 2000
max_requests_jitter = 200

# behind a reverse proxy the app itself (TRUSTED_PROXIES) decides which X-Forwarded-*
# headers to believe; gunicorn only needs to accept them from the local proxy
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without the query string; %(r)s, %(q)s and %(f)s (the referrer,
# which can hold another page's query string) are deliberately absent
access_log_format = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus'
