"""Every record of a kind of reference data, in a stable order, for pages and JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import localized
from assessments.models import Centre, College, Competence, Enterprise
from assessments.services.reference.rules import natural_key


def load(session: Session, kind: str) -> list[Any]:
    """Return every record of ``kind`` in a stable order (codes in natural order)."""
    model = {
        "competences": Competence,
        "centres": Centre,
        "colleges": College,
        "enterprises": Enterprise,
    }[kind]
    return sorted(session.scalars(select(model)).all(), key=lambda o: natural_key(o.code))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def as_dict(obj: Any, locale: str) -> dict[str, Any]:
    """Describe a reference record as JSON-ready data; ``name`` is in ``locale``."""
    data: dict[str, Any] = {
        "code": obj.code,
        "name": localized(obj, locale=locale),
        "name_kk": obj.name_kk,
        "name_ru": obj.name_ru,
        "name_en": obj.name_en,
    }
    if isinstance(obj, Competence):
        data["sections"] = [
            {
                "number": s.number,
                "name": localized(s, locale=locale),
                "name_kk": s.name_kk,
                "name_ru": s.name_ru,
                "name_en": s.name_en,
                "weight": _number(s.weight),
            }
            for s in obj.sections
        ]
    elif isinstance(obj, Centre):
        data.update(
            city=obj.city,
            address=obj.address,
            workstations=obj.workstations,
            competences=[c.code for c in obj.competences],
        )
    elif isinstance(obj, College):
        data["city"] = obj.city
    elif isinstance(obj, Enterprise):
        data["bin"] = obj.bin
    return data


def list_reference(session: Session, kind: str, locale: str) -> list[dict[str, Any]]:
    """Return every record of ``kind`` as dictionaries (see ``as_dict``)."""
    return [as_dict(obj, locale) for obj in load(session, kind)]
