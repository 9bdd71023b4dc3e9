"""JSON request bodies: at most MAX_DEPTH levels of nesting.

Python's parser answers a deeply nested document (``[[[[…]]]]``, a few kilobytes) with a
RecursionError, which Flask does not treat as bad JSON: every JSON endpoint answered 500.
Here such a body is refused with 400 (problem+json under /api/) by ``request.get_json()``,
also when the endpoint asked for ``silent=True`` (which turns other bad JSON into None):
the client learns why. No body of this app nests deeper than a few levels.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from werkzeug.exceptions import BadRequest, HTTPException

MAX_DEPTH = 32


class NestedTooDeep(ValueError):
    """The JSON text nests arrays and objects deeper than MAX_DEPTH."""


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests lists and dicts more than ``limit`` levels deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing over-deep documents as invalid JSON (ValueError)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise NestedTooDeep(f"JSON nested more than {MAX_DEPTH} levels deep") from exc
        if nesting_depth_exceeds(value, MAX_DEPTH):
            raise NestedTooDeep(f"JSON nested more than {MAX_DEPTH} levels deep")
        return value


class JSONTooDeep(BadRequest):
    """400 for a body nested deeper than MAX_DEPTH."""


class BoundedRequest(Request):
    """Flask's request whose ``get_json`` refuses an over-deep body with 400 even when silent."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            return super().get_json(force=force, silent=False, cache=cache)
        except JSONTooDeep:
            raise
        except HTTPException:
            if silent:
                return None
            raise

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, NestedTooDeep):
            raise JSONTooDeep(
                gettext(
                    "The JSON body is nested too deeply (more than %(levels)s levels).",
                    levels=MAX_DEPTH,
                )
            )
        return super().on_json_loading_failed(e)
