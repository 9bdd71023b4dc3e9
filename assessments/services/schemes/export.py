"""A stored scheme back as a ``SchemeSpec`` and as a CIS-template workbook."""

from __future__ import annotations

import re
from decimal import Decimal

from assessments.models import MarkingScheme
from assessments.scheme_files.export import export_scheme_xlsx
from assessments.scheme_files.spec import AspectSpec, CriterionSpec, SchemeSpec, SubCriterionSpec

_HUNDRED = Decimal(100)


def _mark(hundredths: int) -> Decimal:
    """Return hundredths as the Decimal the parser would read (1 not 1.00, 0.5 not 0.50)."""
    value = Decimal(hundredths) / _HUNDRED
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def scheme_spec(scheme: MarkingScheme) -> SchemeSpec:
    """Return the stored scheme as a SchemeSpec, the form the file writer and parser share."""
    criteria = []
    for criterion in scheme.criteria:
        subs = []
        for sub in criterion.sub_criteria:
            aspects = [
                AspectSpec(
                    kind=aspect.kind,
                    description=aspect.description,
                    extra_description=aspect.extra_description,
                    requirement=aspect.requirement,
                    wsos_section=aspect.wsos_section,
                    max_mark=_mark(aspect.max_hundredths),
                    levels=list(aspect.levels or []),
                    calculation=aspect.calculation,
                    source=aspect.address,
                )
                for aspect in sub.aspects
            ]
            subs.append(SubCriterionSpec(id=sub.code, name=sub.name, day=sub.day, aspects=aspects))
        criteria.append(
            CriterionSpec(
                letter=criterion.letter,
                name=criterion.name,
                sub_criteria=subs,
                source_file=criterion.source_file,
            )
        )
    criteria.sort(key=lambda c: (len(c.letter), c.letter))
    return SchemeSpec(criteria=criteria)


def export_xlsx(scheme: MarkingScheme) -> bytes:
    """Return the scheme as one CIS-template workbook; re-importing it gives the same scheme."""
    return export_scheme_xlsx(scheme_spec(scheme))


def export_filename(scheme: MarkingScheme) -> str:
    """Return a safe download name such as ``WT17-web-technologies-v2.xlsx``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", scheme.name).strip("-").lower()[:60] or "scheme"
    code = re.sub(r"[^A-Za-z0-9]+", "-", scheme.competence.code).strip("-") or "scheme"
    return f"{code}-{slug}-v{scheme.version}.xlsx"
