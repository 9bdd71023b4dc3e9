"""gunicorn.conf.py: in-memory rate limits run one worker (issue 10, item 9)."""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.processes import ProcessLog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF = PROJECT_ROOT / "gunicorn.conf.py"
SETTINGS = ("RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY", "GUNICORN_THREADS")


def load_conf(monkeypatch, tmp_path, **env: str) -> dict:
    for key in SETTINGS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize(
    ("env", "workers", "threads", "worker_class"),
    [
        # in-memory counters: the concurrency asked for becomes threads of one worker
        ({"WEB_CONCURRENCY": "5"}, 1, 5, "gthread"),
        ({"WEB_CONCURRENCY": "5", "GUNICORN_THREADS": "8"}, 1, 8, "gthread"),
        ({"WEB_CONCURRENCY": "5", "RATELIMIT_STORAGE_URI": "memory://"}, 1, 5, "gthread"),
        # a shared store or no rate limiting: the workers asked for
        ({"WEB_CONCURRENCY": "5", "RATELIMIT_STORAGE_URI": "redis://r:6379/0"}, 5, 1, "sync"),
        ({"WEB_CONCURRENCY": "5", "RATELIMIT_ENABLED": "false"}, 5, 1, "sync"),
        ({"WEB_CONCURRENCY": "1"}, 1, 1, "sync"),
    ],
)
def test_memory_store_runs_one_worker(monkeypatch, tmp_path, env, workers, threads, worker_class):
    conf = load_conf(monkeypatch, tmp_path, **env)
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (
        workers,
        threads,
        worker_class,
    )
    assert (conf["single_worker_reason"] is not None) == (
        env["WEB_CONCURRENCY"] != "1" and workers == 1
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _verify(url: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=json.dumps({}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _ready(base: str, log: ProcessLog) -> None:
    """Return once gunicorn's worker answers: booted (its log says so), then serving."""
    log.wait_for("Booting worker")
    # the socket is bound before the worker boots: this request waits until it is served
    with urllib.request.urlopen(f"{base}/healthz", timeout=120):  # noqa: S310 (loopback)
        pass


def test_gunicorn_holds_the_limit_across_the_instance(request, tmp_path):
    """The reproduction: WEB_CONCURRENCY=3, in-memory limits; at most the limit passes."""
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("uses no database: once per CI run is enough (--db=sqlite)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "RATELIMIT_"))},
        "ENVIRONMENT": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "3",
        "REQUEST_LOG": "false",
        "VERIFY_API_RATE_LIMIT": "10 per minute",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = ProcessLog(server.stderr)
    try:
        _ready(base, log)
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(_verify, [f"{base}/api/v1/verify"] * 40))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        errors = log.text()
    assert statuses.count(429) == 30, statuses
    assert "running 1 worker instead of 3" in errors
    assert "Traceback" not in errors, errors
