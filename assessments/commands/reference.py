"""``flask reference …``: import reference data from CSV/XLSX and list it.

Messages are English (the command line is for operators and scripts). Problems go to
stderr, one per line as ``FILE:ROW: field: message``; then the command exits 1 and
stores nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.db import run_write
from app.extensions import db
from assessments.services.reference.importing import import_reference
from assessments.services.reference.listing import list_reference
from assessments.services.reference.rules import KINDS
from assessments.tabular import Rejected

reference_cli = AppGroup(
    "reference", help="Competences, competence centres, colleges and enterprises."
)


def fail(lines: list[str]) -> None:
    """Print every problem on its own line to stderr, roll back and exit 1."""
    db.session.rollback()
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


def read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        fail([f"{path}: cannot be read ({exc.strerror or exc})"])
        raise  # unreachable: fail() exits


@reference_cli.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
def import_command(kind: str, file: str, dry_run: bool) -> None:
    """Import KIND (competences, centres, colleges or enterprises) from a CSV or XLSX FILE.

    The columns are described in docs/import-formats.md. Every row is checked first;
    on any problem nothing is stored. Records are created or updated by code (BIN).
    """
    data = read_file(file)
    try:
        if dry_run:
            summary = import_reference(db.session, kind, file, data)
            db.session.rollback()
        else:
            summary = run_write(db.session, lambda: import_reference(db.session, kind, file, data))
    except Rejected as exc:
        fail(exc.lines())
    if dry_run:
        click.echo(f"{file}: no problems found ({summary.text}; dry run, nothing stored)")
        return
    click.echo(f"{file}: {summary.text}")


@reference_cli.command("list")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of objects.")
def list_command(kind: str, as_json: bool) -> None:
    """List KIND: code and name in DEFAULT_LOCALE, or every field with --json."""
    locale = current_app.config["DEFAULT_LOCALE"]
    records = list_reference(db.session, kind, locale)
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    for record in records:
        click.echo(f"{record['code']}\t{record['name']}")


def register(app: Flask) -> None:
    app.cli.add_command(reference_cli)
