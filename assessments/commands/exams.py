"""``flask exams …``: plan exams, enrol candidates, assign experts, finalise and reopen.

Messages are English (the command line is for operators and scripts); errors exit 1 and
change nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.auth.models import User
from app.db import run_write
from app.extensions import db
from assessments.iin import InvalidIIN, iin_problem, validate_iin
from assessments.models import (
    ATTENDANCE,
    Candidate,
    Centre,
    Competence,
    Enrolment,
    Exam,
    MarkingScheme,
)
from assessments.personal_data import iin_lookup_hash
from assessments.services import exams as service
from assessments.services.marks.errors import DeductionsUnexplained
from assessments.tabular import Rejected

exams_cli = AppGroup("exams", help="Plan demonstration exams and run them to finalisation.")

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _load_exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise click.ClickException(f"EXAM: no exam with id {exam_id}")
    return exam


def _fail(error: service.ExamError) -> click.ClickException:
    return click.ClickException(f"{error.field}: {error}" if error.field else str(error))


def _summary(exam: Exam) -> dict:
    return {
        "id": exam.id,
        "status": exam.status,
        "start": exam.start_date.isoformat(),
        "end": exam.end_date.isoformat(),
        "centre": exam.centre.code,
        "competence": exam.competence.code,
        "scheme": exam.scheme_id,
        "chief": exam.chief_expert.email if exam.chief_expert else None,
        "experts": len(exam.experts),
        "candidates": len(exam.enrolments),
    }


@exams_cli.command("create")
@click.option("--centre", "centre_code", required=True, help="Competence centre code.")
@click.option("--competence", "competence_code", required=True, help="Competence code.")
@click.option("--scheme", "scheme_id", required=True, type=int, help="Marking scheme id.")
@click.option("--start", required=True, type=DATE, help="First day, YYYY-MM-DD.")
@click.option("--end", type=DATE, help="Last day, YYYY-MM-DD (default: the first day).")
@click.option("--chief", "chief_email", help="Email of the chief expert.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id": …} as JSON.')
def create(centre_code, competence_code, scheme_id, start, end, chief_email, as_json):
    """Plan an exam at a centre with a marking scheme (the scheme is frozen)."""
    centre = db.session.scalar(select(Centre).where(Centre.code == centre_code))
    if centre is None:
        raise click.ClickException(f"--centre: no competence centre with code {centre_code}")
    competence = db.session.scalar(select(Competence).where(Competence.code == competence_code))
    if competence is None:
        raise click.ClickException(f"--competence: no competence with code {competence_code}")
    scheme = db.session.get(MarkingScheme, scheme_id)
    if scheme is None:
        raise click.ClickException(f"--scheme: no marking scheme with id {scheme_id}")
    chief = None
    if chief_email:
        chief = db.session.scalar(
            select(User).where(func.lower(User.email) == chief_email.strip().lower())
        )
        if chief is None:
            raise click.ClickException(f"--chief: no user with the email {chief_email}")
    try:
        exam = run_write(
            db.session,
            lambda: service.create_exam(
                db.session,
                centre=centre,
                competence=competence,
                scheme=scheme,
                start=start.date(),
                end=end.date() if end else None,
                chief=chief,
            ),
        )
    except service.ExamError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps({"id": exam.id}))
    else:
        click.echo(
            f"created exam {exam.id}: {competence.code} at {centre.code}, "
            f"{exam.start_date.isoformat()} – {exam.end_date.isoformat()}, scheme {scheme.id}"
        )


@exams_cli.command("enrol")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
def enrol(exam_id, path):
    """Enrol candidates from a CSV/XLSX file with `iin` and optional `workstation` columns."""
    exam = _load_exam(exam_id)
    data = Path(path).read_bytes()
    try:
        created = run_write(db.session, lambda: service.enrol_file(db.session, exam, path, data))
    except Rejected as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(1) from exc
    except service.ExamError as exc:
        raise _fail(exc) from exc
    numbers = sorted({e.workstation for e in created})
    span = f"{numbers[0]}–{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])
    click.echo(
        f"enrolled {len(created)} candidates in exam {exam.id} "
        f"(workstations {span}); {len(exam.enrolments)} enrolled in total"
    )


@exams_cli.command("assign")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option("--chief", "chief_email", required=True, help="Email of the chief expert.")
@click.option(
    "--expert", "expert_emails", multiple=True, help="Email of an expert (repeat the option)."
)
def assign(exam_id, chief_email, expert_emails):
    """Set the chief expert and the expert group (replaces the previous group)."""
    exam = _load_exam(exam_id)
    try:
        run_write(db.session, lambda: service.assign(db.session, exam, chief_email, expert_emails))
    except service.ExamError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"exam {exam.id}: chief expert {exam.chief_expert.email}, {len(exam.experts)} experts"
    )


@exams_cli.command("attendance")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option("--iin", required=True, help="The candidate's IIN.")
@click.option("--status", required=True, type=click.Choice(ATTENDANCE))
@click.option("--reason", default="", help="Required for a disqualification.")
def attendance(exam_id, iin, status, reason):
    """Record a candidate's attendance: present, absent, withdrawn or disqualified."""
    exam = _load_exam(exam_id)
    try:
        iin = validate_iin(iin)
    except InvalidIIN as exc:
        message, params = iin_problem(exc, iin)
        raise click.ClickException(f"--iin: {message % params if params else message}") from exc
    enrolment = db.session.scalar(
        select(Enrolment)
        .join(Candidate, Candidate.id == Enrolment.candidate_id)
        .where(Enrolment.exam_id == exam.id, Candidate.iin_hash == iin_lookup_hash(iin))
    )
    if enrolment is None:
        raise click.ClickException("--iin: the candidate is not enrolled in this exam")
    try:
        run_write(
            db.session, lambda: service.set_attendance(db.session, enrolment, status, reason, None)
        )
    except service.ExamError as exc:
        raise _fail(exc) from exc
    candidate = enrolment.candidate
    click.echo(
        f"exam {exam.id}: {candidate.last_name} {candidate.first_name} "
        f"(ws {enrolment.workstation}) is {status}"
    )


@exams_cli.command("finalise")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option(
    "--note",
    default="",
    help="Acknowledge deductions without a reason in forms still open (stored and audited).",
)
def finalise(exam_id, note):
    """Lock every form and store the results, or list what is incomplete and exit 1."""
    exam = _load_exam(exam_id)
    try:
        run_write(
            db.session, lambda: service.finalise(db.session, exam, None, acknowledgement=note)
        )
    except DeductionsUnexplained as exc:
        click.echo(f"exam {exam_id} cannot be finalised: {exc}", err=True)
        for item in exc.items:
            click.echo(str(item))
        click.echo("write the reasons in the forms, or acknowledge them with --note", err=True)
        raise SystemExit(1) from exc
    except service.ExamIncomplete as exc:
        click.echo(f"exam {exam_id} cannot be finalised: {exc}", err=True)
        for line in exc.lines():
            click.echo(line)
        raise SystemExit(1) from exc
    except service.ExamError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"exam {exam.id} finalised: {len(service.present_enrolments(exam))} results, "
        f"audit head {exam.audit_head} ({exam.audit_count} entries)"
    )


@exams_cli.command("reopen")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option("--reason", required=True, help="Why the exam is reopened (audited).")
def reopen(exam_id, reason):
    """Reopen a finalised exam for correction (forms stay locked)."""
    exam = _load_exam(exam_id)
    try:
        run_write(db.session, lambda: service.reopen(db.session, exam, None, reason))
    except service.ExamError as exc:
        raise _fail(exc) from exc
    click.echo(f"exam {exam.id} reopened for marking")


@exams_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_exams(as_json):
    """List exams, newest first."""
    exams = db.session.scalars(select(Exam).order_by(Exam.start_date.desc(), Exam.id.desc()))
    rows = [_summary(exam) for exam in exams.unique()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"{row['id']}\t{row['status']}\t{row['start']}\t{row['end']}\t{row['centre']}\t"
            f"{row['competence']}\tscheme {row['scheme']}\t{row['candidates']} candidates"
        )


def register(app) -> None:
    app.cli.add_command(exams_cli)
