"""PDF paperwork of an exam: blank marking forms (paper backup) and the exam protocol.

Both embed DejaVu Sans (its Cyrillic covers the Kazakh letters Ә Ғ Қ Ң Ө Ұ Ү Һ І) from the
folder named by the ``PDF_FONT_DIR`` setting. Labels are in the user's language (the request's
locale); numbers are rounded half up to two decimals with the locale's decimal separator.
The IIN never appears on paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.i18n import format_date, format_datetime, format_number, localized
from assessments import scoring
from assessments.models import (
    Enrolment,
    Exam,
    ExamStatus,
    MarkingForm,
    MarkingScheme,
    SubCriterion,
)
from assessments.services import results as results_service

FONT_FILES = {
    ("sans", ""): "DejaVuSans.ttf",
    ("sans", "B"): "DejaVuSans-Bold.ttf",
    ("mono", ""): "DejaVuSansMono.ttf",
}
HEADING_FILL = (232, 237, 243)
CANDIDATES_PER_PAGE = 5
PAGE_MARGIN = 14  # bottom margin in mm, above the footer
FORM_FOOT = 24  # mm under a marking form's table for the notes and signature lines


class PaperworkError(RuntimeError):
    """A PDF cannot be produced (missing font, exam without results)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class _Document(FPDF):
    """A4 page with the exam's line and page numbers in the footer."""

    def __init__(self, orientation: str, footer_text: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=PAGE_MARGIN)
        self.set_margins(12, 12, 12)
        folder = Path(current_app.config["PDF_FONT_DIR"])
        for (family, style), name in FONT_FILES.items():
            path = folder / name
            if not path.is_file():
                raise PaperworkError(
                    f"font file {path} is missing; install DejaVu fonts (Debian: fonts-dejavu-core)"
                    " or set PDF_FONT_DIR to a folder holding " + ", ".join(FONT_FILES.values()),
                    "font_missing",
                )
            self.add_font(family, style, str(path))
        self.set_creator("Skills Passport")
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("sans", "", 7)
        self.set_text_color(90, 100, 115)
        page = _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 4, f"{self.footer_text} · {page}", align="C")
        self.set_text_color(0, 0, 0)


def _dates(exam: Exam) -> str:
    if exam.end_date and exam.end_date != exam.start_date:
        return f"{format_date(exam.start_date)} – {format_date(exam.end_date)}"
    return format_date(exam.start_date)


def _facts(pdf: _Document, facts: Sequence[tuple[str, str]], label_width: float = 48) -> None:
    for label, value in facts:
        pdf.set_font("sans", "", 9)
        pdf.set_text_color(90, 100, 115)
        pdf.cell(label_width, 5, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")


def _exam_facts(exam: Exam) -> list[tuple[str, str]]:
    scheme: MarkingScheme = exam.scheme
    return [
        (_("Competence"), f"{exam.competence.code} {localized(exam.competence)}"),
        (_("Competence centre"), f"{exam.centre.code} {localized(exam.centre)}"),
        (_("Exam dates"), _dates(exam)),
        (
            _("Marking scheme"),
            _("%(name)s, version %(version)s", name=scheme.name, version=scheme.version),
        ),
    ]


def exam_title(exam: Exam) -> str:
    """The exam as people name it: competence, centre and dates (never its internal number)."""
    return (
        f"{exam.competence.code} {localized(exam.competence)} — "
        f"{localized(exam.centre)}, {_dates(exam)}"
    )


def _footer_text(exam: Exam) -> str:
    return f"{exam.competence.code} {localized(exam.competence)} · {exam.centre.code} · " + _dates(
        exam
    )


def _column_widths(
    pdf: _Document, rows: Sequence[Sequence[str]], minimum: Sequence[float], size: float
) -> list[float]:
    """Widths at least ``minimum`` and wide enough for each column's longest word.

    Rule: the first row is the (bold) heading; a word never has to be split across lines.
    """
    widths = list(minimum)
    for index, row in enumerate(rows):
        pdf.set_font("sans", "B" if index == 0 else "", size)
        for column, text in enumerate(row):
            for word in text.split():
                widths[column] = max(widths[column], pdf.get_string_width(word) + 2 * 1 + 0.8)
    return widths


def _signature_block(pdf: _Document, people: Sequence[tuple[str, str]]) -> None:
    """Print a line per person: role, name, a line to sign on, and a line for the date."""
    left = pdf.l_margin
    pdf.set_font("sans", "", 9)
    role_w = max([30.0, *(pdf.get_string_width(role) + 3 for role, _name in people)])
    name_w, sign_w, date_w = 94 - role_w, 52, 34
    for role, name in people:
        if pdf.will_page_break(14):
            pdf.add_page()
        pdf.ln(5)
        y = pdf.get_y()
        pdf.set_font("sans", "", 9)
        pdf.set_xy(left, y)
        pdf.cell(role_w, 5, role)
        pdf.set_font("sans", "B", 9)
        pdf.cell(name_w, 5, name)
        x = left + role_w + name_w
        pdf.line(x, y + 4.5, x + sign_w - 4, y + 4.5)
        pdf.line(x + sign_w, y + 4.5, x + sign_w + date_w, y + 4.5)
        pdf.set_font("sans", "", 6.5)
        pdf.set_xy(x, y + 5)
        pdf.cell(sign_w - 4, 3, _("signature"), align="C")
        pdf.set_xy(x + sign_w, y + 5)
        pdf.cell(date_w, 3, _("date"), align="C", new_x="LMARGIN", new_y="NEXT")


def _signature_row(pdf: _Document, labels: Sequence[str]) -> None:
    """Print signature lines side by side, each labelled underneath (for the marking forms)."""
    if pdf.will_page_break(15):
        pdf.add_page()
    pdf.ln(9)
    y = pdf.get_y()
    width = pdf.epw / len(labels)
    pdf.set_font("sans", "", 7.5)
    for index, label in enumerate(labels):
        x = pdf.l_margin + index * width
        pdf.line(x + 2, y, x + width - 4, y)
        pdf.set_xy(x + 2, y + 0.5)
        pdf.cell(width - 6, 3.5, label, align="C")
    pdf.set_xy(pdf.l_margin, y + 5)


def _short_name(enrolment: Enrolment) -> str:
    candidate = enrolment.candidate
    initial = f" {candidate.first_name[:1]}." if candidate.first_name else ""
    return f"{candidate.last_name}{initial}"


def _candidate_heading(enrolment: Enrolment) -> str:
    number = _("No. %(n)s", n=enrolment.candidate_number)
    workstation = _("WS %(n)s", n=enrolment.workstation)
    return f"{number} · {workstation}\n{_short_name(enrolment)}"


# --- blank marking forms ------------------------------------------------------------------


def _aspect_text(aspect: Any) -> str:
    text = aspect.description
    extra = aspect.requirement or (aspect.extra_description if aspect.kind == "M" else "")
    if extra:
        text += f"\n{extra}"
    if aspect.kind == "J" and aspect.levels:
        text += "".join(f"\n{score} – {level}" for score, level in enumerate(aspect.levels))
    return text


def marking_forms_pdf(
    session: Session, exam: Exam, sub_criteria: Sequence[SubCriterion] | None = None
) -> bytes:
    """Return blank marking forms, one per sub-criterion, as a landscape A4 PDF.

    Rule: rows are the aspects (address, type, description with the judgement levels, maximum),
    columns the present candidates by workstation (headed by candidate number, workstation and
    short name), five per sheet; a judgement cell has a line
    per judge seat. Signature lines for the experts and the chief expert close each form.
    """
    if sub_criteria is None:
        sub_criteria = session.scalars(
            select(SubCriterion).where(SubCriterion.scheme_id == exam.scheme_id)
        ).all()
        sub_criteria = sorted(sub_criteria, key=lambda s: (s.criterion.letter, s.position))
    enrolments = sorted(
        (e for e in exam.enrolments if e.attendance == "present"),
        key=lambda e: (e.workstation, e.candidate.sort_key),
    )
    judges = exam.scheme.judges
    pdf = _Document("L", _footer_text(exam))
    pdf.set_title(_("Marking forms") + f" — {exam_title(exam)}")
    chunks = [
        enrolments[i : i + CANDIDATES_PER_PAGE]
        for i in range(0, max(len(enrolments), 1), CANDIDATES_PER_PAGE)
    ]
    fixed = (14, 10, 92, 13)
    free = pdf.epw - sum(fixed)
    for sub in sub_criteria:
        for index, chunk in enumerate(chunks, start=1):
            pdf.add_page()
            pdf.set_font("sans", "B", 13)
            title = _("Marking form %(code)s", code=sub.code) + f" — {sub.name}"
            pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("sans", "", 9)
            line = [
                f"{exam.competence.code} {localized(exam.competence)}",
                f"{exam.centre.code} {localized(exam.centre)}",
                _dates(exam),
            ]
            if sub.day:
                line.append(_("marking day %(day)s", day=sub.day))
            if len(chunks) > 1:
                line.append(_("sheet %(n)s of %(total)s", n=index, total=len(chunks)))
            pdf.multi_cell(0, 5, " · ".join(line), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            slots = max(len(chunk), 1) if enrolments else CANDIDATES_PER_PAGE
            slot_width = free / max(slots, CANDIDATES_PER_PAGE)
            widths = (*fixed, *([slot_width] * slots))
            pdf.set_font("sans", "", 8)
            heading = [_("Aspect"), "M/J", _("Description"), _("Max")]
            heading += [_candidate_heading(e) for e in chunk] or [_("WS") for _slot in range(slots)]
            # keep room under the table's last row for the notes and signature lines
            pdf.set_auto_page_break(auto=True, margin=PAGE_MARGIN + FORM_FOOT)
            with pdf.table(
                col_widths=widths,
                width=sum(widths),
                align="LEFT",
                text_align=("LEFT", "CENTER", "LEFT", "RIGHT", *(["CENTER"] * slots)),
                headings_style=FontFace(emphasis="BOLD", size_pt=7.5, fill_color=HEADING_FILL),
                line_height=3.8,
                v_align="TOP",
                padding=1,
            ) as table:
                table.row(heading)
                for aspect in sub.aspects:
                    judge_lines = "\n".join(f"{seat}: ______" for seat in range(1, judges + 1))
                    cells = [
                        f"{sub.code}.{aspect.position}",
                        aspect.kind,
                        _aspect_text(aspect),
                        format_number(scoring.hundredths_decimal(aspect.max_hundredths)),
                    ] + [judge_lines if aspect.kind == "J" else "" for _slot in range(slots)]
                    table.row(cells)
            pdf.set_auto_page_break(auto=True, margin=PAGE_MARGIN)
            pdf.set_font("sans", "", 8)
            pdf.ln(2)
            pdf.multi_cell(
                0,
                4,
                _(
                    "M: write the mark awarded (0 to the maximum, two decimals at most) and the "
                    "reason for every deduction. J: each judge writes a score 0–3 on their line."
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            chief = exam.chief_expert.name if exam.chief_expert else ""
            _signature_row(
                pdf,
                [_("Expert (judge %(seat)s)", seat=seat) for seat in range(1, judges + 1)]
                + [_("Chief expert") + (f": {chief}" if chief else ""), _("Date")],
            )
    return bytes(pdf.output())


# --- exam protocol ------------------------------------------------------------------------


def protocol_pdf(session: Session, exam: Exam) -> bytes:
    """Return the exam protocol as a portrait A4 PDF.

    Rule: the stored results in rank order (never recomputed; each with its candidate number
    and workstation), the candidates without a result and why, the expert group with
    signature lines and the audit chain head recorded at finalisation. Refused for an exam
    that is not finalised.
    """
    from assessments.services import audit

    if exam.status != ExamStatus.FINALISED:
        raise PaperworkError(
            f"exam {exam.id} is not finalised; the protocol is printed after finalisation",
            "not_finalised",
        )
    shape = results_service.layout(session, exam)
    stored = results_service.stored_results(session, exam)
    summary = results_service.summary(session, exam)
    pdf = _Document("P", _footer_text(exam))
    pdf.set_title(_("Exam protocol") + f" — {exam_title(exam)}")
    pdf.add_page()
    pdf.set_font("sans", "B", 15)
    pdf.multi_cell(0, 7, _("Demonstration exam protocol"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", "", 10)
    pdf.multi_cell(0, 5, exam_title(exam), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    facts = [
        *_exam_facts(exam),
        (_("Maximum mark"), format_number(shape.mark(shape.max_units))),
        (
            _("Candidates"),
            _(
                "%(present)s present of %(enrolled)s enrolled; %(passed)s passed",
                present=summary.present,
                enrolled=summary.enrolled,
                passed=summary.passed,
            ),
        ),
        (_("Finalised"), format_datetime(exam.finalised_at) if exam.finalised_at else "—"),
    ]
    _facts(pdf, facts)
    pdf.ln(3)

    def table_rows(criteria: Sequence[Any]) -> list[list[str]]:
        heading = [_("Rank"), _("No."), _("WS"), _("Candidate")]
        heading += [f"{p.key}\n/{format_number(shape.mark(p.max_units))}" for p in criteria]
        heading += [_("Total"), "%", _("Grade"), _("Result")]
        rows = [heading]
        for result in stored:
            denominator = result.denominator
            row = [
                str(result.rank),
                str(result.enrolment.candidate_number),
                str(result.enrolment.workstation),
                result.candidate.full_name,
            ]
            row += [
                format_number(scoring.two_decimals(result.by_criterion.get(p.key, 0), denominator))
                for p in criteria
            ]
            row += [
                format_number(scoring.two_decimals(result.total_units, denominator)),
                format_number(scoring.hundredths_decimal(result.percent_hundredths)),
                str(result.grade),
                _("passed") if result.passed else _("not passed"),
            ]
            rows.append(row)
        return rows

    size = 8.5
    criteria = list(shape.criteria)
    for attempt in (criteria, []):  # too many criteria for a portrait page: totals only
        criteria = attempt
        rows = table_rows(criteria)
        minimum = [10, 9, 9, 0, *([13] * len(criteria)), 15, 14, 12, 18]
        widths = _column_widths(pdf, rows, minimum, size)
        widths[3] = pdf.epw - (sum(widths) - widths[3])  # the names take what is left
        if widths[3] >= 40:
            break
    pdf.set_font("sans", "", size)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=(
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "LEFT",
            *(["RIGHT"] * len(criteria)),
            "RIGHT",
            "RIGHT",
            "CENTER",
            "LEFT",
        ),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        line_height=4.2,
        padding=1,
    ) as table:
        for row in rows:
            table.row(row)

    absent = sorted(
        (e for e in exam.enrolments if e.attendance != "present"),
        key=lambda e: e.candidate.sort_key,
    )
    if absent:
        pdf.ln(3)
        pdf.set_font("sans", "B", 10)
        pdf.cell(0, 6, _("Without a result"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("sans", "", 9)
        for enrolment in absent:
            status = _attendance_label(enrolment.attendance)
            reason = f" ({enrolment.attendance_reason})" if enrolment.attendance_reason else ""
            pdf.multi_cell(
                0,
                5,
                _("No. %(n)s", n=enrolment.candidate_number)
                + f" {enrolment.candidate.full_name} — {status}{reason}",
                new_x="LMARGIN",
                new_y="NEXT",
            )

    notes = session.execute(
        select(SubCriterion.code, MarkingForm.deductions_note)
        .join(SubCriterion, MarkingForm.sub_criterion_id == SubCriterion.id)
        .where(MarkingForm.exam_id == exam.id, MarkingForm.deductions_note != "")
        .order_by(SubCriterion.code)
    ).all()
    if notes:
        pdf.ln(3)
        pdf.set_font("sans", "B", 10)
        title = _("Deductions without a reason, acknowledged by the chief expert")
        pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("sans", "", 9)
        for code, note in notes:
            text = _("Form %(code)s: %(note)s", code=code, note=note)
            pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(3)
    if pdf.will_page_break(26):
        pdf.add_page()  # keep the audit head with its explanation
    pdf.set_font("sans", "B", 10)
    pdf.cell(0, 6, _("Audit log"), new_x="LMARGIN", new_y="NEXT")
    head, count = exam.audit_head, exam.audit_count
    if head is None:
        head, count = audit.chain_head(session, exam.id)
    pdf.set_font("sans", "", 9)
    pdf.multi_cell(
        0,
        5,
        _(
            "Every mark and every change to a mark is written to the exam's audit log, each "
            "entry sealed together with the one before it, so no entry can be altered or "
            "removed unnoticed. At finalisation the log held %(count)s entries, and the seal of "
            "the last one is printed below. To confirm that the log is still intact, ask the "
            "system administrator to check the audit log of this exam: the check recalculates "
            "the seal from the log and must arrive at exactly this value.",
            count=count,
        ),
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("mono", "", 9)
    pdf.cell(0, 6, head, new_x="LMARGIN", new_y="NEXT")

    pdf.ln(2)
    pdf.set_font("sans", "B", 10)
    pdf.cell(0, 6, _("Expert group"), new_x="LMARGIN", new_y="NEXT")
    people = []
    if exam.chief_expert is not None:
        people.append((_("Chief expert"), exam.chief_expert.name))
    for link in sorted(exam.experts, key=lambda x: x.user.name):
        people.append((_("Expert"), link.user.name))
    if not people:
        people.append((_("Chief expert"), ""))
    _signature_block(pdf, people)
    pdf.ln(4)
    pdf.set_font("sans", "", 7)
    pdf.set_text_color(90, 100, 115)
    printed = format_datetime(utcnow())
    pdf.cell(0, 4, _("Printed %(at)s", at=printed), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _attendance_label(status: str) -> str:
    labels = {
        "registered": _("registered"),
        "present": _("present"),
        "absent": _("absent"),
        "withdrawn": _("withdrawn"),
        "disqualified": _("disqualified"),
    }
    return labels.get(status, status)
