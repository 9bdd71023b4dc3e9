"""Result pages: an exam's results and skills profile, a candidate's result, downloads, PDFs.

Every page reads the stored results (assessments.services.results); nothing here
recomputes from marks. The ordinary downloads never carry the IIN; the export with IINs
(for the college's records) is a POST for the roles holding ``candidates.personal_data``,
logged per candidate as a personal-data access, and never cached.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case, func, select

from app.auth.permissions import has_permission, requires
from app.db import run_write
from app.extensions import db
from app.i18n import localized
from app.navigation import add_nav
from assessments import access, paperwork, scoring
from assessments.charts import Bar, profile_chart
from assessments.models import Candidate, Enrolment, Exam, ExamStatus, Result, SubCriterion
from assessments.services import results as service

bp = Blueprint("results", __name__)

add_nav("results.index", _l("Results"), _l("Results of finalised exams"), "results.view", 40)

GRADE_LABELS = {
    5: _l("excellent"),
    4: _l("good"),
    3: _l("satisfactory"),
    2: _l("unsatisfactory"),
}
ATTENDANCE_LABELS = {
    "registered": _l("registered"),
    "present": _l("present"),
    "absent": _l("absent"),
    "withdrawn": _l("withdrawn"),
    "disqualified": _l("disqualified"),
}
DOWNLOAD_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _exam_or_abort(exam_id: int) -> Exam:
    """Return the exam; 404 when it does not exist or the user may not see it."""
    return access.visible_exam(db.session, current_user, exam_id) or abort(404)


def criterion_label(part: service.Part) -> str:
    name = part.label or _("Module %(letter)s", letter=part.key)
    return f"{part.key}. {name}"


def section_label(part: service.Part) -> str:
    name = localized(part.section) if part.section is not None else _("Section %(n)s", n=part.key)
    return f"{part.key}. {name}"


def profile_charts(
    shape: service.Layout, criteria: dict[str, Any], sections: dict[str, Any], chart_id: str
) -> dict[str, Any]:
    """Build the skills-profile charts (by WSOS section and by criterion) from units."""
    by_section = [
        Bar(section_label(p), shape.mark(sections.get(p.key, 0)), shape.mark(p.max_units))
        for p in shape.sections
        if p.max_units > 0
    ]
    by_criterion = [
        Bar(criterion_label(p), shape.mark(criteria.get(p.key, 0)), shape.mark(p.max_units))
        for p in shape.criteria
    ]
    return {
        "sections": profile_chart(
            by_section, title=_("Skills profile by WSOS section"), chart_id=f"{chart_id}-wsos"
        ),
        "criteria": profile_chart(
            by_criterion, title=_("Skills profile by criterion"), chart_id=f"{chart_id}-crit"
        ),
    }


def _sub_criteria(exam: Exam) -> list[SubCriterion]:
    return sorted(
        db.session.scalars(select(SubCriterion).where(SubCriterion.scheme_id == exam.scheme_id)),
        key=lambda s: (s.criterion.letter, s.position),
    )


def _page_context(exam: Exam) -> dict[str, Any]:
    return {
        "exam": exam,
        "mark": scoring.two_decimals,
        "grade_labels": GRADE_LABELS,
        "criterion_label": criterion_label,
        "section_label": section_label,
        "can_protocol": exam.status == ExamStatus.FINALISED,
    }


# --- pages ---------------------------------------------------------------------------------


@bp.get("/results")
@requires("results.view")
def index():
    """Finalised exams the user may see, with their pass figures."""
    visible = access.visible_exams(current_user).with_only_columns(Exam.id)
    exams = db.session.scalars(
        access.visible_exams(current_user)
        .where(Exam.status == ExamStatus.FINALISED)
        .order_by(Exam.start_date.desc(), Exam.id.desc())
    ).unique()
    figures = {
        exam_id: (count, passed)
        for exam_id, count, passed in db.session.execute(
            select(Result.exam_id, func.count(), func.sum(case((Result.passed, 1), else_=0)))
            .where(Result.exam_id.in_(visible))
            .group_by(Result.exam_id)
        )
    }
    return render_template("results/index.html", exams=list(exams), figures=figures)


@bp.get("/exams/<int:exam_id>/results")
@requires("results.view")
def exam(exam_id: int):
    """The results of one exam in rank order, with the mean skills profile and downloads."""
    exam = _exam_or_abort(exam_id)
    shape = service.layout(db.session, exam)
    summary = service.summary(db.session, exam)
    page = db.paginate(
        select(Result)
        .join(Candidate, Candidate.id == Result.candidate_id)
        .where(Result.exam_id == exam.id)
        .order_by(Result.rank, Candidate.sort_key, Candidate.id),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    charts = None
    mean: tuple[dict, dict] = ({}, {})
    if summary.results:
        mean = service.mean_profile(db.session, exam, shape)
        charts = profile_charts(shape, *mean, "mean")
    sub_criteria = _sub_criteria(exam)
    return render_template(
        "results/exam.html",
        shape=shape,
        summary=summary,
        page=page,
        charts=charts,
        mean=mean,
        sub_criteria=sub_criteria,
        reopened=exam.status != ExamStatus.FINALISED and summary.results > 0,
        **_page_context(exam),
    )


@bp.get("/exams/<int:exam_id>/results/<int:enrolment_id>")
@requires("results.view")
def candidate(exam_id: int, enrolment_id: int):
    """One candidate's result: total, percent, grade, pass, rank and skills profile."""
    exam = _exam_or_abort(exam_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.exam_id != exam.id:
        abort(404)
    result = service.result_of(db.session, exam, enrolment.id)
    shape = service.layout(db.session, exam)
    charts = None
    if result is not None:
        charts = profile_charts(shape, result.by_criterion, result.by_section, "candidate")
    ranked = db.session.scalar(select(func.count()).where(Result.exam_id == exam.id))
    return render_template(
        "results/candidate.html",
        enrolment=enrolment,
        candidate=enrolment.candidate,
        result=result,
        shape=shape,
        charts=charts,
        ranked=ranked,
        attendance_label=ATTENDANCE_LABELS.get(enrolment.attendance, enrolment.attendance),
        **_page_context(exam),
    )


# --- downloads ------------------------------------------------------------------------------


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exams/<int:exam_id>/results/download/<fmt>")
@requires("results.view")
def download(exam_id: int, fmt: str):
    """The stored results as CSV or XLSX, without the IIN column."""
    exam = _exam_or_abort(exam_id)
    if fmt not in DOWNLOAD_TYPES:
        abort(404)
    try:
        data = service.export_results(db.session, exam, fmt, include_iin=False)
    except service.ResultsError:
        flash(_("Results can be downloaded once the exam is finalised."), "error")
        return redirect(url_for("results.exam", exam_id=exam.id))
    return _attachment(data, DOWNLOAD_TYPES[fmt], f"exam-{exam.id}-results.{fmt}")


@bp.post("/exams/<int:exam_id>/results/export-with-iin")
@requires("candidates.personal_data")
def download_with_iin(exam_id: int):
    """The stored results with the IIN column, for the college's records (logged, no-store).

    A POST (CSRF-checked, never prefetched, format in the form body); every candidate in the
    file gets a personal-data access entry naming the user.
    """
    exam = _exam_or_abort(exam_id)
    fmt = request.form.get("format", "")
    if fmt not in DOWNLOAD_TYPES:
        abort(400)
    user_id = current_user.id

    def unit() -> tuple[bytes, int]:
        exported = service.export_results(db.session, exam, fmt, include_iin=True)
        return exported, service.record_personal_data_export(db.session, exam, user_id, "export")

    try:
        # the access log is committed before the file is sent
        data, logged = run_write(db.session, unit)
    except service.ResultsError:
        flash(_("Results can be downloaded once the exam is finalised."), "error")
        return redirect(url_for("results.exam", exam_id=exam.id))
    current_app.logger.info(
        "results export with IINs: exam %s, %s candidates, user %s",
        exam.id,
        logged,
        user_id,
    )
    return _attachment(data, DOWNLOAD_TYPES[fmt], f"exam-{exam.id}-results-with-iin.{fmt}")


@bp.get("/exams/<int:exam_id>/protocol.pdf")
@requires("results.view")
def protocol(exam_id: int):
    """The exam protocol: results in rank order, expert group, signature lines, audit head."""
    exam = _exam_or_abort(exam_id)
    try:
        data = paperwork.protocol_pdf(db.session, exam)
    except paperwork.PaperworkError as exc:
        if exc.code == "not_finalised":
            flash(_("The protocol is printed once the exam is finalised."), "error")
        else:
            current_app.logger.error("protocol PDF: %s", exc)
            flash(_("The PDF cannot be produced on this server: %(why)s", why=str(exc)), "error")
        return redirect(url_for("results.exam", exam_id=exam.id))
    return _attachment(data, "application/pdf", f"exam-{exam.id}-protocol.pdf")


@bp.get("/exams/<int:exam_id>/marking-forms.pdf")
@requires("exams.view")
def marking_forms(exam_id: int):
    """Blank paper-backup forms: all, one criterion (``?sub=C``) or one form (``?sub=C4``)."""
    exam = _exam_or_abort(exam_id)
    code = (request.args.get("sub") or "").strip().upper()
    subs = None
    if code:
        subs = [
            s
            for s in _sub_criteria(exam)
            if s.code == code or (code.isalpha() and s.criterion.letter == code)
        ]
        if not subs:
            abort(404)
    try:
        data = paperwork.marking_forms_pdf(db.session, exam, subs)
    except paperwork.PaperworkError as exc:
        current_app.logger.error("marking forms PDF: %s", exc)
        flash(_("The PDF cannot be produced on this server: %(why)s", why=str(exc)), "error")
        target = "results.exam" if has_permission(current_user, "results.view") else "exams.detail"
        return redirect(url_for(target, exam_id=exam.id))
    suffix = f"-{code}" if code else ""
    return _attachment(data, "application/pdf", f"exam-{exam.id}-marking-forms{suffix}.pdf")
