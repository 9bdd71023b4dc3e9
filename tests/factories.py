"""factory_boy factories with meaningful defaults for the whole suite."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.auth.models import User
from app.extensions import db
from assessments.models import (
    Aspect,
    Candidate,
    CandidateCentre,
    Centre,
    College,
    Competence,
    Criterion,
    Enrolment,
    Enterprise,
    Exam,
    ExamExpert,
    Mark,
    MarkingForm,
    MarkingScheme,
    Result,
    SubCriterion,
    WsosSection,
)

PASSWORD = "correct-horse-battery"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class CompetenceFactory(Base):
    class Meta:
        model = Competence

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name_kk = factory.Sequence(lambda n: f"Құзырет {n}")
    name_ru = factory.Sequence(lambda n: f"Компетенция {n}")
    name_en = factory.Sequence(lambda n: f"Competence {n}")

    @factory.post_generation
    def sections(obj, create, extracted, **kwargs):
        weights = extracted or (Decimal("10"), Decimal("20"), Decimal("30"), Decimal("40"))
        obj.sections = [
            WsosSection(
                number=i,
                weight=Decimal(w),
                name_kk=f"Бөлім {i}",
                name_ru=f"Раздел {i}",
                name_en=f"Section {i}",
            )
            for i, w in enumerate(weights, start=1)
        ]
        if create:
            db.session.flush()


class CollegeFactory(Base):
    class Meta:
        model = College

    code = factory.Sequence(lambda n: f"COL{n:03d}")
    name_kk = factory.Sequence(lambda n: f"Алматы колледжі {n}")
    name_ru = factory.Sequence(lambda n: f"Алматинский колледж {n}")
    name_en = factory.Sequence(lambda n: f"Almaty College {n}")
    city = "Алматы"


class CentreFactory(Base):
    class Meta:
        model = Centre

    code = factory.Sequence(lambda n: f"CC{n:03d}")
    name_kk = factory.Sequence(lambda n: f"Құзыреттілік орталығы {n}")
    name_ru = factory.Sequence(lambda n: f"Центр компетенций {n}")
    name_en = factory.Sequence(lambda n: f"Competence Centre {n}")
    city = "Алматы"
    address = "Абай даңғылы, 1"
    workstations = 10


class EnterpriseFactory(Base):
    class Meta:
        model = Enterprise

    bin = factory.Sequence(lambda n: _bin(n))
    name_kk = factory.Sequence(lambda n: f"«Кәсіпорын {n}» ЖШС")
    name_ru = factory.Sequence(lambda n: f"ТОО «Предприятие {n}»")
    name_en = factory.Sequence(lambda n: f"Enterprise {n} LLP")


class CandidateFactory(Base):
    """A candidate with a valid IIN (pass ``iin=`` to choose it), stored as hash + ciphertext."""

    class Meta:
        model = Candidate
        exclude = ("iin",)

    # a distinct birth date per candidate: serial bumps (never-issued check digits) can't collide
    iin = factory.Sequence(lambda n: iin_for(1000 + n % 1000, birth=_birth(n)))
    last_name = factory.Iterator(["Сейтқалиева", "Омарова", "Әлиева", "Қасымова", "Ұзақова"])
    first_name = factory.Sequence(lambda n: f"Айгерім{'і' * (n % 5)}")
    middle_name = "Нұрланқызы"
    last_name_latin = factory.LazyAttribute(lambda o: _latin(o.last_name))
    first_name_latin = factory.LazyAttribute(lambda o: _latin(o.first_name))
    sort_key = factory.LazyAttribute(lambda o: _sort_key(o.last_name, o.first_name, o.middle_name))
    search_text = factory.LazyAttribute(
        lambda o: " ".join([o.last_name, o.first_name, o.middle_name]).casefold()
    )
    iin_hash = factory.LazyAttribute(lambda o: _iin_hash(o.iin))
    iin_encrypted = factory.LazyAttribute(lambda o: _encrypt(o.iin))
    college = factory.SubFactory(CollegeFactory)
    specialty = "06130100 Бағдарламалық қамтамасыз ету"
    email = ""
    legal_basis = "education"

    @factory.post_generation
    def link_centre(obj, create, extracted, **kwargs):
        """The registering centre is the candidate's first link, as on registration."""
        if obj.centre_id is not None:
            obj.centre_links.append(CandidateCentre(centre_id=obj.centre_id))
            if create:
                db.session.flush()


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kz")
    name = factory.Sequence(lambda n: f"Пайдаланушы {n}")
    role = "expert"
    active = True
    password_hash = factory.LazyFunction(lambda: _hash(PASSWORD))


# --- marking schemes, exams, enrolments, marks, results -------------------------------

# sub-criterion code (its letter names the criterion) -> aspects, each
# (kind, max mark in hundredths) or (kind, max mark in hundredths, WSOS section)
DEFAULT_LAYOUT = {
    "A1": (("M", 100), ("M", 50), ("J", 200)),
    "A2": (("M", 125),),
}
LEVELS = ("Төмен", "Сәйкес", "Жоғары", "Өте жоғары")


class MarkingSchemeFactory(Base):
    """A marking scheme with its criteria, sub-criteria and aspects.

    Pass ``layout`` (see DEFAULT_LAYOUT) for its shape, ``criterion_names`` ({"A": …}) to
    name criteria, ``levels`` for the four level descriptions of every J aspect, and
    ``sub_name`` (a format of ``code`` and ``criterion``, its name) and ``description``
    (of ``code``, ``letter`` and ``index``) to name sub-criteria and aspects. The maximum
    total is the sum of the aspects' maxima.
    """

    class Meta:
        model = MarkingScheme

    competence = factory.SubFactory(CompetenceFactory)
    name = "Тест схемасы"
    judges = 3
    allowed_spread = 1

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        layout = kwargs.pop("layout", DEFAULT_LAYOUT)
        names = kwargs.pop("criterion_names", {})
        levels = list(kwargs.pop("levels", LEVELS))
        sub_name = kwargs.pop("sub_name", "Бөлім {code}")
        description = kwargs.pop("description", "{code} аспект {index}")
        scheme = model_class(*args, **kwargs)
        db.session.add(scheme)
        db.session.flush()
        criteria: dict[str, Criterion] = {}
        total = 0
        for position, (code, aspects) in enumerate(layout.items(), start=1):
            letter = code[0]
            if letter not in criteria:
                criteria[letter] = Criterion(
                    scheme_id=scheme.id, letter=letter, name=names.get(letter, f"Модуль {letter}")
                )
                db.session.add(criteria[letter])
                db.session.flush()
            sub = SubCriterion(
                scheme_id=scheme.id,
                criterion_id=criteria[letter].id,
                code=code,
                name=sub_name.format(code=code, criterion=criteria[letter].name),
                day=1,
                position=position,
            )
            db.session.add(sub)
            db.session.flush()
            for index, (kind, maximum, *section) in enumerate(aspects, start=1):
                db.session.add(
                    Aspect(
                        scheme_id=scheme.id,
                        sub_criterion_id=sub.id,
                        position=index,
                        kind=kind,
                        description=description.format(code=code, letter=letter, index=index),
                        wsos_section=section[0] if section else 1,
                        max_hundredths=maximum,
                        levels=levels if kind == "J" else [],
                    )
                )
                total += maximum
        scheme.max_total_hundredths = total
        db.session.flush()
        db.session.refresh(scheme)
        return scheme


def scheme_aspects(scheme: MarkingScheme) -> dict[str, Aspect]:
    """The scheme's aspects by address ("A1.2"), in scheme order."""
    found = {}
    for criterion in scheme.criteria:
        for sub in criterion.sub_criteria:
            for aspect in sub.aspects:
                found[f"{sub.code}.{aspect.position}"] = aspect
    return found


class ExamFactory(Base):
    """An exam of a centre accredited for the scheme's competence (one day by default).

    ``experts=[user, …]`` joins them to the expert group; ``forms=True`` opens one
    marking form per sub-criterion (as planning an exam through the service does);
    ``accredit=False`` leaves the centre's accreditations as they are.
    """

    class Meta:
        model = Exam

    scheme = factory.SubFactory(MarkingSchemeFactory)
    competence = factory.LazyAttribute(lambda o: o.scheme.competence)
    centre = factory.SubFactory(CentreFactory)
    start_date = date(2026, 5, 20)
    end_date = factory.LazyAttribute(lambda o: o.start_date)
    status = "planned"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        experts = kwargs.pop("experts", ())
        forms = kwargs.pop("forms", False)
        accredit = kwargs.pop("accredit", True)
        exam = model_class(*args, **kwargs)
        if accredit and exam.competence not in exam.centre.competences:
            exam.centre.competences.append(exam.competence)
        db.session.add(exam)
        db.session.flush()
        for person in experts:
            db.session.add(ExamExpert(exam_id=exam.id, user_id=person.id))
        if forms:
            for criterion in exam.scheme.criteria:
                for sub in criterion.sub_criteria:
                    db.session.add(MarkingForm(exam_id=exam.id, sub_criterion_id=sub.id, seats={}))
        db.session.flush()
        return exam


class EnrolmentFactory(Base):
    """A candidate (CandidateFactory) enrolled in an exam, present, at the next workstation."""

    class Meta:
        model = Enrolment

    exam = factory.SubFactory(ExamFactory)
    candidate = factory.SubFactory(CandidateFactory)
    workstation = factory.Sequence(lambda n: n + 1)
    attendance = "present"


class MarkFactory(Base):
    """One mark: ``value`` in hundredths (M) or the judge's score 0-3 (J) on ``seat``."""

    class Meta:
        model = Mark

    exam_id = factory.LazyAttribute(lambda o: o.enrolment.exam_id)
    enrolment_id = factory.LazyAttribute(lambda o: o.enrolment.id)
    aspect = None  # an Aspect of the exam's scheme: pass it
    seat = 0
    value = 0

    class Params:
        enrolment = factory.SubFactory(EnrolmentFactory)


class ResultFactory(Base):
    """A stored result of an enrolment; pass the figures the test is about."""

    class Meta:
        model = Result

    enrolment = factory.SubFactory(EnrolmentFactory)
    exam_id = factory.LazyAttribute(lambda o: o.enrolment.exam_id)
    candidate_id = factory.LazyAttribute(lambda o: o.enrolment.candidate_id)
    total_units = 0
    max_units = 1
    denominator = 1
    percent_hundredths = 0
    grade = 2
    passed = False
    rank = 1
    by_criterion = factory.LazyFunction(dict)
    by_section = factory.LazyFunction(dict)


def _bin(n: int) -> str:
    from assessments.iin import make_bin

    return make_bin(2010 + n % 10, 1 + n % 12, n)


def _hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    # cheap parameters in tests only: scrypt at production cost would slow the suite
    return generate_password_hash(password, method="scrypt:1024:8:1")


def _birth(n: int) -> date:
    return date(1995, 1, 1) + timedelta(days=n % 7000)


def iin_for(n: int, birth: date = date(2004, 5, 17), sex: str = "F") -> str:
    from assessments.iin import make_iin

    return make_iin(birth, sex, n)


def _latin(name: str) -> str:
    from assessments.translit import transliterate

    return transliterate(name)


def _sort_key(*parts: str) -> str:
    from app.collation import sort_key

    return sort_key(*parts)


def _iin_hash(iin: str) -> str:
    from assessments.personal_data import iin_lookup_hash

    return iin_lookup_hash(iin)


def _encrypt(iin: str) -> str:
    from assessments.personal_data import encrypt_iin

    return encrypt_iin(iin)
