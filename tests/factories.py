"""factory_boy factories with meaningful defaults for the whole suite."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.auth.models import User
from app.extensions import db
from assessments.models import Centre, College, Competence, Enterprise, WsosSection

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


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kz")
    name = factory.Sequence(lambda n: f"Пайдаланушы {n}")
    role = "expert"
    active = True
    failed_logins = 0
    password_hash = factory.LazyFunction(lambda: _hash(PASSWORD))


def _bin(n: int) -> str:
    from assessments.iin import make_bin

    return make_bin(2010 + n % 10, 1 + n % 12, n)


def _hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    # cheap parameters in tests only: scrypt at production cost would slow the suite
    return generate_password_hash(password, method="scrypt:1024:8:1")


def iin_for(n: int, birth: date = date(2004, 5, 17), sex: str = "F") -> str:
    from assessments.iin import make_iin

    return make_iin(birth, sex, n)
