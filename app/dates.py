"""Dates as people in Kazakhstan write them: dd.mm.yyyy, whatever the browser's locale.

A browser's ``<input type="date">`` shows and takes dates in the format of the browser's
own locale (mm/dd/yyyy in an English browser), not the page's language. Forms therefore
use a plain text input with a dd.mm.yyyy pattern, parsed here on the server.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import StopValidation

_LOCAL_RE = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
#: The HTML pattern of a date input (a hint for the browser; the server decides).
DATE_PATTERN = r"\d{1,2}\.\d{1,2}\.\d{4}"


def parse_date(text: str) -> date:
    """Read a date typed as dd.mm.yyyy (d.m.yyyy and dd/mm/yyyy too) or as yyyy-mm-dd.

    The ISO form is accepted so that addresses saved before stay valid. Raises ValueError
    for anything else, and for days that do not exist (31.02.2026).
    """
    text = (text or "").strip()
    local = _LOCAL_RE.fullmatch(text)
    if local:
        day, month, year = (int(part) for part in local.groups())
        return date(year, month, day)
    iso = _ISO_RE.fullmatch(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
        return date(year, month, day)
    raise ValueError(f"not a date: {text!r}")


def date_text(value: date | None) -> str:
    """The date as it is typed and shown: dd.mm.yyyy."""
    return "" if value is None else value.strftime("%d.%m.%Y")


def date_input_attributes() -> dict[str, str]:
    """Attributes of a dd.mm.yyyy text input (numeric keyboard on phones, a placeholder)."""
    return {
        "inputmode": "numeric",
        "pattern": DATE_PATTERN,
        "placeholder": str(_l("dd.mm.yyyy")),
        "autocomplete": "off",
        "class": "date-input",
    }


class LocalDateField(StringField):
    """A date typed as dd.mm.yyyy; a wrong or impossible date is a translated field error."""

    def __call__(self, **kwargs):
        for name, value in date_input_attributes().items():
            kwargs.setdefault(name, value)
        return super().__call__(**kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return date_text(self.data) if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_date(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(
                str(_l("Enter the date as dd.mm.yyyy, for example 25.05.2026."))
            ) from None

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()  # the date's own message is enough; no "required" after it
