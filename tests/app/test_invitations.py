"""Centre managers invite experts for their own centre; the expert sets their own password."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import mail
from app.auth import invitations, services
from app.auth.events import account_events
from app.auth.models import AccountEvent, Invitation, User
from tests.factories import CentreFactory, CollegeFactory, UserFactory

NOW = datetime(2026, 5, 18, 9, 0, tzinfo=UTC)
SETTINGS = invitations.InvitationSettings(max_age=timedelta(hours=168))
NEW_PASSWORD = "Жаңа-құпиясөз-2026"


@pytest.fixture
def centre(session):
    return CentreFactory()


@pytest.fixture
def college(session):
    return CollegeFactory(
        code="C-07", name_kk="Политехникалық колледж", name_en="Polytechnic College"
    )


@pytest.fixture
def manager(session, centre):
    return UserFactory(role="centre_manager", centre_id=centre.id, name="Менеджер Әсел")


def invite(session, manager, college, email="expert@example.kz", now=NOW):
    return invitations.invite_expert(
        session,
        manager=manager,
        email=email,
        name="Сарапшы Ерлан",
        college_id=college.id if college else None,
        settings=SETTINGS,
        now=now,
    )


# --- the service ------------------------------------------------------------------------


def test_an_invited_expert_is_inactive_of_the_managers_centre_and_the_link_is_hashed(
    session, manager, college
):
    user, token = invite(session, manager, college)
    assert (user.role, user.centre_id, user.college_id, user.active) == (
        "expert",
        manager.centre_id,
        college.id,
        False,
    )
    stored = session.scalars(select(Invitation)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash and len(token) >= 40
    assert stored.expires_at == NOW + timedelta(hours=168)
    [event] = account_events(session, user)
    assert (event.action, event.actor) == ("user.invited", manager.email)
    assert "college C-07 Политехникалық колледж" in event.new_value


def test_the_college_is_required(session, manager):
    with pytest.raises(services.AccountError) as caught:
        invite(session, manager, None)
    assert caught.value.field == "college_id"
    assert session.scalars(select(User).where(User.email == "expert@example.kz")).all() == []


@pytest.mark.parametrize("role", ["admin", "chief_expert", "expert"])
def test_only_centre_managers_with_a_centre_invite(session, centre, college, role):
    with pytest.raises(invitations.InvitationRefused):
        invite(session, UserFactory(role=role, centre_id=centre.id), college)
    with pytest.raises(invitations.InvitationRefused):
        invite(session, UserFactory(role="centre_manager", centre_id=None), college)


def test_the_link_works_once_and_sets_the_password(session, manager, college):
    user, token = invite(session, manager, college)
    with pytest.raises(services.AccountError):
        invitations.accept_invitation(session, token, "short", NOW)
    assert invitations.pending_invitation(session, token, NOW) is not None  # not used up
    invitations.accept_invitation(session, token, NEW_PASSWORD, NOW + timedelta(hours=1))
    assert user.active and user.check_password(NEW_PASSWORD)
    assert invitations.pending_invitation(session, token, NOW) is None
    with pytest.raises(invitations.InvitationInvalid):
        invitations.accept_invitation(session, token, "another-password-1", NOW)
    assert account_events(session, user)[0].action == "user.invitation_accepted"


def test_the_link_expires(session, manager, college):
    user, token = invite(session, manager, college)
    late = NOW + timedelta(hours=168)
    assert invitations.pending_invitation(session, token, late) is None
    with pytest.raises(invitations.InvitationInvalid):
        invitations.accept_invitation(session, token, NEW_PASSWORD, late)
    assert not user.active


def test_a_new_link_ends_the_old_one(session, manager, college):
    user, old = invite(session, manager, college)
    new = invitations.renew_invitation(
        session, manager=manager, user=user, settings=SETTINGS, now=NOW
    )
    assert invitations.pending_invitation(session, old, NOW) is None
    assert invitations.pending_invitation(session, new, NOW) is not None
    other = UserFactory(role="centre_manager", centre_id=CentreFactory().id)
    with pytest.raises(invitations.InvitationRefused):
        invitations.renew_invitation(session, manager=other, user=user, settings=SETTINGS, now=NOW)
    invitations.accept_invitation(session, new, NEW_PASSWORD, NOW)
    with pytest.raises(invitations.InvitationRefused):
        invitations.renew_invitation(
            session, manager=manager, user=user, settings=SETTINGS, now=NOW
        )


def test_only_an_administrator_changes_the_college_and_it_is_audited(session, manager, college):
    user, _token = invite(session, manager, college)
    other = CollegeFactory(code="C-09", name_kk="Аграрлық колледж")
    values = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "centre_id": user.centre_id,
        "college_id": other.id,
        "active": user.active,
    }
    with pytest.raises(services.AccountError) as caught:
        services.update_user(session, user, **values, actor=manager)
    assert caught.value.field == "college_id" and user.college_id == college.id
    admin = UserFactory(role="admin")
    services.update_user(session, user, **values, actor=admin)
    assert user.college_id == other.id
    event = account_events(session, user)[0]
    assert (event.action, event.actor, event.old_value, event.new_value) == (
        "user.college_changed",
        admin.email,
        "C-07 Политехникалық колледж",
        "C-09 Аграрлық колледж",
    )


def test_disabling_a_pending_invitee_ends_their_link(session, manager, college):
    user, token = invite(session, manager, college)
    services.update_user(
        session,
        user,
        email=user.email,
        name=user.name,
        role=user.role,
        centre_id=user.centre_id,
        college_id=user.college_id,
        active=False,
        actor=UserFactory(role="admin"),
    )
    assert invitations.pending_invitation(session, token, NOW) is None


# --- the pages --------------------------------------------------------------------------


def invitation_link(page: str) -> str:
    found = re.search(r'id="invitation-link" value="([^"]+)"', page)
    assert found, "no invitation link on the page"
    return html.unescape(found.group(1))


@pytest.fixture
def outbox(app, monkeypatch):
    sent: list[tuple[str, str, str]] = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.kz")
    monkeypatch.setitem(app.config, "MAIL_FROM", "noreply@example.kz")
    monkeypatch.setattr(
        mail, "deliver", lambda settings, to, subject, body: sent.append((to, subject, body))
    )
    return sent


def test_the_manager_invites_and_the_expert_sets_a_password_through_the_link(
    app, sign_in, client, session, manager, college, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://skills.example.kz")
    sign_in(manager)
    page = client.get("/centre/experts").get_data(as_text=True)
    assert 'id="invite-button"' in page and "C-07" in page
    response = client.post(
        "/centre/experts",
        data={"name": "Сарапшы Ерлан", "email": "Erlan@Example.kz", "college_id": college.id},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    link = invitation_link(body)
    assert link.startswith("https://skills.example.kz/invitation/")
    assert "sent by e-mail" not in body  # no mail configured: the manager passes it on
    user = session.scalars(select(User).where(User.email == "erlan@example.kz")).one()
    token = link.rsplit("/", 1)[1]
    assert session.scalars(select(Invitation.token_hash)).one() != token

    client.post("/logout")
    path = link.removeprefix("https://skills.example.kz")
    form = client.get(path).get_data(as_text=True)
    assert "Сарапшы Ерлан" in form and "Polytechnic College" in form
    refused = client.post(path, data={"password": "short", "confirm": "short"})
    assert refused.status_code == 200 and 'class="error-summary"' in refused.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    session.refresh(user)
    assert user.active and user.check_password(NEW_PASSWORD)
    again = client.get(path)
    assert again.status_code == 302  # used up: back to the login page with a message
    signed = client.post("/login", data={"email": "erlan@example.kz", "password": NEW_PASSWORD})
    assert signed.status_code == 302


def test_the_link_is_emailed_when_mail_is_configured(
    sign_in, client, session, manager, college, outbox
):
    sign_in(manager)
    response = client.post(
        "/centre/experts",
        data={"name": "Сарапшы Ерлан", "email": "erlan@example.kz", "college_id": college.id},
    )
    page = response.get_data(as_text=True)
    link = invitation_link(page)
    assert "sent by e-mail to erlan@example.kz" in page
    assert outbox == []  # sent only once the response has gone out
    response.close()
    [(to, _subject, body)] = outbox
    assert to == "erlan@example.kz" and link in body


def test_the_page_refuses_a_missing_college_and_names_the_field(sign_in, client, session, manager):
    sign_in(manager)
    response = client.post(
        "/centre/experts",
        data={"name": "Сарапшы Ерлан", "email": "erlan@example.kz", "college_id": "0"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#college_id"' in page and "whom they may not mark" in page
    assert session.scalars(select(User).where(User.email == "erlan@example.kz")).all() == []
    assert session.scalars(select(AccountEvent)).all() == []


def test_a_manager_sees_and_renews_only_their_centres_experts(
    sign_in, client, session, manager, college
):
    mine, _token = invite(session, manager, college)
    elsewhere = UserFactory(role="centre_manager", centre_id=CentreFactory().id)
    theirs, _other = invite(session, elsewhere, college, email="other@example.kz")
    session.flush()
    sign_in(manager)
    page = client.get("/centre/experts").get_data(as_text=True)
    assert mine.email in page and theirs.email not in page
    assert client.post(f"/centre/experts/{theirs.id}/link").status_code == 404
    renewed = client.post(f"/centre/experts/{mine.id}/link")
    assert renewed.status_code == 200
    assert invitation_link(renewed.get_data(as_text=True))


def test_the_administrators_user_list_tells_invited_from_disabled(
    sign_in, client, session, manager, college
):
    user, _token = invite(session, manager, college)
    disabled = UserFactory(role="expert", active=False)
    session.flush()
    sign_in("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    row = page[page.index(user.email) :].split("</tr>", 1)[0]
    assert "Invited" in row and "Disabled" not in row
    row = page[page.index(disabled.email) :].split("</tr>", 1)[0]
    assert "Disabled" in row


def test_an_unknown_link_says_so(client):
    response = client.get("/invitation/not-a-real-token", follow_redirects=True)
    assert "not valid any more" in response.get_data(as_text=True)
