"""Exact WorldSkills marking arithmetic: units, percentages, grades, ranks and mark parsing.

Marks never pass through floating point. A measurement (M) mark is held as integer
hundredths (``1.25`` → ``125``). A judgement (J) aspect is scored by ``judges`` experts
(a scheme setting, default 3), each giving 0–3; its mark is (mean score ÷ 3) × maximum.

To add both kinds exactly – in Python and in SQL with plain integer ``SUM`` – every mark is
expressed in *units* over one common denominator per scheme::

    denominator(judges) = 100 * 3 * judges        # 900 units per mark for 3 judges
    M mark of h hundredths            = h * 3 * judges units
    J scores s1..sn, max m hundredths = (s1 + … + sn) * m units
    maximum of any aspect             = m * 3 * judges units

Totals are sums of units; percentages and grades are decided on the exact value and
rounding (two decimals, half up) happens only for display.

This module is the one home of these rules. Where production runs a rule in SQL (the
results aggregate adds units with ``SUM`` in the database), the SQLAlchemy expression is
built here, by a ``*_sql`` function beside the Python function it mirrors;
tests/assessments/test_scoring_sql.py proves the two agree on random exams on SQLite and
PostgreSQL. Display helpers (``two_decimals``, ``hundredths_text``…) live here too, so a
mark is turned into text by one rule everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, or_

K = TypeVar("K", bound=Hashable)

DEFAULT_JUDGES = 3
MAX_JUDGE_SCORE = 3
HUNDREDTHS = 100

Exact = Fraction | Decimal | int


class MarkError(ValueError):
    """A mark typed by an expert is not acceptable; ``code`` names the reason for translation."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _check_judges(judges: int) -> None:
    if isinstance(judges, bool) or not isinstance(judges, int) or judges < 1:
        raise ValueError(f"judges must be a positive integer, got {judges!r}")


def _check_hundredths(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer of hundredths, got {value!r}")


def _check_scores(scores: Sequence[int], judges: int) -> None:
    if len(scores) != judges:
        raise ValueError(f"expected {judges} judge scores, got {len(scores)}")
    for score in scores:
        if isinstance(score, bool) or not isinstance(score, int):
            raise ValueError(f"judge score must be an integer 0-3, got {score!r}")
        if not 0 <= score <= MAX_JUDGE_SCORE:
            raise ValueError(f"judge score must be 0-3, got {score}")


def denominator(judges: int) -> int:
    """Return the number of units in one mark for a scheme with ``judges`` judges.

    Rule: ``100 * 3 * judges`` (hundredths × top judge score × judges), 900 for three.
    """
    _check_judges(judges)
    return HUNDREDTHS * MAX_JUDGE_SCORE * judges


def measurement_units(hundredths: int, judges: int) -> int:
    """Convert a measurement mark in hundredths to units.

    Rule: ``hundredths * 3 * judges``; the mark must not be negative.
    """
    _check_judges(judges)
    _check_hundredths("hundredths", hundredths)
    return hundredths * MAX_JUDGE_SCORE * judges


def max_units(max_hundredths: int, judges: int) -> int:
    """Return the units of an aspect's maximum mark, the same for M and J aspects.

    Rule: ``max_hundredths * 3 * judges`` – a J aspect where every judge gives 3 earns it.
    """
    return measurement_units(max_hundredths, judges)


def judgement_units(
    scores: Sequence[int], max_hundredths: int, *, judges: int = DEFAULT_JUDGES
) -> int:
    """Convert the judges' scores of a judgement aspect to units.

    Rule: ``sum(scores) * max_hundredths``, which over ``denominator(judges)`` equals
    (mean score ÷ 3) × maximum. Exactly ``judges`` scores, each an integer 0–3, are required.
    """
    _check_judges(judges)
    _check_hundredths("max_hundredths", max_hundredths)
    _check_scores(scores, judges)
    return sum(scores) * max_hundredths


def units_to_fraction(units: int, judges: int) -> Fraction:
    """Return the exact mark that ``units`` stand for.

    Rule: ``units / denominator(judges)``, e.g. 700 units of 900 → 7/9.
    """
    return Fraction(units, denominator(judges))


def counts(kind: str, seat: int, judges: int) -> bool:
    """Tell whether a stored mark row counts towards a total.

    Rule: a measurement (``M``) mark counts at seat 0; a judge's score on a judgement
    (``J``) aspect counts at seats 1 … ``judges``. Any other row (a score at a seat beyond
    the scheme's judges, say) counts for nothing.
    """
    if kind == "M":
        return seat == 0
    return kind == "J" and 1 <= seat <= judges


def counts_sql(kind: Any, seat: Any, judges: int) -> ColumnElement[bool]:
    """Return the SQL condition of ``counts`` over the columns ``kind`` and ``seat``.

    Mirrors ``counts`` (the results aggregate filters marks with it).
    """
    return or_(
        and_(kind == "M", seat == 0),
        and_(kind == "J", seat >= 1, seat <= judges),
    )


def mark_units(kind: str, value: int, max_hundredths: int, judges: int) -> int:
    """Return the units one counted mark row adds to a total.

    Rule: an ``M`` mark of ``value`` hundredths is ``measurement_units(value, judges)``
    (value × 3 × judges); one judge's score ``value`` on a ``J`` aspect of maximum
    ``max_hundredths`` is value × max_hundredths, so the judges' rows of an aspect add up to
    ``judgement_units``. Rows that do not ``counts`` must be left out by the caller.
    """
    if kind == "M":
        return measurement_units(value, judges)
    _check_hundredths("max_hundredths", max_hundredths)
    _check_scores([value], 1)
    return value * max_hundredths


def mark_units_sql(kind: Any, value: Any, max_hundredths: Any, judges: int) -> ColumnElement[int]:
    """Return the SQL expression of ``mark_units`` over columns ``kind``, ``value``, maximum.

    Mirrors ``mark_units``: integer products only, so ``SUM`` of it is exact on SQLite and
    PostgreSQL alike.
    """
    return case(
        (kind == "M", value * (MAX_JUDGE_SCORE * judges)),
        else_=value * max_hundredths,
    )


def _to_fraction(value: Exact) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Fraction | Decimal | int):
        raise TypeError(f"expected an exact number (Fraction, Decimal or int), got {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"cannot use {value} as a mark")
    return Fraction(value)


def round_half_up(value: Exact, places: int = 2) -> Decimal:
    """Round an exact value for display to ``places`` decimals.

    Rule: a tie (…5 exactly) goes up towards +infinity, everything else to the nearest;
    the result always carries exactly ``places`` decimals (``Decimal("87.50")``). Floats are
    refused, because 2.675 as a float is already below 2.675.
    """
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise ValueError(f"places must be a non-negative integer, got {places!r}")
    scaled = _to_fraction(value) * 10**places
    rounded = (scaled + Fraction(1, 2)).__floor__()
    return Decimal(f"{rounded}E-{places}")


def round_units(units: int, denominator: int) -> int:
    """Return ``units / denominator`` rounded half up to whole hundredths, as an integer.

    Rule: the same as ``round_half_up(Fraction(units, denominator), 2)`` in hundredths
    (a tie goes up), in integer arithmetic fast enough to run many times per passport;
    ``denominator`` must be positive.
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    quotient, remainder = divmod(units * HUNDREDTHS, denominator)
    return quotient + (2 * remainder >= denominator)


def hundredths_decimal(hundredths: int) -> Decimal:
    """Return a value held in integer hundredths as an exact Decimal with two places.

    Rule: ``125`` → ``Decimal("1.25")``, ``100`` → ``Decimal("1.00")``; nothing is rounded.
    """
    return Decimal(f"{hundredths}E-2")  # scaleb() would round past the context's 28 digits


def hundredths_text(hundredths: int) -> str:
    """Return a value held in integer hundredths as machine text with two decimals and a point.

    Rule: ``125`` → ``"1.25"``, ``5`` → ``"0.05"`` (exports, the API, the CLI and signed
    snapshots; pages format numbers for the reader's locale instead).
    """
    return str(hundredths_decimal(hundredths))


def two_decimals(units: int, denominator: int) -> Decimal:
    """Return a mark in units as a Decimal rounded half up to two places.

    Rule: ``round_units`` – 3525 units over 900 → ``Decimal("3.92")``.
    """
    return hundredths_decimal(round_units(units, denominator))


def percent(total_units: int, max_units: int) -> Fraction:
    """Return the share of the maximum as an exact percentage 0–100.

    Rule: ``100 * total / max``; a total below 0 or above the maximum is an error, and so is
    a maximum of 0.
    """
    if max_units <= 0:
        raise ValueError(f"maximum must be positive, got {max_units}")
    if not 0 <= total_units <= max_units:
        raise ValueError(f"total {total_units} is outside 0..{max_units}")
    return Fraction(100 * total_units, max_units)


@dataclass(frozen=True)
class GradeBands:
    """Map a percentage to the national 5-point grade; a scheme setting.

    ``thresholds`` pairs (lowest percent, grade); they are stored as Fractions, highest
    first. A percentage below every threshold gets ``fallback``.
    """

    thresholds: tuple[tuple[Fraction | Decimal | int, int], ...] = ((70, 5), (40, 4), (20, 3))
    fallback: int = 2
    _ordered: tuple[tuple[Fraction, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = sorted(
            ((_to_fraction(limit), grade) for limit, grade in self.thresholds),
            key=lambda pair: pair[0],
            reverse=True,
        )
        limits = [limit for limit, _ in ordered]
        if len(set(limits)) != len(limits):
            raise ValueError("grade thresholds must be distinct")
        if any(not 0 <= limit <= 100 for limit in limits):
            raise ValueError("grade thresholds must lie within 0..100 percent")
        grades = [grade for _, grade in ordered] + [self.fallback]
        if any(higher < lower for higher, lower in pairwise(grades)):
            raise ValueError("a higher threshold must not give a lower grade")
        object.__setattr__(self, "_ordered", tuple(ordered))


DEFAULT_BANDS = GradeBands()
# the national scale's best grade: a grade is shown as "4 of 5", never a bare digit
TOP_GRADE = 5


def grade(pct: Fraction | Decimal | int, bands: GradeBands = DEFAULT_BANDS) -> int:
    """Return the national grade for an exact percentage.

    Rule: the grade of the highest threshold with ``pct >= threshold``, else the fallback.
    It is decided on the exact value, never the rounded one: 69.995 % displays as "70.00"
    but is a 4 under the default bands (70 → 5, 40 → 4, 20 → 3, below → 2).
    """
    exact = _to_fraction(pct)
    for limit, band_grade in bands._ordered:
        if exact >= limit:
            return band_grade
    return bands.fallback


def passes(grade: int, min_grade: int = 3) -> bool:
    """Tell whether a grade earns a Skills Passport.

    Rule: ``grade >= min_grade`` (3, "satisfactory", unless the scheme says otherwise).
    """
    return grade >= min_grade


@dataclass(frozen=True)
class Outcome:
    """What a total earns: the exact percent, its stored display form, grade and pass."""

    percent: Fraction
    percent_hundredths: int
    grade: int
    passed: bool


def outcome(
    total_units: int,
    max_units: int,
    bands: GradeBands = DEFAULT_BANDS,
    pass_min_grade: int = 3,
) -> Outcome:
    """Return the result fields a total earns against its maximum.

    Rule: percent = ``percent(total, maximum)`` exactly; the grade from ``bands`` and the
    pass from ``pass_min_grade`` are decided on that exact percent; ``percent_hundredths``
    is the percent rounded half up to two decimals (``round_units``), for display only.
    """
    pct = percent(total_units, max_units)
    earned = grade(pct, bands)
    return Outcome(
        percent=pct,
        percent_hundredths=round_units(100 * total_units, max_units),
        grade=earned,
        passed=passes(earned, pass_min_grade),
    )


def judge_spread(scores: Sequence[int]) -> int:
    """Return how far apart the judges' scores of one aspect are.

    Rule: highest score minus lowest score; at least one score is required.
    """
    if not scores:
        raise ValueError("no judge scores given")
    _check_scores(scores, len(scores))
    return max(scores) - min(scores)


def needs_rescoring(scores: Sequence[int], allowed_spread: int = 1) -> bool:
    """Tell whether the judges must discuss and re-score an aspect before the form is locked.

    Rule: the spread (max − min) exceeds ``allowed_spread``, a scheme setting (commonly 1).
    """
    return judge_spread(scores) > allowed_spread


def rank(totals: Mapping[K, int]) -> dict[K, int]:
    """Rank candidates by total, highest first, in competition style ("1224").

    Rule: equal totals share a rank and the next rank skips as many places as were shared.
    The result is in rank order; ties keep the order of ``totals``.
    """
    ordered = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    ranks: dict[K, int] = {}
    previous: object = None
    current = 0
    for position, (key, total) in enumerate(ordered, start=1):
        if position == 1 or total != previous:
            current = position
            previous = total
        ranks[key] = current
    return ranks


def sum_units(items: Iterable[tuple[K, int]]) -> dict[K, int]:
    """Sum units per key, e.g. per criterion or per WSOS section for a skills profile.

    Rule: plain integer addition, so the result does not depend on the order items arrive
    in; keys appear in the order first seen.
    """
    sums: dict[K, int] = {}
    for key, units in items:
        sums[key] = sums.get(key, 0) + units
    return sums


_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def _parse_mark(value: object) -> Decimal:
    if isinstance(value, bool):
        raise MarkError(f"mark {value!r} is not a number", "not_a_number")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        # JSON numbers arrive as floats; their shortest repr is what the user typed.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            raise MarkError(f"mark {value!r} is not a number", "not_a_number")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise MarkError(f"mark {value!r} is not a number", "not_a_number") from None
    else:
        raise MarkError(f"mark {value!r} is not a number", "not_a_number")
    if not number.is_finite():
        raise MarkError(f"mark {value!r} is not a number", "not_a_number")
    return number


def validate_measurement(value: str | Decimal | int | float, max_hundredths: int) -> int:
    """Parse a measurement mark typed by an expert and return it in hundredths.

    Rule: a decimal comma or point is accepted ("1,25" or "1.25"); the value must be a
    number, exact to 0.01 (trailing zeros such as "1.250" are fine), not below 0 and not
    above the aspect's maximum. Anything else raises ``MarkError``.
    """
    _check_hundredths("max_hundredths", max_hundredths)
    number = _parse_mark(value)
    scaled = Fraction(number) * HUNDREDTHS  # Decimal arithmetic would round past 28 digits
    if scaled.denominator != 1:
        raise MarkError(f"mark {number} has more than two decimal places", "too_many_decimals")
    hundredths = int(scaled)
    if hundredths < 0:
        raise MarkError(f"mark {number} is below 0", "below_zero")
    if hundredths > max_hundredths:
        maximum = hundredths_decimal(max_hundredths)
        raise MarkError(f"mark {number} is above the maximum {maximum}", "above_maximum")
    return hundredths


def validate_judgement(value: str | Decimal | int) -> int:
    """Parse a judge's score and return it as an integer.

    Rule: a whole number 0, 1, 2 or 3 ("2" as text is fine); anything else raises
    ``MarkError``.
    """
    number = _parse_mark(value)
    if Fraction(number).denominator != 1:
        raise MarkError(f"judge score {number} is not a whole number", "not_whole")
    # compared before int(): int() refuses a Decimal of more than 4300 digits
    if not 0 <= number <= MAX_JUDGE_SCORE:
        raise MarkError(f"judge score {number} is outside 0-3", "out_of_range")
    return int(number)
