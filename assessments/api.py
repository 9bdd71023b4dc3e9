"""The marking JSON API under ``/api/v1`` (described in docs/openapi.yaml).

Authentication is the signed-in session cookie; roles come from ``@requires`` and the
exam-level rules from ``assessments.access``. The blueprint is exempt from the form
CSRF check; instead every state-changing request (POST, PUT, PATCH, DELETE) must carry
the header ``X-Requested-With: XMLHttpRequest`` (else 400 ``header_missing``). A
browser sends a custom header to
another origin only after a CORS preflight, which this app never grants, so a foreign
page cannot forge such a request with the user's cookie (OWASP "custom request header"
defence; the cookie is also SameSite=Lax).

Errors are ``application/problem+json`` with a machine-readable ``code``:
400 ``header_missing``; 401 not signed in; 403 ``not_allowed`` / ``conflict_of_interest`` /
``not_your_seat`` (another judge's seat); 404 unknown or invisible exam, form or cell; 409
``conflict`` (stale ``expected_version``, with ``current``); 422 ``invalid`` (``errors`` by
field), ``not_present``, ``not_started`` (before the exam's first day,
unless an administrator allowed early marking) or ``reason_required``
(the chief writing another judge's seat without a reason); 423 ``form_locked`` /
``exam_finalised``; 429 too many imports.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from app import metrics
from app.auth.models import User
from app.auth.permissions import public, requires
from app.clock import local_today
from app.config import PROJECT_ROOT
from app.db import run_write
from app.errors import problem
from app.extensions import db
from app.i18n import format_datetime
from app.messages import N_, DomainError
from app.rate_limits import limit_imports
from assessments import access
from assessments.models import Aspect, Enrolment, Exam, ExamStatus, MarkingForm, SubCriterion
from assessments.schemas import (
    ImportRowSchema,
    MarkWriteSchema,
    ReasonSchema,
    SeatSchema,
    import_rows,
)
from assessments.services.marks import bulk_import, cells, entry, errors, seats, signoff
from assessments.services.marks.grid import Grid, form_grid
from assessments.tabular import Rejected

bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(PROJECT_ROOT) / "docs" / "openapi.yaml"
MAX_LISTED_PROBLEMS = 500
MAX_DB_ID = 2**31 - 1
MAX_SEAT = 9  # as MarkWriteSchema

LOCKED_TITLE = _l("The form or exam is locked")


def xhr_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a state-changing request without ``X-Requested-With: XMLHttpRequest`` (400).

    Applied under ``@requires``, so an anonymous caller still gets 401 and a wrong role
    403 first.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("X-Requested-With") != "XMLHttpRequest":
            return problem(
                400,
                _("Send the header X-Requested-With: XMLHttpRequest with this request."),
                code="header_missing",
            )
        return view(*args, **kwargs)

    return wrapped


# --- helpers ------------------------------------------------------------------------


def _exam(exam_id: int) -> Exam:
    return access.visible_exam(db.session, current_user, exam_id) or abort(404)


def _form(exam: Exam, sub_criterion_id: int) -> MarkingForm:
    form = cells.form_for(db.session, exam, sub_criterion_id)
    if form is None:
        abort(404)
    return form


def _aspect(exam: Exam, address: str) -> Aspect | None:
    code, _sep, position = address.strip().upper().rpartition(".")
    if not code or not position.isdigit():
        return None
    return db.session.scalar(
        select(Aspect)
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .where(
            Aspect.scheme_id == exam.scheme_id,
            SubCriterion.code == code,
            Aspect.position == int(position),
        )
    )


def _db_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_DB_ID


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    if data is None:
        raise ValidationError({"_schema": [_("The body must be a JSON object.")]})
    return schema.load(data)


def _invalid(errors: dict[str, Any]):
    return problem(422, _("The data is not valid."), code="invalid", errors=errors)


@bp.errorhandler(ValidationError)
def invalid_body(exc: ValidationError):
    """A request body that does not fit its schema: 422 ``invalid``, errors by field."""
    return _invalid(exc.messages)


@bp.errorhandler(DomainError)
def refused(exc: DomainError):
    """Any other refused operation: 422 with its code, in the request's language."""
    return problem(422, exc.translated(), code=exc.code)


@bp.errorhandler(errors.MarkingError)
def error_response(exc: errors.MarkingError):
    """Map a refused marking operation to its HTTP status and problem body."""
    detail = exc.translated()
    if isinstance(exc, errors.MarkConflict):
        return problem(409, detail, code=exc.code, current=cell_json(exc.current))
    if isinstance(exc, errors.NotAllowed):
        return problem(403, detail, code=exc.code)
    if isinstance(exc, errors.FormLocked | errors.ExamClosed):
        return problem(423, detail, code=exc.code, title=str(LOCKED_TITLE))
    if isinstance(exc, errors.FormIncomplete):
        return problem(
            409,
            detail,
            code=exc.code,
            incomplete=[
                {"enrolment_id": i.enrolment.id, "address": i.address, "kind": i.kind}
                for i in exc.items
            ],
        )
    if isinstance(exc, errors.MarkInvalid):
        return _invalid({exc.field or "_schema": [detail]})
    return problem(422, detail, code=exc.code)


def cell_json(state: cells.CellState) -> dict[str, Any]:
    return {
        "value": state.value,
        "version": state.version,
        "reason": state.reason,
        "updated_by": state.updated_by,
        "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        "updated_at_display": format_datetime(state.updated_at),
    }


# --- documentation ------------------------------------------------------------------


@bp.get("/openapi.yaml")
@public
def openapi():
    """Serve the OpenAPI 3.1 description of this API."""
    response = Response(OPENAPI_FILE.read_text(encoding="utf-8"), mimetype="application/yaml")
    response.cache_control.max_age = 300
    return response


# --- grid ---------------------------------------------------------------------------


def grid_json(grid: Grid) -> dict[str, Any]:
    """Serialise a form's grid for the API (never the IIN)."""
    form = grid.form
    scheme = grid.exam.scheme
    sub = form.sub_criterion
    aspects = []
    for aspect in grid.aspects:
        aspects.append(
            {
                "id": aspect.id,
                "address": f"{sub.code}.{aspect.position}",
                "kind": aspect.kind,
                "description": aspect.description,
                "max": cells.format_value("M", aspect.max_hundredths),
                "wsos_section": aspect.wsos_section,
                "levels": list(aspect.levels or []),
            }
        )
    rows = []
    for row in grid.rows:
        row_cells = []
        for column in grid.columns:
            mark = row.marks.get((column.aspect.id, column.seat))
            conflict = row.conflict_for(column.seat)
            row_cells.append(
                {
                    "aspect": column.address,
                    "seat": column.seat,
                    "value": cells.format_value(column.aspect.kind, mark.value) if mark else None,
                    "version": mark.version if mark else None,
                    "reason": mark.reason if mark else "",
                    "excluded": conflict.translated() if conflict else None,
                }
            )
        rows.append(
            {
                "enrolment_id": row.enrolment.id,
                "workstation": row.enrolment.workstation,
                "name": row.candidate.full_name,
                "college": row.candidate.college.code if row.candidate.college else None,
                "rescore": [
                    f"{sub.code}.{a.position}" for a in grid.aspects if a.id in row.rescore
                ],
                "cells": row_cells,
            }
        )
    return {
        "exam": {"id": grid.exam.id, "status": grid.exam.status},
        "form": {
            "sub_criterion_id": sub.id,
            "code": sub.code,
            "name": sub.name,
            "locked": form.locked,
            "locked_at": form.locked_at.isoformat() if form.locked_at else None,
            "judges": scheme.judges,
            "allowed_spread": scheme.allowed_spread,
            "seats": {
                str(seat): ({"user_id": user.id, "name": user.name} if user else None)
                for seat, user in grid.seat_experts.items()
            },
        },
        "aspects": aspects,
        "rows": rows,
        "missing": grid.missing,
        "rescore": grid.rescore,
        "unexplained_deductions": grid.unexplained_deductions,
        "can_mark": grid.can_mark and not form.locked and grid.exam.status != ExamStatus.FINALISED,
        "is_chief": grid.is_chief,
    }


@bp.get("/exams/<int:exam_id>/forms/<int:sub_criterion_id>")
@requires("exams.view")
def form_data(exam_id: int, sub_criterion_id: int):
    """Return one marking form's grid: aspects, present candidates and their cells."""
    exam = _exam(exam_id)
    form = _form(exam, sub_criterion_id)
    return grid_json(form_grid(db.session, exam, form, current_user))


# --- one cell -----------------------------------------------------------------------


def mark_json(mark, aspect: Aspect, enrolment_id: int, seat: int) -> dict[str, Any]:
    state = cells.CellState.of(mark, aspect.kind, db.session)
    address = f"{aspect.sub_criterion.code}.{aspect.position}"
    return {"enrolment_id": enrolment_id, "aspect": address, "seat": seat, **cell_json(state)}


@bp.put("/exams/<int:exam_id>/marks")
@requires("marks.enter")
@xhr_only
def put_mark(exam_id: int):
    """Save one cell with optimistic concurrency (``expected_version``)."""
    data = _load(MarkWriteSchema(), request.get_json(silent=True))
    exam_key, enrolment_key = exam_id, data["enrolment_id"]

    def unit():
        exam = _exam(exam_key)
        user = db.session.get(User, current_user.id)
        enrolment = db.session.get(Enrolment, enrolment_key)
        if enrolment is None or enrolment.exam_id != exam.id:
            raise errors.MarkInvalid(
                N_("the candidate is not enrolled in this exam"), "enrolment_id"
            )
        aspect = _aspect(exam, data["aspect"])
        if aspect is None:
            raise errors.MarkInvalid(N_("no such aspect in this exam's scheme"), "aspect")
        mark = entry.save_mark(
            db.session,
            exam=exam,
            enrolment=enrolment,
            aspect=aspect,
            seat=data["seat"],
            value=data["value"],
            user=user,
            expected_version=data["expected_version"],
            reason=data["reason"],
            today=local_today(),
        )
        return mark_json(mark, aspect, enrolment.id, data["seat"])

    answer = run_write(db.session, unit)
    metrics.count_marks_saved("grid", 1)
    return answer


@bp.get("/exams/<int:exam_id>/marks/history")
@requires("exams.view")
def mark_history(exam_id: int):
    """Return one cell's audit history (chief expert of the exam, or an administrator)."""
    exam = _exam(exam_id)
    if not (access.is_chief(current_user, exam) or current_user.role == "admin"):
        return problem(
            403, _("Only the chief expert sees the history of a cell."), code="not_allowed"
        )
    enrolment_id = request.args.get("enrolment_id", type=int)
    seat = request.args.get("seat", default=0, type=int)
    # ids beyond a database integer name no record (and must not reach the database)
    enrolment = db.session.get(Enrolment, enrolment_id) if _db_id(enrolment_id) else None
    aspect = _aspect(exam, request.args.get("aspect", ""))
    if (
        enrolment is None
        or enrolment.exam_id != exam.id
        or aspect is None
        or seat is None
        or not 0 <= seat <= MAX_SEAT
    ):
        return _invalid({"enrolment_id": [_("Give enrolment_id, aspect and seat of one cell.")]})
    entries = entry.cell_history(db.session, exam, enrolment, aspect, seat)
    return {
        "entries": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "at_display": format_datetime(e.at),
                "actor": e.actor,
                "action": e.action,
                "old": e.old_value,
                "new": e.new_value,
                "reason": e.reason,
            }
            for e in entries
        ]
    }


# --- import -------------------------------------------------------------------------


@bp.errorhandler(Rejected)
def rejected(exc: Rejected):
    """An import refused as a whole: 422 ``rejected`` listing every problem."""
    problems = exc.problems[:MAX_LISTED_PROBLEMS]
    return problem(
        422,
        _("Nothing was imported: fix every listed problem and send the whole file again."),
        code="rejected",
        errors=[
            {
                "row": p.row,
                "field": p.field,
                "message": p.translated(),
                "text": p.format(exc.filename),
            }
            for p in problems
        ],
        total_errors=len(exc.problems),
    )


@bp.post("/exams/<int:exam_id>/marks/import")
@requires("marks.enter")
@xhr_only
@limit_imports
def import_marks(exam_id: int):
    """Import many marks from an uploaded CSV/XLSX ``file`` or a JSON list, all or nothing."""
    upload = request.files.get("file")
    if upload is not None:
        filename = Path(upload.filename or "upload.csv").name
        payload = upload.read()
        rows = None
    else:
        body = request.get_json(silent=True)
        if not isinstance(body, list):
            return _invalid(
                {"_schema": [_("Send a multipart 'file' (CSV or XLSX) or a JSON list of rows.")]}
            )
        items = ImportRowSchema(many=True).load(body)
        filename, payload, rows = "JSON", b"", import_rows(items)

    def unit():
        exam = _exam(exam_id)
        user = db.session.get(User, current_user.id)
        today = local_today()
        if rows is None:
            return bulk_import.import_marks(db.session, exam, filename, payload, user, today=today)
        return bulk_import.import_rows(db.session, exam, rows, user, source=filename, today=today)

    summary = run_write(db.session, unit)
    cells = summary.created + summary.updated
    metrics.count_marks_saved("upload" if rows is None else "json", cells)
    return summary.as_dict()


# --- sign-off and seats ----------------------------------------------------------


@bp.post("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/lock")
@requires("forms.lock")
@xhr_only
def lock(exam_id: int, sub_criterion_id: int):
    """Lock a complete form (chief expert of the exam)."""

    def unit():
        exam = _exam(exam_id)
        form = _form(exam, sub_criterion_id)
        signoff.lock_form(db.session, form, db.session.get(User, current_user.id))
        return {"locked": True, "locked_at": form.locked_at.isoformat()}

    return run_write(db.session, unit)


@bp.post("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/unlock")
@requires("forms.lock")
@xhr_only
def unlock(exam_id: int, sub_criterion_id: int):
    """Unlock a form for a correction (chief expert, with a written reason)."""
    data = _load(ReasonSchema(), request.get_json(silent=True))

    def unit():
        exam = _exam(exam_id)
        form = _form(exam, sub_criterion_id)
        signoff.unlock_form(db.session, form, db.session.get(User, current_user.id), data["reason"])
        return {"locked": False}

    return run_write(db.session, unit)


@bp.put("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/seats/<int:seat>")
@requires("forms.lock")
@xhr_only
def put_seat(exam_id: int, sub_criterion_id: int, seat: int):
    """Record which expert sits in a judge seat of the form (chief expert)."""
    data = _load(SeatSchema(), request.get_json(silent=True))

    def unit():
        exam = _exam(exam_id)
        form = _form(exam, sub_criterion_id)
        expert = None
        if data["user_id"] is not None:
            expert = db.session.get(User, data["user_id"])
            if expert is None:
                raise errors.MarkInvalid(N_("no such user"), "user_id")
        seats.assign_seat(db.session, form, seat, expert, db.session.get(User, current_user.id))
        seated = cells.seat_expert(db.session, form, seat)
        return {"seat": seat, "user_id": seated.id if seated else None}

    return run_write(db.session, unit)


def init_app(app) -> None:
    """Register the blueprint, exempt from form CSRF (the custom header guards it)."""
    from app.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
