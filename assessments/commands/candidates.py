"""``flask candidates …``: import candidates from CSV/XLSX.

Messages are English (the command line is for operators and scripts). Problems go to
stderr, one per line as ``FILE:ROW: field: message``; then the command exits 1 and
stores nothing. The IIN itself is never printed.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.db import run_write
from app.extensions import db
from assessments.commands.reference import fail, read_file
from assessments.services.candidates.importing import import_candidates
from assessments.tabular import Rejected

candidates_cli = AppGroup("candidates", help="Candidates (students and graduates).")


@candidates_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
def import_command(file: str, dry_run: bool) -> None:
    """Import candidates from a CSV or XLSX FILE, creating or updating them by IIN.

    Columns: iin, last_name, first_name, middle_name, college_code, specialty, email,
    and optionally enterprise_bin, last_name_latin, first_name_latin, legal_basis,
    centre_code (docs/import-formats.md). Every row is checked first; on any problem
    nothing is stored.
    """
    data = read_file(file)
    try:
        if dry_run:
            summary = import_candidates(db.session, file, data)
            db.session.rollback()
        else:
            summary = run_write(db.session, lambda: import_candidates(db.session, file, data))
    except Rejected as exc:
        fail(exc.lines())
    if dry_run:
        click.echo(f"{file}: no problems found ({summary.text}; dry run, nothing stored)")
        return
    click.echo(f"{file}: {summary.text}")


def register(app: Flask) -> None:
    app.cli.add_command(candidates_cli)
