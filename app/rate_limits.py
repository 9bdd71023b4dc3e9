"""Rate limits keyed by the signed-in user, for what a signed-in user can repeat cheaply.

Every import (marks, candidates, enrolments, reference data, schemes; pages and API) shares
one budget per user, ``IMPORT_RATE_LIMIT`` (default "20 per minute"): an import answers
row by row, so its speed bounds how fast anyone can probe the data behind it. Over the
budget the request gets 429 (problem+json under ``/api/``), before the file is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])


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
