"""Browser tests: a live server on its own migrated database, and Debian's Chromium.

Fixtures for every e2e test:

- ``live_server`` (session): the app served by werkzeug on 127.0.0.1 (a free port) in a
  thread, on a fresh database of the suite's backend (``--db``), with CSRF on as in
  production. ``live_server.url`` is the base URL, ``live_server.app`` the Flask app;
  ``live_server.session()`` is a context manager giving a database session that commits.
- ``browser`` (module): headless Chromium through Playwright.
- ``page`` (function): a fresh context and page (1280×900, English); a failing test
  leaves ``test-artifacts/<test name>-failed.png``.
- ``shot(page, name)``: save a screenshot under ``test-artifacts/`` (git-ignored).
- ``sign_in(page, live_server, email)``: sign in through the login form.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from flask import Flask

from passports.services import issuance, keys, secrets
from passports.settings import current_settings
from tests.conftest import CHROMIUM, make_app, migrate
from tests.factories import PASSWORD
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    app: Flask

    def __call__(self, path: str) -> str:
        """Absolute URL of ``path`` on the live server."""
        return self.url + path

    @contextmanager
    def session(self) -> Iterator:
        """A database session in an app context; committed when the block ends."""
        from app.extensions import db

        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


@pytest.fixture(scope="session")
def live_server(database_server) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    # college.test: the plain-http host of the no-WebCrypto test (test_passport_page.py)
    app = make_app(database_server("e2e_live"), WTF_CSRF_ENABLED=True, TRUSTED_HOSTS="college.test")
    migrate(app)
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()


def _buffered(wsgi_app):
    """Read each response body fully and close it before werkzeug's server writes it.

    When the browser drops a connection (a page closed while fonts load), werkzeug's
    development server raises while draining the socket and never calls ``close()``
    on the response, leaking the open file of ``send_file`` as a ResourceWarning.
    Buffering closes every response in the app's own frame.
    """

    def application(environ, start_response):
        body = wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return application


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        if request.node.stash.get(_FAILED, False):
            shot(page, f"{request.node.name}-failed")
        context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live_server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form (keyboard only)."""
    page.goto(live_server("/login"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="module")
def tokens(live_server) -> dict[str, str]:
    """Tokens of three passports of one exam (per test module): genuine, revoked, superseded.

    Used by the QR page tests and the offline verify page tests.
    """
    with live_server.session() as session:
        keys.ensure_key(session, current_settings())
        exam = finalised_exam(
            [Sitting(names=DEMO_NAME, share=Fraction(7, 8)), Sitting(), Sitting()],
            start=date(2026, 5, 20),
        )
        genuine, revoked, superseded = issuance.issue_for_exam(
            session, current_settings(), exam.exam
        ).new_passports
        issuance.revoke(session, revoked, "Выдан по ошибке")
        issuance.reissue(session, current_settings(), superseded)
        return {
            "genuine": genuine.token,
            "revoked": revoked.token,
            "superseded": superseded.token,
            "genuine_number": genuine.number,
            "genuine_code": secrets.printed_code(
                current_settings(), genuine.number, genuine.code_nonce
            ),
        }
