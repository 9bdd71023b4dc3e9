"""``flask marks import`` and ``flask audit verify``.

Messages are English (the command line is for operators and scripts); a refused import
prints every problem as ``FILE:ROW: field: message``, exits 1 and changes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import run_write
from app.extensions import db
from assessments.models import Exam
from assessments.services import audit
from assessments.services.marks import bulk_import, errors
from assessments.tabular import Rejected

marks_cli = AppGroup("marks", help="Marks recorded elsewhere: bulk import.")
audit_cli = AppGroup("audit", help="The per-exam hash-chained audit log.")


def _load_exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise click.ClickException(f"EXAM: no exam with id {exam_id}")
    return exam


@marks_cli.command("import")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def import_command(exam_id: int, path: str, as_json: bool):
    """Import marks from a CSV/XLSX FILE with columns iin,aspect,judge,score[,reason].

    All or nothing: any problem prints FILE:ROW: field: message lines and imports nothing.
    """
    filename = Path(path).name
    data = Path(path).read_bytes()

    def unit():
        return bulk_import.import_marks(db.session, _load_exam(exam_id), filename, data, None)

    try:
        summary = run_write(db.session, unit)
    except Rejected as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        click.echo(f"nothing imported: {len(exc.problems)} problems", err=True)
        sys.exit(1)
    except errors.MarkingError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(
            f"imported {summary.rows} rows into exam {exam_id}: {summary.created} new, "
            f"{summary.updated} changed, {summary.unchanged} unchanged; "
            f"audit head {summary.audit_head} (seq {summary.audit_seq})"
        )


@audit_cli.command("verify")
@click.argument("exam_id", metavar="[EXAM]", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per exam.")
def verify_command(exam_id: int | None, as_json: bool):
    """Check the audit hash chain of EXAM (default: every exam); exit 1 when one is broken.

    Reports the first broken link per exam: an altered, removed or reordered entry, or a
    chain that no longer reaches the head recorded at finalisation.
    """
    if exam_id is not None:
        ids = [_load_exam(exam_id).id]
    else:
        ids = list(db.session.scalars(select(Exam.id).order_by(Exam.id)))
    broken = False
    for ident in ids:
        report = audit.verify(db.session, ident)
        broken = broken or not report.ok
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "exam": report.exam_id,
                        "ok": report.ok,
                        "checked": report.checked,
                        "broken_seq": report.broken_seq,
                        "problem": report.problem,
                        "head": report.head if report.ok else None,
                    }
                )
            )
        else:
            click.echo(str(report))
    if broken:
        sys.exit(1)


def register(app) -> None:
    app.cli.add_command(marks_cli)
    app.cli.add_command(audit_cli)
