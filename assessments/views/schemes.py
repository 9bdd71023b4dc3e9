"""Marking-scheme pages: the list, the upload page, the scheme page with settings and export."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.permissions import has_permission, requires
from app.db import run_write
from app.extensions import db
from app.i18n import localized
from app.navigation import add_nav
from app.rate_limits import limit_imports
from assessments import scoring
from assessments.models import Competence, MarkingScheme
from assessments.scheme_files.spec import WEIGHT_TOLERANCE, SchemeImportError
from assessments.services.schemes.errors import SchemeError
from assessments.services.schemes.export import export_filename, export_xlsx
from assessments.services.schemes.importing import WeightsToConfirm, import_scheme
from assessments.services.schemes.reading import (
    get_scheme,
    list_schemes,
    scheme_counts,
    section_rows,
    section_table,
    versions,
)
from assessments.services.schemes.settings import in_use, update_settings
from assessments.views.scheme_wording import template_helpers

bp = Blueprint("schemes", __name__, url_prefix="/schemes")
bp.context_processor(template_helpers)

add_nav(
    "schemes.index",
    _l("Marking schemes"),
    _l("Criteria, aspects and marking settings"),
    "schemes.view",
    20,
)

GRADES = (5, 4, 3, 2)
BAND_ROWS = 4


class UploadForm(FlaskForm):
    competence_id = SelectField(_l("Competence"), coerce=int, validators=[InputRequired()])
    name = StringField(_l("Scheme name"), validators=[DataRequired(), Length(max=200)])
    files = MultipleFileField(
        _l("Files (CIS XLSX or JSON, one per criterion)"),
        render_kw={"accept": ".xlsx,.json", "multiple": True},
    )
    # The files of a confirmation step travel with the page, so the administrator confirms
    # without choosing them again; ``checked`` is the digest of what the page showed.
    kept_files = HiddenField()
    checked = HiddenField()
    confirm_weights = BooleanField(
        _l("I have compared the sections: import this scheme for this competence anyway")
    )


def _uploaded(form: UploadForm) -> list[tuple[str, bytes]]:
    """The files chosen now, or else those kept from the confirmation step."""
    files = [(upload.filename or "", upload.read()) for upload in form.files.data or [] if upload]
    if files:
        return files
    try:
        kept = json.loads(form.kept_files.data or "[]")
        return [(str(name), base64.b64decode(content, validate=True)) for name, content in kept]
    except (ValueError, TypeError):
        return []


def _digest(competence_id: int | None, files: list[tuple[str, bytes]]) -> str:
    """What a confirmation is for: this competence and exactly these files."""
    digest = hashlib.sha256(str(competence_id).encode())
    for name, content in files:
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def _keep(form: UploadForm, files: list[tuple[str, bytes]], digest: str) -> None:
    form.kept_files.data = json.dumps(
        [(name, base64.b64encode(content).decode()) for name, content in files]
    )
    form.checked.data = digest


class BandForm(Form):
    threshold = StringField(_l("From percent"), validators=[Optional(), Length(max=10)])
    grade = SelectField(
        _l("Grade"),
        choices=[SelectChoice("", "—")] + [SelectChoice(str(g), str(g)) for g in GRADES],
        validators=[Optional()],
    )


class SettingsForm(FlaskForm):
    judges = IntegerField(
        _l("Judges per judgement aspect"), validators=[InputRequired(), NumberRange(1, 9)]
    )
    allowed_spread = IntegerField(
        _l("Allowed spread between judges"), validators=[InputRequired(), NumberRange(0, 3)]
    )
    bands = FieldList(FormField(BandForm), min_entries=BAND_ROWS, max_entries=BAND_ROWS)
    fallback_grade = SelectField(
        _l("Grade below every band"), coerce=int, choices=[SelectChoice(g, str(g)) for g in GRADES]
    )
    pass_min_grade = SelectField(
        _l("Minimum grade for a Skills Passport"),
        coerce=int,
        choices=[SelectChoice(g, str(g)) for g in GRADES],
    )


def _settings_form(scheme: MarkingScheme, formdata=None) -> SettingsForm:
    if formdata is not None:
        return SettingsForm(formdata=formdata)
    data = {
        "judges": scheme.judges,
        "allowed_spread": scheme.allowed_spread,
        "fallback_grade": scheme.fallback_grade,
        "pass_min_grade": scheme.pass_min_grade,
        "bands": [{"threshold": str(t), "grade": str(g)} for t, g in scheme.grade_bands],
    }
    form = SettingsForm(formdata=None, data=data)
    while len(form.bands) < BAND_ROWS:
        form.bands.append_entry({"threshold": "", "grade": ""})
    return form


def _competence_choices() -> list[SelectChoice]:
    competences = db.session.scalars(select(Competence).order_by(Competence.code)).all()
    return [SelectChoice(c.id, f"{c.code} — {localized(c)}") for c in competences]


def _load(scheme_id: int) -> MarkingScheme:
    return get_scheme(db.session, scheme_id) or abort(404)


@bp.get("/")
@requires("schemes.view")
def index():
    schemes = list_schemes(db.session)
    counts = scheme_counts(db.session, schemes)
    return render_template("schemes/index.html", schemes=schemes, counts=counts)


@bp.route("/import", methods=["GET", "POST"])
@requires("schemes.manage")
@limit_imports
def upload():
    form = UploadForm()
    form.competence_id.choices = _competence_choices()
    if request.method == "GET" and request.args.get("competence", type=int):
        form.competence_id.data = request.args.get("competence", type=int)
        form.name.data = request.args.get("name", "")[:200]
    problems = []
    sections = None
    confirming = False
    competence = None
    files: list[tuple[str, bytes]] = []
    valid = form.validate_on_submit()
    if form.is_submitted():
        competence = db.session.get(Competence, form.competence_id.data or 0)
        files = _uploaded(form)
        if not files:
            form.files.errors = [*form.files.errors, _("Choose at least one file.")]
    if valid and files:
        digest = _digest(form.competence_id.data, files)
        confirmed = bool(form.confirm_weights.data) and form.checked.data == digest
        code, name = (competence.code if competence else ""), form.name.data
        try:
            scheme = run_write(
                db.session,
                lambda: import_scheme(
                    db.session, files, code, name, user=current_user, confirm_weights=confirmed
                ),
            )
        except SchemeImportError as exc:
            problems = exc.problems
        except WeightsToConfirm as exc:
            sections = exc.sections
            confirming = True
            if form.checked.data != digest:
                form.confirm_weights.data = False  # other files: what was confirmed is gone
            elif request.form.get("step") == "confirm":
                form.confirm_weights.errors = [
                    _("Tick the box to import a scheme whose marks stray from the weights.")
                ]
            _keep(form, files, digest)
        else:
            message = _(
                "Marking scheme “%(name)s” version %(version)s imported.",
                name=scheme.name,
                version=scheme.version,
            )
            flash(message, "success")
            if scheme.warnings:
                flash(_("Check the warnings on the scheme page."), "warning")
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
    elif files:
        # another error (a missing name): the files, and a confirmation given for exactly
        # them, stay with the page
        digest = _digest(form.competence_id.data, files)
        confirming = form.checked.data == digest
        if not confirming:
            form.confirm_weights.data = False
        _keep(form, files, digest if confirming else "")
    if sections is None and competence is not None:
        sections = section_rows({}, competence.sections)
    status = 422 if problems or form.errors or confirming else 200
    return render_template(
        "schemes/upload.html",
        form=form,
        problems=problems,
        sections=sections,
        competence=competence,
        confirming=confirming,
        kept_names=[name for name, _content in files] if form.kept_files.data else [],
        tolerance=WEIGHT_TOLERANCE,
    ), status


def _detail(
    scheme: MarkingScheme,
    settings_form: SettingsForm,
    status: int = 200,
    band_errors: list[str] | None = None,
):
    counts = scheme_counts(db.session, [scheme])[scheme.id]
    sections = section_table(scheme)
    criterion_totals = {
        criterion.id: scoring.hundredths_decimal(
            sum(a.max_hundredths for s in criterion.sub_criteria for a in s.aspects)
        )
        for criterion in scheme.criteria
    }
    return (
        render_template(
            "schemes/detail.html",
            scheme=scheme,
            counts=counts,
            sections=sections,
            section_names={s.number: s for s in scheme.competence.sections},
            criterion_totals=criterion_totals,
            versions=versions(db.session, scheme),
            in_use=in_use(db.session, scheme),
            form=settings_form if has_permission(current_user, "schemes.manage") else None,
            tolerance=WEIGHT_TOLERANCE,
            band_errors=band_errors or [],
            grade_bands=[(Decimal(str(t)), g) for t, g in scheme.grade_bands],
        ),
        status,
    )


@bp.get("/<int:scheme_id>")
@requires("schemes.view")
def detail(scheme_id: int):
    scheme = _load(scheme_id)
    return _detail(scheme, _settings_form(scheme))


@bp.post("/<int:scheme_id>/settings")
@requires("schemes.manage")
def settings(scheme_id: int):
    scheme = _load(scheme_id)
    form = _settings_form(scheme, formdata=request.form)
    if not form.validate_on_submit():
        return _detail(scheme, form, 422)
    bands = [
        (row.threshold.data.strip(), row.grade.data)
        for row in form.bands
        if (row.threshold.data or "").strip() or row.grade.data
    ]
    values = {
        "judges": form.judges.data,
        "allowed_spread": form.allowed_spread.data,
        "grade_bands": bands,
        "fallback_grade": form.fallback_grade.data,
        "pass_min_grade": form.pass_min_grade.data,
    }
    try:
        result = run_write(
            db.session,
            lambda: update_settings(db.session, scheme, user=current_user, **values),
        )
    except SchemeError as exc:
        band_errors = []
        for problem in exc.problems:
            target = getattr(form, problem.field, None)
            if problem.field == "version":
                flash(problem.translated(), "error")
            elif problem.field == "grade_bands" or target is None:
                band_errors.append(problem.translated())
            else:
                target.errors.append(problem.translated())
        return _detail(_load(scheme_id), form, 422, band_errors)
    if result.id != scheme_id:
        flash(
            _(
                "Version %(old)s is used by an exam and stays as it is; "
                "the new settings were saved as version %(new)s.",
                old=scheme.version,
                new=result.version,
            ),
            "warning",
        )
    else:
        flash(_("Settings saved."), "success")
    # an explicit fragment: the browser would otherwise keep #settings and hide the message
    return redirect(url_for("schemes.detail", scheme_id=result.id, _anchor="content"))


@bp.get("/<int:scheme_id>/export.xlsx")
@requires("schemes.view")
def export(scheme_id: int):
    scheme = _load(scheme_id)
    return send_file(
        BytesIO(export_xlsx(scheme)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=export_filename(scheme),
    )
