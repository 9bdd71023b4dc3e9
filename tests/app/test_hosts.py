"""Host header checks and links built from PUBLIC_BASE_URL (issue 10, item 4)."""

from __future__ import annotations

import pytest

from app import mail
from app.hosts import host_name, parse_host_list
from tests.conftest import make_app
from tests.factories import UserFactory


@pytest.fixture
def production_app(app):
    """A production-mode app on the same database, with one extra trusted host."""
    return make_app(
        app.config["DATABASE_URL"],
        ENVIRONMENT="production",
        TRUSTED_HOSTS="alias.example.kz, Skills.Internal:8443",
    )


@pytest.fixture
def outbox(app, monkeypatch):
    """Mail configured; every e-mail sent lands here instead of on an SMTP server."""
    sent: list[tuple[str, str, str]] = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.kz")
    monkeypatch.setitem(app.config, "MAIL_FROM", "noreply@example.kz")
    monkeypatch.setattr(
        mail, "deliver", lambda settings, to, subject, body: sent.append((to, subject, body))
    )
    return sent


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Skills.Example.KZ", "skills.example.kz"),
        ("skills.example.kz:8443", "skills.example.kz"),
        ("skills.example.kz.", "skills.example.kz"),
        ("[::1]:5000", "::1"),
        ("::1", "::1"),
        ("", ""),
    ],
)
def test_host_name_drops_port_and_case(raw, name):
    assert host_name(raw) == name


def test_trusted_hosts_setting_is_a_list_of_names():
    assert parse_host_list(" a.example.kz,B.example.kz:80  c.example.kz ,,") == (
        "a.example.kz",
        "b.example.kz",
        "c.example.kz",
    )


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("skills.example.kz", 200),
        ("SKILLS.example.kz:443", 200),
        ("alias.example.kz", 200),
        ("skills.internal", 200),
        ("evil.example", 400),
        ("skills.example.kz.evil.example", 400),
        # production does not answer loopback names unless they are listed
        ("127.0.0.1:8000", 400),
        ("localhost", 400),
    ],
)
def test_production_answers_only_its_own_hosts(production_app, host, status):
    response = production_app.test_client().get("/login", headers={"Host": host})
    assert response.status_code == status


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_answer_any_host(production_app, path):
    response = production_app.test_client().get(path, headers={"Host": "10.0.0.11:8000"})
    assert response.status_code != 400


def test_unknown_host_gets_problem_json_under_api(production_app):
    response = production_app.test_client().post(
        "/api/v1/verify", json={}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("host", "status"),
    [("localhost", 200), ("127.0.0.1:5000", 200), ("[::1]:5000", 200), ("evil.example", 400)],
)
def test_development_accepts_loopback_only(client, host, status):
    assert client.get("/login", headers={"Host": host}).status_code == status


def test_reset_link_comes_from_public_base_url_not_the_host_header(client, outbox):
    user = UserFactory()
    # a Host the app does answer (loopback in development), but not the public address
    response = client.post(
        "/password/forgot", data={"email": user.email}, headers={"Host": "127.0.0.1:5000"}
    )
    assert response.status_code == 302
    response.close()
    [(to, _subject, body)] = outbox
    assert to == user.email
    links = [word for word in body.split() if "://" in word]
    assert len(links) == 1
    assert links[0].startswith("https://skills.example.kz/password/reset/")


def test_poisoned_host_mails_nothing(client, outbox):
    user = UserFactory()
    response = client.post(
        "/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    response.close()
    assert outbox == []


def test_reset_mail_is_sent_after_the_response(client, outbox):
    user = UserFactory()
    response = client.post("/password/forgot", data={"email": user.email})
    # the answer is complete and nothing has been sent yet: the send waits for the close
    assert response.status_code == 302
    assert outbox == []
    response.close()
    assert [to for to, _subject, _body in outbox] == [user.email]


def test_known_and_unknown_addresses_get_the_same_answer(client, outbox):
    user = UserFactory()
    known = client.post("/password/forgot", data={"email": user.email})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.kz"})
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    known.close()
    unknown.close()
    assert [to for to, _subject, _body in outbox] == [user.email]


def test_a_failing_smtp_server_is_logged_not_shown(app, client, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.kz")
    monkeypatch.setitem(app.config, "MAIL_FROM", "noreply@example.kz")

    def refuse(settings, to, subject, body):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr(mail, "deliver", refuse)
    user = UserFactory()
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    response.close()
    assert "could not send an e-mail" in caplog.text
