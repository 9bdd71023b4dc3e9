"""Demo data across packages: one call seeds everything, idempotently."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import services
from app.auth.models import User

# shown by `make run` and README.md; for the demo database only
DEMO_USERS = (
    ("admin@demo.kz", "Әсел Администратор", "admin", "demo-admin-2026"),
    ("manager@demo.kz", "Нұрлан Жетекшіұлы", "centre_manager", "demo-manager-2026"),
    ("chief@demo.kz", "Гүлнар Бас сарапшы", "chief_expert", "demo-chief-2026"),
    ("expert@demo.kz", "Ерлан Сарапшы", "expert", "demo-expert-2026"),
)


def is_empty(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is None


def seed_users(session: Session, centre_id: int | None, college_id: int | None) -> int:
    created = 0
    for email, name, role, password in DEMO_USERS:
        if services.find_user(session, email) is not None:
            continue
        services.create_user(
            session,
            email=email,
            name=name,
            role=role,
            password=password,
            centre_id=centre_id if role in ("centre_manager", "chief_expert", "expert") else None,
            college_id=college_id if role == "expert" else None,
        )
        created += 1
    return created


def seed_all(session: Session) -> str:
    """Seed reference data, candidates and users; return a one-line summary."""
    from assessments.demo import seed_reference

    reference = seed_reference(session)
    users = seed_users(session, reference.demo_centre_id, reference.demo_college_id)
    # exams need the reference data and the demo chief expert and expert
    from assessments.demo_exams import seed_exams

    exams = seed_exams(session)
    # passports of the finalised demo exam (idempotent: issues nothing twice)
    from passports.demo import seed_passports

    passports = seed_passports(session)
    return f"{reference.summary}; users: {users} new; {exams}; {passports}"
