"""factory_boy factories with meaningful defaults for the whole suite."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.auth.models import User
from app.extensions import db
from assessments.models import Candidate, Centre, College, Competence, Enterprise, WsosSection

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


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kz")
    name = factory.Sequence(lambda n: f"Пайдаланушы {n}")
    role = "expert"
    active = True
    password_hash = factory.LazyFunction(lambda: _hash(PASSWORD))


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
