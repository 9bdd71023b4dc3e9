"""Finding schemes, their sizes, and their marks per WSOS section against the weights."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from assessments.models import Aspect, Competence, Criterion, MarkingScheme, SubCriterion
from assessments.scheme_files.spec import WEIGHT_TOLERANCE
from assessments.scoring import hundredths_decimal, hundredths_text

_HUNDRED = Decimal(100)


def get_scheme(session: Session, scheme_id: int) -> MarkingScheme | None:
    """Return the scheme with its criteria, sub-criteria and aspects loaded, or None."""
    return session.scalar(
        select(MarkingScheme)
        .where(MarkingScheme.id == scheme_id)
        .options(
            selectinload(MarkingScheme.criteria)
            .selectinload(Criterion.sub_criteria)
            .selectinload(SubCriterion.aspects)
        )
    )


def list_schemes(session: Session, competence_id: int | None = None) -> list[MarkingScheme]:
    """Return schemes ordered by competence code, name and newest version first."""
    query = (
        select(MarkingScheme)
        .join(MarkingScheme.competence)
        .order_by(Competence.code, MarkingScheme.name, MarkingScheme.version.desc())
    )
    if competence_id is not None:
        query = query.where(MarkingScheme.competence_id == competence_id)
    return list(session.scalars(query).unique())


def versions(session: Session, scheme: MarkingScheme) -> list[MarkingScheme]:
    """Return every version of the scheme's (competence, name), newest first."""
    return list(
        session.scalars(
            select(MarkingScheme)
            .where(
                MarkingScheme.competence_id == scheme.competence_id,
                MarkingScheme.name == scheme.name,
            )
            .order_by(MarkingScheme.version.desc())
        ).unique()
    )


@dataclass(frozen=True)
class SchemeCounts:
    """How big a scheme is: counts and the maximum total in hundredths."""

    criteria: int = 0
    sub_criteria: int = 0
    aspects: int = 0
    measurement: int = 0
    judgement: int = 0
    max_total_hundredths: int = 0

    @property
    def max_total(self) -> Decimal:
        return hundredths_decimal(self.max_total_hundredths)


def scheme_counts(session: Session, schemes: Iterable[MarkingScheme]) -> dict[int, SchemeCounts]:
    """Return the counts of many schemes at once (three grouped queries), keyed by scheme id."""
    by_id = {scheme.id: scheme for scheme in schemes}
    if not by_id:
        return {}
    ids = list(by_id)
    criteria = dict(
        session.execute(
            select(Criterion.scheme_id, func.count())
            .where(Criterion.scheme_id.in_(ids))
            .group_by(Criterion.scheme_id)
        ).all()
    )
    subs = dict(
        session.execute(
            select(SubCriterion.scheme_id, func.count())
            .where(SubCriterion.scheme_id.in_(ids))
            .group_by(SubCriterion.scheme_id)
        ).all()
    )
    kinds: dict[int, dict[str, int]] = {}
    for scheme_id, kind, count in session.execute(
        select(Aspect.scheme_id, Aspect.kind, func.count())
        .where(Aspect.scheme_id.in_(ids))
        .group_by(Aspect.scheme_id, Aspect.kind)
    ):
        kinds.setdefault(scheme_id, {})[kind] = count
    result = {}
    for scheme_id, scheme in by_id.items():
        measurement = kinds.get(scheme_id, {}).get("M", 0)
        judgement = kinds.get(scheme_id, {}).get("J", 0)
        result[scheme_id] = SchemeCounts(
            criteria=criteria.get(scheme_id, 0),
            sub_criteria=subs.get(scheme_id, 0),
            aspects=measurement + judgement,
            measurement=measurement,
            judgement=judgement,
            max_total_hundredths=scheme.max_total_hundredths,
        )
    return result


def summary(session: Session, scheme: MarkingScheme) -> dict[str, Any]:
    """Return the machine-readable summary printed by ``flask schemes import --json``.

    ``id`` and the counts are integers; ``max_total`` is a string with two decimals.
    """
    counts = scheme_counts(session, [scheme])[scheme.id]
    return {
        "id": scheme.id,
        "criteria": counts.criteria,
        "sub_criteria": counts.sub_criteria,
        "aspects": counts.aspects,
        "measurement": counts.measurement,
        "judgement": counts.judgement,
        "max_total": hundredths_text(counts.max_total_hundredths),
    }


@dataclass(frozen=True)
class SectionRow:
    """One WSOS section: the scheme's marks on it against the competence's weight."""

    number: int
    section: Any  # the WsosSection row, or None for a section the competence no longer has
    marks: Decimal
    share: Decimal  # percent of the scheme's total, exact
    weight: Decimal | None
    difference: Decimal | None  # share − weight, in percentage points
    scheme_names: tuple[str, ...] = ()  # what the scheme's files call the section, if they do

    @property
    def flagged(self) -> bool:
        return self.difference is None or abs(self.difference) > WEIGHT_TOLERANCE


def section_rows(
    marks: dict[int, int], sections: Iterable[Any], names: dict[int, tuple[str, ...]] | None = None
) -> list[SectionRow]:
    """Return marks (hundredths per section number) against the sections' weights.

    Every section is listed (with 0 marks if no aspect uses it), and so is any section the
    marks use that is not among ``sections`` (flagged, no weight). A row is flagged when
    its share differs from the weight by more than 5 points.
    """
    total = sum(marks.values())
    by_number = {section.number: section for section in sections}
    rows = []
    for number in sorted(set(marks) | set(by_number)):
        section = by_number.get(number)
        hundredths = marks.get(number, 0)
        share = Decimal(hundredths) * _HUNDRED / Decimal(total) if total else Decimal(0)
        weight = Decimal(section.weight) if section is not None else None
        rows.append(
            SectionRow(
                number=number,
                section=section,
                marks=hundredths_decimal(hundredths),
                share=share,
                weight=weight,
                difference=share - weight if weight is not None else None,
                scheme_names=(names or {}).get(number, ()),
            )
        )
    return rows


def section_table(scheme: MarkingScheme) -> list[SectionRow]:
    """Return the stored scheme's marks per WSOS section against the competence's weights."""
    marks: dict[int, int] = {}
    for criterion in scheme.criteria:
        for sub in criterion.sub_criteria:
            for aspect in sub.aspects:
                marks[aspect.wsos_section] = (
                    marks.get(aspect.wsos_section, 0) + aspect.max_hundredths
                )
    return section_rows(marks, scheme.competence.sections)
