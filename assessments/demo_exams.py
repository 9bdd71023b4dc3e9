"""Demo exams: one finalised with results, one still being marked, at the demo centre.

Both use competence 17 (Web Technologies) and the demo marking scheme bundled with the
code in ``assessments/demo_data/`` (four modules in the community JSON form, written for this
project: 15 sub-criteria, 65 aspects, 100 marks matching the competence's WSOS weights), so
the demo is the same on every machine. The scheme is imported through the schemes service,
and everything else goes through the same services as the pages: the exams are planned, the
expert group assigned, candidates enrolled, judge seats taken, marks imported (so the audit
log holds every one) and the first exam finalised, which stores its results
(``compute_results``).

Marks are generated from a fixed seed: each candidate has an ability, measurement aspects
are full marks or zero with the odd 0.25 deduction (every mark below the maximum carries a
written reason), judges' scores agree within the scheme's spread. The exam in progress has
forms locked, complete, partly filled and empty, and one judgement aspect whose judges
differ by 2, so it needs re-scoring.

A second run finds both exams by centre, competence and first day and changes nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from assessments.iin import make_iin
from assessments.models import (
    Aspect,
    Candidate,
    Centre,
    Competence,
    Criterion,
    Exam,
    MarkingForm,
    MarkingScheme,
    SubCriterion,
)
from assessments.personal_data import decrypt_iin, iin_lookup_hash
from assessments.scoring import hundredths_text
from assessments.tabular import Row

SCHEME_DIR = Path(__file__).resolve().parent / "demo_data"
# in criterion order: a JSON file takes its letter from its position (A, B, C, D)
SCHEME_FILES = (
    "demo-module-a.json",
    "demo-module-b.json",
    "demo-module-c.json",
    "demo-module-d.json",
)
COMPETENCE = "17"
CENTRE = "ALM-01"  # assessments.demo.DEMO_CENTRE
SCHEME_NAME = "Веб-технологиялар: демонстрациялық емтихан 2026"
FINALISED_START, FINALISED_END = date(2026, 6, 15), date(2026, 6, 16)
IN_PROGRESS_START, IN_PROGRESS_END = date(2026, 11, 23), date(2026, 11, 24)
FINALISED_PRESENT = 25
IN_PROGRESS_CANDIDATES = 10
CHIEF = "chief@demo.kz"
EXPERT = "expert@demo.kz"
# two more experts so three judges can sit a judgement form; they sign in only after an
# administrator sets their password
EXTRA_EXPERTS = (
    ("aigul.expert@demo.kz", "Айгүл Сейітқызы"),
    ("serik.expert@demo.kz", "Серік Оспанов"),
)
WEB_COLLEGES = ("C11", "C03", "C09", "C01")
WEB_SPECIALTY = "06130100 Бағдарламалық қамтамасыз ету"
# extra web-technology candidates: (last, first, middle, sex, birth); IIN serials 7001…
EXTRA_CANDIDATES = (
    ("Әлібекова", "Айгерім", "Нұрланқызы", "F", date(2005, 3, 14)),
    ("Құрманғалиев", "Өмірзақ", "Нұрланұлы", "M", date(2004, 11, 2)),
    ("Үсенова", "Һадия", "Бауыржанқызы", "F", date(2005, 7, 21)),
    ("Ұлықбеков", "Ерғали", "Серікұлы", "M", date(2004, 1, 30)),
    ("Жақыпова", "Аңсар", "", "F", date(2005, 9, 9)),
    ("Төлеуов", "Дәулет", "Қайратұлы", "M", date(2004, 6, 17)),
    ("Сәрсенбаева", "Гүлнұр", "Асқарқызы", "F", date(2005, 2, 27)),
    ("Ержанов", "Мұхтар", "Әділұлы", "M", date(2004, 8, 5)),
    ("Қалиева", "Әйгерім", "Маратқызы", "F", date(2005, 12, 12)),
    ("Нұрпейісов", "Ілияс", "Болатұлы", "M", date(2004, 4, 23)),
    ("Бекенова", "Жанерке", "Ғабитқызы", "F", date(2005, 5, 3)),
    ("Оспанов", "Арман", "Түгелбайұлы", "M", date(2004, 10, 19)),
    ("Мұратова", "Күнсұлу", "Еркінқызы", "F", date(2005, 8, 28)),
    ("Шәріпов", "Бекзат", "Нұрболұлы", "M", date(2004, 2, 11)),
)
# short written reasons for a 0.25 deduction, by criterion (what experts note on the form)
DEDUCTION_REASONS = {
    "A": (
        "Валидатор бір қате көрсетті",
        "375 px енінде көлденең айналдыру пайда болады",
        "Бір суретте alt мәтіні жоқ",
        "Мазмұн файлындағы бір абзац өзгертілген",
    ),
    "B": (
        "Кириллицамен іздеу бір мысалда жұмыс істемейді",
        "Қате туралы хабар өрістің жанында емес",
        "Консольде JavaScript қатесі",
        "Қайта жүктегенде бір сүзгі сақталмайды",
    ),
    "C": (
        "Бір өріс тексерілмейді (422 қайтпайды)",
        "Қате жауабында JSON денесі жоқ",
        "README-де бір эндпоинттің мысалы жоқ",
    ),
    "D": (
        "Сервердің хабары өрістің жанында көрсетілмейді",
        "Кестені жаңарту үшін бетті қайта жүктеу керек",
        "README нұсқаулығының бір қадамы жұмыс істемейді",
    ),
}
# and for a measurement aspect marked zero
NOT_DONE_REASONS = ("Орындалмаған", "Жұмыс істемейді", "Тапсырма талабына сәйкес емес")


class DemoDataMissing(RuntimeError):
    """The demo marking-scheme files that ship with the code are not where they belong."""


@dataclass
class _Context:
    competence: Competence
    centre: Centre
    scheme: MarkingScheme
    chief: User
    experts: list[User]


def seed_exams(session: Session) -> str:
    """Create the demo exams that are missing; return a one-line summary.

    Raises DemoDataMissing when a bundled scheme file is gone (a damaged checkout).
    """
    missing = [name for name in SCHEME_FILES if not (SCHEME_DIR / name).is_file()]
    if missing:
        raise DemoDataMissing(
            f"the demo marking scheme is incomplete: {', '.join(missing)} not found in "
            f"{SCHEME_DIR}; restore assessments/demo_data/ from the repository"
        )
    competence = session.scalar(select(Competence).where(Competence.code == COMPETENCE))
    centre = session.scalar(select(Centre).where(Centre.code == CENTRE))
    chief = session.scalar(select(User).where(User.email == CHIEF))
    if competence is None or centre is None or chief is None:
        return "demo exams skipped: seed the demo reference data and users first"

    finalised = _find_exam(session, centre, competence, FINALISED_START)
    in_progress = _find_exam(session, centre, competence, IN_PROGRESS_START)
    if finalised is not None and in_progress is not None:
        return "demo exams: 0 new"
    context = _Context(competence, centre, _scheme(session), chief, _experts(session))
    people = _candidates(session)
    created = 0
    if finalised is None:
        _finalised_exam(session, context, people[: FINALISED_PRESENT + 1])
        created += 1
    if in_progress is None:
        start = FINALISED_PRESENT + 1
        _exam_in_progress(session, context, people[start : start + IN_PROGRESS_CANDIDATES])
        created += 1
    session.flush()
    return f"demo exams: {created} new (one finalised with results, one in marking)"


# --- building blocks ------------------------------------------------------------------------


def _find_exam(session: Session, centre: Centre, competence: Competence, start: date):
    return session.scalar(
        select(Exam).where(
            Exam.centre_id == centre.id,
            Exam.competence_id == competence.id,
            Exam.start_date == start,
        )
    )


def _scheme(session: Session) -> MarkingScheme:
    from assessments.services.schemes.importing import import_scheme

    scheme = session.scalar(
        select(MarkingScheme)
        .join(Competence, Competence.id == MarkingScheme.competence_id)
        .where(Competence.code == COMPETENCE, MarkingScheme.name == SCHEME_NAME)
        .order_by(MarkingScheme.version)
    )
    if scheme is None:
        files = [(name, (SCHEME_DIR / name).read_bytes()) for name in SCHEME_FILES]
        scheme = import_scheme(session, files, COMPETENCE, SCHEME_NAME)
    return scheme


def _experts(session: Session) -> list[User]:
    from app.auth import services as accounts

    experts = []
    main = session.scalar(select(User).where(User.email == EXPERT))
    if main is not None:
        experts.append(main)
    for email, name in EXTRA_EXPERTS:
        user = accounts.find_user(session, email)
        if user is None:
            user = accounts.create_user(
                session,
                email=email,
                name=name,
                role="expert",
                password=secrets.token_urlsafe(24),
            )
        experts.append(user)
    return experts


def _candidates(session: Session) -> list[Candidate]:
    """Web-technology candidates in Kazakh alphabetical order: the reference ones, then ours."""
    from assessments.services.candidates.records import save_candidate
    from assessments.services.candidates.scope import find_by_iin

    extra: set[str] = set()
    for serial, (last, first, middle, sex, birth) in enumerate(EXTRA_CANDIDATES, start=7001):
        iin = make_iin(birth, sex, serial)
        extra.add(iin_lookup_hash(iin))
        if find_by_iin(session, iin) is not None:
            continue
        save_candidate(
            session,
            None,
            {
                "iin": iin,
                "last_name": last,
                "first_name": first,
                "middle_name": middle,
                "college_code": WEB_COLLEGES[serial % len(WEB_COLLEGES)],
                "specialty": WEB_SPECIALTY,
                "email": "",
                "enterprise_bin": "",
                "centre_code": CENTRE,
            },
        )
    session.flush()
    everyone = session.scalars(
        select(Candidate)
        .where(Candidate.specialty == WEB_SPECIALTY)
        .order_by(Candidate.sort_key, Candidate.id)
    ).all()
    reference = [c for c in everyone if c.iin_hash not in extra]
    ours = [c for c in everyone if c.iin_hash in extra]
    return reference + ours


def _plan(session: Session, context: _Context, start: date, end: date, people) -> Exam:
    from assessments.services import exams

    exam = exams.create_exam(
        session,
        centre=context.centre,
        competence=context.competence,
        scheme=context.scheme,
        start=start,
        end=end,
        chief=context.chief,
    )
    exams.assign(session, exam, context.chief.email, [u.email for u in context.experts])
    rows = [Row(n, {"iin": decrypt_iin(c.iin_encrypted)}) for n, c in enumerate(people, start=2)]
    exams.enrol(session, exam, rows, filename="demo")
    # both demo exams have been held: the chief marked everyone present on the first day
    exams.mark_all_present(session, exam, context.chief)
    _seat_judges(session, context, exam)
    return exam


def _seat_judges(session: Session, context: _Context, exam: Exam) -> None:
    """Seat the judges of every form with a judgement aspect, none from a candidate's college."""
    from assessments.services.marks import seats

    judged = set(
        session.scalars(
            select(Aspect.sub_criterion_id).where(
                Aspect.scheme_id == exam.scheme_id, Aspect.kind == "J"
            )
        )
    )
    colleges = {e.candidate.college_id for e in exam.enrolments}
    judges = [u for u in [*context.experts, context.chief] if u.college_id not in colleges]
    forms = session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)).all()
    for form in forms:
        if form.sub_criterion_id not in judged:
            continue
        for seat, user in enumerate(judges[: exam.scheme.judges], start=1):
            seats.assign_seat(session, form, seat, user, context.chief)


def _aspects(session: Session, exam: Exam) -> list[tuple[str, str, str, str, int]]:
    """Return (criterion letter, sub-criterion code, address, kind, max) in scheme order."""
    return [
        (letter, code, f"{code}.{position}", kind, maximum)
        for letter, code, position, kind, maximum in session.execute(
            select(
                Criterion.letter,
                SubCriterion.code,
                Aspect.position,
                Aspect.kind,
                Aspect.max_hundredths,
            )
            .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
            .join(Criterion, Criterion.id == SubCriterion.criterion_id)
            .where(Aspect.scheme_id == exam.scheme_id)
            .order_by(Criterion.letter, SubCriterion.position, Aspect.position)
        )
    ]


JUDGE_FORM_REASON = "typed from the judge's paper form"


def _marks_for(
    rng: random.Random, number: str, ability: float, aspects, judges: int
) -> list[dict[str, str]]:
    """Generate one candidate's marks as import rows (candidate number, aspect, judge,
    score, reason), as the chief expert types them up from the paper forms."""
    rows = []
    for letter, _code, address, kind, maximum in aspects:
        if kind == "J":
            low = max(0, min(2, round(ability * 3 + rng.uniform(-0.8, 0.5))))
            for seat in range(1, judges + 1):
                score = low + (1 if rng.random() < 0.35 and low < 3 else 0)
                rows.append(
                    {
                        "candidate": number,
                        "aspect": address,
                        "judge": str(seat),
                        "score": str(score),
                        # the chief types in each judge's paper form (rules.seat_refusal)
                        "reason": JUDGE_FORM_REASON,
                    }
                )
            continue
        reason = ""
        if rng.random() < ability:
            value = maximum
            if maximum >= 50 and rng.random() < 0.15:
                value = maximum - 25
                reason = rng.choice(DEDUCTION_REASONS[letter])
        else:
            value = 0
            reason = rng.choice(NOT_DONE_REASONS)
        score = hundredths_text(value)
        rows.append(
            {"candidate": number, "aspect": address, "judge": "", "score": score, "reason": reason}
        )
    return rows


def _candidate_numbers(exam: Exam) -> dict[int, str]:
    """The exam's candidate numbers by candidate id, as typed in an import."""
    return {e.candidate_id: str(e.candidate_number) for e in exam.enrolments}


def _import(session: Session, exam: Exam, rows: list[dict[str, str]], user: User, source: str):
    from assessments.services.marks import bulk_import

    table = [Row(n, values) for n, values in enumerate(rows, start=2)]
    return bulk_import.import_rows(session, exam, table, user, source=source)


def _finalised_exam(session: Session, context: _Context, people: list[Candidate]) -> Exam:
    from assessments.services import exams

    exam = _plan(session, context, FINALISED_START, FINALISED_END, people)
    rng = random.Random(20260615)  # demo data, not security
    aspects = _aspects(session, exam)
    absent = people[len(people) // 2]
    enrolment = next(e for e in exam.enrolments if e.candidate_id == absent.id)
    exams.set_attendance(session, enrolment, "absent", "", context.chief)
    rows: list[dict[str, str]] = []
    present = [c for c in people if c.id != absent.id]
    numbers = _candidate_numbers(exam)
    for index, candidate in enumerate(present):
        # abilities spread from weak to strong, so grades 2 to 5 all occur
        ability = 0.2 + 0.78 * ((index * 7) % len(present)) / max(len(present) - 1, 1)
        rows += _marks_for(rng, numbers[candidate.id], ability, aspects, exam.scheme.judges)
    _import(session, exam, rows, context.chief, "demo: paper marking forms, day 1-2")
    exams.finalise(session, exam, context.chief)
    return exam


def _exam_in_progress(session: Session, context: _Context, people: list[Candidate]) -> Exam:
    """Criterion A locked, B complete but one J aspect to re-score, C half done, D empty."""
    from assessments.services.marks import signoff

    exam = _plan(session, context, IN_PROGRESS_START, IN_PROGRESS_END, people)
    rng = random.Random(20261123)  # demo data, not security
    aspects = _aspects(session, exam)
    judges = exam.scheme.judges
    rows: list[dict[str, str]] = []
    numbers = _candidate_numbers(exam)
    for index, candidate in enumerate(people):
        ability = 0.35 + 0.6 * ((index * 3) % len(people)) / max(len(people) - 1, 1)
        chosen = [a for a in aspects if a[0] in "AB" or (a[0] == "C" and index % 2 == 0)]
        rows += _marks_for(rng, numbers[candidate.id], ability, chosen, judges)
    # the judges of the first judgement aspect of B disagree on the first candidate: 1, 1, 3
    first_j = next(a for a in aspects if a[0] == "B" and a[3] == "J")
    first = numbers[people[0].id]
    for row in rows:
        if row["candidate"] == first and row["aspect"] == first_j[2]:
            row["score"] = {"1": "1", "2": "1"}.get(row["judge"], "3")
    _import(session, exam, rows, context.chief, "demo: day 1")
    forms = session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)).all()
    for form in forms:
        if form.sub_criterion.criterion.letter == "A":
            signoff.lock_form(session, form, context.chief)
    return exam
