"""Server-side sessions: sign-out, password/role/access changes, idle time and lifetime
(issue 10, item 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import sessions
from app.auth.models import UserSession
from app.db import utcnow
from tests.assessments.marking_setup import build_exam
from tests.factories import PASSWORD, UserFactory

XHR = {"X-Requested-With": "XMLHttpRequest"}


def signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def copy_of(app, client):
    """A second browser holding a copy of ``client``'s cookies (a stolen cookie)."""
    other = app.test_client()
    for name in ("session",):
        cookie = client.get_cookie(name)
        assert cookie is not None
        other.set_cookie(name, cookie.value)
    return other


def rows_of(session, user) -> list[UserSession]:
    return session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(sign_in, app, client, session):
    user = UserFactory()
    sign_in(user)
    thief = copy_of(app, client)
    assert signed_in(thief)
    assert client.post("/logout").status_code == 302
    assert not signed_in(client)
    assert not signed_in(thief)
    assert rows_of(session, user) == []


def test_the_cookie_holds_a_token_whose_hash_only_is_stored(sign_in, app, client, session):
    user = UserFactory()
    sign_in(user)
    [row] = rows_of(session, user)
    with client.session_transaction() as cookie_session:
        token = cookie_session["sid"]
    assert row.token_hash != token
    assert sessions.find_session(session, token) == row


def test_each_sign_in_is_its_own_session(sign_in, app, client, session):
    user = UserFactory()
    sign_in(user)
    laptop = app.test_client()
    sign_in(user, client=laptop)
    assert len(rows_of(session, user)) == 2
    laptop.post("/logout")
    assert signed_in(client)
    assert not signed_in(laptop)


def test_changing_ones_password_ends_every_other_session(sign_in, app, client, session):
    user = UserFactory()
    sign_in(user)
    other_browser = app.test_client()
    sign_in(user, client=other_browser)
    copied = copy_of(app, client)
    response = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert signed_in(client)  # the browser that changed it gets a fresh session
    assert not signed_in(other_browser)
    assert not signed_in(copied)  # nor does the old cookie of the same browser work
    assert len(rows_of(session, user)) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"role": "chief_expert"},
        {"active": ""},
        pytest.param({}, id="nothing-that-matters"),
    ],
)
def test_an_administrator_changing_role_or_access_ends_the_users_sessions(
    sign_in, app, client, session, change
):
    admin = UserFactory(role="admin")
    user = UserFactory(role="expert")
    victim = app.test_client()
    sign_in(user, client=victim)
    sign_in(admin)
    form = {"email": user.email, "name": "Renamed", "role": "expert", "centre_id": 0,
            "college_id": 0, "active": "y", **change}  # fmt: skip
    if change.get("active") == "":
        del form["active"]
    response = client.post(f"/admin/users/{user.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    # renaming alone leaves the user signed in; a new role or lost access does not
    assert signed_in(victim) == (change == {})


def test_an_administrator_resetting_a_password_ends_the_users_sessions(
    sign_in, app, client, session
):
    admin = UserFactory(role="admin")
    user = UserFactory()
    victim = app.test_client()
    sign_in(user, client=victim)
    sign_in(admin)
    response = client.post(
        f"/admin/users/{user.id}/password",
        data={"pw-password": "reset-by-admin-123", "pw-confirm": "reset-by-admin-123"},
    )
    assert response.status_code == 302
    assert not signed_in(victim)
    assert rows_of(session, user) == []


def _age(session, user, *, idle=None, age=None):
    [row] = rows_of(session, user)
    if idle is not None:
        row.last_seen_at = utcnow() - idle
    if age is not None:
        row.created_at = utcnow() - age
    session.flush()
    return row


def test_an_idle_session_ends_after_the_idle_time(sign_in, app, client, session):
    user = UserFactory()
    sign_in(user)
    _age(session, user, idle=timedelta(minutes=29))
    assert signed_in(client)  # 29 minutes idle: still open, and the clock starts again
    _age(session, user, idle=timedelta(minutes=30, seconds=1))
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.location
    assert rows_of(session, user) == []


def test_the_idle_time_is_a_setting(sign_in, app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    user = UserFactory()
    sign_in(user)
    _age(session, user, idle=timedelta(minutes=6))
    assert not signed_in(client)


def test_a_session_ends_at_its_lifetime_however_busy(sign_in, app, client, session, monkeypatch):
    user = UserFactory()
    sign_in(user)
    _age(session, user, idle=timedelta(minutes=1), age=timedelta(hours=11, minutes=59))
    assert signed_in(client)
    _age(session, user, age=timedelta(hours=12))
    assert not signed_in(client)
    monkeypatch.setitem(app.config, "SESSION_LIFETIME_HOURS", 24)
    sign_in(user)
    _age(session, user, age=timedelta(hours=23))
    assert signed_in(client)


def test_saving_marks_counts_as_activity(sign_in, app, client, session):
    setup = build_exam(session)
    expert = setup.experts[0]
    sign_in(expert)
    row = _age(session, expert, idle=timedelta(minutes=25))
    body = {"enrolment_id": setup.enrolments[0].id, "aspect": "A1.1", "seat": 0, "value": "1",
            "expected_version": None}  # fmt: skip
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert response.status_code == 200, response.json
    session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    # 25 + 25 minutes after sign-in, but only 25 since the save: still signed in
    _age(session, expert, idle=timedelta(minutes=25))
    body.update(value="0", expected_version=1)
    again = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert again.status_code == 200, again.json


def test_an_ended_session_gets_401_from_the_api(sign_in, app, client, session):
    setup = build_exam(session)
    expert = setup.experts[0]
    sign_in(expert)
    _age(session, expert, idle=timedelta(hours=1))
    body = {"enrolment_id": setup.enrolments[0].id, "aspect": "A1.1", "seat": 0, "value": "1",
            "expected_version": None}  # fmt: skip
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_signing_in_clears_other_peoples_expired_sessions(sign_in, app, client, session):
    stale, fresh = UserFactory(), UserFactory()
    sign_in(stale)
    _age(session, stale, idle=timedelta(hours=2))
    sign_in(fresh, client=app.test_client())
    assert rows_of(session, stale) == []
    assert len(rows_of(session, fresh)) == 1
