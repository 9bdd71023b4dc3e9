"""Sign-in throttling per account and client address; unknown accounts answered the same
(issue 10, item 10)."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import LoginThrottle
from tests.factories import PASSWORD, UserFactory

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}
LOCKED = "Too many failed attempts. Wait a few minutes and try again."
WRONG = "Wrong email or password."
BAD = "wrong-password!"


def attempt(client, email, password=BAD, where=ATTACKER):
    response = client.post(
        "/login", data={"email": email, "password": password}, environ_base=where
    )
    return response.status_code, response.get_data(as_text=True)


def test_an_attacker_cannot_lock_the_owner_out(app, client):
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attempt(client, user.email)[0] == 401
    # the attacker's address is refused, even with the right password …
    assert attempt(client, user.email, PASSWORD)[0] == 429
    # … the owner, elsewhere, signs in as usual
    status, _page = attempt(app.test_client(), user.email, PASSWORD, where=OWNER)
    assert status == 302


def test_a_lock_looks_the_same_for_an_account_that_does_not_exist(app, client):
    user = UserFactory()
    answers = {}
    for email in (user.email, "nobody-here@example.kz"):
        seen = [attempt(client, email) for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
        answers[email] = [(status, LOCKED in page, WRONG in page) for status, page in seen]
    known, unknown = answers.values()
    assert known == unknown
    assert known[-1] == (429, True, False)
    assert known[0] == (401, False, True)


def test_the_address_typed_is_matched_as_the_account_is(app, client):
    UserFactory(email="case@example.kz")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        attempt(client, "  CASE@example.kz ")
    assert attempt(client, "case@example.kz", PASSWORD)[0] == 429


def test_a_success_clears_the_count_and_nothing_readable_is_stored(app, client, session):
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        attempt(client, user.email)
    [row] = session.scalars(select(LoginThrottle)).all()
    assert user.email not in row.key and "203.0.113.66" not in row.key
    assert attempt(client, user.email, PASSWORD)[0] == 302
    assert session.scalars(select(LoginThrottle)).all() == []
    client.post("/logout")
    # the count starts again from zero
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert attempt(client, user.email)[0] == 401
    assert attempt(client, user.email, PASSWORD)[0] == 302
