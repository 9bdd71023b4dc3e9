"""Exams: planning rules, enrolment files, expert group, attendance and the status flow."""

from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from app.i18n import localized
from assessments.models import (
    Aspect,
    AuditEntry,
    Candidate,
    Enrolment,
    Exam,
    ExamStatus,
    Mark,
    MarkingForm,
    MarkingScheme,
    Result,
    SubCriterion,
)
from assessments.personal_data import iin_lookup_hash
from assessments.services import audit
from assessments.services import exams as service
from assessments.services.marks import entry
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CollegeFactory,
    CompetenceFactory,
    MarkingSchemeFactory,
    UserFactory,
    iin_for,
)

# --- builders ---------------------------------------------------------------------------


def make_candidate(session, n: int, last: str, first: str, college=None) -> Candidate:
    return CandidateFactory(
        iin=iin_for(n),
        last_name=last,
        first_name=first,
        middle_name="",
        search_text="",
        college=college or CollegeFactory(),
        specialty="Веб-технологиялар",
    )


def make_scheme(session, competence, layout=(("A1", "MJ"), ("A2", "M"))) -> MarkingScheme:
    """A scheme of criterion A: each sub-criterion gets aspects of the given kinds."""
    return MarkingSchemeFactory(
        competence=competence,
        name="Демо схема",
        layout={code: tuple((kind, 200) for kind in kinds) for code, kinds in layout},
        criterion_names={"A": "Модуль А"},
        levels=("0", "1", "2", "3"),
    )


class World:
    """An accredited centre with 3 workstations, its competence and a scheme."""

    def __init__(self, session, workstations: int = 3):
        self.session = session
        self.competence = CompetenceFactory()
        self.centre = CentreFactory(workstations=workstations)
        self.centre.competences.append(self.competence)
        self.scheme = make_scheme(session, self.competence)
        self.chief = UserFactory(role="chief_expert")  # unique e-mail: e2e tests share one database
        self.admin = UserFactory(role="admin")
        session.flush()

    def exam(self, **kwargs):
        values = {
            "centre": self.centre,
            "competence": self.competence,
            "scheme": self.scheme,
            "start": date(2026, 6, 1),
            "chief": self.chief,
            **kwargs,
        }
        return service.create_exam(self.session, **values)


@pytest.fixture
def world(session):
    return World(session)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def enrol_csv(session, exam, *lines, filename="group.csv"):
    return service.enrol_file(session, exam, filename, csv_bytes(*lines))


# --- planning ----------------------------------------------------------------------


def test_create_freezes_the_scheme_and_opens_one_form_per_sub_criterion(session, world):
    exam = world.exam()
    assert exam.status == "planned"
    assert exam.end_date == exam.start_date == date(2026, 6, 1)
    assert world.scheme.frozen
    forms = session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)).all()
    assert sorted(f.sub_criterion.code for f in forms) == ["A1", "A2"]
    assert not any(f.locked for f in forms)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ("unaccredited", "centre", "is not accredited for the competence"),
        ("foreign_scheme", "scheme", "belongs to the competence"),
        ("end_before_start", "end", "The last day is before the first day."),
        ("expert_as_chief", "chief", "is not a chief expert"),
        ("disabled_chief", "chief", "is disabled"),
    ],
)
def test_create_rules(session, world, change, field, message):
    kwargs = {}
    if change == "unaccredited":
        kwargs["centre"] = CentreFactory()
    elif change == "foreign_scheme":
        kwargs["scheme"] = make_scheme(session, CompetenceFactory())
    elif change == "end_before_start":
        kwargs["end"] = date(2026, 5, 31)
    elif change == "expert_as_chief":
        kwargs["chief"] = UserFactory(role="expert")
    else:
        kwargs["chief"] = UserFactory(role="chief_expert", active=False)
    with pytest.raises(service.ExamError) as caught:
        world.exam(**kwargs)
    assert caught.value.field == field
    assert message in str(caught.value)
    if change in ("unaccredited", "foreign_scheme"):
        # named as people know them, never by internal number
        assert localized(world.competence) in str(caught.value)
    if change == "foreign_scheme":
        assert f"«{kwargs['scheme'].name}» v1" in str(caught.value)
    assert not world.scheme.frozen or change == "foreign_scheme"


# --- enrolment -----------------------------------------------------------------------


@pytest.fixture
def group(session, world):
    """A planned exam and four registered candidates (not enrolled)."""
    exam = world.exam()
    people = [
        make_candidate(session, 1, "Әлібекова", "Айгерім"),
        make_candidate(session, 2, "Бекова", "Дана"),
        make_candidate(session, 3, "Абаев", "Нұрлан"),
        make_candidate(session, 4, "Иванов", "Олег"),
    ]
    return exam, people


def test_enrol_assigns_workstations_round_robin_and_repeats_in_shifts(session, group):
    exam, _people = group  # the centre has 3 workstations
    created = enrol_csv(
        session,
        exam,
        "iin,workstation",
        f"{iin_for(1)},",
        f"{iin_for(2)},2",
        f"{iin_for(3)},",
        f"{iin_for(4)},",
    )
    by_iin = {e.candidate.iin_hash: e.workstation for e in created}
    # 2 is taken by row 3; the others fill 1, 3 and then the least used again: 1
    assert [by_iin[iin_lookup_hash(iin_for(n))] for n in (1, 2, 3, 4)] == [1, 2, 3, 1]
    assert {e.attendance for e in created} == {"registered"}  # until marked present on the day

    more = make_candidate(session, 5, "Жанова", "Ару")
    enrol_csv(session, exam, "iin", iin_for(5))
    enrolment = session.scalar(select(Enrolment).where(Enrolment.candidate_id == more.id))
    assert enrolment.workstation == 2  # 1 is used twice, 2 and 3 once: the lowest of those


def test_enrolments_are_numbered_within_their_exam_in_enrolment_order(session, world, group):
    exam, people = group
    first = enrol_csv(session, exam, "iin", iin_for(3), iin_for(1))
    assert [e.candidate_number for e in first] == [1, 2]  # file order, not name order
    # a removed enrolment's number is not given again: the next one follows the highest
    session.delete(first[0])
    session.flush()
    later = enrol_csv(session, exam, "iin", iin_for(2), iin_for(4))
    assert [e.candidate_number for e in later] == [3, 4]
    # another exam counts from 1 again, and an exam enrolled in the same flush as its own
    # creation is numbered too
    other = world.exam()
    session.add_all(Enrolment(exam=other, candidate=person, workstation=1) for person in people[:2])
    session.flush()
    numbers = session.scalars(
        select(Enrolment.candidate_number)
        .where(Enrolment.exam_id == other.id)
        .order_by(Enrolment.candidate_number)
    ).all()
    assert numbers == [1, 2]


def test_a_candidate_number_is_unique_within_its_exam(session, group):
    exam, people = group
    (enrolment,) = enrol_csv(session, exam, "iin", iin_for(1))
    with session.begin_nested(), pytest.raises(IntegrityError):
        session.add(
            Enrolment(
                exam=exam,
                candidate=people[1],
                workstation=1,
                candidate_number=enrolment.candidate_number,
            )
        )
        session.flush()


def test_enrol_reads_xlsx(session, group):
    exam, _people = group
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["IIN", "Workstation"])
    sheet.append([iin_for(1), 3])
    sheet.append([iin_for(2), None])
    buffer = io.BytesIO()
    book.save(buffer)
    created = service.enrol_file(session, exam, "group.xlsx", buffer.getvalue())
    assert sorted(e.workstation for e in created) == [1, 3]


WS_RANGE = "workstation: must be a whole number from 1 to 3"
WRONG_CHECK_DIGIT = iin_for(1)[:11] + str((int(iin_for(1)[11]) + 1) % 10)


@pytest.mark.parametrize(
    ("header", "bad", "expected"),
    [
        (
            "iin",
            WRONG_CHECK_DIGIT,
            "iin: has a wrong check digit (the last digit does not match the others)",
        ),
        ("iin", "12345", "iin: must be 12 digits, got 5"),
        ("iin", "1234567890ab", "iin: must contain digits only"),
        ("iin", "041317600012", "iin: the first six digits are not a real birth date (YYMMDD)"),
        ("iin", iin_for(9), "iin: no candidate with this IIN is registered"),
        ("iin", iin_for(3), "iin: repeats row 2"),
        ("iin,workstation", f"{iin_for(1)},x", WS_RANGE),
        ("iin,workstation", f"{iin_for(1)},1.5", WS_RANGE),
        ("iin,workstation", f"{iin_for(1)},0", WS_RANGE),
        ("iin,workstation", f"{iin_for(1)},4", WS_RANGE),
        ("iin,workstation", ",2", "iin: is required"),
    ],
)
def test_enrol_errors_name_file_row_and_field_and_store_nothing(
    session, group, header, bad, expected
):
    exam, _people = group
    good = iin_for(3) + ("," if "," in header else "")  # row 2 is fine, row 3 is not
    with pytest.raises(service.Rejected) as caught:
        enrol_csv(session, exam, header, good, bad, filename="f.csv")
    assert caught.value.lines() == [f"f.csv:3: {expected}"]
    assert not session.scalars(select(Enrolment).where(Enrolment.exam_id == exam.id)).all()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["workstation", "1"], "f.csv:1: iin: required column is missing"),
        (["iin"], "f.csv: has no candidate rows"),
    ],
)
def test_enrol_refuses_a_file_without_candidates(session, group, lines, expected):
    exam, _people = group
    with pytest.raises(service.Rejected) as caught:
        enrol_csv(session, exam, *lines, filename="f.csv")
    assert caught.value.lines() == [expected]


def test_enrol_reports_every_problem_at_once(session, group):
    exam, _people = group
    lines = ["iin,workstation", f"{iin_for(1)},1", f"{WRONG_CHECK_DIGIT},9", f"{iin_for(1)},"]
    with pytest.raises(service.Rejected) as caught:
        enrol_csv(session, exam, *lines, filename="g.csv")
    assert caught.value.lines() == [
        "g.csv:3: workstation: must be a whole number from 1 to 3",
        "g.csv:3: iin: has a wrong check digit (the last digit does not match the others)",
        "g.csv:4: iin: repeats row 2",
    ]
    assert not exam.enrolments


def test_enrol_refuses_a_candidate_already_enrolled(session, group):
    exam, _people = group
    enrol_csv(session, exam, "iin", iin_for(1))
    with pytest.raises(service.Rejected) as caught:
        enrol_csv(session, exam, "iin", iin_for(2), iin_for(1), filename="late.csv")
    assert caught.value.lines() == [
        "late.csv:3: iin: the candidate is already enrolled in this exam"
    ]
    assert len(exam.enrolments) == 1


def test_error_lines_never_contain_the_iin(session, group):
    exam, _people = group
    with pytest.raises(service.Rejected) as caught:
        enrol_csv(session, exam, "iin", iin_for(9), iin_for(9))
    assert iin_for(9) not in str(caught.value)


# --- expert group --------------------------------------------------------------------


def test_assign_sets_chief_and_replaces_the_group(session, world):
    exam = world.exam(chief=None)
    chief = UserFactory(role="chief_expert")
    a = UserFactory(role="expert")
    b = UserFactory(role="chief_expert")  # a chief expert may sit as an expert elsewhere
    service.assign(session, exam, chief.email.upper(), [a.email, b.email, chief.email, a.email])
    assert exam.chief_expert == chief
    assert sorted(link.user_id for link in exam.experts) == sorted([a.id, b.id])
    service.assign(session, exam, chief.email, [b.email])
    assert [link.user_id for link in exam.experts] == [b.id]


@pytest.mark.parametrize(
    ("chief_role", "expert_kwargs", "field", "message"),
    [
        ("expert", {"role": "expert"}, "chief", "is not a chief expert"),
        ("chief_expert", {"role": "centre_manager"}, "experts", "is not an expert"),
        ("chief_expert", {"role": "admin"}, "experts", "is not an expert"),
        ("chief_expert", {"role": "expert", "active": False}, "experts", "is disabled"),
        ("chief_expert", None, "experts", "No user with the email"),
    ],
)
def test_assign_validation(session, world, chief_role, expert_kwargs, field, message):
    exam = world.exam(chief=None)
    chief = UserFactory(role=chief_role)
    email = UserFactory(**expert_kwargs).email if expert_kwargs else "nobody@example.kz"
    with pytest.raises(service.ExamError) as caught:
        service.assign(session, exam, chief.email, [email])
    assert (caught.value.field, message in str(caught.value)) == (field, True)
    assert exam.chief_expert is None and not exam.experts


# --- attendance ------------------------------------------------------------------------


@pytest.fixture
def enrolled(session, world, group):
    """The group enrolled and marked present on the day."""
    exam, _people = group
    enrol_csv(session, exam, "iin", *(iin_for(n) for n in (1, 2, 3, 4)))
    service.mark_all_present(session, exam, world.chief)
    return exam, {e.candidate.last_name: e for e in exam.enrolments}


def test_enrolled_candidates_are_registered_until_marked_present(session, world, group):
    exam, _people = group
    enrol_csv(session, exam, "iin", *(iin_for(n) for n in (1, 2, 3)))
    assert {e.attendance for e in exam.enrolments} == {"registered"}
    first = min(exam.enrolments, key=lambda e: e.id)
    service.set_attendance(session, first, "absent", "Ауырып қалды", world.chief)
    before = len(audit.entries(session, exam.id))

    changed = service.mark_all_present(session, exam, world.chief)
    assert len(changed) == 2
    # the one recorded absent keeps that; the others are present, each change audited
    assert first.attendance == "absent"
    assert sorted(e.attendance for e in exam.enrolments) == ["absent", "present", "present"]
    entries = audit.entries(session, exam.id)[before:]
    assert [(e.action, e.old_value, e.new_value) for e in entries] == [
        ("attendance", "registered", "present")
    ] * 2
    assert service.mark_all_present(session, exam, world.chief) == []


def test_finalise_refuses_candidates_left_registered(session, world, group):
    exam, _people = group
    enrol_csv(session, exam, "iin", iin_for(1), iin_for(2))
    with pytest.raises(service.ExamError) as caught:
        service.finalise(session, exam, world.chief)
    assert caught.value.field == "attendance"
    assert "2 candidates are still only registered" in str(caught.value)
    assert exam.status != "finalised"


def test_disqualification_needs_a_reason_and_is_audited(session, world, enrolled):
    exam, by_name = enrolled
    enrolment = by_name["Бекова"]
    with pytest.raises(service.ExamError) as caught:
        service.set_attendance(session, enrolment, "disqualified", "  ", world.chief)
    assert caught.value.field == "reason"
    assert enrolment.attendance == "present"

    service.set_attendance(session, enrolment, "disqualified", "Қауіпсіздік ережесі", world.chief)
    assert (enrolment.attendance, enrolment.attendance_reason) == (
        "disqualified",
        "Қауіпсіздік ережесі",
    )
    entry = audit.entries(session, exam.id)[-1]
    assert (entry.action, entry.actor, entry.old_value, entry.new_value, entry.reason) == (
        "attendance",
        world.chief.email,
        "present",
        "disqualified",
        "Қауіпсіздік ережесі",
    )
    assert entry.target == f"enrolment:{enrolment.id}"


@pytest.mark.parametrize("status", ["absent", "withdrawn", "present"])
def test_other_attendance_needs_no_reason(session, world, enrolled, status):
    _exam, by_name = enrolled
    enrolment = by_name["Абаев"]
    service.set_attendance(session, enrolment, "absent", "", world.chief)
    service.set_attendance(session, enrolment, status, "", world.chief)
    assert enrolment.attendance == status


def test_unknown_attendance_is_refused(session, world, enrolled):
    _exam, by_name = enrolled
    with pytest.raises(service.ExamError) as caught:
        service.set_attendance(session, by_name["Абаев"], "late", "", world.chief)
    assert caught.value.field == "status"


# --- status flow, finalise and reopen ----------------------------------------------------


def test_start_marking_moves_planned_to_marking_once(session, world):
    exam = world.exam()
    service.start_marking(session, exam)
    assert exam.status == "marking"
    service.start_marking(session, exam)
    assert exam.status == "marking"


def test_status_is_stored_as_its_string_and_read_back_as_the_enum(session, world):
    exam = world.exam()
    service.start_marking(session, exam)
    stored = session.execute(
        select(Exam.__table__.c.status).where(Exam.__table__.c.id == exam.id)
    ).scalar_one()
    assert (type(stored), stored) == (ExamStatus, ExamStatus.MARKING)
    raw = session.execute(text("SELECT status FROM exams WHERE id = :id"), {"id": exam.id})
    assert raw.scalar_one() == "marking"  # the same strings as before the enum: no migration
    assert service.lock_exam(session, exam.id) is ExamStatus.MARKING
    assert service.lock_exam(session, -1) is None
    exam.status = "closed"
    with pytest.raises(StatementError, match="closed"):
        session.flush()


def test_first_saved_mark_moves_the_exam_to_marking(session, world, enrolled):
    exam, by_name = enrolled
    aspect = _aspect(session, exam, "A2.1")
    entry.save_mark(
        session,
        exam=exam,
        enrolment=by_name["Абаев"],
        aspect=aspect,
        seat=0,
        value="2",
        user=None,
        expected_version=None,
    )
    assert exam.status == "marking"


def _aspect(session, exam, address: str) -> Aspect:
    code, position = address.split(".")
    return session.scalar(
        select(Aspect)
        .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
        .where(
            Aspect.scheme_id == exam.scheme_id,
            SubCriterion.code == code,
            Aspect.position == int(position),
        )
    )


def _fill(session, exam, enrolment, *, skip=(), judge_scores=(2, 2, 2)):
    """Enter every mark of ``enrolment`` except the aspect addresses in ``skip``."""
    for address in ("A1.1", "A1.2", "A2.1"):
        if address in skip:
            continue
        aspect = _aspect(session, exam, address)
        seats = [(0, "1.5")] if aspect.kind == "M" else list(enumerate(judge_scores, start=1))
        for seat, value in seats:
            entry.save_mark(
                session,
                exam=exam,
                enrolment=enrolment,
                aspect=aspect,
                seat=seat,
                value=value,
                user=None,
                expected_version=None,
                reason="" if seat else "1.5 of the maximum: written on the paper form",
            )


def test_finalise_is_refused_with_exactly_what_is_incomplete(session, world, enrolled):
    exam, by_name = enrolled
    _fill(session, exam, by_name["Әлібекова"], skip={"A2.1"})
    _fill(session, exam, by_name["Бекова"], judge_scores=(0, 3, 1))
    _fill(session, exam, by_name["Абаев"])
    service.set_attendance(session, by_name["Иванов"], "absent", "", world.chief)
    ws = {name: e.workstation for name, e in by_name.items()}

    with pytest.raises(service.ExamIncomplete) as caught:
        service.finalise(session, exam, world.chief)
    assert caught.value.lines() == sorted(
        [
            f"Әлібекова Айгерім (ws {ws['Әлібекова']}): A2.1: missing",
            f"Бекова Дана (ws {ws['Бекова']}): A1.2: needs re-scoring",
        ],
        key=lambda line: line.split("(ws ")[1],
    )
    assert exam.status == "marking"
    assert not any(f.locked for f in service.marking_forms(session, exam))


def test_finalise_locks_stores_results_and_records_the_chain_head(session, world, enrolled):
    exam, by_name = enrolled
    for name in ("Әлібекова", "Бекова", "Абаев"):
        _fill(session, exam, by_name[name])
    service.set_attendance(session, by_name["Иванов"], "withdrawn", "", world.chief)

    service.finalise(session, exam, world.chief)

    assert exam.status == "finalised" and exam.finalised_at is not None
    assert all(f.locked for f in service.marking_forms(session, exam))
    results = session.scalars(select(Result).where(Result.exam_id == exam.id)).all()
    assert sorted(r.enrolment.candidate.last_name for r in results) == sorted(
        ["Әлібекова", "Бекова", "Абаев"]
    )  # only present candidates get results
    last = audit.entries(session, exam.id)[-1]
    assert last.action == "finalise"
    assert (exam.audit_head, exam.audit_count) == (last.hash, last.seq)
    assert audit.verify(session, exam.id).ok

    with pytest.raises(service.ExamError):
        service.finalise(session, exam, world.chief)
    with pytest.raises(service.ExamError):
        service.start_marking(session, exam)
    with pytest.raises(service.ExamError):
        service.set_attendance(session, by_name["Абаев"], "absent", "", world.chief)


def test_finalise_needs_someone_present(session, world):
    exam = world.exam()
    with pytest.raises(service.ExamError) as caught:
        service.finalise(session, exam, world.chief)
    assert caught.value.field == "status"


@pytest.fixture
def finalised(session, world, enrolled):
    exam, by_name = enrolled
    for enrolment in by_name.values():
        _fill(session, exam, enrolment)
    service.finalise(session, exam, world.chief)
    return exam


def test_reopen_needs_an_administrator_and_a_reason(session, world, finalised):
    exam = finalised
    with pytest.raises(service.NotAllowed):
        service.reopen(session, exam, world.chief, "Қате балл")
    with pytest.raises(service.ExamError) as caught:
        service.reopen(session, exam, world.admin, "   ")
    assert caught.value.field == "reason"
    assert exam.status == "finalised"


def test_reopen_is_audited_and_keeps_forms_locked(session, world, finalised):
    exam = finalised
    head = exam.audit_head
    service.reopen(session, exam, world.admin, "A1.2 балы қате енгізілген")
    assert exam.status == "marking" and exam.finalised_at is None
    entry = audit.entries(session, exam.id)[-1]
    assert (entry.action, entry.actor, entry.reason) == (
        "reopen",
        world.admin.email,
        "A1.2 балы қате енгізілген",
    )
    assert all(f.locked for f in service.marking_forms(session, exam))
    assert exam.audit_head == head  # the recorded head still proves the earlier chain
    with pytest.raises(service.ExamError):
        service.reopen(session, exam, world.admin, "again")


# --- conflicts of interest ------------------------------------------------------------------


def test_conflicts_list_who_is_excluded_and_why(session, world, group):
    exam, people = group
    own = people[0].college
    expert = UserFactory(role="expert", college_id=own.id)
    clean = UserFactory(role="expert", college_id=CollegeFactory().id)
    service.assign(session, exam, world.chief.email, [expert.email, clean.email])
    enrol_csv(session, exam, "iin", iin_for(1), iin_for(2))
    from assessments.services.exam_overview import conflicts

    found = conflicts(exam)
    assert [(c.expert, c.college, c.candidates) for c in found] == [(expert, own, 1)]


# --- command line ----------------------------------------------------------------------------


def run(app, *args):
    """Invoke ``flask …`` after committing the test's data (a refused command rolls back)."""
    from app.extensions import db

    db.session.commit()  # releases the test's savepoint; the outer transaction still rolls back
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_create_prints_the_id_as_json(app, session, world):
    result = run(
        app,
        "exams",
        "create",
        "--centre",
        world.centre.code,
        "--competence",
        world.competence.code,
        "--scheme",
        str(world.scheme.id),
        "--start",
        "2026-06-01",
        "--end",
        "2026-06-02",
        "--chief",
        world.chief.email,
        "--json",
    )
    assert result.exit_code == 0, result.output
    exam_id = json.loads(result.output)["id"]
    exam = session.get(service.Exam, exam_id)
    assert (exam.end_date, exam.chief_expert) == (date(2026, 6, 2), world.chief)


def test_cli_create_refuses_an_unaccredited_centre(app, session, world):
    other = CentreFactory()
    result = run(
        app,
        "exams",
        "create",
        "--centre",
        other.code,
        "--competence",
        world.competence.code,
        "--scheme",
        str(world.scheme.id),
        "--start",
        "2026-06-01",
    )
    assert result.exit_code == 1
    assert f"centre: The centre {other.name_en} is not accredited" in result.stderr


def test_cli_enrol_all_or_nothing(app, session, group, tmp_path):
    exam, _people = group
    bad = tmp_path / "group.csv"
    bad.write_bytes(csv_bytes("iin,workstation", f"{iin_for(1)},1", f"{iin_for(9)},7"))
    result = run(app, "exams", "enrol", str(exam.id), str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:3: workstation: must be a whole number from 1 to 3",
        f"{bad}:3: iin: no candidate with this IIN is registered",
    ]
    assert not session.scalars(select(Enrolment).where(Enrolment.exam_id == exam.id)).all()

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes("iin", iin_for(1), iin_for(2)))
    result = run(app, "exams", "enrol", str(exam.id), str(good))
    assert result.exit_code == 0, result.stderr
    assert result.output.startswith(f"enrolled 2 candidates in exam {exam.id}")


def test_cli_assign_finalise_and_reopen(app, session, world, enrolled):
    exam, by_name = enrolled
    expert = UserFactory(role="expert")
    result = run(
        app, "exams", "assign", str(exam.id), "--chief", world.chief.email, "--expert", expert.email
    )
    assert result.exit_code == 0, result.stderr
    result = run(app, "exams", "assign", str(exam.id), "--chief", expert.email)
    assert (result.exit_code, "chief:" in result.stderr) == (1, True)

    for name in ("Әлібекова", "Бекова", "Абаев"):
        _fill(session, exam, by_name[name])
    _fill(session, exam, by_name["Иванов"], skip={"A1.1"})
    result = run(app, "exams", "finalise", str(exam.id))
    assert result.exit_code == 1
    ws = by_name["Иванов"].workstation
    assert result.stdout.splitlines() == [f"Иванов Олег (ws {ws}): A1.1: missing"]
    assert iin_for(4) not in result.output + result.stderr

    result = run(
        app, "exams", "attendance", str(exam.id), "--iin", iin_for(4), "--status", "absent"
    )
    assert result.exit_code == 0, result.stderr
    result = run(app, "exams", "finalise", str(exam.id))
    assert result.exit_code == 0, result.stderr
    assert session.get(service.Exam, exam.id).status == "finalised"

    result = run(app, "exams", "reopen", str(exam.id))
    assert result.exit_code == 2  # --reason is required
    result = run(app, "exams", "reopen", str(exam.id), "--reason", "Түзету")
    assert result.exit_code == 0, result.stderr
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.exam_id == exam.id).order_by(AuditEntry.seq.desc())
    ).first()
    assert (entry.action, entry.reason, entry.actor) == ("reopen", "Түзету", "system")


def test_cli_finalise_needs_a_note_for_deductions_without_a_reason(app, session, world, enrolled):
    exam, by_name = enrolled
    for enrolment in by_name.values():
        _fill(session, exam, enrolment)
    mark = session.scalars(select(Mark).where(Mark.exam_id == exam.id, Mark.seat == 0)).first()
    mark.reason = ""  # a deduction typed without its reason
    session.flush()
    result = run(app, "exams", "finalise", str(exam.id))
    assert result.exit_code == 1
    assert "deduction without a reason" in result.stdout
    assert "--note" in result.stderr
    assert session.get(service.Exam, exam.id).status != "finalised"
    result = run(app, "exams", "finalise", str(exam.id), "--note", "Paper form: checked")
    assert result.exit_code == 0, result.stderr
    actions = [(e.action, e.reason) for e in audit.entries(session, exam.id)]
    assert ("form.deductions_acknowledged", "Paper form: checked") in actions


def test_cli_list_json(app, session, world):
    exam = world.exam()
    result = run(app, "exams", "list", "--json")
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert rows[exam.id]["status"] == "planned"
    assert rows[exam.id]["centre"] == world.centre.code
