"""Exam pages: list, planning form, and the exam page with enrolment, experts and status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import User
from app.auth.permissions import has_permission, requires
from app.clock import local_today
from app.dates import LocalDateField
from app.db import run_write
from app.extensions import db
from app.i18n import localized
from app.navigation import add_nav
from app.rate_limits import limit_imports
from assessments import access
from assessments.models import (
    ATTENDANCE,
    EXAM_STATUSES,
    Candidate,
    Centre,
    Competence,
    Enrolment,
    Exam,
    ExamStatus,
    MarkingScheme,
)
from assessments.services import early_marking
from assessments.services import exam_overview as overview
from assessments.services import exams as service
from assessments.services.candidates.scope import Scope
from assessments.services.marks.completeness import unexplained_deductions
from assessments.services.marks.errors import DeductionsUnexplained
from assessments.tabular import Rejected

bp = Blueprint("exams", __name__, url_prefix="/exams")
# templates compare an exam's status with ExamStatus members, never with string literals
bp.add_app_template_global(ExamStatus, "ExamStatus")

add_nav("exams.view", _l("Exams"), _l("Demonstration exams and their marking"), "exams.view", 30)

STATUS_LABELS = {
    ExamStatus.PLANNED: _l("Planned"),
    ExamStatus.MARKING: _l("Marking"),
    ExamStatus.FINALISED: _l("Finalised"),
}
ATTENDANCE_LABELS = {
    "registered": _l("Registered"),
    "present": _l("Present"),
    "absent": _l("Absent"),
    "withdrawn": _l("Withdrawn"),
    "disqualified": _l("Disqualified"),
}


class ExamForm(FlaskForm):
    centre_id = SelectField(_l("Competence centre"), coerce=int, validators=[DataRequired()])
    competence_id = SelectField(_l("Competence"), coerce=int, validators=[DataRequired()])
    scheme_id = SelectField(_l("Marking scheme"), coerce=int, validators=[DataRequired()])
    start = LocalDateField(_l("First day"), validators=[DataRequired()])
    end = LocalDateField(_l("Last day"), validators=[Optional()])
    chief_id = SelectField(_l("Chief expert"), coerce=int, validators=[Optional()])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssignForm(FlaskForm):
    chief_id = SelectField(_l("Chief expert"), coerce=int, validators=[DataRequired()])
    expert_ids = MultiCheckboxField(_l("Experts"), coerce=int)


class EnrolForm(FlaskForm):
    file = FileField(_l("Candidates file (CSV or XLSX)"), validators=[FileRequired()])


class AttendanceForm(FlaskForm):
    status = SelectField(_l("Attendance"))
    reason = StringField(_l("Reason"), validators=[Length(max=1000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [(a, str(ATTENDANCE_LABELS[a])) for a in ATTENDANCE]


class FinaliseForm(FlaskForm):
    early = BooleanField(_l("The exam is over: finalise it before its last day"))
    acknowledgement = TextAreaField(
        _l("Note acknowledging the deductions without a reason"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Stored with each form it covers and kept in the audit log."),
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for reopening"), validators=[DataRequired(), Length(max=2000)]
    )


class EarlyMarkingForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (kept in the audit log)"), validators=[DataRequired(), Length(max=2000)]
    )


# --- helpers -------------------------------------------------------------------


def _exam_or_abort(exam_id: int) -> Exam:
    """Return the exam; 404 when it does not exist or the user may not see it."""
    return access.visible_exam(db.session, current_user, exam_id) or abort(404)


def optional_url(endpoint: str, **values: Any) -> str | None:
    """Return the URL of a page a colleague builds, or None while it does not exist yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _can_manage(exam: Exam) -> bool:
    return has_permission(current_user, "exams.manage") and access.can_manage_exam(
        current_user, exam
    )


def _can_record_attendance(exam: Exam) -> bool:
    return _can_manage(exam) or access.is_chief(current_user, exam)


def _user_label(user: User) -> str:
    return f"{user.name} <{user.email}>"


def _assign_form(exam: Exam, formdata: Any = None) -> AssignForm:
    form = AssignForm(formdata=formdata)
    people = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(sorted(service.EXPERT_ROLES)))
        .order_by(User.name)
    ).all()
    form.chief_id.choices = [(0, "—")] + [
        (u.id, _user_label(u)) for u in people if u.role == "chief_expert"
    ]
    form.expert_ids.choices = [(u.id, _user_label(u)) for u in people]
    if formdata is None:
        form.chief_id.data = exam.chief_expert_id or 0
        form.expert_ids.data = [link.user_id for link in exam.experts]
    return form


def _detail(exam: Exam, status: int = 200, **extra: Any):
    enrolments = sorted(exam.enrolments, key=lambda e: (e.candidate.sort_key, e.workstation, e.id))
    progress = overview.forms_progress(db.session, exam)
    forms = service.marking_forms(db.session, exam)
    links = {
        f.id: optional_url("marking.form", exam_id=exam.id, sub_criterion_id=f.sub_criterion_id)
        for f in forms
    }
    finalised = exam.status == ExamStatus.FINALISED
    context = {
        "exam": exam,
        "statuses": EXAM_STATUSES,
        "status_labels": STATUS_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
        "enrolments": enrolments,
        "present_count": sum(1 for e in enrolments if e.attendance == "present"),
        "registered_count": sum(1 for e in enrolments if e.attendance == "registered"),
        "conflicts": overview.conflicts(exam),
        "forms": forms,
        "progress": {p.form.id: p for p in progress} if progress is not None else None,
        "form_links": links,
        "scheme_url": optional_url("schemes.detail", scheme_id=exam.scheme_id),
        "results_url": optional_url("results.exam", exam_id=exam.id),
        "passports_url": optional_url("passport_admin.exam", exam_id=exam.id)
        if has_permission(current_user, "passports.view")
        else None,
        "blank_forms_url": optional_url("results.marking_forms", exam_id=exam.id),
        "can_manage": _can_manage(exam),
        "can_attendance": _can_record_attendance(exam) and not finalised,
        "can_finalise": access.is_chief(current_user, exam) and not finalised,
        "can_reopen": has_permission(current_user, "exams.reopen") and finalised,
        # the override only matters before the first day (or to withdraw one that stands)
        "can_early_marking": has_permission(current_user, "exams.early_marking")
        and not finalised
        and (exam.early_marking or local_today() < exam.start_date),
        "attendance_form": AttendanceForm(formdata=None),
        "finalise_form": FinaliseForm(formdata=None),
        **extra,
    }
    if context.get("assign_form") is None:
        context["assign_form"] = _assign_form(exam)
    if context.get("enrol_form") is None:
        context["enrol_form"] = EnrolForm(formdata=None)
    if context.get("reopen_form") is None:
        context["reopen_form"] = ReopenForm(formdata=None)
    if context.get("early_marking_form") is None:
        context["early_marking_form"] = EarlyMarkingForm(formdata=None)
    return render_template("exams/detail.html", **context), status


# --- pages ---------------------------------------------------------------------


@bp.get("")
@requires("exams.view")
def view():
    status = request.args.get("status", "")
    query = access.visible_exams(current_user)
    if status in EXAM_STATUSES:
        query = query.where(Exam.status == status)
    else:
        status = ""
    exams = db.session.scalars(query.order_by(Exam.start_date.desc(), Exam.id.desc())).unique()
    counts = dict(
        db.session.execute(
            select(Enrolment.exam_id, func.count())
            .where(
                Enrolment.exam_id.in_(access.visible_exams(current_user).with_only_columns(Exam.id))
            )
            .group_by(Enrolment.exam_id)
        ).all()
    )
    return render_template(
        "exams/list.html",
        exams=list(exams),
        counts=counts,
        status=status,
        statuses=EXAM_STATUSES,
        status_labels=STATUS_LABELS,
        can_create=has_permission(current_user, "exams.manage"),
    )


def _fill_exam_form(form: ExamForm) -> None:
    """Offer the user's centres, their accredited competences and those competences' schemes.

    Each competence option names its centres and each scheme its competence in
    ``data-parent``, so static/js/narrow-select.js can hide the ones that do not fit the
    choice above; without JavaScript the service refuses a mismatch with a named message.
    """
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    if current_user.role != "admin":
        centres = [c for c in centres if c.id == current_user.centre_id]
    form.centre_id.choices = [(c.id, f"{c.code} — {localized(c)}") for c in centres]
    accredited: dict[int, list[int]] = {}
    competences: dict[int, Competence] = {}
    for centre in centres:
        for competence in centre.competences:
            accredited.setdefault(competence.id, []).append(centre.id)
            competences[competence.id] = competence
    form.competence_id.choices = [
        (c.id, f"{c.code} — {localized(c)}", {"data-parent": " ".join(map(str, accredited[c.id]))})
        for c in sorted(competences.values(), key=lambda c: c.code)
    ]
    schemes = db.session.scalars(
        select(MarkingScheme)
        .where(MarkingScheme.competence_id.in_(list(competences)))
        .order_by(MarkingScheme.name, MarkingScheme.version.desc())
    ).all()
    form.scheme_id.choices = [
        (s.id, f"{s.name} v{s.version}", {"data-parent": str(s.competence_id)}) for s in schemes
    ]
    form.competence_id.render_kw = {"data-narrowed-by": form.centre_id.id}
    form.scheme_id.render_kw = {"data-narrowed-by": form.competence_id.id}
    chiefs = db.session.scalars(
        select(User).where(User.role == "chief_expert", User.active.is_(True)).order_by(User.name)
    ).all()
    form.chief_id.choices = [(0, "—")] + [(u.id, _user_label(u)) for u in chiefs]


@bp.route("/new", methods=["GET", "POST"])
@requires("exams.manage")
def create():
    if current_user.role != "admin" and current_user.centre_id is None:
        # a centre manager not yet linked to a centre: say so instead of an empty form
        return render_template("exams/new.html", form=None), 200
    form = ExamForm()
    _fill_exam_form(form)
    if form.validate_on_submit():
        centre = db.session.get(Centre, form.centre_id.data)
        competence = db.session.get(Competence, form.competence_id.data)
        scheme = db.session.get(MarkingScheme, form.scheme_id.data)
        chief = db.session.get(User, form.chief_id.data) if form.chief_id.data else None
        if current_user.role != "admin" and centre.id != current_user.centre_id:
            abort(403)
        start, end = form.start.data, form.end.data
        try:
            exam = run_write(
                db.session,
                lambda: service.create_exam(
                    db.session,
                    centre=centre,
                    competence=competence,
                    scheme=scheme,
                    start=start,
                    end=end,
                    chief=chief,
                ),
            )
        except service.ExamError as exc:
            field = {
                "centre": form.centre_id,
                "scheme": form.scheme_id,
                "end": form.end,
                "chief": form.chief_id,
            }.get(exc.field, form.competence_id)
            field.errors = [*field.errors, exc.translated()]
        else:
            flash(_("Exam planned."), "success")
            return redirect(url_for("exams.detail", exam_id=exam.id))
    status = 422 if request.method == "POST" else 200
    return render_template("exams/new.html", form=form), status


@bp.get("/<int:exam_id>")
@requires("exams.view")
def detail(exam_id: int):
    return _detail(_exam_or_abort(exam_id))


@bp.post("/<int:exam_id>/assign")
@requires("exams.manage")
def assign(exam_id: int):
    exam = _exam_or_abort(exam_id)
    if not _can_manage(exam):
        abort(403)
    form = _assign_form(exam, formdata=request.form)
    if form.validate_on_submit():
        chief = db.session.get(User, form.chief_id.data)
        experts = [db.session.get(User, uid) for uid in form.expert_ids.data]
        chief_email, expert_emails = (chief.email if chief else ""), [u.email for u in experts if u]
        try:
            run_write(
                db.session, lambda: service.assign(db.session, exam, chief_email, expert_emails)
            )
        except service.ExamError as exc:
            target = form.chief_id if exc.field == "chief" else form.expert_ids
            target.errors = [*target.errors, exc.translated()]
        else:
            flash(_("Expert group saved."), "success")
            return redirect(url_for("exams.detail", exam_id=exam.id) + "#experts")
    return _detail(exam, 422, assign_form=form)


@bp.post("/<int:exam_id>/enrol")
@requires("exams.manage")
@limit_imports
def enrol(exam_id: int):
    exam = _exam_or_abort(exam_id)
    if not _can_manage(exam):
        abort(403)
    form = EnrolForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename, data, scope = (
            upload.filename or "upload",
            upload.read(),
            Scope.for_user(current_user),
        )
        try:
            created = run_write(
                db.session,
                lambda: service.enrol_file(db.session, exam, filename, data, scope=scope),
            )
        except Rejected as exc:
            problems = [
                {"row": p.row, "field": p.field, "message": p.translated()} for p in exc.problems
            ]
            return _detail(exam, 422, enrol_form=form, enrol_problems=problems, enrol_file=filename)
        except service.ExamError as exc:
            form.file.errors = [*form.file.errors, exc.translated()]
        else:
            flash(_("%(count)s candidates enrolled.", count=len(created)), "success")
            return redirect(url_for("exams.detail", exam_id=exam.id) + "#candidates")
    return _detail(exam, 422, enrol_form=form)


@bp.post("/<int:exam_id>/enrolments/<int:enrolment_id>/attendance")
@requires("exams.view")
def attendance(exam_id: int, enrolment_id: int):
    exam = _exam_or_abort(exam_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.exam_id != exam.id:
        abort(404)
    if not _can_record_attendance(exam):
        abort(403)
    form = AttendanceForm()
    if form.validate_on_submit():
        status, reason = form.status.data, form.reason.data or ""
        try:
            run_write(
                db.session,
                lambda: service.set_attendance(db.session, enrolment, status, reason, current_user),
            )
        except service.ExamError as exc:
            flash(_name(enrolment.candidate) + ": " + exc.translated(), "error")
        else:
            flash(
                _(
                    "%(name)s: %(status)s.",
                    name=_name(enrolment.candidate),
                    status=ATTENDANCE_LABELS[enrolment.attendance],
                ),
                "success",
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("exams.detail", exam_id=exam.id) + "#candidates")


@bp.post("/<int:exam_id>/attendance/all-present")
@requires("exams.view")
def mark_all_present(exam_id: int):
    exam = _exam_or_abort(exam_id)
    if not _can_record_attendance(exam):
        abort(403)
    if not FinaliseForm().validate_on_submit():  # the CSRF token only
        abort(400)
    try:
        changed = run_write(
            db.session, lambda: service.mark_all_present(db.session, exam, current_user)
        )
    except service.ExamError as exc:
        flash(exc.translated(), "error")
    else:
        flash(
            ngettext(
                "%(num)d candidate marked present.",
                "%(num)d candidates marked present.",
                len(changed),
            ),
            "success",
        )
    return redirect(url_for("exams.detail", exam_id=exam.id) + "#candidates")


def _name(candidate: Candidate) -> str:
    return f"{candidate.last_name} {candidate.first_name}"


def _confirm_finalise_page(exam: Exam, finalise_form: FinaliseForm, status: int = 200):
    """Say what finalising does (and what still blocks it) and ask the chief to confirm."""
    forms = service.marking_forms(db.session, exam)
    open_codes = {f.sub_criterion.code for f in forms if not f.locked}
    unexplained = [
        item
        for item in unexplained_deductions(db.session, exam)
        if item.address.split(".", 1)[0] in open_codes
    ]
    return render_template(
        "exams/confirm_finalise.html",
        unexplained=unexplained,
        exam=exam,
        forms=forms,
        open_forms=[f for f in forms if not f.locked],
        present=len(service.present_enrolments(exam)),
        incomplete=_group_incomplete(service.completeness(db.session, exam)),
        finalise_form=finalise_form,
        early=local_today() < exam.end_date,
    ), status


@bp.get("/<int:exam_id>/finalise")
@requires("forms.lock")
def confirm_finalise(exam_id: int):
    """Ask the chief expert to confirm finalising, saying what it does."""
    exam = _exam_or_abort(exam_id)
    if not access.is_chief(current_user, exam):
        abort(403)
    if exam.status == ExamStatus.FINALISED:
        return redirect(url_for("exams.detail", exam_id=exam.id))
    return _confirm_finalise_page(exam, FinaliseForm(formdata=None))


@bp.post("/<int:exam_id>/finalise")
@requires("forms.lock")
def finalise(exam_id: int):
    exam = _exam_or_abort(exam_id)
    if not access.is_chief(current_user, exam):
        abort(403)
    form = FinaliseForm()
    if not form.validate_on_submit():
        if form.acknowledgement.errors:
            return _confirm_finalise_page(exam, form, 422)
        abort(400)
    today, early = local_today(), bool(form.early.data)
    note = form.acknowledgement.data or ""
    try:
        run_write(
            db.session,
            lambda: service.finalise(
                db.session, exam, current_user, today=today, early=early, acknowledgement=note
            ),
        )
    except service.ExamIncomplete as exc:
        return _detail(
            exam, 409, incomplete=_group_incomplete(exc.items), finalise_error=exc.translated()
        )
    except DeductionsUnexplained as exc:
        form.acknowledgement.errors = [*form.acknowledgement.errors, exc.translated()]
        return _confirm_finalise_page(exam, form, 422)
    except service.ExamError as exc:
        flash(exc.translated(), "error")
        if exc.field == "early":
            return redirect(url_for("exams.confirm_finalise", exam_id=exam.id))
        return redirect(url_for("exams.detail", exam_id=exam.id))
    flash(_("The exam is finalised: every form is locked and the results are stored."), "success")
    return redirect(url_for("exams.detail", exam_id=exam.id))


def _group_incomplete(items: list[Any]) -> list[dict[str, Any]]:
    """Group completeness items per candidate: missing addresses and those to re-score."""
    groups: dict[int, dict[str, Any]] = {}
    for item in items:
        enrolment = item.enrolment
        group = groups.setdefault(
            enrolment.id,
            {
                "name": _name(item.candidate),
                "workstation": enrolment.workstation,
                "missing": [],
                "rescore": [],
            },
        )
        group["missing" if item.kind == "missing" else "rescore"].append(item.address)
    return list(groups.values())


@bp.post("/<int:exam_id>/reopen")
@requires("exams.reopen")
def reopen(exam_id: int):
    exam = _exam_or_abort(exam_id)
    form = ReopenForm()
    if form.validate_on_submit():
        reason = form.reason.data
        try:
            run_write(db.session, lambda: service.reopen(db.session, exam, current_user, reason))
        except service.ExamError as exc:
            form.reason.errors = [*form.reason.errors, exc.translated()]
        else:
            flash(_("The exam is reopened for correction."), "success")
            return redirect(url_for("exams.detail", exam_id=exam.id))
    return _detail(exam, 422, reopen_form=form)


@bp.post("/<int:exam_id>/early-marking")
@requires("exams.early_marking")
def set_early_marking(exam_id: int):
    """Allow marks before the first day, or withdraw that (``allow`` = 1 or 0), with a reason."""
    exam = _exam_or_abort(exam_id)
    form = EarlyMarkingForm()
    allow = request.form.get("allow") == "1"
    if form.validate_on_submit():
        reason = form.reason.data
        change = (
            early_marking.allow_early_marking if allow else early_marking.withdraw_early_marking
        )
        try:
            run_write(db.session, lambda: change(db.session, exam, current_user, reason))
        except service.ExamError as exc:
            form.reason.errors = [*form.reason.errors, exc.translated()]
        else:
            if allow:
                flash(_("Marks can now be saved before the exam's first day."), "success")
            else:
                flash(_("Marks wait for the exam's first day again."), "success")
            return redirect(url_for("exams.detail", exam_id=exam.id) + "#early-marking")
    return _detail(exam, 422, early_marking_form=form)
