"""Reports pages: the dashboard (administrators; centre managers for their centre), the
skills-profile insight, exports, and the public statistics page, JSON API and CSV.

Every figure comes from reports/services.py; this module only chooses the period and the
scope, and formats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import public, requires
from app.dates import date_text, parse_date
from app.extensions import db
from app.i18n import format_number, localized
from app.navigation import add_nav
from assessments import scoring
from assessments.charts import Bar, profile_chart
from assessments.models import Competence
from assessments.services.results import to_csv, to_xlsx
from reports import services

bp = Blueprint("reports", __name__)

add_nav("reports.dashboard", _l("Reports"), _l("Figures for a period"), "reports.view", 60)

TABLES = ("centre", "competence", "college", "enterprise")
TABLE_TITLES = {
    "centre": _l("By competence centre"),
    "competence": _l("By competence"),
    "college": _l("By college"),
    "enterprise": _l("By dual-training enterprise"),
}
GRADE_LABELS = {5: _l("excellent"), 4: _l("good"), 3: _l("satisfactory"), 2: _l("unsatisfactory")}
DOWNLOAD_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PERIOD_KINDS = ("calendar", "academic", "dates")


def choose_period(args: Any) -> tuple[services.Period, dict[str, Any], list[str]]:
    """Read the period from query arguments; return (period, form values, errors).

    ``kind`` is calendar (year), academic (year: September to August) or dates (from, to,
    both inclusive). Bad input falls back to the current calendar year with a message.
    """
    today = date.today()
    errors: list[str] = []
    kind = args.get("kind", "calendar")
    if kind not in PERIOD_KINDS:
        errors.append(_("Unknown kind of period."))
        kind = "calendar"
    values: dict[str, Any] = {"kind": kind, "year": today.year, "from": "", "to": ""}
    year_text = args.get("year", "").strip()
    if year_text:
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
            values["year"] = int(year_text)
        else:
            errors.append(_("Year: enter a year between 2000 and 2100."))
    if kind == "dates":
        parsed = {}
        for name in ("from", "to"):
            text = args.get(name, "").strip()
            values[name] = text
            if not text:
                parsed[name] = None
                continue
            try:
                parsed[name] = parse_date(text)
                values[name] = date_text(parsed[name])
            except ValueError:
                label = _("From (dates)") if name == "from" else _("To (dates, inclusive)")
                errors.append(
                    _(
                        "%(field)s: enter the date as dd.mm.yyyy, for example 25.05.2026.",
                        field=label,
                    )
                )
                parsed[name] = None
        if parsed["from"] and parsed["to"] and parsed["from"] > parsed["to"]:
            errors.append(_("The first date is after the last date."))
        elif not errors:
            return services.Period(parsed["from"], parsed["to"]), values, errors
        values["kind"] = "calendar"
        return services.Period.calendar_year(values["year"]), values, errors
    if kind == "academic":
        return services.Period.academic_year(values["year"]), values, errors
    return services.Period.calendar_year(values["year"]), values, errors


def _scope() -> int | None:
    """Centre managers see their centre only; a manager without a centre sees nothing."""
    if current_user.role == "admin":
        return None
    return current_user.centre_id or -1


def percent(value: Fraction | None) -> Decimal | None:
    """A share or percent as a Decimal with two places, half up (None stays None)."""
    return None if value is None else scoring.round_half_up(value, 2)


def _integer(value: Fraction) -> str:
    return format_number(value, 0)


def row_name(row: services.Row) -> str:
    if row.obj is None:
        return _("No enterprise")
    return localized(row.obj)


def table_rows(rows: list[services.Row]) -> tuple[list[str], list[list[Any]]]:
    """Return the export header and rows of a breakdown table (numbers as numbers)."""
    header = ["code", "name", "sat", "passed", "pass_rate_percent", "mean_percent"]
    header.append("median_percent")
    out = []
    for row in rows:
        f = row.figures
        rate = f.pass_rate
        out.append(
            [
                row.code,
                row_name(row),
                f.sat,
                f.passed,
                percent(rate * 100) if rate is not None else None,
                percent(f.mean_percent),
                percent(f.median_percent),
            ]
        )
    return header, out


def _charts(summary: services.Summary, centres: list[services.Row], months: dict) -> dict:
    sat = summary.sat
    grades = [
        Bar(f"{grade} — {GRADE_LABELS.get(grade, '')}", Fraction(count), Fraction(sat))
        for grade, count in summary.by_grade.items()
    ]
    pass_rates = [
        Bar(f"{r.code} — {row_name(r)}", Fraction(r.figures.passed), Fraction(r.figures.sat))
        for r in centres
    ]
    busiest = max(months.values(), default=0)
    per_month = [
        Bar(f"{year}-{month:02d}", Fraction(count), Fraction(busiest))
        for (year, month), count in months.items()
    ]
    return {
        "grades": profile_chart(
            grades, title=_("Grade distribution"), chart_id="chart-grades", fmt=_integer
        ),
        "pass_rates": profile_chart(
            pass_rates, title=_("Pass rate by centre"), chart_id="chart-pass", fmt=_integer
        ),
        "months": profile_chart(
            per_month, title=_("Exams per month"), chart_id="chart-months", fmt=_integer
        ),
    }


@bp.get("/reports")
@requires("reports.view")
def dashboard():
    period, values, errors = choose_period(request.args)
    centre_id = _scope()
    summary = services.summary(db.session, period, centre_id)
    tables = {name: services.breakdown(db.session, name, period, centre_id) for name in TABLES}
    months = services.exams_per_month(db.session, period, centre_id)
    return render_template(
        "reports/dashboard.html",
        period=period,
        values=values,
        errors=errors,
        summary=summary,
        tables=tables,
        table_titles=TABLE_TITLES,
        grade_labels=GRADE_LABELS,
        charts=_charts(summary, tables["centre"], months),
        percent=percent,
        row_name=row_name,
        query={k: v for k, v in values.items() if v != ""},
    )


@bp.get("/reports/export/<table>.<fmt>")
@requires("reports.view")
def export(table: str, fmt: str):
    if table not in (*TABLES, "grades") or fmt not in DOWNLOAD_TYPES:
        abort(404)
    period, _values, _errors = choose_period(request.args)
    centre_id = _scope()
    if table == "grades":
        summary = services.summary(db.session, period, centre_id)
        header = ["grade", "candidates"]
        rows: list[list[Any]] = [[g, c] for g, c in summary.by_grade.items()]
    else:
        header, rows = table_rows(services.breakdown(db.session, table, period, centre_id))
    data = (
        to_csv(header, rows).encode("utf-8") if fmt == "csv" else to_xlsx(header, rows, title=table)
    )
    name = f"report-{table}-{period.start or 'start'}-{period.end or 'end'}.{fmt}"
    response = Response(data, mimetype=DOWNLOAD_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/reports/profile")
@requires("reports.view")
def profile():
    period, values, errors = choose_period(request.args)
    competences = db.session.scalars(select(Competence).order_by(Competence.code)).all()
    chosen = None
    competence_text = request.args.get("competence", "")
    if competence_text.isdigit():
        chosen = db.session.get(Competence, int(competence_text))
    if competence_text and chosen is None:
        errors.append(_("Competence: choose one from the list."))
    count, sections, criteria, charts = 0, [], [], {}
    if chosen is not None:
        count, sections, criteria = services.skills_profile(db.session, chosen, period, _scope())
        section_bars = [
            Bar(
                f"{p.key}. {localized(p.section) if p.section else _('Section %(n)s', n=p.key)}",
                p.mean,
                p.maximum,
            )
            for p in sections
        ]
        criterion_bars = [
            Bar(f"{p.key}. {p.label or _('Module %(letter)s', letter=p.key)}", p.mean, p.maximum)
            for p in criteria
        ]
        charts = {
            "sections": profile_chart(
                section_bars, title=_("Mean mark by WSOS section"), chart_id="profile-wsos"
            ),
            "criteria": profile_chart(
                criterion_bars, title=_("Mean mark by criterion"), chart_id="profile-crit"
            ),
        }
    return render_template(
        "reports/profile.html",
        values=values,
        errors=errors,
        period=period,
        competences=competences,
        chosen=chosen,
        count=count,
        sections=sections,
        criteria=criteria,
        charts=charts,
        percent=percent,
    )


# --- public statistics ------------------------------------------------------------------


def public_items(tables: dict[str, list[services.PublicRow]]) -> dict[str, list[dict]]:
    """The public tables as plain dicts; a suppressed group carries no figures at all."""
    out: dict[str, list[dict]] = {}
    for name, rows in tables.items():
        items = []
        for row in rows:
            item: dict[str, Any] = {"year": row.year}
            if name != "years":
                item["code"] = row.code
                item["name"] = localized(row.obj) if row.obj is not None else ""
            if row.suppressed:
                item.update(suppressed=True, suppression=row.suppression, sat=None, passed=None)
                item["pass_rate_percent"] = None
                item["mean_percent"] = None
            else:
                f = row.figures
                item.update(
                    suppressed=False,
                    suppression="",
                    sat=f.sat,
                    passed=f.passed,
                    pass_rate_percent=percent(f.pass_rate * 100),
                    mean_percent=percent(f.mean_percent),
                )
            items.append(item)
        out[name] = items
    return out


@bp.get("/stats")
@public
def stats():
    tables = public_items(services.public_statistics(db.session))
    return render_template("reports/stats.html", tables=tables, threshold=services.SMALL_GROUP)


@bp.get("/api/v1/stats")
@public
def stats_api():
    tables = public_items(services.public_statistics(db.session))
    return jsonify({"small_group_threshold": services.SMALL_GROUP, **tables})


@bp.get("/stats.csv")
@public
def stats_csv():
    tables = public_items(services.public_statistics(db.session))
    header = ["table", "year", "code", "name", "suppressed", "suppression", "sat", "passed"]
    header += ["pass_rate_percent", "mean_percent"]
    rows = [
        [name, item["year"], item.get("code", ""), item.get("name", "")]
        + [item[key] for key in header[4:]]
        for name, items in tables.items()
        for item in items
    ]
    response = Response(to_csv(header, rows).encode("utf-8"), mimetype=DOWNLOAD_TYPES["csv"])
    response.headers["Content-Disposition"] = 'attachment; filename="skills-passport-stats.csv"'
    return response
