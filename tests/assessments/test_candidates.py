"""Candidates: the record rules, `flask candidates import`, IIN protection, personal data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from assessments.iin import make_bin
from assessments.models import Candidate, CandidateAccess, CandidateCentre, Exam
from assessments.personal_data import iin_lookup_hash
from assessments.services.candidates import personal_data
from assessments.services.candidates.importing import import_candidates
from assessments.services.candidates.personal_data import (
    ErasureRefused,
    candidate_has_passport,
    erase_candidate,
    export_personal_data,
)
from assessments.services.candidates.records import (
    IdentityMismatch,
    record_mismatches,
    same_surname,
    save_candidate,
)
from assessments.services.candidates.scope import (
    ADMIN_SCOPE,
    Scope,
    candidate_iin,
    find_by_iin,
    masked_iin,
    shown_centre,
    visible_candidates,
)
from assessments.tabular import Rejected
from tests.assessments.test_reference import count, file_writer, run
from tests.assessments.test_reference_tabular import xlsx
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CollegeFactory,
    CompetenceFactory,
    EnrolmentFactory,
    EnterpriseFactory,
    ExamFactory,
    MarkingSchemeFactory,
    UserFactory,
    iin_for,
)

HEADER = "iin,last_name,first_name,middle_name,college_code,specialty,email,enterprise_bin\n"
IIN_A = iin_for(1)
IIN_B = iin_for(2, date(2005, 1, 9), "M")
IIN_1999 = iin_for(5, date(1999, 12, 1), "M")


@pytest.fixture
def files(tmp_path, monkeypatch):
    return file_writer(tmp_path, monkeypatch)


@pytest.fixture
def college(session):
    return CollegeFactory(code="C01")


@pytest.fixture
def enterprise(session):
    return EnterpriseFactory(bin=make_bin(2010, 5, 123))


def wrong_check_digit(iin: str) -> str:
    return iin[:11] + str((int(iin[11]) + 1) % 10)


def students(enterprise_bin: str = "", specialty: str = "Бағдарламалық қамтамасыз ету") -> str:
    return (
        HEADER
        + f"{IIN_A},Сейтқалиева,Әйгерім,Нұрланқызы,C01,{specialty},A@Example.kz,{enterprise_bin}\n"
        + f"{IIN_B},Омаров,Ерлан,,C01,{specialty},,\n"
    )


def by_iin(session, iin: str) -> Candidate:
    return session.scalar(select(Candidate).where(Candidate.iin_hash == iin_lookup_hash(iin)))


# --- import ----------------------------------------------------------------------------------


def test_import_creates_candidates_with_protected_iin(app, session, files, college, enterprise):
    files("students.csv", students(enterprise.bin))
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "students.csv: candidates: 2 created, 0 updated"

    aigerim = by_iin(session, IIN_A)
    assert aigerim.full_name == "Сейтқалиева Әйгерім Нұрланқызы"
    assert aigerim.latin_name == "SEITKALIEVA AIGERIM"
    assert aigerim.email == "A@example.kz"  # the domain is normalised, the local part kept
    assert aigerim.enterprise_id == enterprise.id
    assert aigerim.legal_basis == "education"
    assert candidate_iin(aigerim) == IIN_A
    assert masked_iin(aigerim) == "••••••••" + IIN_A[-4:]
    assert by_iin(session, IIN_B).enterprise is None
    # every imported record is in the access log, without the IIN
    actions = session.scalars(select(CandidateAccess.action)).all()
    assert actions == ["import", "import"]


def test_the_database_row_does_not_hold_the_iin(app, session, college):
    save_candidate(
        session,
        None,
        {
            "iin": IIN_A,
            "last_name": "Сейтқалиева",
            "first_name": "Әйгерім",
            "college_code": "C01",
            "specialty": "Бағдарламалық қамтамасыз ету",
        },
    )
    session.flush()
    rows = session.execute(text("SELECT * FROM candidates")).all()
    assert len(rows) == 1
    dump = " ".join(str(value) for value in rows[0])
    assert IIN_A not in dump
    assert IIN_A[:6] not in dump  # not even the birth date part
    assert IIN_A not in " ".join(
        str(v) for r in session.execute(text("SELECT * FROM candidate_access")) for v in r
    )


def test_reimport_updates_by_iin(app, session, files, college):
    files("students.csv", students())
    assert run(app, "candidates", "import", "students.csv").exit_code == 0
    first_id = by_iin(session, IIN_A).id
    files("students.csv", students(specialty="Есептеу техникасы"))
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "students.csv: candidates: 0 created, 2 updated"
    session.expire_all()
    assert count(session, Candidate) == 2
    aigerim = by_iin(session, IIN_A)
    assert aigerim.id == first_id
    assert aigerim.specialty == "Есептеу техникасы"


def test_headers_are_case_insensitive_and_extra_columns_ignored(app, session, files, college):
    content = (
        "Group;IIN;Last_Name;FIRST_NAME;Middle_Name;College_Code;Specialty;Email;Note\n"
        f"ВТ-21;{IIN_A};Сейтқалиева;Әйгерім;;C01;Бағдарлама;;кез келген\n"
    )
    files("students.csv", "\ufeff" + content)
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 0, result.output
    assert by_iin(session, IIN_A).first_name == "Әйгерім"


def test_import_from_xlsx(app, session, files, college):
    data = xlsx(
        [
            ["iin", "last_name", "first_name", "middle_name", "college_code", "specialty", "email"],
            [IIN_A, "Сейтқалиева", "Әйгерім", "Нұрланқызы", "C01", "Бағдарлама", None],
            # a number cell works when the IIN has no leading zero to lose
            [int(IIN_1999), "Омаров", "Ерлан", None, "C01", "Бағдарлама", None],
        ]
    )
    result = run(app, "candidates", "import", files("students.xlsx", data))
    assert result.exit_code == 0, result.output
    assert count(session, Candidate) == 2


def test_every_problem_is_reported_and_nothing_is_imported(
    app, session, files, college, enterprise
):
    existing = CandidateFactory(iin=iin_for(50), college=college, specialty="Бұрынғы")
    session.commit()  # stored before the import: a failed import must not change it
    unknown_bin = make_bin(2011, 6, 777)
    rows = [
        f"{iin_for(50)},Сейтқалиева,Әйгерім,,C01,Жаңа мамандық,,",  # valid: an update
        f"{wrong_check_digit(IIN_A)},Омаров,Ерлан,,C01,Бағдарлама,,",
        "041317600003,Омаров,Ерлан,,C01,Бағдарлама,,",  # month 13
        f"{IIN_B[1:]},Омаров,Ерлан,,C01,Бағдарлама,,",  # Excel dropped the leading zero
        f"{IIN_B},Омаров,Ерлан,,C99,Бағдарлама,,",
        f"{IIN_B},Омаров,Ерлан,,C01,Бағдарлама,,",  # same IIN again
        f"{iin_for(3)},Омаров,,,C01,Бағдарлама,not-an-email,{unknown_bin}",
        f"{iin_for(4)},Smith,Ерлан,,C01,,,{wrong_check_digit(enterprise.bin)}",
        ",Омаров,Ерлан,,C01,Бағдарлама,,",
    ]
    files("students.csv", HEADER + "\n".join(rows) + "\n")
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "students.csv:3: iin: has a wrong check digit (the last digit does not match the others)",
        "students.csv:4: iin: the first six digits are not a real birth date (YYMMDD)",
        "students.csv:5: iin: must be 12 digits, got 11; Excel drops a leading zero from numbers:"
        " format the column as Text",
        "students.csv:6: college_code: no college has the code C99",
        "students.csv:7: iin: the same IIN is already in row 6",
        "students.csv:8: first_name: is required",
        f"students.csv:8: enterprise_bin: no enterprise has the BIN {unknown_bin}",
        "students.csv:8: email: is not a valid email address",
        "students.csv:9: last_name: use Cyrillic letters, spaces and hyphens only",
        "students.csv:9: specialty: is required",
        "students.csv:9: enterprise_bin: has a wrong check digit (the last digit does not match)",
        "students.csv:10: iin: is required",
    ]
    for iin in (IIN_A, IIN_B, iin_for(3), iin_for(4)):
        assert iin not in result.output  # problems never repeat an IIN
    session.expire_all()
    assert count(session, Candidate) == 1
    assert session.get(Candidate, existing.id).specialty == "Бұрынғы"


def test_missing_required_header(app, session, files, college):
    files("students.csv", "iin,last_name,first_name,college_code,email\n")
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "students.csv:1: middle_name: required column is missing",
        "students.csv:1: specialty: required column is missing",
    ]


def test_optional_columns_latin_spelling_legal_basis_and_centre(app, session, files, college):
    CentreFactory(code="ALM-01")
    session.commit()  # stored before: the failed import below rolls back only its own work
    files(
        "students.csv",
        "iin,last_name,first_name,middle_name,college_code,specialty,email,"
        "last_name_latin,first_name_latin,legal_basis,centre_code\n"
        f"{IIN_A},Сейтқалиева,Әйгерім,,C01,Бағдарлама,,Seitkaliyeva,,Consent,ALM-01\n"
        f"{IIN_B},Омаров,Ерлан,,C01,Бағдарлама,,Омаров,,maybe,ALM-99\n",
    )
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "students.csv:3: last_name_latin: use Latin letters A–Z, spaces and hyphens only",
        "students.csv:3: legal_basis: must be one of education, consent, contract",
        "students.csv:3: centre_code: no competence centre has the code ALM-99",
    ]
    first_row_only = "\n".join(Path("students.csv").read_text(encoding="utf-8").splitlines()[:2])
    files("students.csv", first_row_only)
    result = run(app, "candidates", "import", "students.csv")
    assert result.exit_code == 0, result.output
    aigerim = by_iin(session, IIN_A)
    assert (aigerim.last_name_latin, aigerim.first_name_latin) == ("SEITKALIYEVA", "AIGERIM")
    assert aigerim.legal_basis == "consent"
    assert aigerim.centre.code == "ALM-01"


# --- the rules of a record -----------------------------------------------------------------------


def values(**changes: str) -> dict[str, str]:
    base = {
        "iin": IIN_A,
        "last_name": "Нұрланқызы",
        "first_name": "Әйгерім",
        "middle_name": "",
        "college_code": "C01",
        "specialty": "Бағдарламалық қамтамасыз ету",
    }
    return base | changes


def test_transliteration_in_the_style_of_identity_documents(session, college):
    candidate = save_candidate(session, None, values())
    assert (candidate.last_name_latin, candidate.first_name_latin) == ("NURLANKYZY", "AIGERIM")


def test_latin_letters_that_look_cyrillic_are_replaced(session, college):
    # a Latin schwa for Ә and a Latin i for І, as keyboards without Kazakh letters type them
    candidate = save_candidate(session, None, values(last_name="Əлiбекова"))
    assert candidate.last_name == "Әлібекова"
    assert candidate.last_name_latin == "ALIBEKOVA"
    # a name wholly in Latin letters is refused, not converted
    with pytest.raises(Rejected) as exc:
        save_candidate(session, None, values(iin=iin_for(8), first_name="Ainur"))
    assert [p.format() for p in exc.value.problems] == [
        "first_name: use Cyrillic letters, spaces and hyphens only"
    ]


def test_the_holders_own_latin_spelling_wins(session, college):
    candidate = save_candidate(session, None, values(last_name_latin="Nurlankyzy"))
    assert candidate.last_name_latin == "NURLANKYZY"
    candidate = save_candidate(session, candidate, values(iin="", last_name_latin="NURLANQYZY"))
    assert candidate.last_name_latin == "NURLANQYZY"
    # a later change of the Cyrillic name keeps the spelling set by hand…
    candidate = save_candidate(
        session, candidate, values(iin="", last_name="Нұрланқызы-Әли", last_name_latin="NURLANQYZY")
    )
    assert candidate.last_name_latin == "NURLANQYZY"
    # …while an automatic spelling follows the name
    assert candidate.first_name_latin == "AIGERIM"
    candidate = save_candidate(
        session, candidate, values(iin="", first_name="Айгерім", first_name_latin="AIGERIM")
    )
    assert candidate.first_name_latin == "AIGERIM"
    candidate = save_candidate(
        session, candidate, values(iin="", first_name="Гүлнар", first_name_latin="AIGERIM")
    )
    assert candidate.first_name_latin == "GULNAR"


def test_iin_is_unique_and_kept_when_editing_without_it(session, college):
    first = save_candidate(session, None, values())
    with pytest.raises(Rejected) as exc:
        save_candidate(session, None, values(last_name="Омаров"))
    assert [p.format() for p in exc.value.problems] == [
        "iin: another candidate already has this IIN"
    ]
    edited = save_candidate(session, first, values(iin="", specialty="Жаңа"))
    assert candidate_iin(edited) == IIN_A
    with pytest.raises(Rejected) as exc:
        save_candidate(session, None, values(iin=""))
    assert [p.format() for p in exc.value.problems] == ["iin: is required"]


def test_kazakh_order_of_names(session, college):
    for last in (
        "Яковлев",
        "Әлиев",
        "Ахметов",
        "Ғабитов",
        "Гүлнаров",
        "Қасымов",
        "Кәрімов",
        "Ілиясов",
    ):
        save_candidate(
            session,
            None,
            values(iin=iin_for(100 + len(last) * 7 + ord(last[0]) % 50), last_name=last),
        )
    names = [c.last_name for c in session.scalars(visible_candidates(ADMIN_SCOPE))]
    assert names == [
        "Ахметов",
        "Әлиев",
        "Гүлнаров",
        "Ғабитов",
        "Кәрімов",
        "Қасымов",
        "Ілиясов",
        "Яковлев",
    ]


def test_search_ignores_case_in_cyrillic_and_latin(session, college):
    save_candidate(session, None, values(last_name="Сейтқалиева"))
    save_candidate(session, None, values(iin=iin_for(9), last_name="Омаров"))

    def found(query: str) -> list[str]:
        statement = visible_candidates(ADMIN_SCOPE, query)
        return [c.last_name for c in session.scalars(statement)]

    assert found("СЕЙТҚАЛ") == ["Сейтқалиева"]
    assert found("seitkal әйгерім") == ["Сейтқалиева"]
    assert found("%") == []
    assert sorted(found("")) == ["Омаров", "Сейтқалиева"]


# --- who sees whom ------------------------------------------------------------------------


class Staff:
    def __init__(self, role: str, centre_id: int | None = None, user_id: int = 1000):
        self.role, self.centre_id, self.id = role, centre_id, user_id


def exam_at(session, centre, competence) -> Exam:
    return ExamFactory(
        centre=centre,
        scheme=MarkingSchemeFactory(competence=competence, name="Схема", layout={}),
        start_date=date(2026, 5, 20),
        end_date=date(2026, 5, 21),
        accredit=False,
    )


def test_centre_staff_see_their_centre_only(session, college):
    ours, theirs = CentreFactory(), CentreFactory()
    registered = CandidateFactory(centre_id=ours.id)
    enrolled = CandidateFactory(centre_id=theirs.id)
    elsewhere = CandidateFactory(centre_id=theirs.id)
    unplaced = CandidateFactory()
    EnrolmentFactory(
        exam=exam_at(session, ours, CompetenceFactory()), candidate=enrolled, workstation=1
    )

    def visible(user) -> set[int]:
        scope = Scope.for_user(user)
        return {c.id for c in session.scalars(visible_candidates(scope))}

    assert visible(Staff("admin")) == {registered.id, enrolled.id, elsewhere.id, unplaced.id}
    assert visible(Staff("centre_manager", ours.id)) == {registered.id, enrolled.id}
    assert visible(Staff("chief_expert", ours.id)) == {registered.id, enrolled.id}
    assert visible(Staff("centre_manager", None)) == set()
    assert visible(Staff("expert", ours.id)) == set()


def test_centre_staff_import_registers_at_their_centre_and_cannot_touch_others(
    app, session, college
):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    CandidateFactory(iin=IIN_B, centre_id=theirs.id, college=college)
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    content = students().encode()
    with pytest.raises(Rejected) as exc:
        import_candidates(session, "students.csv", content, scope=scope)
    # the IIN is registered by another centre with another surname: the same answer as a
    # wrong IIN, never "registered elsewhere"
    assert exc.value.lines() == ["students.csv:3: iin: check the IIN and the name"]
    one = (HEADER + students().splitlines()[1] + "\n").encode()
    import_candidates(session, "students.csv", one, scope=scope)
    assert by_iin(session, IIN_A).centre_id == ours.id
    other_centre = (
        "iin,last_name,first_name,middle_name,college_code,specialty,email,centre_code\n"
        f"{iin_for(7)},Омаров,Ерлан,,C01,Бағдарлама,,THEIRS\n"
    ).encode()
    with pytest.raises(Rejected) as exc:
        import_candidates(session, "s.csv", other_centre, scope=scope)
    assert exc.value.lines() == [
        "s.csv:2: centre_code: you can register candidates only at your own centre"
    ]


# --- one person nationally: linking a candidate registered by another centre -----------


def centres_of(session, candidate: Candidate) -> set[int]:
    return set(
        session.scalars(
            select(CandidateCentre.centre_id).where(CandidateCentre.candidate_id == candidate.id)
        )
    )


def test_surnames_compare_ignoring_case_with_kazakh_letters():
    assert same_surname("ӘЛІБЕКОВА", "әлібекова")
    assert same_surname("Құрманғазы–Ұлы", "ҚҰРМАНҒАЗЫ-ҰЛЫ")
    # decomposed Й (И + breve) is the same letter as the composed one
    assert same_surname("Қ\u0438\u0306ын", "ҚЙЫН")
    assert not same_surname("Алиева", "Әлиева")
    assert not same_surname("Омарова", "Омаров")


def test_registering_an_iin_known_elsewhere_with_its_surname_links_the_person(session, college):
    ours, theirs = CentreFactory(), CentreFactory()
    person = CandidateFactory(
        iin=IIN_A, centre_id=theirs.id, college=college, last_name="Әлиева", email="a@x.kz"
    )
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    assert not scope.allows(session, person)
    linked = save_candidate(
        session, None, values(last_name="ӘЛИЕВА", specialty="Басқа"), scope=scope, user_id=None
    )
    # the same person, now linked to our centre too, and their record unchanged
    assert linked.id == person.id
    assert session.scalar(select(func.count()).select_from(Candidate)) == 1
    assert centres_of(session, person) == {ours.id, theirs.id}
    assert person.centre_id == theirs.id and person.email == "a@x.kz"
    assert person.specialty != "Басқа"
    assert scope.allows(session, person)
    assert shown_centre(scope, person).id == ours.id
    assert shown_centre(ADMIN_SCOPE, person).id == theirs.id
    assert export_personal_data(session, person)["candidate"]["linked_centres"] == sorted(
        [ours.code, theirs.code]
    )
    assert session.scalars(
        select(CandidateAccess.action).where(CandidateAccess.candidate_id == person.id)
    ).all() == ["link"]
    # registering again is now "already registered", as for any visible candidate
    with pytest.raises(Rejected) as exc:
        save_candidate(session, None, values(last_name="Әлиева"), scope=scope)
    assert [p.format() for p in exc.value.problems] == [
        "iin: another candidate already has this IIN"
    ]


def test_an_iin_known_elsewhere_with_another_surname_is_refused_like_a_wrong_iin(session, college):
    ours, theirs = CentreFactory(), CentreFactory()
    person = CandidateFactory(iin=IIN_A, centre_id=theirs.id, college=college, last_name="Әлиева")
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    with pytest.raises(IdentityMismatch) as exc:
        save_candidate(session, None, values(last_name="Алиева"), scope=scope)
    assert [p.format() for p in exc.value.problems] == ["iin: check the IIN and the name"]
    assert exc.value.candidate_ids == [person.id]
    assert centres_of(session, person) == {theirs.id}


def test_refused_iins_are_throttled_per_user(session, college):
    ours, theirs = CentreFactory(), CentreFactory()
    user = UserFactory(role="centre_manager", centre=ours)
    other_user = UserFactory(role="centre_manager", centre=ours)
    person = CandidateFactory(iin=IIN_A, centre_id=theirs.id, college=college, last_name="Әлиева")
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    for _ in range(3):
        with pytest.raises(IdentityMismatch):
            save_candidate(
                session,
                None,
                values(last_name="Алиева"),
                scope=scope,
                user_id=user.id,
                mismatch_limit=3,
            )
        record_mismatches(session, [person.id], user.id)
    # the fourth attempt is refused before any IIN is looked up: even the right surname,
    # and even an IIN nobody holds
    for attempt in (values(last_name="Әлиева"), values(iin=IIN_B, last_name="Омаров")):
        with pytest.raises(Rejected) as exc:
            save_candidate(session, None, attempt, scope=scope, user_id=user.id, mismatch_limit=3)
        assert not isinstance(exc.value, IdentityMismatch)
        assert [p.format() for p in exc.value.problems] == [
            "iin: too many IINs did not match the name; try again in an hour"
        ]
    assert centres_of(session, person) == {theirs.id}
    # per user: a colleague is not throttled
    linked = save_candidate(
        session,
        None,
        values(last_name="Әлиева"),
        scope=scope,
        user_id=other_user.id,
        mismatch_limit=3,
    )
    assert linked.id == person.id


def test_import_links_known_people_with_their_surname(app, session, college):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    person = CandidateFactory(iin=IIN_B, centre_id=theirs.id, college=college, last_name="Омаров")
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    summary = import_candidates(session, "students.csv", students().encode(), scope=scope)
    assert (summary.created, summary.updated) == (1, 1)
    assert centres_of(session, person) == {ours.id, theirs.id}
    assert by_iin(session, IIN_A).centre_id == ours.id
    assert person.first_name != "Ерлан"  # linked, not overwritten by another centre


def test_import_refuses_the_whole_file_on_a_surname_mismatch(app, session, college):
    ours, theirs = CentreFactory(code="OURS"), CentreFactory(code="THEIRS")
    person = CandidateFactory(iin=IIN_B, centre_id=theirs.id, college=college, last_name="Омарова")
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    with pytest.raises(IdentityMismatch) as exc:
        import_candidates(session, "students.csv", students().encode(), scope=scope)
    assert exc.value.lines() == ["students.csv:3: iin: check the IIN and the name"]
    assert exc.value.candidate_ids == [person.id]
    assert by_iin(session, IIN_A) is None


def test_centre_staff_see_linked_candidates_only(session, college):
    ours, theirs = CentreFactory(), CentreFactory()
    shared = CandidateFactory(centre_id=theirs.id)
    theirs_only = CandidateFactory(centre_id=theirs.id)
    session.add(CandidateCentre(candidate_id=shared.id, centre_id=ours.id))
    session.flush()
    scope = Scope.for_user(Staff("centre_manager", ours.id))
    assert {c.id for c in session.scalars(visible_candidates(scope))} == {shared.id}
    assert not scope.allows(session, theirs_only)


# --- personal data ------------------------------------------------------------------------


def test_export_holds_everything_and_is_logged(session, college):
    candidate = save_candidate(session, None, values(email="a@example.kz"), user_id=None)
    data = export_personal_data(session, candidate)
    assert data["candidate"]["iin"] == IIN_A
    assert data["candidate"]["last_name"] == "Нұрланқызы"
    assert data["candidate"]["college"]["code"] == "C01"
    assert data["candidate"]["email"] == "a@example.kz"
    assert [entry["action"] for entry in data["access_log"]] == ["create"]
    assert data["exam_enrolments"] == []
    json.dumps(data)  # JSON-ready as it is


def test_erase_deletes_the_record_and_keeps_only_the_fact(session, college):
    candidate = save_candidate(session, None, values())
    candidate_id = candidate.id
    erase_candidate(session, candidate, user_id=None)
    session.expire_all()
    assert session.get(Candidate, candidate_id) is None
    log = session.scalars(select(CandidateAccess).order_by(CandidateAccess.id)).all()
    assert [(e.action, e.candidate_id) for e in log] == [("create", None), ("erase", None)]
    assert find_by_iin(session, IIN_A) is None


def test_erase_is_refused_for_a_passport_holder(session, college, monkeypatch):
    candidate = CandidateFactory(college=college)
    monkeypatch.setattr(personal_data, "PASSPORT_CHECKS", [])
    assert candidate_has_passport(session, candidate) is False  # nobody says otherwise
    # the passports package registers how to tell
    monkeypatch.setattr(personal_data, "PASSPORT_CHECKS", [lambda s, c: c.id == candidate.id])
    with pytest.raises(ErasureRefused) as exc:
        erase_candidate(session, candidate, user_id=None)
    assert "Skills Passport" in str(exc.value)
    assert session.get(Candidate, candidate.id) is not None


def test_erase_is_refused_while_enrolled_in_an_exam(session, college):
    candidate = CandidateFactory(college=college)
    exam = exam_at(session, CentreFactory(), CompetenceFactory())
    EnrolmentFactory(exam=exam, candidate=candidate, workstation=3)
    with pytest.raises(ErasureRefused) as exc:
        erase_candidate(session, candidate, user_id=None)
    assert exc.value.params == {"count": 1}
    assert session.scalar(select(func.count()).select_from(Candidate)) == 1
