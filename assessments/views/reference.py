"""Reference-data pages: competences with WSOS sections, centres, colleges, enterprises.

Every member of staff may look; administrators create, edit and import. The forms only
carry the text typed in: assessments.services.reference checks it with the same rules
as the file imports.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import openpyxl
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import FieldList, Form, FormField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.permissions import requires
from app.collation import kazakh_sorted
from app.db import run_write
from app.extensions import db
from app.i18n import localized
from app.navigation import add_nav
from app.rate_limits import limit_imports
from app.spreadsheets import set_cell
from assessments.models import Centre, College, Competence, Enterprise
from assessments.services.reference.importing import import_reference
from assessments.services.reference.listing import load
from assessments.services.reference.rules import (
    COLUMNS,
    KINDS,
    NAME_COLUMNS,
    SECTION_COLUMNS,
    plain_decimal,
)
from assessments.services.reference.saving import (
    save_centre,
    save_college,
    save_competence,
    save_enterprise,
)
from assessments.tabular import Problem, Rejected

bp = Blueprint("reference", __name__, url_prefix="/admin/reference")

add_nav(
    "reference.index",
    _l("Reference data"),
    _l("Competences, competence centres, colleges and enterprises"),
    "reference.view",
    order=20,
)

KIND_LABELS = {
    "competences": _l("Competences"),
    "centres": _l("Competence centres"),
    "colleges": _l("Colleges"),
    "enterprises": _l("Enterprises"),
}
KIND_HINTS = {
    "competences": _l("WorldSkills skills with their WSOS sections and weights"),
    "centres": _l("Accredited workshops where exams take place"),
    "colleges": _l("Colleges whose students sit the exams"),
    "enterprises": _l("Dual-training partners, identified by their BIN"),
}
COLUMN_HELP = {
    "code": _l("Unique code: letters, digits, dots, hyphens; for competences the skill number"),
    "name_kk": _l("Name in Kazakh"),
    "name_ru": _l("Name in Russian"),
    "name_en": _l("Name in English"),
    "section": _l("WSOS section number (1–99); one row per section"),
    "section_name_kk": _l("Section name in Kazakh"),
    "section_name_ru": _l("Section name in Russian"),
    "section_name_en": _l("Section name in English"),
    "weight": _l("Section weight in percent; a competence's weights sum to 100"),
    "city": _l("City"),
    "address": _l("Street address"),
    "workstations": _l("Number of workstations (1–1000)"),
    "competences": _l("Codes of the accredited competences, separated by ; or spaces"),
    "bin": _l("Business identification number: 12 digits with a valid check digit"),
}
EXAMPLES: dict[str, list[list[str]]] = {
    "competences": [
        ["17", "Веб-технологиялар", "Веб-технологии", "Web Technologies", "1",
         "Жұмысты ұйымдастыру және өзін-өзі басқару", "Организация работы и самоуправление",
         "Work organization and self-management", "5"],
        ["17", "", "", "", "2", "Коммуникация және тұлғааралық дағдылар",
         "Коммуникация и навыки межличностного общения",
         "Communication and interpersonal skills", "5"],
    ],
    "centres": [
        ["ALM-CC-01", "Алматы политехникалық колледжі жанындағы құзыреттілік орталығы",
         "Центр компетенций при Алматинском политехническом колледже",
         "Competence Centre at Almaty Polytechnic College", "Алматы",
         "Абай даңғылы, 10", "16", "17; 39"],
    ],
    "colleges": [
        ["APK", "Алматы политехникалық колледжі", "Алматинский политехнический колледж",
         "Almaty Polytechnic College", "Алматы"],
    ],
    "enterprises": [
        ["990340012345", "«Қазақтелеком» АҚ", "АО «Казахтелеком»", "Kazakhtelecom JSC"],
    ],
}  # fmt: skip


def columns(kind: str) -> list[str]:
    """The columns of the kind's import file in the order a template shows them."""
    order = {
        "competences": ["code", "name_kk", "name_ru", "name_en", *SECTION_COLUMNS],
        "centres": [
            "code", "name_kk", "name_ru", "name_en", "city", "address", "workstations",
            "competences",
        ],
        "colleges": ["code", "name_kk", "name_ru", "name_en", "city"],
        "enterprises": ["bin", "name_kk", "name_ru", "name_en"],
    }  # fmt: skip
    return order[kind]


# --- forms -----------------------------------------------------------------------


class NamesForm(FlaskForm):
    name_kk = StringField(_l("Name in Kazakh"))
    name_ru = StringField(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"))


class CollegeForm(NamesForm):
    code = StringField(_l("Code"))
    city = StringField(_l("City"))


class EnterpriseForm(NamesForm):
    bin = StringField(_l("BIN"))


class CentreForm(NamesForm):
    code = StringField(_l("Code"))
    city = StringField(_l("City"))
    address = StringField(_l("Address"))
    workstations = StringField(_l("Workstations"))
    competences = SelectMultipleField(
        _l("Accredited competences"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )


class SectionForm(Form):
    section = StringField(_l("No."))
    section_name_kk = StringField(_l("Name in Kazakh"))
    section_name_ru = StringField(_l("Name in Russian"))
    section_name_en = StringField(_l("Name in English"))
    weight = StringField(_l("Weight in percent"))


class CompetenceForm(NamesForm):
    code = StringField(_l("Code"))
    sections = FieldList(FormField(SectionForm), min_entries=1, max_entries=99)


class UploadForm(FlaskForm):
    file = FileField(_l("File (XLSX or CSV)"), validators=[FileRequired()])


def form_values(form: FlaskForm, names: Sequence[str]) -> dict[str, str]:
    return {name: form[name].data or "" for name in names}


def attach_problems(form: FlaskForm, problems: Sequence[Problem]) -> list[str]:
    """Show each problem under its field; return the messages that have no field here."""
    general = []
    for problem in problems:
        field = None
        if problem.row is not None and "sections" in form and problem.field:
            entries = form["sections"].entries
            if 0 <= problem.row < len(entries):
                field = entries[problem.row].form[problem.field]
        elif problem.field in form and problem.field != "sections":
            field = form[problem.field]
        if field is None:
            general.append(problem.translated())
        else:
            field.errors = [*field.errors, problem.translated()]
    return general


def submit_form(
    form: FlaskForm,
    save: Callable[[], Any],
    saved_message: Callable[[Any], str],
    next_url: Callable[[Any], str],
    on_refused: Callable[[Rejected], None] | None = None,
) -> tuple[ResponseReturnValue | None, list[str], int]:
    """On a valid POST run ``save`` as one committed write unit, flash and redirect; or show
    its problems (``on_refused`` runs after the refused unit was rolled back).

    Returns the redirect (None unless saved), the messages that have no field in the form
    and the status of the page to render: 422 after a refusal or invalid input, else 200.
    """
    general: list[str] = []
    failed = False
    if form.validate_on_submit():
        try:
            saved = run_write(db.session, save)
        except Rejected as exc:
            if on_refused is not None:
                on_refused(exc)
            general = attach_problems(form, exc.problems)
            failed = True
        else:
            flash(saved_message(saved), "success")
            return redirect(next_url(saved)), general, 302
    return None, general, 422 if failed or form.errors else 200


def import_upload(
    form: UploadForm,
    run_import: Callable[[str, bytes], Any],
    next_url: str,
    on_refused: Callable[[Rejected], None] | None = None,
) -> tuple[ResponseReturnValue | None, Rejected | None, int]:
    """On a valid POST import the uploaded CSV/XLSX file with ``run_import``, all or nothing
    (``on_refused`` runs after a refused import was rolled back).

    Returns the redirect to ``next_url`` with the summary flashed (None unless imported),
    the refusal listing every problem, and the status of the page to render.
    """
    rejected: Rejected | None = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "upload"
        data = upload.read()
        try:
            summary = run_write(db.session, lambda: run_import(filename, data))
        except Rejected as exc:
            if on_refused is not None:
                on_refused(exc)
            rejected = exc
        else:
            flash(
                _(
                    "%(file)s imported: %(created)s created, %(updated)s updated.",
                    file=filename,
                    created=summary.created,
                    updated=summary.updated,
                ),
                "success",
            )
            return redirect(next_url), None, 302
    return None, rejected, 422 if rejected or form.errors else 200


def page_of(items: list[Any], per_page: int) -> ListPage:
    page = request.args.get("page", 1, type=int) or 1
    return ListPage(items, max(page, 1), per_page)


class ListPage:
    """A page of an in-memory list, shaped like Flask-SQLAlchemy's pagination."""

    def __init__(self, items: list[Any], page: int, per_page: int) -> None:
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(1, -(-self.total // per_page))
        self.page = min(page, self.pages)
        start = (self.page - 1) * per_page
        self.items = items[start : start + per_page]
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1


def _matches(obj: Any, words: list[str], extra: str = "") -> bool:
    text = " ".join([obj.code, obj.name_kk, obj.name_ru, obj.name_en, extra]).casefold()
    return all(word in text for word in words)


# --- overview -------------------------------------------------------------------


@bp.get("")
@requires("reference.view")
def index():
    counts = {
        kind: db.session.scalar(select(func.count()).select_from(model))
        for kind, model in (
            ("competences", Competence),
            ("centres", Centre),
            ("colleges", College),
            ("enterprises", Enterprise),
        )
    }
    return render_template(
        "reference/index.html", counts=counts, labels=KIND_LABELS, hints=KIND_HINTS
    )


# --- competences ------------------------------------------------------------------


@bp.get("/competences")
@requires("reference.view")
def competences():
    rows = load(db.session, "competences")
    return render_template("reference/competences.html", competences=rows)


@bp.get("/competences/<int:competence_id>")
@requires("reference.view")
def competence(competence_id: int):
    item = db.session.get(Competence, competence_id) or abort(404)
    centres = kazakh_sorted(
        db.session.scalars(select(Centre).where(Centre.competences.contains(item))).all(),
        key=localized,
    )
    return render_template("reference/competence.html", competence=item, centres=centres)


def _section_rows(form: CompetenceForm, competence: Competence | None) -> None:
    """Fill the section rows from the competence on GET and leave three empty rows."""
    if request.method == "GET" and competence is not None:
        while form.sections.entries:
            form.sections.pop_entry()
        for section in competence.sections:
            form.sections.append_entry(
                {
                    "section": str(section.number),
                    "section_name_kk": section.name_kk,
                    "section_name_ru": section.name_ru,
                    "section_name_en": section.name_en,
                    "weight": plain_decimal(section.weight),
                }
            )
    filled = sum(1 for e in form.sections.entries if any((f.data or "").strip() for f in e.form))
    while len(form.sections.entries) < max(filled + 3, 6):
        form.sections.append_entry()


@bp.route("/competences/new", methods=["GET", "POST"], endpoint="new_competence")
@bp.route("/competences/<int:competence_id>/edit", methods=["GET", "POST"])
@requires("reference.manage")
def edit_competence(competence_id: int | None = None):
    item = None
    if competence_id is not None:
        item = db.session.get(Competence, competence_id) or abort(404)
    form = CompetenceForm(obj=item if request.method == "GET" else None)
    if request.method == "GET" and item is not None:
        form.code.data = item.code

    def save() -> Competence:
        head = form_values(form, ["code", *NAME_COLUMNS])
        sections = [
            {name: (entry.form[name].data or "") for name in SECTION_COLUMNS}
            for entry in form.sections.entries
        ]
        return save_competence(db.session, item, head, sections)

    done, general, status = submit_form(
        form,
        save,
        lambda saved: _("Competence %(code)s saved.", code=saved.code),
        lambda saved: url_for("reference.competence", competence_id=saved.id),
    )
    if done is not None:
        return done
    _section_rows(form, item)
    return render_template(
        "reference/competence_form.html", form=form, competence=item, general=general
    ), status


# --- centres ------------------------------------------------------------------------


@bp.get("/centres")
@requires("reference.view")
def centres():
    rows = load(db.session, "centres")
    return render_template("reference/centres.html", centres=rows)


@bp.route("/centres/new", methods=["GET", "POST"], endpoint="new_centre")
@bp.route("/centres/<int:centre_id>/edit", methods=["GET", "POST"])
@requires("reference.manage")
def edit_centre(centre_id: int | None = None):
    item = None
    if centre_id is not None:
        item = db.session.get(Centre, centre_id) or abort(404)
    form = CentreForm(obj=item if request.method == "GET" else None)
    all_competences = load(db.session, "competences")
    form.competences.choices = [(c.code, f"{c.code} — {localized(c)}") for c in all_competences]
    if request.method == "GET" and item is not None:
        form.competences.data = [c.code for c in item.competences]
        form.workstations.data = str(item.workstations)

    def save() -> Centre:
        values = form_values(form, ["code", *NAME_COLUMNS, "city", "address"])
        values["workstations"] = form.workstations.data or ""
        values["competences"] = " ".join(form.competences.data or [])
        return save_centre(db.session, item, values)

    done, general, status = submit_form(
        form,
        save,
        lambda saved: _("Competence centre %(code)s saved.", code=saved.code),
        lambda saved: url_for("reference.centres"),
    )
    if done is not None:
        return done
    return render_template(
        "reference/centre_form.html", form=form, centre=item, general=general
    ), status


# --- colleges and enterprises ---------------------------------------------------------


def _search_list(model: type, template: str, extra: Callable[[Any], str] = lambda obj: ""):
    """A page of the records of ``model`` whose code, names and ``extra`` text hold every word."""
    query = request.args.get("q", "").strip()
    words = query.casefold().split()
    rows = [o for o in db.session.scalars(select(model)) if _matches(o, words, extra(o))]
    rows = kazakh_sorted(rows, key=localized)
    page = page_of(rows, current_app.config["PAGE_SIZE"])
    return render_template(template, page=page, q=query)


def _edit_simple(
    kind: str,
    model: type,
    form_class: type[FlaskForm],
    item_id: int | None,
    fields: list[str],
    save: Callable[[Any, dict[str, str]], Any],
    saved_message: Callable[[Any], str],
):
    """The create/edit page of a college or an enterprise (one form, no related records)."""
    item = None
    if item_id is not None:
        item = db.session.get(model, item_id) or abort(404)
    form = form_class(obj=item if request.method == "GET" else None)
    done, general, status = submit_form(
        form,
        lambda: save(item, form_values(form, fields)),
        saved_message,
        lambda saved: url_for(f"reference.{kind}"),
    )
    if done is not None:
        return done
    return render_template(
        "reference/simple_form.html",
        form=form,
        item=item,
        kind=kind,
        fields=fields,
        general=general,
    ), status


@bp.get("/colleges")
@requires("reference.view")
def colleges():
    return _search_list(College, "reference/colleges.html", lambda c: c.city)


@bp.route("/colleges/new", methods=["GET", "POST"], endpoint="new_college")
@bp.route("/colleges/<int:college_id>/edit", methods=["GET", "POST"])
@requires("reference.manage")
def edit_college(college_id: int | None = None):
    return _edit_simple(
        "colleges",
        College,
        CollegeForm,
        college_id,
        ["code", *NAME_COLUMNS, "city"],
        lambda item, values: save_college(db.session, item, values),
        lambda saved: _("College %(code)s saved.", code=saved.code),
    )


@bp.get("/enterprises")
@requires("reference.view")
def enterprises():
    return _search_list(Enterprise, "reference/enterprises.html")


@bp.route("/enterprises/new", methods=["GET", "POST"], endpoint="new_enterprise")
@bp.route("/enterprises/<int:enterprise_id>/edit", methods=["GET", "POST"])
@requires("reference.manage")
def edit_enterprise(enterprise_id: int | None = None):
    return _edit_simple(
        "enterprises",
        Enterprise,
        EnterpriseForm,
        enterprise_id,
        ["bin", *NAME_COLUMNS],
        lambda item, values: save_enterprise(db.session, item, values),
        lambda saved: _("Enterprise %(bin)s saved.", bin=saved.bin),
    )


# --- import ------------------------------------------------------------------------


@bp.route("/<kind>/import", methods=["GET", "POST"])
@requires("reference.manage")
@limit_imports
def import_file(kind: str):
    if kind not in KINDS:
        abort(404)
    form = UploadForm()
    done, rejected, status = import_upload(
        form,
        lambda filename, data: import_reference(db.session, kind, filename, data),
        url_for(f"reference.{kind}"),
    )
    if done is not None:
        return done
    required = COLUMNS[kind][0]
    return render_template(
        "reference/import.html",
        form=form,
        kind=kind,
        label=KIND_LABELS[kind],
        columns=columns(kind),
        required=required,
        column_help=COLUMN_HELP,
        examples=EXAMPLES[kind],
        rejected=rejected,
    ), status


def xlsx_template(headers: Sequence[str], examples: Sequence[Sequence[str]]) -> io.BytesIO:
    """Build an XLSX file with a header row and example rows, every cell formatted as text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in examples:
        sheet.append(list(row))
    for column in sheet.columns:
        for cell in column:
            set_cell(cell, cell.value)  # text stays text, never a formula
            cell.number_format = "@"  # text: Excel keeps leading zeros of IINs and BINs
        sheet.column_dimensions[column[0].column_letter].width = max(12, len(column[0].value) + 4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def send_xlsx_template(
    headers: Sequence[str], examples: Sequence[Sequence[str]], download_name: str
) -> ResponseReturnValue:
    """Send ``xlsx_template(headers, examples)`` as a download named ``download_name``."""
    return send_file(
        xlsx_template(headers, examples),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=download_name,
    )


@bp.get("/<kind>/template.xlsx")
@requires("reference.view")
def template(kind: str):
    if kind not in KINDS:
        abort(404)
    return send_xlsx_template(columns(kind), EXAMPLES[kind], f"{kind}.xlsx")
