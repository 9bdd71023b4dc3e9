"""marshmallow schemas of the marking JSON API (documented in docs/openapi.yaml)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from assessments.tabular import Row

REASON_LENGTH = 2000


class MarkValue(fields.Field):
    """A mark as typed: a string ("1,25", "2"), a JSON number, or null/"" to clear the cell."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Must be a number, a string or null.")
        return value


class MarkWriteSchema(Schema):
    """``PUT /exams/<id>/marks``: one cell."""

    enrolment_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    aspect = fields.String(required=True, validate=validate.Length(min=1, max=20))
    seat = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=9))
    value = MarkValue(required=True, allow_none=True)
    # null means "I believe the cell is empty"; the key must be sent all the same
    expected_version = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_LENGTH))


class ReasonSchema(Schema):
    """``POST …/unlock``: the written reason."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_LENGTH))


class SeatSchema(Schema):
    """``PUT …/seats/<seat>``: the expert who sits in the seat, or null to empty it."""

    user_id = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )


class ImportRowSchema(Schema):
    """One element of a JSON import: the CSV columns ``candidate,aspect,judge,score[,reason]``.

    ``candidate`` is the candidate number; ``iin`` may stand in its place for the roles
    that may name candidates by IIN (the import service decides, for the whole list).
    """

    candidate = fields.Raw(load_default=None)
    iin = fields.String(load_default=None)
    aspect = fields.String(required=True)
    judge = fields.Raw(load_default=None, allow_none=True)
    score = fields.Raw(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_LENGTH))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # a JSON number's shortest form is what the sender wrote
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def import_rows(items: list[dict[str, Any]]) -> list[Row]:
    """Turn loaded JSON import elements into table rows numbered by list position (1-based).

    ``candidate`` and ``iin`` become columns only where given, as in a file's header.
    """
    rows = []
    for position, item in enumerate(items, start=1):
        values = {
            name: _text(item[name]) for name in ("candidate", "iin") if item[name] is not None
        }
        values.update(
            aspect=_text(item["aspect"]),
            judge=_text(item["judge"]),
            score=_text(item["score"]),
            reason=_text(item["reason"]),
        )
        rows.append(Row(position, values))
    return rows
