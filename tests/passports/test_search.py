"""Staff passport search: by number or name on a bookmarkable list, by IIN only in a POST body."""

from __future__ import annotations

import re
from datetime import date

import pytest

from assessments.iin import make_iin
from assessments.personal_data import decrypt_iin
from passports.services import issuance
from passports.services.search import may_hold_an_iin
from passports.settings import current_settings
from tests.factories import CentreFactory
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam


def holder_iin(issued) -> str:
    return decrypt_iin(issued.candidate(0).iin_encrypted)


def body(response) -> str:
    return response.get_data(as_text=True)


def digits_in(text: str, iin: str) -> bool:
    """Whether the IIN's digits appear in ``text``, whatever separators are between them."""
    return iin in re.sub(r"\D", "", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Әлібекова", False),
        ("26-000123-4", False),  # a passport number: bookmarkable
        (" 26 – 000123 – 4 ", False),
        ("990101300123", True),
        ("990101-300-123", True),
        ("9901 0130 0123", True),
        ("990101", True),  # part of an IIN
        ("26-123456789-0", True),  # 12 digits: could be an IIN typed with dashes
        ("Ахметов 990101", True),
        ("12345", False),
    ],
)
def test_what_may_hold_an_iin(text, expected):
    assert may_hold_an_iin(text) is expected


@pytest.mark.parametrize("layout", ["{}", "{0:.6}-{1}-{2}", "{0:.6} {1} {2}", "{0:.6}.{1}/{2}"])
def test_search_by_iin_finds_the_passport_and_no_url_holds_it(sign_in, client, issued, layout):
    sign_in("admin")
    iin = holder_iin(issued)
    typed = iin if layout == "{}" else layout.format(iin, iin[6:9], iin[9:])
    response = client.post("/passports/search", data={"q": f" {typed} "})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert response.request.path == "/passports/search" and not response.request.query_string
    assert response.headers["Cache-Control"] == "no-store"
    page = body(response)
    assert f'href="/passports/{issued.passport.number}"' in page
    # the IIN typed in is not sent back to the browser
    assert not digits_in(page, iin)


def test_search_by_iin_of_no_visible_passport_says_no_match(sign_in, client, session, issued):
    other = finalised_exam([Sitting()])
    issuance.issue_for_exam(session, current_settings(), other.exam)
    sign_in("centre_manager", centre_id=issued.exam.centre_id)
    outsider = decrypt_iin(other.candidate(0).iin_encrypted)
    nobody = make_iin(date(1990, 1, 1), "M", 4321)
    pages = []
    for iin in (outsider, nobody):
        response = client.post("/passports/search", data={"q": iin})
        assert response.status_code == 200
        pages.append(body(response).replace(outsider, "").replace(nobody, ""))
        assert "No passport matches." in pages[-1]
    # a passport at another centre and no passport at all look the same
    assert pages[0] == pages[1]
    own = client.post("/passports/search", data={"q": holder_iin(issued)})
    assert f'href="/passports/{issued.passport.number}"' in body(own)


@pytest.mark.parametrize("typed", ["9901013001", "990101300124"])
def test_incomplete_or_invalid_iin_is_answered_in_place(sign_in, client, issued, typed):
    sign_in("admin")
    response = client.post("/passports/search", data={"q": typed})
    assert response.status_code == 200
    page = body(response)
    assert "Enter all 12 digits of a valid IIN to find a passport by IIN." in page
    assert typed not in page


def test_an_iin_in_the_address_is_not_searched_and_dropped(sign_in, client, issued):
    sign_in("admin")
    iin = holder_iin(issued)
    response = client.get("/passports/", query_string={"q": f"{iin[:6]}-{iin[6:]}"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/passports/"
    page = body(client.get("/passports/"))
    assert "Search by IIN with the search box" in page
    assert issued.passport.number not in page


@pytest.mark.parametrize("kind", ["number", "name"])
def test_number_and_name_searches_redirect_to_a_bookmarkable_list(sign_in, client, issued, kind):
    sign_in("admin")
    text = issued.passport.number if kind == "number" else DEMO_NAME[0]
    response = client.post("/passports/search", data={"q": text})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/passports/?q=")
    page = body(client.get(location))
    assert f'href="/passports/{issued.passport.number}"' in page
    assert f'value="{text}"' in page


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_name_search_ignores_the_case_of_cyrillic_letters(sign_in, client, issued, case):
    sign_in("admin")
    page = body(client.get("/passports/", query_string={"q": case(DEMO_NAME[0])}))
    assert f'href="/passports/{issued.passport.number}"' in page


def test_name_search_pages_through_the_list(
    sign_in, app, client, monkeypatch, signing_key, session
):
    exam = finalised_exam([Sitting(names=DEMO_NAME) for _ in range(3)])
    issuance.issue_for_exam(session, current_settings(), exam.exam)
    sign_in("admin")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    first = body(client.get("/passports/", query_string={"q": DEMO_NAME[1]}))
    second = body(client.get("/passports/", query_string={"q": DEMO_NAME[1], "page": 2}))
    numbers = set(re.findall(r'href="/passports/(\d\d-\d+-\d)"', first))
    later = set(re.findall(r'href="/passports/(\d\d-\d+-\d)"', second))
    assert len(numbers) == 2 and len(later) == 1 and not numbers & later
    assert "page=2" in first and "Page 2 of 2" in second


def test_the_search_form_is_posted_with_a_csrf_token(sign_in, app, client, issued, monkeypatch):
    sign_in("admin")
    page = body(client.get("/passports/"))
    assert 'method="post" action="/passports/search"' in page
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/passports/search", data={"q": holder_iin(issued)}).status_code == 400
    assert 'name="csrf_token"' in body(client.get("/passports/"))


def test_a_manager_of_another_centre_finds_nothing_by_number(sign_in, client, issued):
    sign_in("centre_manager", centre_id=CentreFactory().id)
    page = body(client.get("/passports/", query_string={"q": issued.passport.number}))
    assert f'href="/passports/{issued.passport.number}"' not in page
    assert "No passport matches." in page
