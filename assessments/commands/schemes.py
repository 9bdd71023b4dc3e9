"""``flask schemes …``: import, list, show, change settings of and export marking schemes.

Messages are English (the command line is for operators and scripts). Errors go to stderr,
one per line as ``FILE:row N: field: message``, exit 1 and store nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import run_write
from app.extensions import db
from assessments.models import MarkingScheme
from assessments.scheme_files.spec import Problem, SchemeImportError
from assessments.scoring import hundredths_text, round_half_up
from assessments.services.schemes.errors import SchemeError
from assessments.services.schemes.export import export_xlsx
from assessments.services.schemes.importing import import_scheme
from assessments.services.schemes.reading import (
    get_scheme,
    list_schemes,
    scheme_counts,
    section_table,
    summary,
)
from assessments.services.schemes.settings import update_settings

schemes_cli = AppGroup("schemes", help="Import, inspect and export marking schemes.")


def _load(scheme_id: int) -> MarkingScheme:
    scheme = get_scheme(db.session, scheme_id)
    if scheme is None:
        raise click.ClickException(f"ID: no marking scheme with id {scheme_id}")
    return scheme


def _fail(lines: list[str]) -> None:
    """Print every error on its own line to stderr, roll back and exit 1."""
    db.session.rollback()
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@schemes_cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--competence", "competence_code", required=True, help="Competence code.")
@click.option("--name", required=True, help="Scheme name; a name used before adds a version.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
def import_command(files: tuple[Path, ...], competence_code: str, name: str, as_json: bool):
    """Import CIS XLSX and/or JSON files (one criterion each, in order A, B …) as one scheme."""
    uploads = []
    for path in files:
        try:
            uploads.append((path.name, path.read_bytes()))
        except OSError as exc:
            _fail([f"{path.name}: cannot be read ({exc.strerror or exc})"])
    try:
        scheme = run_write(
            db.session, lambda: import_scheme(db.session, uploads, competence_code, name)
        )
    except SchemeImportError as exc:
        _fail([str(problem) for problem in exc.problems])
    result = summary(db.session, scheme)
    warnings = [str(Problem.from_record(w)) for w in scheme.warnings or []]
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(
        f"imported marking scheme {result['id']}: {scheme.name} v{scheme.version} "
        f"for {scheme.competence.code}; {result['criteria']} criteria, "
        f"{result['sub_criteria']} sub-criteria, {result['aspects']} aspects "
        f"({result['measurement']} M, {result['judgement']} J), max {result['max_total']}"
        + (f"; {len(warnings)} warning(s)" if warnings else "")
    )


@schemes_cli.command("list")
@click.option("--competence", "competence_code", help="Only this competence's schemes.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object a scheme.")
def list_command(competence_code: str | None, as_json: bool):
    """List marking schemes, newest version first within each name."""
    from sqlalchemy import select

    from assessments.models import Competence

    competence_id = None
    if competence_code:
        competence_id = db.session.scalar(
            select(Competence.id).where(Competence.code == competence_code)
        )
        if competence_id is None:
            raise click.ClickException(f"--competence: no competence with code {competence_code}")
    schemes = list_schemes(db.session, competence_id)
    counts = scheme_counts(db.session, schemes)
    rows = [
        {
            "id": scheme.id,
            "competence": scheme.competence.code,
            "name": scheme.name,
            "version": scheme.version,
            "criteria": counts[scheme.id].criteria,
            "sub_criteria": counts[scheme.id].sub_criteria,
            "aspects": counts[scheme.id].aspects,
            "measurement": counts[scheme.id].measurement,
            "judgement": counts[scheme.id].judgement,
            "max_total": hundredths_text(scheme.max_total_hundredths),
            "frozen": scheme.frozen,
            "warnings": len(scheme.warnings or []),
        }
        for scheme in schemes
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"{row['id']}\t{row['competence']}\t{row['name']}\tv{row['version']}\t"
            f"{row['aspects']} aspects\tmax {row['max_total']}"
            + ("\tfrozen" if row["frozen"] else "")
            + (f"\t{row['warnings']} warning(s)" if row["warnings"] else "")
        )


@schemes_cli.command("show")
@click.argument("scheme_id", metavar="ID", type=int)
def show_command(scheme_id: int):
    """Print a short summary of one scheme: settings, criteria, sections and warnings."""
    scheme = _load(scheme_id)
    counts = summary(db.session, scheme)
    bands = ", ".join(f"{threshold} % -> {grade}" for threshold, grade in scheme.grade_bands)
    lines = [
        f"marking scheme {scheme.id}: {scheme.name} v{scheme.version}"
        + (f" (previous: {scheme.previous_id})" if scheme.previous_id else ""),
        f"competence: {scheme.competence.code}",
        f"status: {'frozen (in use by an exam)' if scheme.frozen else 'editable'}",
        f"files: {', '.join(scheme.source_files or []) or '-'}",
        f"size: {counts['criteria']} criteria, {counts['sub_criteria']} sub-criteria, "
        f"{counts['aspects']} aspects ({counts['measurement']} M, {counts['judgement']} J), "
        f"max {counts['max_total']}",
        f"settings: {scheme.judges} judges per J aspect, allowed spread "
        f"{scheme.allowed_spread}, grades {bands}, else {scheme.fallback_grade}; "
        f"pass with grade {scheme.pass_min_grade} or better",
    ]
    for criterion in scheme.criteria:
        total = sum(a.max_hundredths for s in criterion.sub_criteria for a in s.aspects)
        label = f" {criterion.name}" if criterion.name else ""
        lines.append(
            f"  {criterion.letter}{label}: {len(criterion.sub_criteria)} sub-criteria, "
            f"max {hundredths_text(total)}"
        )
    lines.append("marks per WSOS section (share of total / competence weight):")
    for row in section_table(scheme):
        weight = f"{row.weight:.2f} %" if row.weight is not None else "not in the competence"
        flag = "  <-- more than 5 points off" if row.flagged else ""
        lines.append(
            f"  {row.number}: {row.marks} ({round_half_up(row.share, 2)} %) / {weight}{flag}"
        )
    for warning in scheme.warnings or []:
        lines.append(f"warning: {Problem.from_record(warning)}")
    click.echo("\n".join(lines))


@schemes_cli.command("export")
@click.argument("scheme_id", metavar="ID", type=int)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the CIS XLSX workbook.",
)
def export_command(scheme_id: int, output: Path):
    """Write the scheme as a CIS-template XLSX workbook that re-imports to the same scheme."""
    scheme = _load(scheme_id)
    content = export_xlsx(scheme)
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot be written ({exc.strerror or exc})") from exc
    click.echo(f"wrote {output} ({len(content)} bytes)", err=True)


def _bands(value: str | None) -> list[list[str]] | None:
    """Parse ``70:5,40:4,20:3`` into [["70", "5"], …] (validated by the service)."""
    if value is None:
        return None
    bands = []
    for part in value.split(","):
        threshold, sep, grade = part.strip().partition(":")
        if not sep:
            raise click.BadParameter("write bands as PERCENT:GRADE,… e.g. 70:5,40:4,20:3")
        bands.append([threshold.strip(), grade.strip()])
    return bands


@schemes_cli.command("settings")
@click.argument("scheme_id", metavar="ID", type=int)
@click.option("--judges", type=int, help="Judges per J aspect (1-9).")
@click.option("--spread", "allowed_spread", type=int, help="Allowed judge spread (0-3).")
@click.option("--bands", help="Grade bands PERCENT:GRADE,… highest first, e.g. 70:5,40:4,20:3.")
@click.option("--fallback", "fallback_grade", type=int, help="Grade below every band (2-5).")
@click.option("--pass-grade", "pass_min_grade", type=int, help="Minimum grade for a passport.")
@click.option("--json", "as_json", is_flag=True, help="Print {id, version} of the result.")
def settings_command(
    scheme_id, judges, allowed_spread, bands, fallback_grade, pass_min_grade, as_json
):
    """Change marking settings; a frozen scheme gets a new version, which is printed."""
    scheme = _load(scheme_id)
    given = {
        "judges": judges,
        "allowed_spread": allowed_spread,
        "grade_bands": _bands(bands),
        "fallback_grade": fallback_grade,
        "pass_min_grade": pass_min_grade,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    try:
        result = run_write(db.session, lambda: update_settings(db.session, scheme, **changes))
    except SchemeError as exc:
        _fail([f"{field}: {message}" for field, message in exc.errors.items()])
    if as_json:
        click.echo(json.dumps({"id": result.id, "version": result.version}))
    elif result.id != scheme_id:
        click.echo(
            f"scheme {scheme_id} is frozen; the settings were saved as new version "
            f"{result.version} (id {result.id})"
        )
    else:
        click.echo(f"settings of scheme {scheme_id} saved")


def register(app) -> None:
    app.cli.add_command(schemes_cli)
