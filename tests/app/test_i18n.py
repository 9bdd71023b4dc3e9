from decimal import Decimal
from fractions import Fraction

import pytest
from flask_babel import force_locale

from app.i18n import format_number


def test_first_visit_follows_accept_language(client):
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.get_data(as_text=True)


def test_without_a_known_language_the_default_locale_is_used(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "kk")
    page = client.get("/login", headers={"Accept-Language": "de-DE"})
    assert '<html lang="kk">' in page.get_data(as_text=True)


def test_switcher_choice_is_remembered(client):
    response = client.get("/language/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_switcher_refuses_foreign_redirects(client):
    response = client.get("/language/kk?next=//evil.example/")
    assert response.headers["Location"].endswith("/")
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("kk", Decimal("87.5"), "87,50"),
        ("ru", Fraction(2 + 2 + 3, 3), "2,33"),
        ("en", Decimal("87.5"), "87.50"),
        ("kk", Decimal("0.125"), "0,13"),
    ],
)
def test_numbers_use_the_local_decimal_separator(app, locale, value, expected):
    with force_locale(locale):
        assert format_number(value) == expected


def test_thousands_are_grouped_with_a_space_in_russian(app):
    with force_locale("ru"):
        assert format_number(3620).replace("\xa0", " ") == "3 620"


def test_error_pages_speak_the_users_language(client):
    kk = client.get("/no-such-page", headers={"Accept-Language": "kk"})
    assert kk.status_code == 404
    assert '<html lang="kk">' in kk.get_data(as_text=True)


def test_api_errors_are_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["database"] == "ok"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ],
)
def test_redirect_targets_stay_on_the_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.headers["Location"] in ("/", "http://localhost/")
    login = client.post(
        "/login", query_string={"next": target}, data={"email": "x", "password": "y"}
    )
    assert "evil" not in login.headers.get("Location", "")


def test_huge_numbers_in_urls_and_queries_are_not_server_errors(client):
    from tests.factories import UserFactory

    user = UserFactory(role="admin")
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert client.get("/exams/999999999999999999999").status_code == 404
    assert client.get("/admin/reference/colleges?page=999999999999999999999").status_code < 500


def language_links(html: str) -> list[str]:
    import html as markup
    import re
    from urllib.parse import parse_qs, urlsplit

    links = re.findall(r'href="(/language/[a-z]{2}\?[^"]*)"', html)
    return [parse_qs(urlsplit(markup.unescape(link)).query)["next"][0] for link in links]


def test_the_language_switch_on_a_refused_post_leads_to_a_page_that_answers_get(
    sign_in, client, session
):
    from tests.assessments.marking_setup import build_exam

    setup = build_exam(session)
    sign_in("admin")
    detail = f"/exams/{setup.exam.id}"
    # refused: the expert group form names nobody; the page answers at a POST-only address
    refused = client.post(
        f"{detail}/assign", data={"chief_id": "0"}, headers={"Referer": f"http://localhost{detail}"}
    )
    assert refused.status_code == 422
    targets = language_links(refused.get_data(as_text=True))
    assert targets == [detail] * 3
    assert client.get(f"{detail}/assign").status_code == 405  # what the old link led to
    for target in set(targets):
        assert client.get(target).status_code == 200
    # without a Referer: the dashboard; a foreign Referer is never followed
    for headers in ({}, {"Referer": "http://evil.example/exams"}):
        refused = client.post(f"{detail}/assign", data={"chief_id": "0"}, headers=headers)
        assert set(language_links(refused.get_data(as_text=True))) == {"/dashboard"}
    # a refused form whose address has a GET page: that page
    refused = client.post("/admin/users/new", data={"email": "not an address"})
    assert "error-summary" in refused.get_data(as_text=True)
    assert set(language_links(refused.get_data(as_text=True))) == {"/admin/users/new"}


def test_kazakh_dates_are_dd_mm_yyyy_in_the_enrol_list(sign_in, client, session):
    from assessments.services.candidates.scope import link_to_centre
    from tests.assessments.test_exams import World, make_candidate
    from tests.factories import CollegeFactory

    world = World(session)
    exam = world.exam()
    candidate = make_candidate(session, 1, "Бекова", "Дана", CollegeFactory())
    candidate.centre_id = world.centre.id
    link_to_centre(candidate, world.centre.id)
    session.flush()
    sign_in("centre_manager", centre_id=world.centre.id, lang="kk")
    page = client.get("/candidates").get_data(as_text=True)
    assert 'id="enrol-form"' in page
    assert exam.start_date.strftime("%d.%m.%Y") in page
    assert " ж. " not in page
