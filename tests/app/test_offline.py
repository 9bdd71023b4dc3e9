"""The service worker at the site root, and which answers it may keep (app/offline.py)."""

from __future__ import annotations

import re

import pytest

from app.offline import HEADER, owner_key
from assessments.services.marks import signoff
from tests.assessments.marking_setup import build_exam
from tests.assessments.test_marks_pages import fill


@pytest.fixture
def setup(session):
    return build_exam(session)


def grid_url(setup, code="A1"):
    return f"/exams/{setup.exam.id}/forms/{setup.forms[code].sub_criterion_id}"


def test_the_service_worker_is_served_at_the_root_as_javascript_checked_on_every_visit(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in response.headers  # the root path gives scope /
    body = response.get_data(as_text=True)
    assert '"grid-v1"' in body and '"verify-v1"' in body


def test_signed_in_the_worker_script_is_not_stored_either(client, sign_in):
    sign_in("expert")
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # app/security.py: signed in


def test_owner_keys_are_opaque_stable_and_differ_between_users_and_secrets():
    assert owner_key("secret", 7) == owner_key("secret", 7)
    assert owner_key("secret", 7) != owner_key("secret", 8)
    assert owner_key("secret", 7) != owner_key("other", 7)
    assert re.fullmatch(r"[0-9a-f]{16}", owner_key("secret", 7))


def test_an_experts_editable_grid_may_be_kept_for_that_expert(app, client, sign_in, setup):
    expert = sign_in(setup.experts[0])
    response = client.get(grid_url(setup))
    assert response.status_code == 200
    key = owner_key(app.config["SECRET_KEY"], expert.id)
    assert response.headers[HEADER] == f"grid; owner={key}"
    assert f'data-owner="{key}" async' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # no HTTP cache keeps it


def test_a_read_only_grid_is_never_kept(client, sign_in, setup):
    sign_in("admin")
    response = client.get(grid_url(setup))
    assert response.status_code == 200
    assert HEADER not in response.headers


def test_a_locked_grid_is_never_kept(client, sign_in, session, setup):
    fill(session, setup, "A1")
    signoff.lock_form(session, setup.forms["A1"], setup.chief)
    session.flush()
    sign_in(setup.experts[0])
    response = client.get(grid_url(setup))
    assert response.status_code == 200
    assert HEADER not in response.headers


def test_other_pages_and_answers_are_never_marked_for_keeping(client, sign_in, setup):
    sign_in(setup.experts[0])
    for path in ("/dashboard", f"/exams/{setup.exam.id}", "/V"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert HEADER not in response.headers, path


def test_the_verify_page_may_be_kept_only_as_a_visitor_gets_it(client):
    response = client.get("/V")
    assert response.headers[HEADER] == "verify"
    page = response.get_data(as_text=True)
    assert '<script src="/static/js/offline.js" data-owner="" async></script>' in page
