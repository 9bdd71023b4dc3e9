"""Gunicorn settings for the production server: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read from the environment so one file serves every instance:

- ``HOST`` (default ``127.0.0.1``) and ``PORT`` (default ``8000``): where to listen;
  ``BIND`` overrides both (e.g. ``unix:/run/skills-passport.sock``);
- ``WEB_CONCURRENCY``: worker processes (default 2 × cores + 1, at most 12);
- ``GUNICORN_THREADS``: threads per worker (default 1);

  but with rate limiting on (``RATELIMIT_ENABLED``) and its counters in process memory
  (``RATELIMIT_STORAGE_URI=memory://``, the default) each worker process would count on
  its own and a client would get the limit once per worker: then the instance runs ONE
  worker with ``WEB_CONCURRENCY`` threads (or ``GUNICORN_THREADS`` when set) and logs
  why at start. Several workers need a shared store (``redis://…``);
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 60);
- ``GUNICORN_ACCESS_LOG``: ``1`` adds gunicorn's own access log (default off: the app
  writes one line per request itself, see ``REQUEST_LOG`` in docs/configuration.md);
- ``PROMETHEUS_MULTIPROC_DIR``: the folder where workers keep their metrics, emptied at
  start (default: a new temporary folder, removed at exit).

gunicorn's access log, when on, goes to stdout and holds the path only, never the query
string: a query string can carry an IIN (search forms) or a token, and neither may be
logged. Passport tokens travel in the URL fragment, which browsers never send.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile

from app.config import read_settings


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"environment variable {name}: expected an integer, got {raw!r}") from exc


MAX_WORKERS = 12


def concurrency(settings, requested_workers: int, requested_threads: int | None):
    """Return ``(workers, threads, reason)``; ``reason`` says why workers were cut to one.

    Rate-limit counters kept in memory are per process: with several workers a client
    would get the limit once per worker. So rate limiting with a ``memory://`` store runs
    one worker, and the concurrency asked for becomes threads of that worker.
    """
    threads = max(1, requested_threads or 1)
    in_memory = settings["RATELIMIT_STORAGE_URI"].strip().startswith("memory://")
    if requested_workers > 1 and settings["RATELIMIT_ENABLED"] and in_memory:
        reason = (
            f"running 1 worker instead of {requested_workers}: rate limits count in process"
            " memory (RATELIMIT_STORAGE_URI=memory://), so each worker would allow the full"
            " limit; set RATELIMIT_STORAGE_URI to a shared store (redis://…) to run several"
            " workers"
        )
        return 1, max(requested_threads or requested_workers, 1), reason
    return requested_workers, threads, None


bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 8000)}"
workers, threads, single_worker_reason = concurrency(
    read_settings(),
    max(1, _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, MAX_WORKERS))),
    _int("GUNICORN_THREADS", 0) or None,
)
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

# the app logs every request itself (REQUEST_LOG), with its route and request id
access_log_on = os.environ.get("GUNICORN_ACCESS_LOG", "").strip().lower() in ("1", "true", "yes")
accesslog = "-" if access_log_on else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without the query string; %(r)s, %(q)s and %(f)s (the referrer,
# which can hold another page's query string) are deliberately absent
access_log_format = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus'

# Prometheus multiprocess mode (app/metrics.py): set before the workers fork, so each one
# writes its values to files there and /metrics adds them up across workers
METRICS_DIR_PREFIX = "skills-passport-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_DIR_PREFIX)


def on_starting(server):
    # imported here, in the master's main flow, never first inside a signal handler
    from app import metrics_store

    metrics_store.clear(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if single_worker_reason:
        server.log.warning("%s (%d threads)", single_worker_reason, threads)


def child_exit(server, worker):
    # runs inside the SIGCHLD handler, possibly interrupted by the next exit: no import
    # machinery here (on_starting loaded the module), only note the pid
    sys.modules["app.metrics_store"].worker_exited(worker.pid)


def pre_fork(server, worker):
    # the master's main loop, before it replaces a worker: fold the exited ones' values
    from app import metrics_store

    metrics_store.fold_exited_workers(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_exit(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if os.path.basename(folder).startswith(METRICS_DIR_PREFIX):  # one we made
        shutil.rmtree(folder, ignore_errors=True)
