"""Gzip for what a phone downloads on a slow network: the static files and public pages.

Only responses that hold no secret are compressed. A compressed secret (a CSRF token)
beside text an attacker can put into the same response (a query string) leaks through the
response's size (BREACH), so dynamic responses are compressed only when their view says
they are public (``compress_public``); static files always are. A static file is
compressed once per version (its ETag) and kept in memory; its compressed form has its own
ETag, so revalidation still answers 304.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, current_app, request

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    }
)
MIN_BYTES = 1024  # below this, gzip's own header and the extra work cost more than they save
GZIP_SUFFIX = "-gzip"
STATIC_CACHE = "compressed_static_files"  # app.extensions: (path, etag) → gzip bytes
PUBLIC = "_compress_public"


def compress_public(response: Response) -> Response:
    """Mark ``response`` as holding nothing secret, so it may go out compressed."""
    setattr(response, PUBLIC, True)
    return response


def _static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _compress(response: Response) -> Response:
    if not (getattr(response, PUBLIC, False) or _static()):
        return response
    if response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers:
        return response
    response.vary.add("Accept-Encoding")
    if response.status_code != 200 or "gzip" not in request.accept_encodings:
        return response
    etag, weak = response.get_etag()
    if _static() and etag is not None:
        if request.if_none_match.contains(etag + GZIP_SUFFIX):
            response.close()
            not_modified = Response(status=304, headers=response.headers)
            not_modified.set_etag(etag + GZIP_SUFFIX, weak)
            not_modified.headers.pop("Content-Length", None)
            return not_modified
        cache = current_app.extensions.setdefault(STATIC_CACHE, {})
        key = (request.path, etag)
        body = cache.get(key)
        if body is None:
            response.direct_passthrough = False
            body = cache[key] = gzip.compress(response.get_data(), compresslevel=9, mtime=0)
        response.close()
        response.direct_passthrough = False
        response.set_etag(etag + GZIP_SUFFIX, weak)
    else:
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        # level 1: a third of the time of level 6 for a few per cent more bytes; static
        # files are compressed once, at 9
        body = gzip.compress(data, compresslevel=1, mtime=0)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_compress)
