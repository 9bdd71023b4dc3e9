"""Forms of the passport pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class CheckForm(FlaskForm):
    """The manual check: passport number and verification code, as printed."""

    number = StringField(
        _l("Passport number"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "placeholder": "26-000123-4"},
    )
    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "placeholder": "ABCD-EFGH",
        },
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (shown to everyone who checks the passport)"),
        validators=[DataRequired(), Length(max=500)],
    )


class HolderChoicesForm(FlaskForm):
    share_enabled = BooleanField(_l("Public share link works"))
    lookup_enabled = BooleanField(_l("Anyone with the number and code can check the passport"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SearchForm(FlaskForm):
    """The staff search: posted, so that an IIN typed into it never reaches a URL."""

    q = StringField(
        _l("Find a passport by number, holder's name or IIN"),
        render_kw={"autocomplete": "off"},
    )
