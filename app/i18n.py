"""Languages and local conventions: locale choice, number/date formatting, Kazakh order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import get_locale, refresh

from app.extensions import babel
from assessments.scoring import hundredths_decimal, round_half_up

LOCALES = ("kk", "ru", "en")
LOCALE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LOCALE_COOKIE = "lang"


def select_locale() -> str:
    """Pick the UI language: ?lang=, then the remembered cookie, then Accept-Language."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in LOCALES:
        g.set_locale_cookie = asked
        return asked
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LOCALES:
        return remembered
    return request.accept_languages.best_match(LOCALES) or current_app.config["DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def localized(obj: object, field: str = "name", locale: str | None = None) -> str:
    """Return ``obj.<field>_<locale>``, falling back to kk, ru, en in that order."""
    locale = locale or current_locale()
    for code in (locale, "kk", "ru", "en"):
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return value
    return ""


class LocalizedName:
    """A record's name put into a message: shown in the language of whoever reads it.

    Services pass it as a message parameter instead of choosing a language themselves;
    the text is picked when the message is formatted, at the edge.
    """

    def __init__(self, obj: object, field: str = "name") -> None:
        self.obj, self.field = obj, field

    def __str__(self) -> str:
        return localized(self.obj, self.field)


def format_number(value: Decimal | Fraction | int | float | None, places: int = 2) -> str:
    """Format a number for display: decimal comma and grouped thousands in kk/ru."""
    if value is None:
        return ""
    if isinstance(value, int):
        return format_decimal(value, locale=current_locale(), group_separator=True)
    rounded = round_half_up(value if not isinstance(value, float) else Decimal(str(value)), places)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(rounded, format=pattern, locale=current_locale())


def local_time(value: datetime | None) -> datetime | None:
    """Convert a stored UTC datetime to the configured TIMEZONE."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def format_datetime(value: datetime | None) -> str:
    value = local_time(value)
    return "" if value is None else value.strftime("%d.%m.%Y %H:%M")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value)
    return value.strftime("%d.%m.%Y")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        number=format_number,
        hundredths=hundredths_decimal,
        localdt=format_datetime,
        localdate=format_date,
        localized=localized,
    )
    app.jinja_env.globals.update(LOCALES=LOCALES, LOCALE_NAMES=LOCALE_NAMES)

    @app.before_request
    def choose_locale_afresh() -> None:
        # a request that reuses an outer app context (CLI helpers, tests) must not
        # inherit the language cached for an earlier request
        refresh()

    @app.after_request
    def remember_locale(response):
        chosen = g.pop("set_locale_cookie", None)
        if chosen:
            response.set_cookie(
                LOCALE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response
