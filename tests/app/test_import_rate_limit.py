"""Imports share one budget per signed-in user: IMPORT_RATE_LIMIT (default 20 a minute)."""

from __future__ import annotations

import io

import pytest

from app.extensions import limiter
from tests.assessments.marking_setup import build_exam

XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def limited(app, monkeypatch):
    """The test app with rate limiting on (in-memory counters, empty before and after).

    The limiter is one object: an app built with limits on gives it its counters, and the
    test app (whose database transaction holds the test's data) then counts with them.
    """
    from app.extensions import db
    from tests.conftest import make_app

    assert app.config["IMPORT_RATE_LIMIT"] == "20 per minute"  # the documented default
    for name in ("enabled", "_storage", "_limiter"):
        monkeypatch.setattr(limiter, name, getattr(limiter, name, None))  # restored afterwards
    other = make_app(app.config["DATABASE_URL"], RATELIMIT_ENABLED=True)
    with other.app_context():
        db.engine.dispose()
    limiter.reset()
    yield app
    limiter.reset()


def upload(client, url: str, name: str = "f.csv", content: bytes = b"x\n", headers=None):
    return client.post(
        url,
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def test_the_21st_import_of_a_user_in_a_minute_gets_429_on_every_import_page(
    limited, sign_in, client, session
):
    sign_in("admin")
    setup = build_exam(session)
    pages = [
        "/admin/reference/colleges/import",
        "/candidates/import",
        "/schemes/import",
        f"/exams/{setup.exam.id}/enrol",
    ]
    codes = [upload(client, pages[n % len(pages)]).status_code for n in range(20)]
    assert 429 not in codes
    for url in pages:  # the budget is shared: every import page now refuses
        assert upload(client, url).status_code == 429
    # the pages themselves still open, and another user has a budget of their own
    assert client.get("/candidates/import").status_code == 200
    sign_in("admin")
    assert upload(client, pages[0]).status_code != 429


def test_the_21st_marks_import_in_a_minute_gets_429_problem_json(limited, sign_in, client, session):
    setup = build_exam(session)
    sign_in(setup.experts[0])
    url = f"/api/v1/exams/{setup.exam.id}/marks/import"
    number = setup.enrolments[0].candidate_number
    row = [{"candidate": number, "aspect": "A1.1", "judge": None, "score": "1"}]
    codes = [client.post(url, json=row, headers=XHR).status_code for _ in range(20)]
    assert codes == [200] * 20
    over = client.post(url, json=row, headers=XHR)
    assert over.status_code == 429
    assert over.mimetype == "application/problem+json"
    # a file upload is an import too
    assert upload(client, url, "m.csv", b"x\n", headers=XHR).status_code == 429
