"""In-memory rate-limit counters that never start a thread on the request path.

limits' ``MemoryStorage`` drops expired counters from a 10 ms ``threading.Timer`` that it
starts again, from inside ``incr``, whenever the previous one has finished: under steady
traffic a request starts a thread every few requests (2 of every 3 verify API calls on
``make run``'s server), which costs more than the counting itself. Expired counters are
also dropped when read, so counting does not need the timer: this storage sweeps expired
entries at most once a second, in the request that finds the sweep due. ``memory://`` (the
default ``RATELIMIT_STORAGE_URI``) is served by it (app/config.py).
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0
SCHEME = "swept-memory"


class SweptMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expired entries are swept inline, once a second at most."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    # limits calls this (a private, name-mangled hook) before every change of a counter
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()
