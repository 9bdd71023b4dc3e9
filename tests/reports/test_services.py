"""Reports query layer and CLI: every figure against the hand-computed data set.

The data set and the figures worked out by hand are in tests/reports/reports_data.py.
"""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction

import pytest

from reports import services
from reports.services import Period, median_of_histogram
from tests.reports.reports_data import build_reports_data

YEAR_2025 = Period.calendar_year(2025)


@pytest.fixture
def data(session):
    return build_reports_data(session)


def test_headline_numbers_of_2025(session, data):
    summary = services.summary(session, YEAR_2025)
    # X1, X2, X3 (X5 is not finalised, X4 and X6 lie outside)
    assert summary.exams == 3
    assert summary.sat == 8  # a b c e f g h i (d was absent)
    assert summary.passed == 6  # all but c and h
    assert summary.figures.pass_rate == Fraction(3, 4)
    # (10.00 + 15.25 + 39.99 + 50.00 + 60.50 + 80.00 + 90.00 + 100.00) / 8
    assert summary.figures.mean_percent == Fraction(44574, 800)
    assert summary.figures.median_percent == Fraction(5525, 100)  # (50.00 + 60.50) / 2
    assert summary.passports_issued == 6  # a b e f g i, g's re-issue counted once
    assert summary.passports_revoked == 1  # b
    assert summary.by_grade == {5: 3, 4: 2, 3: 1, 2: 2}
    assert list(summary.by_grade) == [5, 4, 3, 2]


@pytest.mark.parametrize(
    ("period", "exams", "sat", "passed"),
    [
        (Period.academic_year(2024), 3, 7, 5),  # X6 X1 X3: l a b c g h i
        (Period.academic_year(2025), 2, 3, 3),  # X2 X4: e f j
        (Period.calendar_year(2026), 1, 1, 1),  # X4
        (Period(date(2025, 1, 10), date(2025, 6, 15)), 2, 6, 4),  # both ends inclusive
        (Period(date(2025, 1, 11), date(2025, 6, 14)), 0, 0, 0),  # X5 is not finalised
        (Period(date(2025, 12, 31), date(2025, 12, 31)), 1, 2, 2),  # one day: X2
        (Period(), 5, 10, 8),  # everything finalised
    ],
)
def test_periods_select_exams_by_start_date(session, data, period, exams, sat, passed):
    summary = services.summary(session, period)
    assert (summary.exams, summary.sat, summary.passed) == (exams, sat, passed)


def test_empty_period_has_no_rates(session, data):
    summary = services.summary(session, Period.calendar_year(2030))
    assert (summary.exams, summary.sat, summary.passports_issued) == (0, 0, 0)
    assert summary.figures.pass_rate is None
    assert summary.figures.mean_percent is None
    assert summary.figures.median_percent is None
    assert summary.as_json()["pass_rate"] == 0


def figures(rows, names):
    """{name: (sat, passed, mean, median)} with rows matched to the data set by object."""
    by_id = {id(obj): name for name, obj in names.items()}
    return {
        by_id.get(id(row.obj)): (
            row.figures.sat,
            row.figures.passed,
            row.figures.mean_percent,
            row.figures.median_percent,
        )
        for row in rows
    }


def test_breakdown_by_centre(session, data):
    rows = services.breakdown(session, "centre", YEAR_2025)
    assert figures(rows, data.centres) == {
        "C1": (5, 4, Fraction(28574, 500), Fraction(6050, 100)),
        "C2": (3, 2, Fraction(16000, 300), Fraction(5000, 100)),
    }


def test_breakdown_by_competence(session, data):
    rows = services.breakdown(session, "competence", YEAR_2025)
    assert figures(rows, data.competences) == {
        "K1": (6, 4, Fraction(31575, 600), Fraction(5525, 100)),
        "K2": (2, 2, Fraction(12999, 200), Fraction(12999, 200)),
    }


def test_breakdown_by_college(session, data):
    rows = services.breakdown(session, "college", YEAR_2025)
    assert figures(rows, data.colleges) == {
        "L1": (4, 4, Fraction(23049, 400), Fraction(5525, 100)),
        "L2": (4, 2, Fraction(21525, 400), Fraction(10525, 200)),
    }


def test_breakdown_by_enterprise_has_a_row_without_one(session, data):
    rows = services.breakdown(session, "enterprise", YEAR_2025)
    assert figures(rows, {"E1": data.enterprise}) == {
        "E1": (5, 4, Fraction(33525, 500), Fraction(8000, 100)),
        None: (3, 2, Fraction(11049, 300), Fraction(3999, 100)),
    }
    assert rows[-1].obj is None


def test_centre_scope_sees_only_its_centre(session, data):
    c2 = data.centres["C2"].id
    summary = services.summary(session, YEAR_2025, centre_id=c2)
    assert (summary.exams, summary.sat, summary.passed) == (1, 3, 2)
    assert (summary.passports_issued, summary.passports_revoked) == (2, 0)  # g, i
    for dimension in services.DIMENSIONS:
        rows = services.breakdown(session, dimension, YEAR_2025, centre_id=c2)
        assert sum(r.figures.sat for r in rows) == 3, dimension
    centres = services.breakdown(session, "centre", YEAR_2025, centre_id=c2)
    assert [r.key for r in centres] == [c2]
    assert services.exams_per_month(session, YEAR_2025, centre_id=c2) == {(2025, 6): 1}


def test_exams_per_month(session, data):
    assert services.exams_per_month(session, Period()) == {
        (2024, 12): 1,
        (2025, 1): 1,
        (2025, 6): 1,
        (2025, 12): 1,
        (2026, 1): 1,
    }


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ({}, None),
        ({5000: 1}, Fraction(50)),
        ({1000: 1, 3000: 1}, Fraction(20)),
        ({1000: 2, 3000: 1}, Fraction(10)),
        ({1000: 1, 2000: 2, 9999: 1}, Fraction(20)),
        ({1: 1, 2: 1}, Fraction(3, 200)),
    ],
)
def test_median_of_histogram(histogram, median):
    assert median_of_histogram(histogram) == median


def test_public_statistics_suppress_small_groups(session, data):
    tables = services.public_statistics(session)
    years = {r.year: r for r in tables["years"]}
    assert sorted(years) == [2024, 2025, 2026]
    assert years[2025].figures.sat == 8 and not years[2025].suppressed
    assert years[2024].suppression == years[2026].suppression == "small_group"  # 1 each
    centres = {(r.year, r.code): r.suppression for r in tables["centres"]}
    c1, c2 = data.centres["C1"].code, data.centres["C2"].code
    # C2 has 3; C1's 5 would give C2 away as 8 − 5, so C1 is hidden too
    assert centres[(2025, c2)] == "small_group"
    assert centres[(2025, c1)] == "complementary"
    competences = {(r.year, r.code): r.suppression for r in tables["competences"]}
    assert competences[(2025, data.competences["K2"].code)] == "small_group"  # 2
    assert competences[(2025, data.competences["K1"].code)] == "complementary"  # 6


@pytest.mark.parametrize(
    ("sats", "complementary", "expected"),
    [
        ((9, 5), True, ("", "")),
        ((6, 2), False, ("", "small_group")),
        ((6, 2), True, ("complementary", "small_group")),
        ((6, 3, 3), True, ("", "small_group", "small_group")),
        ((7, 6, 2), True, ("", "complementary", "small_group")),
        ((6, 1, 1), True, ("complementary", "small_group", "small_group")),
        ((4,), True, ("small_group",)),
    ],
)
def test_suppression_rule(sats, complementary, expected):
    rows = [
        services.PublicRow(2025, f"G{i}", None, services.Figures(sat=sat))
        for i, sat in enumerate(sats)
    ]
    rows.append(services.PublicRow(2024, "other", None, services.Figures(sat=6)))
    services.suppress(rows, complementary=complementary)
    assert tuple(r.suppression for r in rows[:-1]) == expected
    assert rows[-1].suppression == ""  # years are independent


def test_cli_summary_json_equals_the_query_layer(app, session, data):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["reports", "summary", "--from", "2025-01-01", "--to", "2025-12-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "exams": 3,
        "sat": 8,
        "passed": 6,
        "passports_issued": 6,
        "passports_revoked": 1,
        "pass_rate": 0.75,
    }


def test_cli_summary_text_and_bad_dates(app, session, data):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["reports", "summary", "--from", "2025-06-15", "--to", "2025-06-15"]
    )
    assert result.exit_code == 0, result.output
    assert "sat: 3" in result.output and "pass_rate: 0.6667" in result.output
    bad = runner.invoke(args=["reports", "summary", "--from", "2025-13-01"])
    assert bad.exit_code == 2
    reversed_ = runner.invoke(
        args=["reports", "summary", "--from", "2026-01-01", "--to", "2025-01-01"]
    )
    assert reversed_.exit_code == 2 and "after" in reversed_.output
