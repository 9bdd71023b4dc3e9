import pytest

from tests.conftest import make_app


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_scripts_in_pages(client):
    body = client.get("/login").get_data(as_text=True)
    for chunk in body.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head


def test_no_template_holds_inline_event_handlers():
    """script-src 'self' blocks onclick="…" and the like: such a handler never runs."""
    import re
    from pathlib import Path

    handler = re.compile(r"""\son[a-z]+\s*=\s*["']""")
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("templates", "passports/templates")
        if (root / folder).is_dir()
        for path in sorted((root / folder).rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if handler.search(line)
    ]
    assert found == []


def test_production_refuses_weak_secrets(tmp_path, monkeypatch):
    from app import create_app
    from app.config import ConfigError

    for key in ("SECRET_KEY", "IIN_HASH_KEY", "IIN_ENCRYPTION_KEY", "KEY_ENCRYPTION_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "short"})


def test_session_cookie_is_secure_outside_development(database_server):
    app = make_app(database_server("cookies"), ENVIRONMENT="production")
    app.testing = False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_variables_override_defaults(monkeypatch, database_server):
    monkeypatch.setenv("TIMEZONE", "Asia/Aqtobe")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    app = make_app(database_server("envcheck"))
    assert app.config["TIMEZONE"] == "Asia/Aqtobe"
    assert app.config["RATELIMIT_ENABLED"] is False


def test_behind_a_trusted_proxy_the_client_address_comes_from_the_proxy(database_server):
    from app.auth.permissions import public

    app = make_app(database_server("proxy"), TRUSTED_PROXIES=1)
    seen = {}

    @app.get("/_whoami")
    @public
    def whoami():
        from flask import request

        seen["addr"] = request.remote_addr
        return ""

    client = app.test_client()
    client.get(
        "/_whoami",
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert seen["addr"] == "203.0.113.7"
