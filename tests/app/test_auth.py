from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.auth import services
from app.auth.models import LoginThrottle
from app.db import utcnow
from tests.factories import PASSWORD, UserFactory


def login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def test_login_and_logout(client):
    user = UserFactory(role="admin", name="Әсел")
    response = login(client, user.email)
    assert response.status_code == 302
    page = client.get("/dashboard")
    assert "Әсел" in page.get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client):
    user = UserFactory()
    response = login(client, user.email, "nope-nope-nope")
    assert response.status_code == 401
    unknown = login(client, "nobody@example.kz", "nope-nope-nope")
    assert unknown.status_code == 401


def test_repeated_failures_lock_the_account_for_that_address(app, client, session):
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, user.email, "wrong-password!").status_code == 401
    # even the right password is refused while locked
    assert login(client, user.email).status_code == 429
    for throttle in session.scalars(select(LoginThrottle)):
        throttle.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert login(client, user.email).status_code == 302


def test_inactive_user_cannot_sign_in(client):
    user = UserFactory(active=False)
    assert login(client, user.email).status_code == 401


def test_password_change_logs_out_other_sessions(app, client, session):
    user = UserFactory()
    login(client, user.email)
    assert client.get("/dashboard").status_code == 200
    services.set_password(session, user, "another-long-password")
    session.flush()
    # test requests share the test's app context; a real request starts without a cached user
    g.pop("_login_user", None)
    assert client.get("/dashboard").status_code == 302


def test_reset_token_works_once(app, session):
    user = UserFactory()
    tokens = services.ResetTokens.from_config(app.config)
    token = tokens.issue(user)
    assert tokens.user_for(session, token) == user
    services.set_password(session, user, "brand-new-password")
    assert tokens.user_for(session, token) is None


@pytest.mark.parametrize("password", ["", "short"])
def test_weak_passwords_are_refused(session, password):
    with pytest.raises(services.AccountError):
        services.create_user(
            session, email="x@example.kz", name="X", role="expert", password=password
        )


def test_cli_creates_user_with_password_from_stdin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "New@Example.kz", "--name", "Жаңа", "--role", "expert"],
        input="a-long-password-here\n",
    )
    assert result.exit_code == 0, result.output
    user = services.find_user(session, "new@example.kz")
    assert user is not None and user.check_password("a-long-password-here")


def test_cli_rejects_unknown_centre(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "m@example.kz", "--name", "M", "--role",
              "centre_manager", "--centre", "NOPE"],
        input="a-long-password-here\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--centre" in result.output
