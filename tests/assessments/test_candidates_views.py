"""Candidate pages: masked IIN everywhere, Kazakh order, centre scoping, upload, personal data."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from assessments.models import Candidate, CandidateAccess, CandidateCentre
from assessments.services.candidates import personal_data
from assessments.services.candidates.scope import candidate_iin, find_by_iin
from tests.assessments.test_reference_views import page
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CollegeFactory,
    EnrolmentFactory,
    ExamFactory,
    iin_for,
)


@pytest.fixture
def college(session):
    return CollegeFactory(code="C01", name_kk="Алматы политехникалық колледжі")


def masked(iin: str) -> str:
    return "••••••••" + iin[-4:]


def assert_no_plain_iin(body: str, *iins: str) -> None:
    for iin in iins:
        assert iin not in body
        assert iin[:8] not in body  # no longer prefix either (only the last four may show)


def test_list_is_in_kazakh_order_with_masked_iins(sign_in, client, session, college):
    sign_in("admin")
    names = [
        "Яковлев",
        "Әлиев",
        "Ахметов",
        "Ғабитов",
        "Гүлнаров",
        "Қасымов",
        "Кәрімов",
        "Өтегенов",
        "Оспанов",
    ]
    iins = {name: iin_for(200 + i) for i, name in enumerate(names)}
    for name, iin in iins.items():
        CandidateFactory(last_name=name, iin=iin, college=college)
    body = page(client.get("/candidates"))
    shown = re.findall(r'/candidates/\d+">(\S+) ', body)
    assert shown == [
        "Ахметов",
        "Әлиев",
        "Гүлнаров",
        "Ғабитов",
        "Кәрімов",
        "Қасымов",
        "Оспанов",
        "Өтегенов",
        "Яковлев",
    ]
    for iin in iins.values():
        assert masked(iin) in body
    assert_no_plain_iin(body, *iins.values())


def test_list_pages_and_searches_by_name(sign_in, app, client, session, college):
    sign_in("admin")
    app.config["PAGE_SIZE"] = 2
    try:
        for i, name in enumerate(["Ахметов", "Бекұлы", "Оспанов"]):
            CandidateFactory(last_name=name, iin=iin_for(300 + i), college=college)
        first = page(client.get("/candidates"))
        assert "Ахметов" in first and "Оспанов" not in first
        assert "Оспанов" in page(client.get("/candidates?page=2"))
    finally:
        app.config["PAGE_SIZE"] = 50
    response = client.post("/candidates/search", data={"q": "оспан"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/candidates?q=%D0%BE%D1%81%D0%BF%D0%B0%D0%BD")
    found = page(client.get(response.headers["Location"]))
    assert "Оспанов" in found and "Ахметов" not in found


def test_search_by_iin_is_posted_and_never_in_a_url(sign_in, client, session, college):
    sign_in("admin")
    iin = iin_for(400)
    candidate = CandidateFactory(iin=iin, college=college)
    response = client.post("/candidates/search", data={"q": f"  {iin[:6]} {iin[6:]} "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/candidates/{candidate.id}")
    response = client.post("/candidates/search", data={"q": iin_for(401)})
    assert response.status_code == 302
    assert iin_for(401) not in response.headers["Location"]
    assert "No candidate with this IIN" in page(client.get(response.headers["Location"]))
    response = client.post("/candidates/search", data={"q": iin[:5]})
    assert iin[:5] not in response.headers["Location"]
    for typed in (f"{iin[:6]}-{iin[6:]}", f"{iin[:6]}.{iin[6:]}", f"{iin[:6]}/{iin[6:]}"):
        response = client.post("/candidates/search", data={"q": typed})
        assert response.headers["Location"].endswith(f"/candidates/{candidate.id}"), typed
    response = client.post("/candidates/search", data={"q": f"{iin[:6]}-{iin[6:9]}"})
    assert iin[:6] not in response.headers["Location"]


def test_detail_is_logged_and_shows_the_iin_masked_only(sign_in, client, session, college):
    user = sign_in("admin")
    iin = iin_for(500)
    candidate = CandidateFactory(iin=iin, college=college)
    body = page(client.get(f"/candidates/{candidate.id}"))
    assert masked(iin) in body
    assert_no_plain_iin(body, iin)
    log = session.scalars(
        select(CandidateAccess).where(CandidateAccess.candidate_id == candidate.id)
    ).all()
    assert [(e.action, e.user_id) for e in log] == [("view", user.id)]


def test_no_candidate_page_shows_the_iin(sign_in, client, session, college):
    sign_in("admin")
    iin = iin_for(600)
    candidate = CandidateFactory(iin=iin, college=college, last_name="Қасымова")
    for path in ("/candidates", f"/candidates/{candidate.id}", f"/candidates/{candidate.id}/edit",
                 "/candidates/new", "/candidates/import"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_plain_iin(page(response), iin)
    # a refused form does not send the typed IIN back either
    other = iin_for(601)
    response = client.post(
        "/candidates/new",
        data={"iin": other, "last_name": "Smith", "first_name": "Ерлан", "college_code": "C01",
              "specialty": "Бағдарлама", "legal_basis": "education"},
    )  # fmt: skip
    assert response.status_code == 422
    body = page(response)
    assert "use Cyrillic letters" in body
    assert_no_plain_iin(body, other)
    assert "type it once more" in body


def test_create_and_edit_through_the_form(sign_in, client, session, college):
    sign_in("admin")
    iin = iin_for(700)
    form = {"iin": iin, "last_name": "Нұрланқызы", "first_name": "Әйгерім", "middle_name": "",
            "last_name_latin": "", "first_name_latin": "", "college_code": "C01",
            "specialty": "Бағдарлама", "enterprise_bin": "", "email": "", "legal_basis": "consent",
            "centre_code": ""}  # fmt: skip
    response = client.post("/candidates/new", data=form)
    assert response.status_code == 302
    candidate = find_by_iin(session, iin)
    assert candidate.latin_name == "NURLANKYZY AIGERIM"
    assert candidate.legal_basis == "consent"
    # editing without retyping the IIN keeps it; the Latin spelling from the ID wins
    response = client.post(
        f"/candidates/{candidate.id}/edit", data=form | {"iin": "", "last_name_latin": "NURLANQYZY"}
    )
    assert response.status_code == 302
    assert candidate.last_name_latin == "NURLANQYZY"
    assert candidate_iin(candidate) == iin
    actions = session.scalars(
        select(CandidateAccess.action).where(CandidateAccess.candidate_id == candidate.id)
    ).all()
    assert actions == ["create", "update"]


def test_centre_manager_sees_and_registers_at_their_centre_only(sign_in, client, session, college):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    sign_in("centre_manager", centre_id=ours.id)
    mine = CandidateFactory(centre_id=ours.id, college=college, last_name="Ахметова")
    other = CandidateFactory(
        centre_id=theirs.id, college=college, last_name="Омарова", iin=iin_for(801)
    )
    body = page(client.get("/candidates"))
    assert "Ахметова" in body and "Омарова" not in body
    assert client.get(f"/candidates/{mine.id}").status_code == 200
    for path in (f"/candidates/{other.id}", f"/candidates/{other.id}/edit"):
        assert client.get(path).status_code == 404
    # searching for an IIN of another centre finds nothing
    response = client.post("/candidates/search", data={"q": iin_for(801)})
    assert "No candidate with this IIN" in page(client.get(response.headers["Location"]))

    form = {"iin": iin_for(802), "last_name": "Серікбаев", "first_name": "Ерлан",
            "college_code": "C01", "specialty": "Бағдарлама", "legal_basis": "education",
            "centre_code": "THEIRS"}  # fmt: skip
    response = client.post("/candidates/new", data=form)
    assert response.status_code == 302
    created = find_by_iin(session, iin_for(802))
    assert created.centre_id == ours.id  # the centre field is not theirs to choose
    assert "centre_code" not in page(client.get("/candidates/new"))


def test_chief_expert_reads_but_does_not_change(sign_in, client, session, college):
    centre = CentreFactory()
    sign_in("chief_expert", centre_id=centre.id)
    candidate = CandidateFactory(centre_id=centre.id, college=college)
    assert client.get(f"/candidates/{candidate.id}").status_code == 200
    assert client.get(f"/candidates/{candidate.id}/edit").status_code == 403
    assert client.get("/candidates/import").status_code == 403
    assert client.post(f"/candidates/{candidate.id}/export").status_code == 403


def test_expert_has_no_candidate_pages(sign_in, client):
    sign_in("expert")
    assert client.get("/candidates").status_code == 403


def test_upload_shows_the_problems_and_imports_nothing(sign_in, client, session, college):
    sign_in("admin")
    header = "iin,last_name,first_name,middle_name,college_code,specialty,email\n"
    bad = (
        header + f"{iin_for(900)},Омаров,Ерлан,,C01,Бағдарлама,\n{iin_for(900)},Омаров,,,C77,Б,x\n"
    )
    response = client.post(
        "/candidates/import",
        data={"file": (io.BytesIO(bad.encode()), "students.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = page(response)
    assert "students.csv has 4 problems" in body
    assert '<td class="num">3</td><td>iin</td><td>the same IIN is already in row 2</td>' in body
    assert_no_plain_iin(body, iin_for(900))
    assert session.scalar(select(Candidate)) is None

    good = header + f"{iin_for(900)},Омаров,Ерлан,,C01,Бағдарлама,\n"
    response = client.post(
        "/candidates/import",
        data={"file": (io.BytesIO(good.encode()), "students.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "1 created, 0 updated" in page(client.get(response.headers["Location"]))


def test_admin_exports_personal_data_as_json(sign_in, client, session, college):
    sign_in("admin")
    iin = iin_for(950)
    candidate = CandidateFactory(iin=iin, college=college)
    response = client.post(f"/candidates/{candidate.id}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert iin not in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["candidate"]["iin"] == iin
    assert [e["action"] for e in data["access_log"]] == ["export"]


def test_erase_needs_confirmation_and_is_refused_for_passport_holders(
    sign_in, client, session, college, monkeypatch
):
    sign_in("admin")
    candidate = CandidateFactory(college=college)
    session.commit()  # stored earlier: a refused erasure rolls back only its own request
    response = client.post(f"/candidates/{candidate.id}/erase", data={})
    assert response.status_code == 302
    assert session.get(Candidate, candidate.id) is not None

    monkeypatch.setattr(personal_data, "candidate_has_passport", lambda session, candidate: True)
    response = client.post(f"/candidates/{candidate.id}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    assert "holds a Skills Passport" in page(client.get(response.headers["Location"]))
    assert session.get(Candidate, candidate.id) is not None

    monkeypatch.undo()
    response = client.post(f"/candidates/{candidate.id}/erase", data={"confirm": "y"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Candidate, candidate.id) is None


def test_centre_manager_cannot_export_or_erase(sign_in, client, session, college):
    centre = CentreFactory()
    sign_in("centre_manager", centre_id=centre.id)
    candidate = CandidateFactory(centre_id=centre.id, college=college)
    assert client.post(f"/candidates/{candidate.id}/export").status_code == 403
    assert (
        client.post(f"/candidates/{candidate.id}/erase", data={"confirm": "y"}).status_code == 403
    )
    assert session.get(Candidate, candidate.id) is not None


# --- one person nationally: an IIN registered by another centre ---------------------------


def registration(iin: str, last_name: str) -> dict[str, str]:
    return {"iin": iin, "last_name": last_name, "first_name": "Ерлан", "college_code": "C01",
            "specialty": "Бағдарлама", "legal_basis": "education"}  # fmt: skip


def strip_tokens(body: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]*"|value="[^"]*" name="csrf_token"',
                  "", re.sub(r'nonce="[^"]*"', "", body))  # fmt: skip


def test_a_known_iin_with_its_surname_links_without_showing_the_other_centre(
    sign_in, client, session, college
):
    ours = CentreFactory(code="OURS", name_kk="Біздің орталық")
    theirs = CentreFactory(code="THEIRS", name_kk="Басқа орталық")
    person = CandidateFactory(
        iin=iin_for(810), centre_id=theirs.id, college=college, last_name="Әлиева",
        email="aliyeva@theirs.kz",
    )  # fmt: skip
    their_exam = EnrolmentFactory(candidate=person, exam=ExamFactory(centre=theirs)).exam
    sign_in("centre_manager", centre_id=ours.id)
    response = client.post("/candidates/new", data=registration(iin_for(810), "ӘЛИЕВА"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/candidates/{person.id}")
    body = page(client.get(f"/candidates/{person.id}"))
    assert "Әлиева" in body and "OURS" in body
    assert "THEIRS" not in body and "Басқа орталық" not in body
    assert "Әлиева" in page(client.get("/candidates"))
    # their centre's exam (where the person sits) stays theirs
    assert client.get(f"/exams/{their_exam.id}").status_code == 404
    assert session.scalar(select(Candidate.centre_id).where(Candidate.id == person.id)) == theirs.id


def test_a_known_iin_with_another_surname_is_answered_like_any_mismatch_and_audited(
    sign_in, client, session, college
):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    first = CandidateFactory(iin=iin_for(811), centre_id=theirs.id, college=college,
                             last_name="Әлиева", first_name="Гүлнар")  # fmt: skip
    second = CandidateFactory(iin=iin_for(812), centre_id=theirs.id, college=college,
                              last_name="Омарова", first_name="Жанар")  # fmt: skip
    user = sign_in("centre_manager", centre_id=ours.id)
    answers = []
    for iin in (iin_for(811), iin_for(812)):
        response = client.post("/candidates/new", data=registration(iin, "Серікбаев"))
        answers.append((response.status_code, strip_tokens(page(response))))
    # the same status, text and page whichever person (and centre) holds the IIN
    assert answers[0] == answers[1]
    status, body = answers[0]
    assert status == 422
    assert "check the IIN and the name" in body
    for secret in ("THEIRS", "Әлиева", "Гүлнар", "Омарова", "Жанар"):
        assert secret not in body
    # audited, though the registration itself was refused
    audit = session.execute(
        select(CandidateAccess.candidate_id, CandidateAccess.user_id).where(
            CandidateAccess.action == "iin_mismatch"
        )
    ).all()
    assert sorted(audit) == sorted([(first.id, user.id), (second.id, user.id)])
    assert session.scalar(select(func.count()).select_from(CandidateCentre)) == 2


def test_refused_iins_are_throttled_per_user_by_a_setting(sign_in, client, session, app, college):
    app.config["CANDIDATE_IIN_MISMATCH_LIMIT"] = 2
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    person = CandidateFactory(iin=iin_for(813), centre_id=theirs.id, college=college,
                              last_name="Әлиева")  # fmt: skip
    sign_in("centre_manager", centre_id=ours.id)
    for _ in range(2):
        response = client.post("/candidates/new", data=registration(iin_for(813), "Алиева"))
        assert "check the IIN and the name" in page(response)
    # now even the right surname is refused, without looking the IIN up
    response = client.post("/candidates/new", data=registration(iin_for(813), "Әлиева"))
    assert response.status_code == 422
    assert "too many IINs did not match the name" in page(response)
    assert session.scalar(select(func.count()).select_from(CandidateCentre)) == 1
    # the file import too
    header = "iin,last_name,first_name,middle_name,college_code,specialty,email\n"
    response = client.post(
        "/candidates/import",
        data={"file": (io.BytesIO(f"{header}{iin_for(813)},Әлиева,Ерлан,,C01,Б,\n".encode()),
                       "students.csv")},
    )  # fmt: skip
    assert response.status_code == 422
    assert "too many IINs did not match the name" in page(response)
    # another manager of the same centre is not throttled
    sign_in("centre_manager", centre_id=ours.id)
    response = client.post("/candidates/new", data=registration(iin_for(813), "Әлиева"))
    assert response.headers["Location"].endswith(f"/candidates/{person.id}")


def test_import_naming_a_known_iin_with_another_surname_is_refused_whole_and_audited(
    sign_in, client, session, college
):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    person = CandidateFactory(iin=iin_for(814), centre_id=theirs.id, college=college,
                              last_name="Әлиева")  # fmt: skip
    user = sign_in("centre_manager", centre_id=ours.id)
    header = "iin,last_name,first_name,middle_name,college_code,specialty,email\n"
    content = (
        f"{header}{iin_for(815)},Серікбаев,Ерлан,,C01,Б,\n{iin_for(814)},Алиева,Ерлан,,C01,Б,\n"
    )
    response = client.post(
        "/candidates/import",
        data={"file": (io.BytesIO(content.encode()), "students.csv")},
    )
    body = page(response)
    assert response.status_code == 422
    assert '<td class="num">3</td><td>iin</td><td>check the IIN and the name</td>' in body
    assert "THEIRS" not in body and "Әлиева" not in body
    assert find_by_iin(session, iin_for(815)) is None
    assert session.execute(
        select(CandidateAccess.candidate_id, CandidateAccess.user_id).where(
            CandidateAccess.action == "iin_mismatch"
        )
    ).all() == [(person.id, user.id)]
