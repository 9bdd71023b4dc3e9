from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.scoring import (
    DEFAULT_BANDS,
    GradeBands,
    MarkError,
    Outcome,
    counts,
    denominator,
    grade,
    hundredths_decimal,
    hundredths_text,
    judge_spread,
    judgement_units,
    mark_units,
    max_units,
    measurement_units,
    needs_rescoring,
    outcome,
    passes,
    percent,
    rank,
    round_half_up,
    round_units,
    sum_units,
    two_decimals,
    units_to_fraction,
    validate_judgement,
    validate_measurement,
)

# --- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(("judges", "expected"), [(1, 300), (2, 600), (3, 900), (5, 1500)])
def test_denominator(judges: int, expected: int) -> None:
    assert denominator(judges) == expected


@pytest.mark.parametrize("judges", [0, -1, True, 3.0])
def test_denominator_rejects_bad_judge_counts(judges: object) -> None:
    with pytest.raises(ValueError, match="judges"):
        denominator(judges)  # type: ignore[arg-type]


def test_measurement_units_round_trip_to_the_mark() -> None:
    assert measurement_units(125, 3) == 125 * 9
    assert units_to_fraction(measurement_units(125, 3), 3) == Fraction(5, 4)
    assert units_to_fraction(measurement_units(25, 2), 2) == Fraction(1, 4)


def test_measurement_units_rejects_negative_marks() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        measurement_units(-1, 3)


def test_judgement_mean_is_exact() -> None:
    # (2 + 2 + 3) / 3 = 7/3 of 3 → 7/9 of the maximum; of a 1.00 maximum that is 7/9.
    units = judgement_units([2, 2, 3], 100)
    assert units == 700
    assert units_to_fraction(units, 3) == Fraction(7, 9)
    assert round_half_up(units_to_fraction(units, 3)) == Decimal("0.78")
    # of a 2.50 maximum: 7/9 × 5/2 = 35/18
    assert units_to_fraction(judgement_units([2, 2, 3], 250), 3) == Fraction(35, 18)


def test_judgement_units_with_another_judge_count() -> None:
    units = judgement_units([3, 2], 150, judges=2)
    assert units_to_fraction(units, 2) == Fraction(5, 6) * Fraction(3, 2)


def test_full_judgement_equals_the_maximum() -> None:
    assert judgement_units([3, 3, 3], 175) == max_units(175, 3)
    assert judgement_units([0, 0, 0], 175) == 0


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([2, 2], "expected 3 judge scores, got 2"),
        ([2, 2, 2, 2], "expected 3 judge scores, got 4"),
        ([2, 2, 4], "0-3"),
        ([2, -1, 2], "0-3"),
        ([2, 2, 1.5], "integer"),
        ([2, 2, True], "integer"),
    ],
)
def test_judgement_units_validates_scores(scores: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        judgement_units(scores, 100)  # type: ignore[arg-type]


# --- totals (property tests) -------------------------------------------------------------

judge_counts = st.integers(min_value=1, max_value=5)


@st.composite
def marked_aspects(draw: st.DrawFn) -> tuple[int, list[tuple[str, int, int, Fraction]]]:
    """Draw a judge count and aspects as (criterion, units, max units, expected mark)."""
    judges = draw(judge_counts)
    aspects = []
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        criterion = draw(st.sampled_from("ABCD"))
        maximum = draw(st.integers(min_value=1, max_value=1000))
        if draw(st.booleans()):
            hundredths = draw(st.integers(min_value=0, max_value=maximum))
            units = measurement_units(hundredths, judges)
            expected = Fraction(hundredths, 100)
        else:
            scores = draw(st.lists(st.integers(0, 3), min_size=judges, max_size=judges))
            units = judgement_units(scores, maximum, judges=judges)
            expected = Fraction(sum(scores), len(scores)) / 3 * Fraction(maximum, 100)
        aspects.append((criterion, units, max_units(maximum, judges), expected))
    return judges, aspects


@given(marked_aspects())
def test_total_never_exceeds_the_maximum(drawn: tuple[int, list]) -> None:
    _, aspects = drawn
    total = sum(units for _, units, _, _ in aspects)
    maximum = sum(top for _, _, top, _ in aspects)
    assert 0 <= total <= maximum
    assert 0 <= percent(total, maximum) <= 100


@given(marked_aspects())
def test_total_equals_the_sum_of_its_parts(drawn: tuple[int, list]) -> None:
    judges, aspects = drawn
    total = sum(units for _, units, _, _ in aspects)
    assert units_to_fraction(total, judges) == sum(mark for *_, mark in aspects)
    by_criterion = sum_units((criterion, units) for criterion, units, _, _ in aspects)
    assert sum(by_criterion.values()) == total
    for criterion, units in by_criterion.items():
        expected = sum(mark for c, _, _, mark in aspects if c == criterion)
        assert units_to_fraction(units, judges) == expected


@given(marked_aspects(), st.randoms(use_true_random=False))
def test_total_does_not_depend_on_arrival_order(drawn: tuple[int, list], rnd) -> None:
    _, aspects = drawn
    shuffled = list(aspects)
    rnd.shuffle(shuffled)
    before = sum_units((c, u) for c, u, _, _ in aspects)
    after = sum_units((c, u) for c, u, _, _ in shuffled)
    assert before == after
    assert sum(u for _, u, _, _ in aspects) == sum(u for _, u, _, _ in shuffled)


def test_sum_units_keeps_first_seen_key_order() -> None:
    assert list(sum_units([("B", 1), ("A", 2), ("B", 3)]).items()) == [("B", 4), ("A", 2)]
    assert sum_units([]) == {}


# --- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("2.675"), 2, "2.68"),  # 2.675 as a float rounds to 2.67
        (Decimal("1.005"), 2, "1.01"),
        (Decimal("0.125"), 2, "0.13"),
        (Decimal("0.124999"), 2, "0.12"),
        (Fraction(1005, 1000), 2, "1.01"),
        (Fraction(7, 9), 2, "0.78"),
        (Fraction(2, 3), 2, "0.67"),
        (Fraction(1, 3), 2, "0.33"),
        (87, 2, "87.00"),
        (Decimal("87.5"), 2, "87.50"),
        (Fraction(5, 2), 0, "3"),
        (Decimal("69.995"), 2, "70.00"),
        (0, 2, "0.00"),
        (Fraction(-1, 8), 2, "-0.12"),  # ties go towards +infinity
    ],
)
def test_round_half_up(value: Fraction | Decimal | int, places: int, expected: str) -> None:
    result = round_half_up(value, places)
    assert result == Decimal(expected)
    assert str(result) == expected


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_round_half_up_rounds_every_x_xx5_up(whole: int, cents: int) -> None:
    value = Decimal(f"{whole}.{cents:02d}5")
    expected = (Decimal(f"{whole}.{cents:02d}") + Decimal("0.01")).quantize(Decimal("0.01"))
    assert round_half_up(value) == expected
    assert round_half_up(Fraction(value)) == expected


@given(st.fractions(min_value=0, max_value=10**6))
def test_round_half_up_is_within_half_a_cent(value: Fraction) -> None:
    rounded = round_half_up(value)
    assert rounded.as_tuple().exponent == -2
    assert abs(Fraction(rounded) - value) <= Fraction(1, 200)


def test_round_half_up_refuses_floats() -> None:
    with pytest.raises(TypeError, match="exact number"):
        round_half_up(2.675)  # type: ignore[arg-type]


@pytest.mark.parametrize("places", [-1, 1.5])
def test_round_half_up_rejects_bad_places(places: object) -> None:
    with pytest.raises(ValueError, match="places"):
        round_half_up(1, places)  # type: ignore[arg-type]


@given(st.integers(-(10**9), 10**9), st.integers(1, 10**6))
def test_round_units_is_round_half_up_in_hundredths(units: int, denominator: int) -> None:
    expected = round_half_up(Fraction(units, denominator), 2)
    assert round_units(units, denominator) == expected * 100
    assert two_decimals(units, denominator) == expected
    assert str(two_decimals(units, denominator)) == str(expected)


def test_round_units_needs_a_positive_denominator() -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_units(1, 0)


@pytest.mark.parametrize(
    ("hundredths", "text"),
    [(125, "1.25"), (100, "1.00"), (5, "0.05"), (0, "0.00"), (10**30 + 7, f"{10**28}.07")],
)
def test_hundredths_text(hundredths: int, text: str) -> None:
    assert hundredths_text(hundredths) == text
    assert hundredths_decimal(hundredths) == Decimal(text)


# --- percent and grade ------------------------------------------------------------------------


def test_percent_is_exact() -> None:
    assert percent(700, 900) == Fraction(700, 9)
    assert percent(0, 900) == 0
    assert percent(900, 900) == 100


@pytest.mark.parametrize(("total", "maximum"), [(901, 900), (-1, 900), (0, 0)])
def test_percent_rejects_impossible_totals(total: int, maximum: int) -> None:
    with pytest.raises(ValueError):
        percent(total, maximum)


@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (Fraction(100), 5),
        (Fraction(70), 5),
        (Fraction(69995, 1000), 4),  # displays as 70.00 but is below 70
        (Fraction(70) - Fraction(1, 10**12), 4),
        (Fraction(40), 4),
        (Decimal("39.99"), 3),
        (Fraction(20), 3),
        (Decimal("19.99"), 2),
        (Fraction(0), 2),
        (55, 4),
    ],
)
def test_grade_boundaries(pct: Fraction | Decimal | int, expected: int) -> None:
    assert grade(pct) == expected


def test_grade_is_decided_on_the_exact_total_not_the_displayed_one() -> None:
    # 62.99 marks (M) + one judge giving 1 on a 0.08 J aspect, out of 90.00, 3 judges
    total = measurement_units(6299, 3) + judgement_units([1, 0, 0], 8)
    pct = percent(total, max_units(9000, 3))
    assert pct == Fraction(5669900, 81000)  # 69.9988… %
    assert round_half_up(pct) == Decimal("70.00")
    assert grade(pct) == 4


def test_custom_grade_bands_are_sorted_and_exact() -> None:
    bands = GradeBands(thresholds=((Decimal("50.5"), 4), (85, 5)), fallback=3)
    assert grade(Fraction(85), bands) == 5
    assert grade(Fraction(101, 2), bands) == 4
    assert grade(Decimal("50.49"), bands) == 3
    assert GradeBands() == DEFAULT_BANDS


@pytest.mark.parametrize(
    "thresholds",
    [
        ((70, 5), (70, 4)),  # duplicate threshold
        ((101, 5),),  # above 100 %
        ((70, 4), (40, 5)),  # higher threshold, lower grade
        ((70.0, 5),),  # float threshold
    ],
)
def test_grade_bands_reject_bad_settings(thresholds: tuple) -> None:
    with pytest.raises((ValueError, TypeError)):
        GradeBands(thresholds=thresholds)


@pytest.mark.parametrize(("value", "expected"), [(5, True), (3, True), (2, False)])
def test_passes(value: int, expected: bool) -> None:
    assert passes(value) is expected


def test_passes_with_a_stricter_rule() -> None:
    assert not passes(3, min_grade=4)


# --- judges' spread ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "spread", "rescore"),
    [([2, 2, 2], 0, False), ([1, 2, 2], 1, False), ([1, 2, 3], 2, True), ([0, 3, 3], 3, True)],
)
def test_judge_spread(scores: list[int], spread: int, rescore: bool) -> None:
    assert judge_spread(scores) == spread
    assert needs_rescoring(scores) is rescore


def test_needs_rescoring_uses_the_scheme_setting() -> None:
    assert not needs_rescoring([1, 2, 3], allowed_spread=2)
    assert needs_rescoring([1, 2, 2], allowed_spread=0)


def test_judge_spread_needs_scores() -> None:
    with pytest.raises(ValueError, match="no judge scores"):
        judge_spread([])


# --- ranking --------------------------------------------------------------------------------


def test_rank_is_competition_style() -> None:
    ranks = rank({"ann": 800, "bek": 900, "dana": 800, "erlan": 700, "gani": 800})
    assert ranks == {"bek": 1, "ann": 2, "dana": 2, "gani": 2, "erlan": 5}
    assert list(ranks) == ["bek", "ann", "dana", "gani", "erlan"]


def test_rank_edge_cases() -> None:
    assert rank({}) == {}
    assert rank({"solo": 0}) == {"solo": 1}
    assert rank({"a": 5, "b": 5}) == {"a": 1, "b": 1}


@given(st.dictionaries(st.integers(), st.integers(min_value=0, max_value=20), max_size=30))
def test_rank_counts_better_candidates(totals: dict[int, int]) -> None:
    ranks = rank(totals)
    assert ranks.keys() == totals.keys()
    for key, total in totals.items():
        assert ranks[key] == 1 + sum(1 for other in totals.values() if other > total)


# --- parsing what experts type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,25", 125),
        ("1.25", 125),
        (" 0,5 ", 50),
        ("2", 200),
        ("0", 0),
        ("1.250", 125),
        (",75", 75),
        ("1.", 100),
        ("+1.5", 150),
        (Decimal("1.25"), 125),
        (2, 200),
        (0.25, 25),  # JSON number
        ("3.00", 300),
    ],
)
def test_validate_measurement_accepts(value: object, expected: int) -> None:
    assert validate_measurement(value, 300) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "not_a_number", "is not a number"),
        ("abc", "not_a_number", "is not a number"),
        ("1,2,5", "not_a_number", "is not a number"),
        ("1.2.5", "not_a_number", "is not a number"),
        ("1e2", "not_a_number", "is not a number"),
        ("NaN", "not_a_number", "is not a number"),
        ("1 000", "not_a_number", "is not a number"),
        (Decimal("NaN"), "not_a_number", "is not a number"),
        (Decimal("Infinity"), "not_a_number", "is not a number"),
        (None, "not_a_number", "is not a number"),
        (True, "not_a_number", "is not a number"),
        ("1,255", "too_many_decimals", "mark 1.255 has more than two decimal places"),
        ("0.001", "too_many_decimals", "more than two decimal places"),
        ("0.0100000000000000000000000000001", "too_many_decimals", "more than two"),
        ("-0,25", "below_zero", "mark -0.25 is below 0"),
        ("3,01", "above_maximum", "mark 3.01 is above the maximum 3.00"),
        (301, "above_maximum", "above the maximum 3.00"),
    ],
)
def test_validate_measurement_rejects(value: object, code: str, message: str) -> None:
    with pytest.raises(MarkError, match=message) as caught:
        validate_measurement(value, 300)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


@given(st.integers(min_value=0, max_value=10**6), st.booleans())
def test_validate_measurement_round_trips_typed_marks(hundredths: int, comma: bool) -> None:
    text = str(Decimal(f"{hundredths}E-2"))
    if comma:
        text = text.replace(".", ",")
    assert validate_measurement(text, 10**6) == hundredths


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0), ("2", 2), (" 3 ", 3), (1, 1), ("2.0", 2), (Decimal(3), 3)]
)
def test_validate_judgement_accepts(value: object, expected: int) -> None:
    assert validate_judgement(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("4", "out_of_range"),
        ("-1", "out_of_range"),
        (7, "out_of_range"),
        ("1,5", "not_whole"),
        ("two", "not_a_number"),
        ("", "not_a_number"),
        (None, "not_a_number"),
        (False, "not_a_number"),
    ],
)
def test_validate_judgement_rejects(value: object, code: str) -> None:
    with pytest.raises(MarkError) as caught:
        validate_judgement(value)  # type: ignore[arg-type]
    assert caught.value.code == code


# --- result fields and mark rows ------------------------------------------------------------


def test_outcome_decides_on_the_exact_percent_and_rounds_for_display() -> None:
    # 69.995 % shows as 70.00 but is a 4
    earned = outcome(69995, 100000)
    assert earned == Outcome(Fraction(69995, 1000), 7000, 4, True)
    assert outcome(3525, 4500) == Outcome(Fraction(235, 3), 7833, 5, True)
    assert outcome(0, 900, pass_min_grade=3).passed is False
    assert outcome(900, 900, GradeBands(((90, 5),), fallback=2), pass_min_grade=5).grade == 5


@pytest.mark.parametrize(
    ("kind", "seat", "judges", "expected"),
    [
        ("M", 0, 3, True),
        ("M", 1, 3, False),
        ("J", 0, 3, False),
        ("J", 1, 3, True),
        ("J", 3, 3, True),
        ("J", 4, 3, False),
        ("J", 2, 2, True),
        ("J", 3, 2, False),
        ("X", 0, 3, False),
    ],
)
def test_counts(kind: str, seat: int, judges: int, expected: bool) -> None:
    assert counts(kind, seat, judges) is expected


def test_mark_units_add_up_to_the_aspect_rules() -> None:
    assert mark_units("M", 125, 200, 3) == measurement_units(125, 3)
    scores = [2, 2, 3]
    assert sum(mark_units("J", s, 150, 3) for s in scores) == judgement_units(scores, 150)
    with pytest.raises(ValueError):
        mark_units("J", 4, 150, 3)
