"""``flask reports``: the headline numbers of a period, as the dashboard shows them."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask.cli import AppGroup

from app.extensions import db
from reports.services import Period
from reports.services import summary as build_summary

reports_cli = AppGroup("reports", help="Reports: figures for the education department.")


@reports_cli.command("summary")
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First exam start date included (YYYY-MM-DD).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last exam start date included (YYYY-MM-DD).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def summary(start: datetime | None, end: datetime | None, as_json: bool) -> None:
    """Print exams, candidates who sat and passed, passports issued and revoked, pass rate.

    Exams are selected by their start date, both ends inclusive; only finalised exams count.
    """
    if start and end and start > end:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    period = Period(start.date() if start else None, end.date() if end else None)
    figures = build_summary(db.session, period).as_json()
    if as_json:
        click.echo(json.dumps(figures))
        return
    for key, value in figures.items():
        click.echo(f"{key}: {value:.4f}" if key == "pass_rate" else f"{key}: {value}")


def register(app) -> None:
    app.cli.add_command(reports_cli)
