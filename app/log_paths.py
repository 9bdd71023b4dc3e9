"""What a log line may say about a request's path: the route, never a secret in it.

Shared by the request log (app.observability) and the error log (app.errors); it imports
neither, so the two can import it and each other's neighbours without a cycle.
"""

from __future__ import annotations

import re

from flask import request

# path segments of unmatched requests that are blanked: the one after a prefix whose
# routes carry a secret, long runs of digits (an IIN), and long opaque strings (tokens)
_SECRET_PREFIXES = frozenset({"my", "s"})
_DIGITS = re.compile(r"\d{6,}")
_LONGEST_SEGMENT = 24
_LONGEST_PATH = 200
_REDACTED = "<redacted>"


def loggable_path(path: str) -> str:
    """A path that matched no route, with every segment that could hold a secret blanked."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        after_secret = index > 0 and parts[index - 1] in _SECRET_PREFIXES and part
        if after_secret or len(part) > _LONGEST_SEGMENT or _DIGITS.search(part):
            parts[index] = _REDACTED
    shown = "/".join(parts)
    return shown if len(shown) <= _LONGEST_PATH else shown[:_LONGEST_PATH] + "…"


def loggable_request_path() -> str:
    """The current request's route for an error log line: the URL rule (``/my/<token>``),
    or for a path no route matched, that path with its secret-looking segments blanked."""
    rule = request.url_rule
    return rule.rule if rule is not None else loggable_path(request.path)
