"""Staff search for passports: by number, holder's name or IIN (the IIN never in a URL)."""

from __future__ import annotations

import re

from sqlalchemy import Select, func, or_, select

from assessments.iin import InvalidIIN, validate_iin
from assessments.models import Candidate
from assessments.personal_data import iin_lookup_hash
from passports.models import Passport
from passports.numbers import NUMBER_PATTERN, normalise_number

# an IIN may be typed with spaces, dashes, dots or slashes between its digits
_IIN_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−./]")


def may_hold_an_iin(text: str) -> bool:
    """Whether a search text may hold (part of) an IIN, which must never reach a URL.

    Rule: six or more digits, unless the text is a passport number (``26-000123-4``) of
    fewer than 12 digits.
    """
    digits = sum(char.isdigit() for char in text)
    if digits < 6:
        return False
    return digits >= 12 or NUMBER_PATTERN.fullmatch(normalise_number(text)) is None


def typed_iin(text: str) -> str | None:
    """Return the valid IIN typed as ``text`` (separators allowed), else None."""
    digits = _IIN_SEPARATORS.sub("", text)
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return validate_iin(digits)
    except InvalidIIN:
        return None


def search_query(visible_exam_ids: Select, text: str, iin: str | None = None) -> Select:
    """Select the passports of the given exams whose number, holder's name or IIN match."""
    matches = [
        Passport.number == normalise_number(text),
        func.lower(Passport.holder_name).like(f"%{text.lower()}%"),
        Passport.holder_name.like(f"%{text}%"),
    ]
    if iin is not None:
        holders = select(Candidate.id).where(Candidate.iin_hash == iin_lookup_hash(iin))
        matches.append(Passport.candidate_id.in_(holders))
    return (
        select(Passport)
        .where(Passport.exam_id.in_(visible_exam_ids), or_(*matches))
        .order_by(Passport.id.desc())
    )
