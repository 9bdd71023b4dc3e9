"""The graduate's pages and files are never stored by a cache (issue 10, item 10)."""

from __future__ import annotations

from passports.services import holders
from passports.settings import current_settings


def test_the_graduates_pages_and_files_are_no_store(client, session, issued):
    passport = issued.passport
    token = holders.private_link_token(current_settings(), passport)
    for path in (f"/my/{token}", f"/my/{token}/credential.jwt", f"/s/{passport.share_slug}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
