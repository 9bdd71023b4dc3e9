"""Candidate pages: list and search, record, create and edit, import, personal data.

Staff of a centre see only the candidates of their centre (``services.candidates.Scope``);
anything else answers 404, so record ids reveal nothing. The IIN never leaves the
server except masked and in the administrator's personal-data export: searching by
IIN posts the number, and forms never send it back.
"""

from __future__ import annotations

import json
import re
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
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired

from app.auth.models import User
from app.auth.permissions import has_permission, requires
from app.collation import kazakh_sorted
from app.db import run_write
from app.extensions import db
from app.i18n import current_locale, format_date, localized
from app.navigation import add_nav
from app.rate_limits import limit_imports
from assessments import access
from assessments.iin import InvalidIIN, validate_iin
from assessments.models import Candidate, Centre, College, Enterprise, Exam, ExamStatus
from assessments.models.candidates import LEGAL_BASES
from assessments.services import exams as exam_service
from assessments.services.candidates.importing import import_candidates
from assessments.services.candidates.personal_data import (
    ErasureRefused,
    access_log,
    candidate_has_passport,
    erase_candidate,
    export_personal_data,
    log_access,
)
from assessments.services.candidates.records import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    IdentityMismatch,
    record_mismatches,
    save_candidate,
)
from assessments.services.candidates.scope import (
    Scope,
    find_by_iin,
    masked_iin,
    shown_centre,
    visible_candidates,
)
from assessments.tabular import Rejected
from assessments.views.reference import (
    UploadForm,
    import_upload,
    send_xlsx_template,
    submit_form,
)

bp = Blueprint("candidates", __name__, url_prefix="/candidates")

add_nav(
    "candidates.index",
    _l("Candidates"),
    _l("Students and graduates who sit demonstration exams"),
    "candidates.view",
    order=25,
)

LEGAL_BASIS_LABELS = {
    "education": _l("Education: records the college and exam centre must keep"),
    "consent": _l("Consent of the candidate"),
    "contract": _l("Contract: dual-training agreement"),
}
ACTION_LABELS = {
    "view": _l("Opened the record"),
    "create": _l("Created the record"),
    "update": _l("Changed the record"),
    "import": _l("Imported from a file"),
    "export": _l("Exported the personal data"),
    "erase": _l("Erased the record"),
    "link": _l("Linked the record to their centre"),
    "iin_mismatch": _l("Gave this IIN with another surname (refused)"),
}
IMPORT_COLUMN_HELP = {
    "iin": _l("IIN: 12 digits with a valid check digit (format the column as Text in Excel)"),
    "last_name": _l("Last name in Cyrillic"),
    "first_name": _l("First name in Cyrillic"),
    "middle_name": _l("Middle name (patronymic) in Cyrillic; may be empty"),
    "college_code": _l("Code of the college, as under Reference data"),
    "specialty": _l("Specialty (code and name)"),
    "email": _l("Email address; may be empty"),
    "enterprise_bin": _l("BIN of the dual-training enterprise; may be empty"),
    "last_name_latin": _l("Last name in Latin letters as in the ID; empty: transliterated"),
    "first_name_latin": _l("First name in Latin letters as in the ID; empty: transliterated"),
    "legal_basis": _l("Basis for holding the record: education, consent or contract"),
    "centre_code": _l("Code of the competence centre that registers the candidate"),
}
IMPORT_EXAMPLE = [
    ["040517601233", "Сейтқалиева", "Әйгерім", "Нұрланқызы", "APK",
     "06130100 Бағдарламалық қамтамасыз ету", "aigerim@example.kz", "990340012345"],
]  # fmt: skip


class CandidateForm(FlaskForm):
    iin = StringField(_l("IIN"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    last_name = StringField(_l("Last name"))
    first_name = StringField(_l("First name"))
    middle_name = StringField(_l("Middle name"))
    last_name_latin = StringField(_l("Last name in Latin letters"))
    first_name_latin = StringField(_l("First name in Latin letters"))
    college_code = SelectField(_l("College"), validate_choice=False)
    specialty = StringField(_l("Specialty"), render_kw={"list": "specialty-list"})
    enterprise_bin = StringField(
        _l("Enterprise (BIN)"), render_kw={"list": "enterprise-list", "inputmode": "numeric"}
    )
    email = EmailField(_l("Email"))
    legal_basis = SelectField(_l("Basis for holding the record"), validate_choice=False)
    centre_code = SelectField(_l("Registered by competence centre"), validate_choice=False)


class SearchForm(FlaskForm):
    q = StringField(_l("Name or IIN"))


class EnrolForm(FlaskForm):
    """Enrol the candidates ticked on the list (or the one on its page) into an exam."""

    exam_id = SelectField(_l("Exam"), coerce=int, validators=[DataRequired()])


class EraseForm(FlaskForm):
    confirm = BooleanField(_l("I understand that the record cannot be restored"))


def scope() -> Scope:
    return Scope.for_user(current_user)


def visible_or_404(candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or not scope().allows(db.session, candidate):
        abort(404)
    return candidate


def _mismatch_limit() -> int | None:
    return None if scope().everything else current_app.config["CANDIDATE_IIN_MISMATCH_LIMIT"]


def audit_mismatch(refusal: Rejected) -> None:
    """After a refused save or import, audit the IINs given with another surname."""
    if isinstance(refusal, IdentityMismatch):
        user_id = current_user.id
        run_write(db.session, lambda: record_mismatches(db.session, refusal.candidate_ids, user_id))


def _fill_choices(form: CandidateForm) -> None:
    colleges = kazakh_sorted(db.session.scalars(select(College)).all(), key=localized)
    form.college_code.choices = [("", "—")] + [
        (c.code, f"{localized(c)} ({c.code})") for c in colleges
    ]
    form.legal_basis.choices = [(b, str(LEGAL_BASIS_LABELS[b])) for b in LEGAL_BASES]
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    form.centre_code.choices = [("", "—")] + [
        (c.code, f"{c.code} — {localized(c)}") for c in centres
    ]


def _form_context() -> dict[str, Any]:
    enterprises = kazakh_sorted(db.session.scalars(select(Enterprise)).all(), key=localized)
    specialties = db.session.scalars(
        select(Candidate.specialty).where(scope().clause()).distinct().limit(500)
    ).all()
    return {"enterprises": enterprises, "specialties": sorted(specialties)}


# --- list and search ----------------------------------------------------------------


def _open_exams() -> list[Exam]:
    """The exams the user may enrol candidates into: theirs to manage and not finalised."""
    if not has_permission(current_user, "exams.manage"):
        return []
    exams = db.session.scalars(
        access.visible_exams(current_user)
        .where(Exam.status != ExamStatus.FINALISED)
        .order_by(Exam.start_date, Exam.id)
    ).unique()
    return [e for e in exams if access.can_manage_exam(current_user, e)]


def _enrol_form(formdata: Any = None) -> EnrolForm | None:
    exams = _open_exams()
    if not exams:
        return None
    form = EnrolForm(formdata=formdata)
    form.exam_id.choices = [
        (e.id, f"{e.competence.code} — {localized(e.competence)} · {e.centre.code} · "
         f"{format_date(e.start_date)}")
        for e in exams
    ]  # fmt: skip
    return form


def _list_page(
    enrol_form: EnrolForm | None = None,
    selected: frozenset[int] = frozenset(),
    problems: list[dict[str, Any]] | None = None,
    status: int = 200,
):
    query = request.args.get("q", "").strip()
    college_id = request.args.get("college", type=int)
    specialty = request.args.get("specialty", "").strip()
    statement = visible_candidates(scope(), query)
    if college_id:
        statement = statement.where(Candidate.college_id == college_id)
    if specialty:
        statement = statement.where(Candidate.specialty == specialty)
    page = db.paginate(
        statement,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        max_per_page=200,
    )
    in_scope = select(Candidate).where(scope().clause())
    colleges = kazakh_sorted(
        db.session.scalars(
            select(College).where(College.id.in_(in_scope.with_only_columns(Candidate.college_id)))
        ).all(),
        key=localized,
    )
    specialties = sorted(
        db.session.scalars(in_scope.with_only_columns(Candidate.specialty).distinct()).all()
    )
    masked = {c.id: masked_iin(c) for c in page.items}
    filters = {"q": query or None, "college": college_id or None, "specialty": specialty or None}
    return render_template(
        "candidates/list.html",
        page=page,
        masked=masked,
        q=query,
        search=SearchForm(q=query),
        colleges=colleges,
        specialties=specialties,
        college_id=college_id,
        specialty=specialty,
        filters={k: v for k, v in filters.items() if v},
        enrol_form=enrol_form if enrol_form is not None else _enrol_form(),
        selected=selected,
        enrol_problems=problems or [],
    ), status


@bp.get("")
@requires("candidates.view")
def index():
    return _list_page()


@bp.post("/enrol")
@requires("exams.manage")
def enrol():
    """Enrol the ticked candidates (list) or one candidate (its page) into an exam."""
    form = _enrol_form(formdata=request.form)
    ids = request.form.getlist("candidate_ids", type=int)
    from_record = request.form.get("from") == "record" and len(ids) == 1
    if form is None:
        flash(_("There is no exam open for enrolment at your centre."), "error")
        return redirect(url_for("candidates.index", **request.args))
    problems: list[dict[str, Any]] = []
    if form.validate_on_submit():
        exam = access.visible_exam(db.session, current_user, form.exam_id.data)
        if exam is None or not access.can_manage_exam(current_user, exam):
            abort(404)
        enrolment_scope = scope()
        try:
            created = run_write(
                db.session,
                lambda: exam_service.enrol_candidates(db.session, exam, ids, scope=enrolment_scope),
            )
        except exam_service.EnrolmentError as exc:
            problems = [
                {
                    "anchor": f"candidate-{p.candidate_id}"
                    if getattr(p, "candidate_id", None)
                    else "enrol-form",
                    "field": p.field,
                    "message": p.translated(),
                }
                for p in exc.problems
            ]
        except exam_service.ExamError as exc:
            problems = [{"anchor": "enrol-form", "field": None, "message": exc.translated()}]
        else:
            flash(
                ngettext(
                    "%(num)d candidate enrolled.", "%(num)d candidates enrolled.", len(created)
                ),
                "success",
            )
            return redirect(url_for("exams.detail", exam_id=exam.id) + "#candidates")
    if from_record:
        named = [f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems]
        for error in [*form.exam_id.errors, *named]:
            flash(error, "error")
        return redirect(url_for("candidates.detail", candidate_id=ids[0]))
    return _list_page(form, frozenset(ids), problems, 422)


@bp.post("/search")
@requires("candidates.view")
def search():
    """Find by name (redirects to the list) or by IIN (opens the record; never in the URL)."""
    form = SearchForm()
    text = (form.q.data or "").strip()
    # an IIN may be typed with spaces, dashes, dots or slashes between its digits
    digits = re.sub(r"[\s\-./]", "", text)
    if digits.isdigit() or sum(ch.isdigit() for ch in text) >= 6:
        if len(digits) != 12 or not digits.isdigit():
            flash(_("Enter all 12 digits of the IIN to find a candidate by IIN."), "info")
            return redirect(url_for("candidates.index"))
        try:
            candidate = find_by_iin(db.session, validate_iin(digits))
        except InvalidIIN:
            candidate = None
            flash(_("This is not a valid IIN."), "error")
            return redirect(url_for("candidates.index"))
        if candidate is None or not scope().allows(db.session, candidate):
            flash(_("No candidate with this IIN among the candidates you can see."), "info")
            return redirect(url_for("candidates.index"))
        return redirect(url_for("candidates.detail", candidate_id=candidate.id))
    return redirect(url_for("candidates.index", q=text or None))


# --- record --------------------------------------------------------------------------


@bp.get("/<int:candidate_id>")
@requires("candidates.view")
def detail(candidate_id: int):
    candidate = visible_or_404(candidate_id)
    user_id = current_user.id
    run_write(db.session, lambda: log_access(db.session, candidate, user_id, "view"))
    log = []
    if has_permission(current_user, "candidates.personal_data"):
        entries = access_log(db.session, candidate)
        users = {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.id.in_({e.user_id for e in entries if e.user_id}))
            )
        }
        log = [(entry, users.get(entry.user_id)) for entry in entries]
    return render_template(
        "candidates/detail.html",
        candidate=candidate,
        masked=masked_iin(candidate),
        registered_by=shown_centre(scope(), candidate),
        legal_basis_labels=LEGAL_BASIS_LABELS,
        action_labels=ACTION_LABELS,
        log=log,
        erase_form=EraseForm(),
        enrol_form=_enrol_form(),
        has_passport=candidate_has_passport(db.session, candidate),
    )


def _save(candidate: Candidate | None):
    form = CandidateForm()
    _fill_choices(form)
    scoped = not scope().everything
    if request.method == "GET":
        if candidate is not None:
            form.process(obj=candidate)
            form.college_code.data = candidate.college.code
            form.enterprise_bin.data = candidate.enterprise.bin if candidate.enterprise else ""
            form.centre_code.data = candidate.centre.code if candidate.centre else ""
        elif scoped and current_user.centre:
            form.centre_code.data = current_user.centre.code
        form.iin.data = ""

    def save() -> Candidate:
        values = {name: (form[name].data or "") for name in form._fields if name != "csrf_token"}
        if scoped:
            # staff of a centre cannot move a record to another centre
            values["centre_code"] = ""
        return save_candidate(
            db.session,
            candidate,
            values,
            scope=scope(),
            user_id=current_user.id,
            mismatch_limit=_mismatch_limit(),
        )

    done, general, status = submit_form(
        form,
        save,
        lambda saved: _("Candidate %(name)s saved.", name=saved.full_name),
        lambda saved: url_for("candidates.detail", candidate_id=saved.id),
        on_refused=audit_mismatch,
    )
    if done is not None:
        return done
    # the IIN typed in is never sent back to the browser
    iin_typed = bool(form.iin.data)
    form.iin.data = ""
    if candidate is not None and request.method == "GET":
        user_id = current_user.id
        run_write(db.session, lambda: log_access(db.session, candidate, user_id, "view"))
    return render_template(
        "candidates/form.html",
        form=form,
        candidate=candidate,
        masked=masked_iin(candidate) if candidate else None,
        general=general,
        iin_typed=iin_typed and request.method == "POST",
        scoped=scoped,
        **_form_context(),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@requires("candidates.manage")
def create():
    return _save(None)


@bp.route("/<int:candidate_id>/edit", methods=["GET", "POST"])
@requires("candidates.manage")
def edit(candidate_id: int):
    return _save(visible_or_404(candidate_id))


# --- import ---------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("candidates.manage")
@limit_imports
def import_file():
    form = UploadForm()
    done, rejected, status = import_upload(
        form,
        lambda filename, data: import_candidates(
            db.session,
            filename,
            data,
            scope=scope(),
            user_id=current_user.id,
            mismatch_limit=_mismatch_limit(),
        ),
        url_for("candidates.index"),
        on_refused=audit_mismatch,
    )
    if done is not None:
        return done
    return render_template(
        "candidates/import.html",
        form=form,
        rejected=rejected,
        required=REQUIRED_COLUMNS,
        columns=[*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS],
        column_help=IMPORT_COLUMN_HELP,
        example=IMPORT_EXAMPLE,
    ), status


@bp.get("/template.xlsx")
@requires("candidates.manage")
def template():
    return send_xlsx_template(
        [*REQUIRED_COLUMNS, "enterprise_bin"], IMPORT_EXAMPLE, "candidates.xlsx"
    )


# --- personal data ------------------------------------------------------------------------


@bp.post("/<int:candidate_id>/export")
@requires("candidates.personal_data")
def export(candidate_id: int):
    """Download everything held about the candidate as JSON (the right of access)."""
    candidate = visible_or_404(candidate_id)
    user_id, locale = current_user.id, current_locale()

    def unit() -> dict[str, Any]:
        log_access(db.session, candidate, user_id, "export")
        return export_personal_data(db.session, candidate, locale)

    # the access is logged in the same transaction that reads what is handed over
    data = run_write(db.session, unit)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f"attachment; filename=candidate-{candidate.id}.json"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:candidate_id>/erase")
@requires("candidates.personal_data")
def erase(candidate_id: int):
    candidate = visible_or_404(candidate_id)
    form = EraseForm()
    if not form.validate_on_submit() or not form.confirm.data:
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("candidates.detail", candidate_id=candidate.id))
    name = candidate.full_name
    user_id = current_user.id
    try:
        run_write(db.session, lambda: erase_candidate(db.session, candidate, user_id))
    except ErasureRefused as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("candidates.detail", candidate_id=candidate_id))
    flash(_("The record of %(name)s has been erased.", name=name), "success")
    return redirect(url_for("candidates.index"))
