"""Cache-Control: no-store on staff pages and on pages with private links or personal
data (issue 10, item 10)."""

from __future__ import annotations

from app.auth import services
from app.auth.permissions import view_policy
from tests.factories import UserFactory


def staff_pages(app) -> list[str]:
    """Every staff GET route without URL parameters (lists, dashboards, forms)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and view_policy(app, rule.endpoint) != "public"
    )


def test_every_staff_page_is_no_store(sign_in, app, client):
    pages = staff_pages(app)
    assert "/admin/users" in pages and "/reports" in pages
    sign_in("admin")
    for path in pages:
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)


def test_a_staff_url_asked_anonymously_is_no_store_too(app, client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_user_gets_no_store_everywhere(sign_in, client):
    sign_in("expert")
    for path in ("/", "/stats", "/dashboard", "/no-such-page"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_anonymous_public_pages_keep_their_caching(client):
    assert "Cache-Control" not in client.get("/stats").headers
    assert "Cache-Control" not in client.get("/login").headers
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["Cache-Control"].startswith("public")


def test_the_password_reset_page_is_no_store(app, client, session):
    user = UserFactory()
    token = services.ResetTokens.from_config(app.config).issue(user)
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
