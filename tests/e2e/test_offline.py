"""Offline with the service worker (/sw.js): the server is really stopped, not emulated.

Playwright's offline switch does not cover the worker's own fetches, so these tests run the
app on a server of their own that they stop and start again on the same port (the same
origin, so the same worker and caches). Each request is its own connection (HTTP/1.0): a
stopped server leaves no kept-alive connection answering.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import delete
from werkzeug.serving import WSGIRequestHandler, make_server

from app.auth.models import UserSession
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _buffered, shot, sign_in
from tests.e2e.test_marking import form_url, make_exam, stored
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


class _OneRequestPerConnection(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"


class StoppableServer:
    """The live server's app on a port of its own that a test can stop and start again."""

    def __init__(self, live_server) -> None:
        self.live_server = live_server
        self.port = 0
        self._server = None
        self._thread = None
        self.start()

    def __call__(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def session(self):
        return self.live_server.session()

    def start(self) -> None:
        server = make_server(
            "127.0.0.1",
            self.port,
            _buffered(self.live_server.app),
            threaded=True,
            request_handler=_OneRequestPerConnection,
        )
        self.port = server.server_port
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None


@pytest.fixture
def server(live_server):
    server = StoppableServer(live_server)
    try:
        yield server
    finally:
        if server.running:
            server.stop()


@pytest.fixture
def tablet(browser, request):
    """A browser context that allows service workers (localhost is a secure context)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", service_workers="allow"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def worker_ready(page) -> None:
    """Wait until the worker controls the page and has kept what the page asked for."""
    expect(page.locator("html")).to_have_attribute("data-offline", "ready")
    # a promise, not wait_for_function: the page's CSP forbids the eval its polling needs
    assert page.evaluate(
        """() => navigator.serviceWorker.controller !== null || new Promise((resolve) =>
            navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true)))"""
    )


def cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def kept_paths(page, cache: str) -> list[str]:
    return page.evaluate(
        """async (name) => {
            const cache = await caches.open(name);
            return (await cache.keys()).map((request) => new URL(request.url).pathname);
        }""",
        cache,
    )


def test_a_grid_reloaded_with_the_server_stopped_opens_from_the_device_and_loses_nothing(
    server, tablet
):
    page = tablet
    ids = make_exam(server, serial=9410)
    sign_in(page, server, ids["expert"])
    page.goto(form_url(server, ids))
    worker_ready(page)
    assert "grid-v1" in cache_names(page)
    path = urlsplit(form_url(server, ids)).path
    assert path in kept_paths(page, "grid-v1")
    assert "/static/js/marking.js" in kept_paths(page, "grid-v1")

    page.locator("#cell-0-0").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.keyboard.insert_text("0,75")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_have_text("All saved")

    server.stop()
    page.reload()  # nothing unsaved: no question; the form comes from the device
    expect(page.locator("#marking-grid")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("A1")
    # the copy is from the first visit; what this device saved since is laid over it
    expect(page.locator("#cell-0-0")).to_have_value("1")
    expect(page.locator("#cell-1-0")).to_have_value("0,75")
    expect(page.locator("td.cell.pending")).to_have_count(0)
    shot(page, "offline-grid-from-the-device")

    page.locator("#cell-0-1").focus()
    page.keyboard.insert_text("0,5")
    page.keyboard.press("Enter")
    page.keyboard.insert_text("0,25")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_contain_text("not saved yet")
    expect(page.locator("td.cell.pending")).to_have_count(2)

    server.start()  # the same origin again: the queue goes out on its next try
    expect(page.locator("#save-status")).to_have_text("All saved", timeout=45_000)
    first, second, _third = ids["enrolments"]
    values = stored(server, ids)
    assert values[(first, ids["aspects"]["A1.1"], 0)][0] == 100
    assert values[(second, ids["aspects"]["A1.1"], 0)][0] == 75
    assert values[(first, ids["aspects"]["A1.2"], 0)][0] == 50
    assert values[(second, ids["aspects"]["A1.2"], 0)][0] == 25
    assert len(values) == 4

    page.reload()  # online: the network's page, with every mark
    expect(page.locator("#cell-1-1")).to_have_value("0.25")
    expect(page.locator("#cell-0-0")).to_have_value("1.00")

    # signing out deletes the cached grid (it holds names); the verify cache is not its business
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash-success")).to_contain_text("You have signed out")
    assert not [name for name in cache_names(page) if name.startswith("grid-")]
    assert (
        page.evaluate(
            "Object.keys(localStorage).filter((key) => key.startsWith('skills-passport:saved:'))"
        )
        == []
    )

    server.stop()
    with pytest.raises(PlaywrightError, match=r"net::ERR_"):
        page.goto(form_url(server, ids))  # nothing kept: the browser's own error, no names


def test_the_next_person_on_a_tablet_never_sees_the_kept_grid(server, tablet):
    page = tablet
    ids = make_exam(server, serial=9420)
    sign_in(page, server, ids["expert"])
    page.goto(form_url(server, ids))
    worker_ready(page)
    assert "grid-v1" in cache_names(page)

    # the expert walks away without signing out; the session ends on the server
    with server.session() as session:
        session.execute(delete(UserSession))
    page.goto(form_url(server, ids))  # to the sign-in page: a page of nobody
    expect(page).to_have_url(re.compile(r"/login\?next="))
    worker_ready(page)
    assert not [name for name in cache_names(page) if name.startswith("grid-")]


def test_the_verify_page_works_after_one_visit_with_the_server_stopped(server, tablet, tokens):
    page = tablet
    page.goto(server(f"/V#{tokens['genuine']}"))
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")
    expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
    worker_ready(page)
    kept = kept_paths(page, "verify-v1")
    for path in (
        "/V",
        "/.well-known/jwks.json",
        "/.well-known/skills-passport/trust-list.jws",
        "/status/message",
        "/static/js/verify-page.js",
        "/static/passports/verify.js",
    ):
        assert path in kept, path

    server.stop()
    page.reload()
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", "genuine")
    expect(page.locator('[data-check="ok"]').first).to_contain_text("Signature verified")
    # signature and scope from the kept trust list: the key may certify this competence
    expect(page.locator("#checks")).to_contain_text("national trust list allows")
    # the status list kept with the page answers, and the page says how old it is
    expect(page.locator("#checks")).to_contain_text(re.compile(r"It was signed \d+ min ago"))
    expect(page.locator(".holder-name")).to_be_visible()
    # the skills profile comes from the token itself
    expect(page.locator("#passport")).to_contain_text("From the QR code alone")
    shot(page, "offline-verify-page")


@pytest.mark.parametrize(
    ("locale", "says"),
    [
        ("en-US", "signed 3 days ago: too old to tell"),
        ("kk-KZ", "3 күн бұрын қол қойылған: паспорттың"),
        ("ru-RU", "подписан 3 дн. назад: он слишком старый"),
    ],
)
def test_offline_a_status_list_too_old_leaves_the_verdict_amber_and_says_its_age(
    server,
    browser,
    tokens,
    locale,
    says,
):
    context = browser.new_context(locale=locale, service_workers="allow")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(server(f"/V#{tokens['genuine']}"))
        expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
        worker_ready(page)

        server.stop()
        page.clock.install(time=datetime.now(UTC) + timedelta(days=3))  # the phone, 3 days on
        page.reload()
        expect(page.locator("#verify")).to_have_attribute("data-done", "true")
        expect(page.locator("#verdict")).to_have_attribute("data-status", "unchecked")
        # the signature and the trust list still check out; the status list is what is old
        expect(page.locator('[data-check="ok"]')).to_have_count(2)
        expect(page.locator("#checks")).to_contain_text(says)
        expect(page.locator(".verdict-ok")).to_have_count(0)
        shot(page, f"offline-verify-page-old-status-list-{locale}")
    finally:
        context.close()


def test_on_plain_http_nothing_is_registered_and_the_grid_works_as_before(server, browser):
    ids = make_exam(server, serial=9430)
    rules = "--host-resolver-rules=MAP college.test 127.0.0.1"
    insecure = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules]
    )
    try:
        page = insecure.new_page(locale="en-US")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        base = f"http://college.test:{server.port}"
        page.goto(base + "/login")
        page.locator("#email").fill(ids["expert"])
        page.locator("#password").fill(PASSWORD)
        page.locator("#password").press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(base + urlsplit(form_url(server, ids)).path)
        assert page.evaluate("window.isSecureContext") is False
        assert page.evaluate("'serviceWorker' in navigator") is False
        page.locator("#cell-0-0").focus()
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        expect(page.locator("#save-status")).to_have_text("All saved")
        expect(page.locator("html")).not_to_have_attribute("data-offline", "ready")
        assert problems == []
    finally:
        insecure.close()
