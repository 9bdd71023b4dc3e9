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
from assessments.services.marks import bulk_import, entry
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
