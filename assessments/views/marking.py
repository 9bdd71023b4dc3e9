"""The marking form page: a keyboard-friendly grid that autosaves through the JSON API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app import offline
from app.auth.models import User
from app.auth.permissions import requires
from app.db import run_write
from app.extensions import db
from app.i18n import format_number
from app.messages import N_
from assessments import access, scoring
from assessments.models import Exam, ExamStatus, MarkingForm
from assessments.services.marks import cells, completeness, errors, progress, seats, signoff
from assessments.services.marks.grid import Grid, form_grid

bp = Blueprint("marking", __name__)


class LockForm(FlaskForm):
    """Sign off and lock the form, acknowledging deductions without a reason if any."""

    acknowledgement = TextAreaField(
        _l("Note acknowledging the deductions without a reason"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Kept in the audit log with the cells it covers."),
    )
    back = HiddenField()


class SeatForm(FlaskForm):
    """Who sits in a judge seat (the page without JavaScript posts it; the script uses the API)."""

    user_id = HiddenField()


class UnlockForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for unlocking"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Kept in the audit log, e.g. which mark is corrected and why."),
    )


def _exam_or_abort(exam_id: int) -> Exam:
    """Return the exam; 404 when it does not exist or the user may not see it."""
    return access.visible_exam(db.session, current_user, exam_id) or abort(404)


def _form_or_abort(exam: Exam, sub_criterion_id: int) -> MarkingForm:
    return cells.form_for(db.session, exam, sub_criterion_id) or abort(404)


def cell_text(kind: str, mark: Any) -> str:
    """Show a stored value in the cell: M with the locale's decimal comma, J as the score."""
    if mark is None:
        return ""
    if kind == "J":
        return str(mark.value)
    return format_number(scoring.hundredths_decimal(mark.value))


def _messages() -> dict[str, str]:
    """Texts the script shows, in the user's language (placeholders filled in by the script)."""
    return {
        "decimal": format_number(Decimal("1.5"), 1)[1],
        "allSaved": _("All saved"),
        "max": _("max %(max)s", max="{max}"),
        "pasteSkipped": _(
            "%(count)s pasted values were not used: closed cells or beyond the grid",
            count="{count}",
        ),
        "judged": _("Judgement: a score 0, 1, 2 or 3"),
        "unsaved": _("%(count)s unsaved — saving…", count="{count}"),
        "pending": _("%(count)s not saved yet — retrying", count="{count}"),
        "offline": _("Offline: %(count)s entries kept on this device, retrying", count="{count}"),
        "serverBusy": _(
            "%(count)s not saved yet: the server cannot save right now — kept on this device,"
            " retrying",
            count="{count}",
        ),
        "signedOut": _(
            "Signed out: %(count)s entries kept on this device — sign in again to send them",
            count="{count}",
        ),
        "conflict": _(
            "Conflict: %(who)s changed this to %(value)s at %(time)s — keep yours or theirs?",
            who="{who}",
            value="{value}",
            time="{time}",
        ),
        "conflictCleared": _("Conflict: someone cleared this cell — keep yours or leave it empty?"),
        "undecided": _("%(count)s conflicts wait for your choice", count="{count}"),
        "keepMine": _("Keep mine"),
        "takeTheirs": _("Take theirs"),
        "notSaved": _("Not saved: %(message)s", message="{message}"),
        "missing": _("%(count)s marks missing", count="{count}"),
        "rescore": _("%(count)s need re-scoring", count="{count}"),
        "deductions": _("%(count)s deductions without a reason", count="{count}"),
        "complete": _("Every mark is entered"),
        "needsRescoring": _("needs re-scoring"),
        "noHistory": _("No changes recorded yet."),
        "historyFailed": _("The history could not be loaded."),
        "seatSaved": _("Judge seat %(seat)s saved.", seat="{seat}"),
        "restored": _("%(count)s unsaved entries restored from this device", count="{count}"),
        "cell": _("Cell"),
    }


@bp.get("/exams/<int:exam_id>/forms/<int:sub_criterion_id>")
@requires("exams.view")
def form(exam_id: int, sub_criterion_id: int):
    """Show one marking form as a grid of present candidates × aspects."""
    exam = _exam_or_abort(exam_id)
    marking_form = _form_or_abort(exam, sub_criterion_id)
    grid = form_grid(db.session, exam, marking_form, current_user)
    context = _context(exam, marking_form, grid)
    response = make_response(render_template("marking/form.html", **context))
    # an expert's editable grid opens from the device when the server is unreachable
    return offline.keep_as_grid(response) if context["editable"] else response


def _context(exam: Exam, marking_form: MarkingForm, grid: Grid) -> dict[str, Any]:
    from assessments.services.exams import marking_forms

    forms = marking_forms(db.session, exam)
    position = next(i for i, f in enumerate(forms) if f.id == marking_form.id)
    previous_form = forms[position - 1] if position > 0 else None
    next_form = forms[position + 1] if position + 1 < len(forms) else None
    editable = grid.can_mark and not marking_form.locked and exam.status != ExamStatus.FINALISED
    people = [exam.chief_expert] if exam.chief_expert else []
    people += [link.user for link in exam.experts if link.user_id != exam.chief_expert_id]
    has_judgement = any(a.kind == "J" for a in grid.aspects)
    exclusions = []
    for row in grid.rows:
        if row.user_conflict is not None:
            exclusions.append((row, None, row.user_conflict.translated()))
        elif has_judgement:
            for seat, conflict in sorted(row.seat_conflicts.items()):
                exclusions.append((row, seat, conflict.translated()))
    return {
        "exam": exam,
        "form": marking_form,
        "sub": marking_form.sub_criterion,
        "grid": grid,
        "editable": editable,
        "has_judgement": has_judgement,
        "people": people,
        "exclusions": exclusions,
        "previous_form": previous_form,
        "next_form": next_form,
        "lock_form": LockForm(formdata=None),
        "seat_form": SeatForm(formdata=None),
        "unlock_form": UnlockForm(formdata=None),
        "cell_text": cell_text,
        "messages": _messages(),
        "locked_by": db.session.get(User, marking_form.locked_by_id)
        if marking_form.locked_by_id
        else None,
    }


PROBLEM_LABELS = {
    "missing": _l("Marks missing"),
    "rescore": _l("Judge spread to re-score"),
    "deduction": _l("Deductions without a reason"),
    "conflict": _l("Conflicts of interest"),
}


@bp.get("/exams/<int:exam_id>/progress")
@requires("exams.view")
def exam_progress(exam_id: int):
    """Show every form of the exam and what needs action, filtered to one kind on request."""
    exam = _exam_or_abort(exam_id)
    show = request.args.get("show", "")
    if show not in (*progress.PROBLEM_KINDS, "action"):
        show = ""
    statuses = progress.exam_progress(db.session, exam)
    totals = {kind: sum(s.count(kind) for s in statuses) for kind in progress.PROBLEM_KINDS}
    if show == "action":
        shown = [s for s in statuses if s.needs_action]
    elif show:
        shown = [s for s in statuses if s.count(show)]
    else:
        shown = statuses
    return render_template(
        "marking/progress.html",
        exam=exam,
        statuses=statuses,
        shown=shown,
        show=show,
        totals=totals,
        kinds=progress.PROBLEM_KINDS,
        labels=PROBLEM_LABELS,
        is_chief=access.is_chief(current_user, exam),
        locked_count=sum(1 for s in statuses if s.locked),
    )


def _back(exam: Exam, marking_form: MarkingForm):
    return redirect(
        url_for("marking.form", exam_id=exam.id, sub_criterion_id=marking_form.sub_criterion_id)
    )


def _confirm_lock_page(
    exam: Exam, marking_form: MarkingForm, lock_form: LockForm, status: int = 200, error: str = ""
):
    """Say what locking the form will do, what still blocks it, and ask to confirm."""
    sub_id = marking_form.sub_criterion_id
    return render_template(
        "marking/confirm_lock.html",
        exam=exam,
        form=marking_form,
        sub=marking_form.sub_criterion,
        candidates=len(cells.present_enrolments(db.session, exam)),
        blockers=completeness.completeness(db.session, exam, sub_id),
        deductions=completeness.unexplained_deductions(db.session, exam, sub_id),
        lock_form=lock_form,
        error=error,
    ), status


def _lock_target(exam: Exam, marking_form: MarkingForm, back: str | None):
    if back == "progress":
        return redirect(url_for("marking.exam_progress", exam_id=exam.id))
    return _back(exam, marking_form)


@bp.get("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/lock")
@requires("forms.lock")
def confirm_lock(exam_id: int, sub_criterion_id: int):
    """Ask the chief expert to confirm locking the form, saying what it does."""
    exam = _exam_or_abort(exam_id)
    marking_form = _form_or_abort(exam, sub_criterion_id)
    if not access.is_chief(current_user, exam):
        abort(403)
    if marking_form.locked or exam.status == ExamStatus.FINALISED:
        return _back(exam, marking_form)
    lock_form = LockForm(formdata=None)
    lock_form.back.data = "progress" if request.args.get("back") == "progress" else ""
    return _confirm_lock_page(exam, marking_form, lock_form)


@bp.post("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/lock")
@requires("forms.lock")
def lock(exam_id: int, sub_criterion_id: int):
    """Sign off and lock the form (chief expert); list what blocks it otherwise."""
    exam = _exam_or_abort(exam_id)
    marking_form = _form_or_abort(exam, sub_criterion_id)
    lock_form = LockForm()
    if not lock_form.validate_on_submit():
        if lock_form.acknowledgement.errors:
            return _confirm_lock_page(exam, marking_form, lock_form, 422)
        abort(400)
    user_id = current_user.id
    acknowledgement = lock_form.acknowledgement.data or ""

    def unit():
        signoff.lock_form(db.session, marking_form, db.session.get(User, user_id), acknowledgement)

    try:
        run_write(db.session, unit)
    except errors.DeductionsUnexplained as exc:
        return _confirm_lock_page(exam, marking_form, lock_form, 422, exc.translated())
    except errors.FormIncomplete as exc:
        lines = ", ".join(f"{i.candidate.full_name}: {i.address}" for i in exc.items[:10])
        more = len(exc.items) - 10
        flash(f"{exc.translated()} {lines}" + (f" (+{more})" if more > 0 else ""), "error")
        return _lock_target(exam, marking_form, lock_form.back.data)
    except errors.MarkingError as exc:
        flash(exc.translated(), "error")
        return _lock_target(exam, marking_form, lock_form.back.data)
    flash(
        _("Form %(code)s is signed off and locked.", code=marking_form.sub_criterion.code),
        "success",
    )
    return _lock_target(exam, marking_form, lock_form.back.data)


@bp.post("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/seats/<int:seat>")
@requires("forms.lock")
def seat(exam_id: int, sub_criterion_id: int, seat: int):
    """Seat an expert in a judge seat of the form, or empty it (chief expert; no script)."""
    exam = _exam_or_abort(exam_id)
    marking_form = _form_or_abort(exam, sub_criterion_id)
    seat_form = SeatForm()
    if not seat_form.validate_on_submit():
        abort(400)
    raw = (request.form.get("user_id") or "").strip()
    if raw and not raw.isdigit():
        abort(400)
    user_id = current_user.id

    def unit():
        expert = db.session.get(User, int(raw)) if raw else None
        if raw and expert is None:
            raise errors.MarkInvalid(N_("no such user"), "user_id")
        seats.assign_seat(db.session, marking_form, seat, expert, db.session.get(User, user_id))

    try:
        run_write(db.session, unit)
    except errors.MarkingError as exc:
        flash(exc.translated(), "error")
        return _back(exam, marking_form)
    flash(_("Judge seat %(seat)s saved.", seat=seat), "success")
    return _back(exam, marking_form)


@bp.post("/exams/<int:exam_id>/forms/<int:sub_criterion_id>/unlock")
@requires("forms.lock")
def unlock(exam_id: int, sub_criterion_id: int):
    """Unlock the form for a correction (chief expert, written reason)."""
    exam = _exam_or_abort(exam_id)
    marking_form = _form_or_abort(exam, sub_criterion_id)
    unlock_form = UnlockForm()
    if not unlock_form.validate_on_submit():
        flash(_("Give the reason for unlocking the form."), "error")
        return _back(exam, marking_form)
    user_id, reason = current_user.id, unlock_form.reason.data

    def unit():
        signoff.unlock_form(db.session, marking_form, db.session.get(User, user_id), reason)

    try:
        run_write(db.session, unit)
    except errors.MarkingError as exc:
        flash(exc.translated(), "error")
        return _back(exam, marking_form)
    flash(_("Form %(code)s is unlocked.", code=marking_form.sub_criterion.code), "success")
    return _back(exam, marking_form)
