"""``flask results``: export a finalised exam's stored results (administrators, at the server)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import run_write
from app.extensions import db

results_cli = AppGroup("results", help="Exam results: exports for the college's records.")


@results_cli.command("export")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "xlsx", "json")),
    default="csv",
    show_default=True,
    help="csv for machines, xlsx for Excel, json for programs.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write (default: standard output; xlsx needs a file).",
)
def export(exam_id: int, fmt: str, output: Path | None) -> None:
    """Export the stored results of a finalised exam, one row per present candidate in rank order.

    Columns: iin, last_name, first_name, total, max_total, percent, grade, passed, then
    crit_<letter> per criterion and wsos_<n> per WSOS section (marks, two decimals). This
    export carries the decrypted IIN; every candidate in it is logged as a personal-data access.
    """
    from assessments.models import Exam
    from assessments.services.results import (
        ResultsError,
        export_results,
        record_personal_data_export,
    )

    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise click.ClickException(f"EXAM: no exam with id {exam_id}")
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.ClickException("--format xlsx writes a binary file: give -o FILE")

    def unit() -> tuple[bytes, int]:
        exported = export_results(db.session, exam, fmt, include_iin=True)
        return exported, record_personal_data_export(db.session, exam)

    try:
        # the access log is committed before a single IIN leaves the server
        data, logged = run_write(db.session, unit)
    except ResultsError as exc:
        raise click.ClickException(str(exc)) from exc
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output} ({logged} candidates)", err=True)


def register(app) -> None:
    app.cli.add_command(results_cli)
