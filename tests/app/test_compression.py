"""Gzip for static files and public pages only (app/compression.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

from app.config import PROJECT_ROOT

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
CSS = "/static/css/app.css"


def test_a_static_file_goes_out_gzipped_and_revalidates_with_its_own_etag(client):
    original = (PROJECT_ROOT / "app" / "static" / "css" / "app.css").read_bytes()
    with client.get(CSS, headers=GZIP) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert "Accept-Ranges" not in response.headers
        body = response.get_data()
        assert gzip.decompress(body) == original
        assert int(response.headers["Content-Length"]) == len(body) < len(original) / 2
        etag = response.headers["ETag"]
    assert etag.endswith('-gzip"')
    with client.get(CSS, headers={**GZIP, "If-None-Match": etag}) as again:
        assert again.status_code == 304
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
    # the blueprint's static folder (the page's verifier module) too
    with client.get("/static/passports/verify.js", headers=GZIP) as module:
        assert module.headers["Content-Encoding"] == "gzip"


def test_a_client_that_does_not_ask_for_gzip_gets_the_file_as_it_is(client):
    with client.get(CSS) as response:
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == Path(PROJECT_ROOT / "app/static/css/app.css").read_bytes()
        assert "Accept-Encoding" in response.headers["Vary"]


def test_the_verify_page_is_gzipped_for_a_visitor_not_for_a_signed_in_user(client, sign_in):
    visitor = client.get("/V", headers=GZIP)
    assert visitor.headers["Content-Encoding"] == "gzip"
    assert b'id="verify-data"' in gzip.decompress(visitor.get_data())
    sign_in("admin")
    # the sign-out form's CSRF token beside the query string the page repeats: no gzip
    staff = client.get("/V?next=x", headers=GZIP)
    assert "Content-Encoding" not in staff.headers
    assert b'id="verify-data"' in staff.get_data()


def test_pages_with_forms_are_never_gzipped(client):
    for path in ("/login", "/check"):
        response = client.get(path, headers=GZIP)
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers, path
