"""What the scheme tables can hold, and storing a scheme's rows as one version."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.messages import N_
from assessments.models import Aspect, Criterion, MarkingScheme, SubCriterion
from assessments.scheme_files.spec import Problem, SchemeSpec

#: Bounds that keep every total within the database's integer columns (hundredths × judges).
MAX_ASPECT_MARK = Decimal(1000)
MAX_TOTAL_MARK = Decimal(10000)
MAX_DAY = 365

_HUNDRED = Decimal(100)
# Column sizes of assessments/models/schemes.py, checked before the database sees them.
NAME_LEN = 200
_LETTER_LEN = 3
_CODE_LEN = 10
_SUB_NAME_LEN = 500
_CRITERION_NAME_LEN = 300
FILE_LEN = 300
_CALC_LEN = 50


def _too_long(value: str, limit: int) -> bool:
    return len(value) > limit


def storage_problems(spec: SchemeSpec) -> list[Problem]:
    """Return what the parser accepts but the scheme tables cannot hold."""
    problems: list[Problem] = []
    total = Decimal(0)
    for criterion in spec.criteria:
        file = criterion.source_file
        if _too_long(criterion.letter, _LETTER_LEN):
            problems.append(
                Problem(
                    file,
                    "",
                    "Sub Criterion ID",
                    N_("criterion letters have at most %(limit)s letters, got %(letter)s"),
                    {"limit": _LETTER_LEN, "letter": criterion.letter},
                )
            )
        if _too_long(criterion.name, _CRITERION_NAME_LEN):
            problems.append(
                Problem(
                    file,
                    "",
                    "Criterion",
                    N_("the name of criterion %(letter)s is longer than %(limit)s characters"),
                    {"letter": criterion.letter, "limit": _CRITERION_NAME_LEN},
                )
            )
        for sub in criterion.sub_criteria:
            if _too_long(sub.id, _CODE_LEN):
                problems.append(
                    Problem(
                        file,
                        "",
                        "Sub Criterion ID",
                        N_("%(id)s is longer than %(limit)s characters"),
                        {"id": sub.id, "limit": _CODE_LEN},
                    )
                )
            if _too_long(sub.name, _SUB_NAME_LEN):
                problems.append(
                    Problem(
                        file,
                        "",
                        "Sub Criterion Name",
                        N_("the name of %(id)s is longer than %(limit)s characters"),
                        {"id": sub.id, "limit": _SUB_NAME_LEN},
                    )
                )
            if sub.day is not None and sub.day > MAX_DAY:
                problems.append(
                    Problem(
                        file,
                        "",
                        "Day of Marking",
                        N_("%(id)s: day %(day)s is not a day of an exam (at most %(limit)s)"),
                        {"id": sub.id, "day": sub.day, "limit": MAX_DAY},
                    )
                )
            for aspect in sub.aspects:
                total += aspect.max_mark
                if aspect.max_mark > MAX_ASPECT_MARK:
                    problems.append(
                        Problem(
                            file,
                            aspect.source,
                            "Max Mark",
                            N_("must be at most %(limit)s, got %(mark)s"),
                            {"limit": MAX_ASPECT_MARK, "mark": aspect.max_mark},
                            int(aspect.source[4:]) if aspect.source.startswith("row ") else None,
                        )
                    )
    if total > MAX_TOTAL_MARK:
        problems.append(
            Problem(
                "",
                "",
                "Max Mark",
                N_("the marks add up to %(total)s; a scheme may have at most %(limit)s"),
                {"total": total, "limit": MAX_TOTAL_MARK},
            )
        )
    return problems


def hundredths(mark: Decimal) -> int:
    return int(mark * _HUNDRED)


def next_version(session: Session, competence_id: int, name: str) -> tuple[int, int | None]:
    """Return (next version number, id of the current latest version or None)."""
    latest = session.execute(
        select(MarkingScheme.version, MarkingScheme.id)
        .where(MarkingScheme.competence_id == competence_id, MarkingScheme.name == name)
        .order_by(MarkingScheme.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return 1, None
    return latest.version + 1, latest.id


def _add_rows(session: Session, scheme: MarkingScheme, spec: SchemeSpec) -> None:
    """Flush the scheme, then its criteria, sub-criteria and aspects built from ``spec``."""
    session.add(scheme)
    session.flush()  # the children carry scheme_id, so the scheme needs its id first
    for criterion_spec in spec.criteria:
        criterion = Criterion(
            letter=criterion_spec.letter,
            name=criterion_spec.name,
            source_file=criterion_spec.source_file[:FILE_LEN],
        )
        scheme.criteria.append(criterion)
        for position, sub_spec in enumerate(criterion_spec.sub_criteria, start=1):
            sub = SubCriterion(
                scheme_id=scheme.id,
                code=sub_spec.id,
                name=sub_spec.name,
                day=sub_spec.day,
                position=position,
            )
            criterion.sub_criteria.append(sub)
            for aspect_position, aspect_spec in enumerate(sub_spec.aspects, start=1):
                sub.aspects.append(
                    Aspect(
                        scheme_id=scheme.id,
                        position=aspect_position,
                        kind=aspect_spec.kind,
                        description=aspect_spec.description,
                        extra_description=aspect_spec.extra_description,
                        requirement=aspect_spec.requirement,
                        wsos_section=aspect_spec.wsos_section,
                        max_hundredths=hundredths(aspect_spec.max_mark),
                        levels=list(aspect_spec.levels),
                        calculation=aspect_spec.calculation[:_CALC_LEN],
                    )
                )
    session.flush()


def store(session: Session, scheme: MarkingScheme, spec: SchemeSpec) -> bool:
    """Store the scheme and its rows in a savepoint; return False if its version was taken.

    Two imports of the same (competence, name) at the same moment compute the same next
    version; the unique constraint refuses the second, and the savepoint leaves nothing.
    """
    try:
        with session.begin_nested():
            _add_rows(session, scheme, spec)
    except IntegrityError:
        return False
    return True


def version_taken(scheme: MarkingScheme) -> Problem:
    """The problem of an import whose version another import stored at the same moment."""
    return Problem(
        "",
        "",
        "name",
        N_(
            "version %(version)s of '%(name)s' was stored by someone else at the same "
            "moment; try again"
        ),
        {"version": scheme.version, "name": scheme.name},
    )
