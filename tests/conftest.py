"""Shared fixtures: one migrated database per run, every test rolled back.

``--db=sqlite`` (default) uses a temporary SQLite file; ``--db=postgres`` starts
a throwaway PostgreSQL cluster from the machine's binaries (tests/pg.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.pg import PostgresUnavailable, TempCluster, create_database

TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
    "IIN_HASH_KEY": "test-iin-hash-key-0123456789abcdef01234567",
    "IIN_ENCRYPTION_KEY": "test-iin-encryption-key-0123456789abcdef",
    "KEY_ENCRYPTION_SECRET": "test-key-encryption-secret-0123456789abc",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("TEST_DB", "sqlite"),
        help="database backend for the suite",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def database_server(request: pytest.FixtureRequest):
    """Yield a URL factory: ``make(name)`` gives a fresh, empty database."""
    backend = request.config.getoption("--db")
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="skills-test-"))
        yield lambda name: f"sqlite:///{folder / (name + '.db')}"
        return
    try:
        cluster = TempCluster()
        admin_url = cluster.start()
    except PostgresUnavailable as exc:
        pytest.exit(f"PostgreSQL run impossible: {exc}", returncode=3)
    try:
        yield lambda name: create_database(admin_url, name)
    finally:
        cluster.stop()


# the development trust anchor of every test app (never the project's instance/ folder)
_ANCHOR_DIR: list[Path] = []


def development_anchor_path() -> Path:
    """Where the test apps' development trust anchor lives (one per test run)."""
    if not _ANCHOR_DIR:
        _ANCHOR_DIR.append(Path(tempfile.mkdtemp(prefix="skills-anchor-")))
    return _ANCHOR_DIR[0] / "dev-trust-anchor.pem"


def make_app(database_url: str, **overrides):
    from app import create_app

    config = {
        "DEVELOPMENT_TRUST_ANCHOR": str(development_anchor_path()),
        "TESTING": True,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": "https://skills.example.kz",
        # tests read English pages unless they ask for another language
        "DEFAULT_LOCALE": "en",
        **TEST_SECRETS,
        **overrides,
    }
    return create_app(config)


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def install_development_list(app) -> None:
    """Create the development anchor and install a development trust list (committed).

    Every signing key a test creates joins the list at once (``keys.generate_key`` in
    development), inside the test's rolled-back transaction.
    """
    from app.extensions import db
    from passports.services import trust_lists
    from passports.settings import PassportSettings

    with app.app_context():
        settings = PassportSettings.for_app(app)
        trust_lists.ensure_development_anchor(settings.development_anchor)
        trust_lists.sign_development_list(db.session, settings)
        db.session.commit()
        trust_lists.clear_cache(settings)


@pytest.fixture(scope="session")
def _app(database_server):
    app = make_app(database_server("skills_test"))
    migrate(app)
    install_development_list(app)
    yield app
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app):
    """The app, with ``db.session`` bound to a connection whose transaction is rolled back."""
    from app.extensions import Session, db
    from passports.services import trust_lists
    from passports.settings import PassportSettings

    # a trust list parsed in an earlier test may have been rolled back with it
    trust_lists.clear_cache(PassportSettings.for_app(_app))
    with _app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"class_": Session, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        try:
            yield _app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def db(app):
    from app.extensions import db as database

    return database


@pytest.fixture
def session(db):
    return db.session


@pytest.fixture
def sign_in(app, client):
    """Sign a test client in through the login form, and return the user.

    ``sign_in(user)``, or ``sign_in("admin", **attrs)`` for a new ``UserFactory`` user of
    that role. ``client=`` signs in another client (default: the test's ``client``),
    ``lang=`` sets the language cookie first, ``password=`` another password. Signing in
    again on a client signs its user out first.
    """
    from flask import g

    from tests.factories import PASSWORD, UserFactory

    signed_in: set[int] = set()

    def sign_in(who, *, client=client, password: str = PASSWORD, lang: str | None = None, **attrs):
        user = UserFactory(role=who, **attrs) if isinstance(who, str) else who
        if id(client) in signed_in:
            client.post("/logout")
        # test requests share the test's app context: flask-login's cached user lives in g
        g.pop("_login_user", None)
        if lang:
            client.set_cookie("lang", lang)
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        g.pop("_login_user", None)
        signed_in.add(id(client))
        return user

    return sign_in


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver per run (it cannot be started twice in one thread)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver
