"""What the public, holder and staff passport pages show alike: the passport's context
(from the frozen snapshot, never the IIN), its charts and QR code, and PDF responses."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from flask import Response, abort, current_app
from flask_babel import gettext as _
from markupsafe import Markup

from app.extensions import db
from app.i18n import current_locale, format_number
from assessments import scoring
from assessments.charts import Bar
from assessments.charts import profile_chart as chart
from passports.messages import STATUS_BADGES, STATUS_LABELS, SUPERSEDE_REASONS, TRUST_REASONS
from passports.models import Passport
from passports.pdf import passport_pdf
from passports.qr import qr_svg
from passports.services import PassportError, verification
from passports.services.snapshot import exam_dates
from passports.settings import current_settings


@lru_cache(maxsize=256)
def cached_qr_svg(url: str) -> str:
    """The QR code of a verification URL as SVG, made once per URL and process."""
    return qr_svg(url, module_size=4)


def decimal_text(value: str) -> str:
    """Show a stored decimal string ("87.50") in the user's number format ("87,50")."""
    return format_number(Decimal(value))


def profile_bars(passport: Passport, which: str) -> list[Bar]:
    """Chart bars of a passport's frozen profile (criteria or sections)."""
    denominator = passport.snapshot["result"]["denominator"]
    bars = []
    for part in passport.snapshot[which]:
        if which == "criteria":
            label = f"{part['key']}. {part['name']}" if part["name"] else part["key"]
        else:
            name = localized_names(part["name"])
            label = f"{part['key']}. {name}" if name else part["key"]
        bars.append(
            Bar(
                label,
                Fraction(part["units"], denominator),
                Fraction(part["max_units"], denominator),
            )
        )
    return bars


def profile_chart(passport: Passport, which: str) -> Markup:
    title = (
        _("Skills profile by module")
        if which == "criteria"
        else _("Skills profile by WSOS section")
    )
    return chart(profile_bars(passport, which), title=title, chart_id=f"chart-{which}")


def localized_names(names: dict[str, str] | None) -> str:
    """Pick the request's language from a {kk, ru, en} dict, falling back to kk, ru, en."""
    names = names or {}
    for code in (current_locale(), "kk", "ru", "en"):
        if names.get(code):
            return names[code]
    return ""


def passport_context(
    passport: Passport, current_status: str | None = None, reason: str = ""
) -> dict[str, Any]:
    """Everything the passport macros need, from the frozen snapshot (never the IIN).

    ``current_status`` may be a trust verdict (untrusted, unchecked; ``reason`` says why).
    """
    state = current_status or passport.status()
    settings = current_settings()
    live = passport.status() if state in ("untrusted", "unchecked") else state
    fields = verification.public_fields(db.session, settings, passport, live)
    url = verification.passport_url(passport, settings.public_base_url)
    return {
        "passport": passport,
        "fields": fields,
        "status": state,
        "status_label": STATUS_LABELS[state],
        "trust_reason": TRUST_REASONS.get(reason),
        "badge": STATUS_BADGES[state],
        "supersede_reason": SUPERSEDE_REASONS.get(passport.supersede_reason or ""),
        "qr": Markup(cached_qr_svg(url)),  # noqa: S704 - generated SVG, no user text
        "qr_url": url,
        "chart_sections": profile_chart(passport, "sections"),
        "chart_criteria": profile_chart(passport, "criteria"),
        "names": localized_names,
        "numbers": {key: Decimal(fields["result"][key]) for key in ("total", "max", "percent")},
        "dates": exam_dates(passport.snapshot),
        "top_grade": scoring.TOP_GRADE,
    }


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def pdf_or_error(passport: Passport) -> Response:
    """The passport's PDF, or a 503 (logged) when it cannot be made."""
    try:
        data = passport_pdf(passport)
    except PassportError as exc:
        current_app.logger.error("passport PDF %s: %s", passport.number, exc)
        abort(503)
    return pdf_response(data, f"skills-passport-{passport.number}.pdf")
