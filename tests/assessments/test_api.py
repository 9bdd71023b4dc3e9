"""The marking JSON API: roles, conflicts of interest, locking and optimistic concurrency."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from sqlalchemy import select

from app.config import PROJECT_ROOT
from assessments.models import AuditEntry, Mark
from assessments.scoring import hundredths_text
from assessments.services import audit
from assessments.services.marks import seats, signoff
from assessments.services.marks.entry import save_mark
from tests.assessments.marking_setup import build_exam
from tests.factories import UserFactory

XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def setup(session):
    return build_exam(session)


def put(client, setup, address="A1.1", value="1", *, index=0, seat=0, expected=None, **extra):
    body = {
        "enrolment_id": setup.enrolments[index].id,
        "aspect": address,
        "seat": seat,
        "value": value,
        "expected_version": expected,
        **extra,
    }
    if seat and "reason" not in extra:  # the chief writes a judge seat nobody holds with one
        body["reason"] = "typed from the judge's paper form"
    return client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)


def test_a_mark_is_saved_and_returned_with_its_version(sign_in, client, session, setup):
    sign_in(setup.experts[0])
    response = put(client, setup, "A1.2", "0,25", reason="two fields missing")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["value"], body["version"], body["reason"]) == ("0.25", 1, "two fields missing")
    assert (body["aspect"], body["seat"], body["updated_by"]) == ("A1.2", 0, setup.experts[0].name)
    second = put(client, setup, "A1.2", "0.5", expected=1)
    assert (second.status_code, second.json["version"]) == (200, 2)


def test_a_stale_version_gets_409_with_the_current_value(sign_in, client, session, setup):
    seats.assign_seat(session, setup.forms["A1"], 1, setup.experts[0], setup.chief)
    sign_in(setup.experts[0])
    put(client, setup, "A1.3", 2, seat=1)
    put(client, setup, "A1.3", 3, seat=1, expected=1)
    response = put(client, setup, "A1.3", 0, seat=1, expected=1)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    current = response.json["current"]
    assert (current["value"], current["version"], current["updated_by"]) == (
        "3",
        2,
        setup.experts[0].name,
    )
    assert response.json["code"] == "conflict"
    empty_believer = put(client, setup, "A1.3", 1, seat=1, expected=None)
    assert empty_believer.status_code == 409


def test_conflict_of_interest_is_403_for_the_user(sign_in, client, session, setup):
    setup.experts[0].college_id = setup.candidate(0).college_id
    session.flush()
    sign_in(setup.experts[0])
    response = put(client, setup)
    assert response.status_code == 403
    assert response.json["code"] == "conflict_of_interest"
    assert setup.experts[0].name in response.json["detail"]
    assert session.scalars(select(Mark)).all() == []


def test_conflict_of_interest_is_403_for_the_judge_seats_expert(sign_in, client, session, setup):
    judge = setup.experts[1]
    seats.assign_seat(session, setup.forms["A1"], 3, judge, setup.chief)
    seats.assign_seat(session, setup.forms["A1"], 1, setup.experts[0], setup.chief)
    judge.college_id = setup.candidate(0).college_id
    session.flush()
    sign_in(setup.experts[0])
    response = put(client, setup, "A1.3", 2, seat=3)
    assert response.status_code == 403
    assert response.json["code"] == "conflict_of_interest"
    assert judge.name in response.json["detail"]
    assert put(client, setup, "A1.3", 2, seat=1).status_code == 200


def test_locked_form_is_423(sign_in, client, session, setup):
    setup.forms["A1"].locked_at = setup.exam.created_at
    session.flush()
    sign_in(setup.chief)
    response = put(client, setup)
    assert response.status_code == 423
    assert response.json["code"] == "form_locked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "1.5"}, "value"),
        ({"value": "x"}, "value"),
        ({"aspect": "Q1.1"}, "aspect"),
        ({"seat": 2}, "seat"),
        ({"seat": "one"}, "seat"),
        ({"enrolment_id": 999999}, "enrolment_id"),
        ({"enrolment_id": None}, "enrolment_id"),
        ({"expected_version": "1"}, "expected_version"),
        ({"value": [1]}, "value"),
        # found by benchmarks/fuzz_long.py: int() of a 5000-digit judge score was a 500
        ({"aspect": "A1.3", "seat": 1, "value": "9" * 5000}, "value"),
    ],
)
def test_invalid_input_is_422_naming_the_field(sign_in, client, session, setup, body, field):
    seats.assign_seat(session, setup.forms["A1"], 1, setup.experts[0], setup.chief)
    sign_in(setup.experts[0])
    payload = {
        "enrolment_id": setup.enrolments[0].id,
        "aspect": "A1.1",
        "seat": 0,
        "value": "1",
        "expected_version": None,
        **body,
    }
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=payload, headers=XHR)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_expected_version_must_be_sent(sign_in, client, setup):
    sign_in(setup.experts[0])
    body = {"enrolment_id": setup.enrolments[0].id, "aspect": "A1.1", "value": "1"}
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert response.status_code == 422
    assert "expected_version" in response.json["errors"]


def test_writes_need_the_custom_header_and_a_session(sign_in, client, session, setup):
    anonymous = put(client, setup)
    assert anonymous.status_code == 401
    sign_in(setup.experts[0])
    body = {
        "enrolment_id": setup.enrolments[0].id,
        "aspect": "A1.1",
        "value": "1",
        "expected_version": None,
    }
    forged = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body)
    assert forged.status_code == 400
    assert forged.json["code"] == "header_missing"
    assert session.scalars(select(Mark)).all() == []


def test_other_exams_are_invisible_and_outsiders_cannot_mark(sign_in, client, session, setup):
    outsider = UserFactory(role="expert")
    sign_in(outsider)
    assert put(client, setup).status_code == 404
    assert (
        client.get(
            f"/api/v1/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
        ).status_code
        == 404
    )


def test_the_grid_lists_cells_and_who_is_excluded(sign_in, client, session, setup):
    setup.experts[0].college_id = setup.candidate(0).college_id
    session.flush()
    sign_in(setup.chief)
    put(client, setup, "A1.1", "1")
    response = client.get(
        f"/api/v1/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
    )
    assert response.status_code == 200
    body = response.json
    assert [a["address"] for a in body["aspects"]] == ["A1.1", "A1.2", "A1.3"]
    assert body["missing"] == 3 * 5 - 1
    first = body["rows"][0]
    assert first["cells"][0]["value"] == "1.00" and first["cells"][0]["version"] == 1
    assert [c["seat"] for c in first["cells"]] == [0, 0, 1, 2, 3]
    assert body["is_chief"] and body["can_mark"]
    assert "iin" not in response.get_data(as_text=True).lower()
    sign_in(setup.experts[0])
    excluded = client.get(
        f"/api/v1/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
    ).json
    assert setup.experts[0].name in excluded["rows"][0]["cells"][0]["excluded"]


def _form_url(setup, code, action):
    return f"/api/v1/exams/{setup.exam.id}/forms/{setup.forms[code].sub_criterion_id}/{action}"


def test_lock_needs_the_chief_and_a_complete_form(sign_in, client, session, setup):
    sign_in(setup.experts[0])
    assert client.post(_form_url(setup, "A2", "lock"), headers=XHR).status_code == 403
    sign_in(setup.chief)
    incomplete = client.post(_form_url(setup, "A2", "lock"), headers=XHR)
    assert incomplete.status_code == 409
    assert [i["address"] for i in incomplete.json["incomplete"]] == ["A2.1"] * 3
    for index in range(3):
        assert put(client, setup, "A2.1", "1,25", index=index).status_code == 200
    locked = client.post(_form_url(setup, "A2", "lock"), headers=XHR)
    assert locked.status_code == 200 and locked.json["locked"] is True
    assert put(client, setup, "A2.1", "1", expected=1).status_code == 423


def test_unlock_needs_the_chief_and_a_reason(sign_in, client, session, setup):
    for index in range(3):
        save_mark(
            session,
            exam=setup.exam,
            enrolment=setup.enrolments[index],
            aspect=setup.aspects["A2.1"],
            seat=0,
            value=hundredths_text(setup.aspects["A2.1"].max_hundredths),
            user=setup.chief,
            expected_version=None,
        )
    signoff.lock_form(session, setup.forms["A2"], setup.chief)
    url = _form_url(setup, "A2", "unlock")
    sign_in(setup.experts[0])
    assert client.post(url, json={"reason": "typo"}, headers=XHR).status_code == 403
    sign_in(setup.chief)
    assert client.post(url, json={}, headers=XHR).status_code == 422
    assert client.post(url, json={"reason": ""}, headers=XHR).status_code == 422
    response = client.post(url, json={"reason": "Workstation 3 re-measured"}, headers=XHR)
    assert response.status_code == 200
    entry = audit.entries(session, setup.exam.id)[-1]
    assert (entry.action, entry.reason) == ("form.unlocked", "Workstation 3 re-measured")
    assert put(client, setup, "A2.1", "0,5", expected=1).status_code == 200


def test_seats_are_set_by_the_chief(sign_in, client, session, setup):
    url = _form_url(setup, "A1", "seats/1")
    sign_in(setup.experts[0])
    assert client.put(url, json={"user_id": setup.experts[0].id}, headers=XHR).status_code == 403
    sign_in(setup.chief)
    response = client.put(url, json={"user_id": setup.experts[0].id}, headers=XHR)
    assert response.status_code == 200, response.json
    assert response.json == {"seat": 1, "user_id": setup.experts[0].id}
    again = client.put(
        _form_url(setup, "A1", "seats/2"), json={"user_id": setup.experts[0].id}, headers=XHR
    )
    assert again.status_code == 422 and "user_id" in again.json["errors"]


def test_history_is_for_the_chief(sign_in, client, session, setup):
    sign_in(setup.experts[0])
    put(client, setup, "A1.1", "1")
    put(client, setup, "A1.1", "0", expected=1, reason="broken link")
    query = f"?enrolment_id={setup.enrolments[0].id}&aspect=A1.1&seat=0"
    url = f"/api/v1/exams/{setup.exam.id}/marks/history{query}"
    assert client.get(url).status_code == 403
    sign_in(setup.chief)
    entries = client.get(url).json["entries"]
    assert [(e["old"], e["new"], e["reason"]) for e in entries] == [
        ("", "1.00", ""),
        ("1.00", "0.00", "broken link"),
    ]
    assert entries[0]["actor"] == setup.experts[0].email


@pytest.mark.parametrize(
    "query",
    [
        "enrolment_id=-5005639652389929615360&aspect=A1.1",  # beyond a database integer
        "enrolment_id=99999999999&aspect=A1.1",
        "enrolment_id={enrolment}&aspect=A1.1&seat=545",
        "enrolment_id={enrolment}&aspect=A1.1&seat=99999999999999999999",
        "enrolment_id={enrolment}&aspect=A1.1&seat=-1",
    ],
)
def test_history_of_a_cell_that_cannot_exist_is_422(sign_in, client, session, setup, query):
    # found by tests/app/test_openapi_fuzz.py: such numbers used to reach the database (400)
    sign_in(setup.chief)
    query = query.format(enrolment=setup.enrolments[0].id)
    response = client.get(f"/api/v1/exams/{setup.exam.id}/marks/history?{query}")
    assert response.status_code == 422
    assert response.json["code"] == "invalid"


def test_a_seat_for_a_user_id_beyond_the_database_is_422(sign_in, client, session, setup):
    sign_in(setup.chief)
    response = client.put(_form_url(setup, "A1", "seats/1"), json={"user_id": 2**63}, headers=XHR)
    assert response.status_code == 422 and "user_id" in response.json["errors"]


@pytest.mark.parametrize(
    "content",
    [
        b"iin,aspect\rjudge,score\n",  # a lone CR inside the header line
        b"\x96\xd6I\r\x05\xfa\xb2",  # not UTF-8
        b"iin,aspect,judge,score\r1,A1.1,,1\r",  # old Mac line ends
    ],
)
def test_an_unreadable_csv_upload_is_422_not_500(sign_in, client, session, setup, content):
    # found by tests/app/test_openapi_fuzz.py: a CR in the first line crashed the sniffer
    sign_in(setup.chief)
    response = client.post(
        f"/api/v1/exams/{setup.exam.id}/marks/import",
        data={"file": (io.BytesIO(content), "marks.csv")},
        headers=XHR,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json["code"] == "rejected"
    assert session.scalars(select(Mark)).all() == []


def test_import_by_upload_and_by_json_is_all_or_nothing(sign_in, client, session, setup):
    sign_in(setup.chief)
    url = f"/api/v1/exams/{setup.exam.id}/marks/import"
    first, second = (e.candidate_number for e in setup.enrolments[:2])
    bad = f"candidate,aspect,judge,score\n{first},A1.1,,1\n{second},A1.3,,2\n"
    response = client.post(
        url,
        data={"file": (io.BytesIO(bad.encode()), "day1.csv")},
        headers=XHR,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert (
        response.json["errors"][0]["text"] == "day1.csv:3: judge: must be a judge seat from 1 to 3"
    )
    assert (response.json["errors"][0]["row"], response.json["errors"][0]["field"]) == (3, "judge")
    assert session.scalars(select(Mark)).all() == []
    good = [
        {"candidate": first, "aspect": "A1.1", "judge": None, "score": 1},
        {"candidate": str(first), "aspect": "A1.3", "judge": 2, "score": "3", "reason": "form"},
        {"candidate": second, "aspect": "A1.2", "score": 0.25, "reason": "one field missing"},
    ]
    imported = client.post(url, json=good, headers=XHR)
    assert imported.status_code == 200, imported.json
    assert imported.json["created"] == 3
    values = {(m.enrolment_id, m.seat): m.value for m in session.scalars(select(Mark))}
    assert values[(setup.enrolments[1].id, 0)] == 25
    reasons = {e.reason for e in session.scalars(select(AuditEntry))}
    assert reasons == {"JSON", "form", "one field missing"}
    wrong_shape = client.post(url, json={"rows": good}, headers=XHR)
    assert wrong_shape.status_code == 422
    missing_field = client.post(url, json=[{"candidate": first}], headers=XHR)
    assert missing_field.status_code == 422
    assert "0" in missing_field.json["errors"]


def test_openapi_file_is_served_and_documents_every_api_route(app, client):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("openapi: 3.1")
    spec = yaml.safe_load(text)
    assert spec["openapi"].startswith("3.1")
    documented = set(spec["paths"])
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
            routes.add(path)
    assert routes <= documented, routes - documented
    assert (PROJECT_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8") == text
