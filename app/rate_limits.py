"""Rate limits keyed by the signed-in user, for what a signed-in user can repeat cheaply;
``AddressLimit`` for a hot public route.

Every import (marks, candidates, enrolments, reference data, schemes; pages and API) shares
one budget per user, ``IMPORT_RATE_LIMIT`` (default "20 per minute"): an import answers
row by row, so its speed bounds how fast anyone can probe the data behind it. Over the
budget the request gets 429 (problem+json under ``/api/``), before the file is read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests

from app.extensions import limiter
from app.rate_limit_memory import SweptMemoryStorage

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("flask-limiter")
STORE_RETRY_SECONDS = 30.0


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"address:{get_remote_address()}"  # never reached behind @requires


def _import_limit() -> str:
    return current_app.config["IMPORT_RATE_LIMIT"]


def _is_upload() -> bool:
    return request.method != "GET"


def limit_imports(view: F) -> F:
    """Count each POST to an import endpoint against the user's shared import budget.

    Apply under ``@requires``, so a signed-out or unauthorised request never counts.
    """
    return limiter.shared_limit(
        _import_limit, scope="imports", key_func=_user_key, exempt_when=lambda: not _is_upload()
    )(view)


class AddressLimit:
    """One per-address limit counted straight with the limiter's strategy: for a hot route.

    Flask-Limiter works out afresh on every request which limits apply to it; for the
    verify API that resolution cost as much as the counting. Here the one limit is known:
    ``count`` parses the config value once (per value), counts the request under
    ``scope`` for its client address in the limiter's store, and over the limit raises 429
    (problem+json under ``/api/``, the limit as its detail), as Flask-Limiter would. The
    route's blueprint is exempt from Flask-Limiter so it is not counted twice. When the
    store fails (Redis unreachable), requests are counted in this process's memory, and the
    store is tried again after STORE_RETRY_SECONDS, as Flask-Limiter's in-memory fallback
    does (a store that does not answer must not hold up every request).
    """

    def __init__(self, config_key: str, scope: str) -> None:
        self.config_key = config_key
        self.scope = scope
        self._items: dict[str, RateLimitItem] = {}
        self._fallback: RateLimiter | None = None
        self._store_retry_at = 0.0  # after a store failure: memory only until then

    def _item(self) -> RateLimitItem:
        text = current_app.config[self.config_key]
        item = self._items.get(text)
        if item is None:
            item = self._items[text] = parse(text)
        return item

    def count(self) -> None:
        if not limiter.enabled:
            return
        item, key = self._item(), get_remote_address()
        if time.monotonic() < self._store_retry_at:
            allowed = self._memory().hit(item, key, self.scope)
        else:
            try:
                allowed = limiter.limiter.hit(item, key, self.scope)
            except Exception:  # the store's own errors: redis, connection, timeout
                _log.warning("Rate limit storage unreachable: counting %s in memory", self.scope)
                self._store_retry_at = time.monotonic() + STORE_RETRY_SECONDS
                allowed = self._memory().hit(item, key, self.scope)
        if not allowed:
            raise TooManyRequests(str(item))

    def _memory(self) -> RateLimiter:
        if self._fallback is None:
            self._fallback = FixedWindowRateLimiter(SweptMemoryStorage())
        return self._fallback
