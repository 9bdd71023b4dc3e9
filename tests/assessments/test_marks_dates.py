"""Marks wait for the exam's first day in Asia/Almaty, by grid (API) and by import.

The date comes from the application's clock (``app.config["CLOCK"]``), fixed here, never
from the machine's calendar. The exam of ``build_exam`` starts on 20 May 2026.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from assessments.models import Aspect, Mark
from assessments.services import audit, early_marking
from assessments.services.marks import bulk_import, entry, rules
from assessments.services.marks.errors import NotStarted
from tests.assessments.marking_setup import build_exam

XHR = {"X-Requested-With": "XMLHttpRequest"}
# 19 May 23:00 and 20 May 00:30 in Almaty (UTC+5)
EVE = datetime(2026, 5, 19, 18, 0, tzinfo=UTC)
FIRST_DAY = datetime(2026, 5, 19, 19, 30, tzinfo=UTC)


@pytest.fixture
def setup(session):
    return build_exam(session)


@pytest.fixture
def clock(app, monkeypatch):
    def set_to(moment: datetime) -> None:
        monkeypatch.setitem(app.config, "CLOCK", lambda: moment)

    return set_to


def put(client, setup):
    body = {
        "enrolment_id": setup.enrolments[0].id,
        "aspect": "A1.1",
        "seat": 0,
        "value": "1",
        "expected_version": None,
    }
    return client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)


def test_the_grid_saves_nothing_before_the_first_day_in_almaty(
    sign_in, client, session, setup, clock
):
    assert setup.exam.start_date == date(2026, 5, 20)
    sign_in(setup.experts[0])
    clock(EVE)
    refused = put(client, setup)
    assert refused.status_code == 422
    assert refused.json["code"] == "not_started"
    assert "2026-05-20" in refused.json["detail"]
    assert session.scalars(select(Mark)).all() == []
    clock(FIRST_DAY)
    assert put(client, setup).status_code == 200


def test_imports_wait_for_the_first_day_too(sign_in, client, session, setup, clock):
    sign_in(setup.chief)
    url = f"/api/v1/exams/{setup.exam.id}/marks/import"
    number = setup.enrolments[0].candidate_number
    rows = [{"candidate": number, "aspect": "A1.1", "judge": None, "score": 1}]
    clock(EVE)
    refused = client.post(url, json=rows, headers=XHR)
    assert (refused.status_code, refused.json["code"]) == (422, "not_started")
    upload = client.post(
        url,
        data={
            "file": (
                io.BytesIO(f"candidate,aspect,judge,score\n{number},A1.1,,1\n".encode()),
                "d.csv",
            )
        },
        headers=XHR,
        content_type="multipart/form-data",
    )
    assert (upload.status_code, upload.json["code"]) == (422, "not_started")
    assert session.scalars(select(Mark)).all() == []
    clock(FIRST_DAY)
    assert client.post(url, json=rows, headers=XHR).status_code == 200


def test_the_rule_in_the_services(session, setup):
    exam, enrolment = setup.exam, setup.enrolments[0]
    aspect = session.scalars(
        select(Aspect).where(Aspect.scheme_id == exam.scheme_id, Aspect.kind == "M")
    ).first()
    with pytest.raises(NotStarted):
        entry.save_mark(
            session,
            exam=exam,
            enrolment=enrolment,
            aspect=aspect,
            seat=0,
            value="1",
            user=setup.experts[0],
            expected_version=None,
            today=date(2026, 5, 19),
        )
    with pytest.raises(NotStarted):
        bulk_import.import_marks(
            session,
            exam,
            "d.csv",
            f"candidate,aspect,judge,score\n{enrolment.candidate_number},A1.1,,1\n".encode(),
            setup.chief,
            today=date(2026, 5, 19),
        )
    # the command line (no date given) loads marks recorded on paper whenever it runs
    summary = bulk_import.import_marks(
        session,
        exam,
        "d.csv",
        f"candidate,aspect,judge,score\n{enrolment.candidate_number},A1.1,,1\n".encode(),
        None,
    )
    assert summary.created == 1


# --- an administrator's override: marks before the first day, for one exam -------------


def allow(client, setup, reason="Rehearsal day approved by the department", allow="1"):
    return client.post(
        f"/exams/{setup.exam.id}/early-marking", data={"allow": allow, "reason": reason}
    )


def test_an_administrator_allows_marks_before_the_first_day_with_a_reason_audited(
    sign_in, client, session, setup, clock
):
    clock(EVE)
    admin = sign_in("admin", name="Әкімші Дана")
    refused = allow(client, setup, reason="  ")
    assert refused.status_code == 422
    assert setup.exam.early_marking is False
    assert allow(client, setup).status_code == 302
    session.refresh(setup.exam)
    assert setup.exam.early_marking_by_id == admin.id
    page = client.get(f"/exams/{setup.exam.id}").get_data(as_text=True)
    assert "early-marking-note" in page and "Әкімші Дана" in page
    assert "Rehearsal day approved by the department" in page
    entry_ = audit.entries(session, setup.exam.id)[-1]
    assert (entry_.action, entry_.old_value, entry_.new_value, entry_.actor) == (
        "exam.early_marking",
        "off",
        "on",
        admin.email,
    )
    assert entry_.reason == "Rehearsal day approved by the department"

    # while it stands, the grid (API) and the imports accept marks on the eve
    sign_in(setup.experts[0])
    assert put(client, setup).status_code == 200
    form_page = client.get(
        f"/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
    ).get_data(as_text=True)
    assert "Әкімші Дана" in form_page
    sign_in(setup.chief)
    number = setup.enrolments[1].candidate_number
    rows = [{"candidate": number, "aspect": "A1.1", "judge": None, "score": 1}]
    url = f"/api/v1/exams/{setup.exam.id}/marks/import"
    assert client.post(url, json=rows, headers=XHR).status_code == 200

    # withdrawn: the eve refuses again; the marks saved meanwhile stay
    sign_in(admin)
    assert allow(client, setup, reason="The rehearsal is over", allow="0").status_code == 302
    session.refresh(setup.exam)
    assert setup.exam.early_marking is False
    assert audit.entries(session, setup.exam.id)[-1].new_value == "off"
    sign_in(setup.experts[0])
    body = {
        "enrolment_id": setup.enrolments[2].id,
        "aspect": "A1.1",
        "seat": 0,
        "value": "1",
        "expected_version": None,
    }
    refused = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert refused.json["code"] == "not_started"
    assert len(session.scalars(select(Mark)).all()) == 2


def test_the_override_is_offered_only_before_the_first_day(sign_in, client, session, setup, clock):
    """From the first day on, marks are open anyway: the page offers no override then."""
    sign_in("admin")
    url = f"/exams/{setup.exam.id}"
    clock(EVE)
    assert 'id="early-marking"' in client.get(url).get_data(as_text=True)
    clock(FIRST_DAY)
    assert 'id="early-marking"' not in client.get(url).get_data(as_text=True)
    # one allowed on the eve still shows on the first day, so it can be withdrawn
    clock(EVE)
    assert allow(client, setup).status_code == 302
    clock(FIRST_DAY)
    page = client.get(url).get_data(as_text=True)
    assert 'id="early-marking"' in page and 'id="early-marking-button"' in page


@pytest.mark.parametrize("role", ["centre_manager", "chief_expert", "expert"])
def test_only_administrators_set_the_override(sign_in, client, session, setup, role):
    sign_in(role, centre_id=setup.centre.id)
    assert allow(client, setup).status_code == 403
    session.refresh(setup.exam)
    assert setup.exam.early_marking is False


def test_the_override_in_the_services(session, setup):
    exam, chief = setup.exam, setup.chief
    with pytest.raises(early_marking.NotAllowed):
        early_marking.allow_early_marking(session, exam, chief, "why not")
    with pytest.raises(early_marking.ExamError):
        early_marking.allow_early_marking(session, exam, None, "")
    early_marking.allow_early_marking(session, exam, None, "Paper marks of a rehearsal")
    rules.check_started(exam, date(2026, 5, 1))  # no refusal while the override stands
    early_marking.withdraw_early_marking(session, exam, None, "Done")
    with pytest.raises(NotStarted):
        rules.check_started(exam, date(2026, 5, 1))
