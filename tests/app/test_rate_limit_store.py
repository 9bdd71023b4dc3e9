"""Rate limits counted in a shared store (Redis) hold across instances; a dead store fails open.

``redis-server`` (Debian package ``redis-server``) is started on a free loopback port in a
temporary folder for this module; without it the shared-store test is skipped.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess

import pytest

from tests.conftest import make_app
from tests.processes import ProcessLog

LOGIN_LIMIT = "3 per minute"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run adds it)")
    import redis

    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    log = ProcessLog(server.stdout)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        log.wait_for("Ready to accept connections")
        assert client.ping()
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)
        log.text()  # read to the end: the pipe is closed


@pytest.fixture
def instances(_app):
    """``instances(n, uri)``: n app instances with rate limits on, counting in ``uri``.

    Flask-Limiter keeps its storage on the one ``limiter`` object that every app in this
    process shares (in production each process has one app); its state is put back after.
    """
    from app.extensions import db, limiter

    saved = dict(vars(limiter))
    saved["_storage_options"] = dict(limiter._storage_options)
    made = []

    def build(count: int, uri: str, **overrides):
        for _ in range(count):
            made.append(
                make_app(
                    _app.config["DATABASE_URL"],
                    RATELIMIT_ENABLED=True,
                    RATELIMIT_STORAGE_URI=uri,
                    LOGIN_RATE_LIMIT=LOGIN_LIMIT,
                    **overrides,
                )
            )
        return [app.test_client() for app in made[-count:]]

    try:
        yield build
    finally:
        vars(limiter).clear()
        vars(limiter).update(saved)
        for app in made:
            with app.app_context():
                db.engine.dispose()


def attempt(client) -> int:
    """One sign-in attempt (an empty form: refused before any database work)."""
    return client.post("/login", data={}).status_code


def test_two_instances_share_one_login_throttle_through_redis(instances, redis_url):
    import redis

    store = redis.Redis.from_url(redis_url)
    store.flushall()
    first, second = instances(2, redis_url)
    assert [attempt(first) for _ in range(3)] == [200, 200, 200]
    assert attempt(second) == 429  # the other instance counts the same client
    assert attempt(first) == 429
    assert store.keys("LIMITS:*auth.login*"), "the counter lives in Redis"
    store.flushall()  # the store forgets: so does every instance
    assert attempt(second) == 200
    store.close()


def test_an_unreachable_store_falls_back_to_counting_in_memory(instances, caplog):
    (client,) = instances(1, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        codes = [attempt(client) for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # no crash, and the throttle still holds
    assert "falling back to in-memory storage" in caplog.text


def verify(client) -> int:
    """One verify API call (a token that is not one: answered without the database)."""
    return client.post("/api/v1/verify", json={"token": "AAAA"}).status_code


def test_the_verify_api_limit_is_shared_through_redis(instances, redis_url):
    import redis

    store = redis.Redis.from_url(redis_url)
    store.flushall()
    first, second = instances(2, redis_url, VERIFY_API_RATE_LIMIT="2 per minute")
    assert [verify(first), verify(second)] == [200, 200]
    assert verify(first) == 429 and verify(second) == 429
    assert store.keys("LIMITS:*passports_api*"), "the counter lives in Redis"
    store.close()


def test_the_verify_api_limit_counts_in_memory_when_the_store_is_unreachable(instances, caplog):
    (client,) = instances(
        1, f"redis://127.0.0.1:{free_port()}/0", VERIFY_API_RATE_LIMIT="2 per minute"
    )
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        codes = [verify(client) for _ in range(3)]
    assert codes == [200, 200, 429]  # no crash, and the limit still holds
    assert "counting passports_api in memory" in caplog.text
