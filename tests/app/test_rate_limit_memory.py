"""In-memory rate-limit counters (app/rate_limit_memory.py): the same limits, no threads."""

from __future__ import annotations

import time

import limits.storage.memory
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.rate_limit_memory import SweptMemoryStorage


class CountedTimer:
    started = 0

    def __init__(self, *args, **kwargs) -> None:
        pass

    def start(self) -> None:
        CountedTimer.started += 1

    def is_alive(self) -> bool:
        return False

    def cancel(self) -> None:
        pass


def test_memory_is_served_by_the_swept_storage(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "swept-memory://"
    assert isinstance(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]), SweptMemoryStorage)


def test_counting_limits_as_before_and_starts_no_thread(monkeypatch):
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", CountedTimer)
    storage = SweptMemoryStorage()
    started = CountedTimer.started
    window = FixedWindowRateLimiter(storage)
    two = parse("2 per minute")
    assert [window.hit(two, "client-a") for _ in range(3)] == [True, True, False]
    assert window.hit(two, "client-b")
    for _ in range(200):
        window.hit(parse("1000 per minute"), "client-c")
    assert CountedTimer.started == started  # limits' own storage starts one every 10 ms


def test_expired_counters_are_swept_at_most_once_a_second():
    storage = SweptMemoryStorage()
    storage.incr("old", 60)
    storage.expirations["old"] = time.time() - 1  # its window is over
    storage._next_sweep = time.monotonic() + 60  # a sweep ran just now
    storage.incr("new", 60)
    assert "old" in storage.storage
    storage._next_sweep = 0.0  # the next sweep is due
    storage.incr("new", 60)
    assert "old" not in storage.storage and storage.get("new") == 2
