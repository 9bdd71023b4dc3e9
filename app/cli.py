"""Command-line groups owned by the app package: users and demo data."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth import services
from app.auth.models import ROLES
from app.db import run_write
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demonstration data for a first look at the system.")


def _read_password() -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--centre", "centre_code", help="Competence centre code (centre managers).")
@click.option("--college", "college_code", help="College code (experts: conflict of interest).")
def create_user(email, name, role, centre_code, college_code):
    """Create a user; the password is read from a prompt, or from stdin when piped."""
    from assessments.models import Centre, College

    centre_id = college_id = None
    if centre_code:
        centre = db.session.scalar(select(Centre).where(Centre.code == centre_code))
        if centre is None:
            raise click.ClickException(f"--centre: no competence centre with code {centre_code}")
        centre_id = centre.id
    if college_code:
        college = db.session.scalar(select(College).where(College.code == college_code))
        if college is None:
            raise click.ClickException(f"--college: no college with code {college_code}")
        college_id = college.id
    password = _read_password()
    try:
        user = run_write(
            db.session,
            lambda: services.create_user(
                db.session,
                email=email,
                name=name,
                role=role,
                password=password,
                centre_id=centre_id,
                college_id=college_id,
            ),
        )
    except services.AccountError as exc:
        raise click.ClickException(f"{exc.field or 'user'}: {exc}") from exc
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_cli.command("list")
def list_users():
    """List user accounts."""
    from app.auth.models import User

    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\t{user.name}")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed(if_empty):
    """Load realistic demo data; running it again changes nothing."""
    from app.demo import is_empty, seed_all

    if if_empty and not is_empty(db.session):
        click.echo("database already has data; demo seed skipped")
        return
    summary = run_write(db.session, lambda: seed_all(db.session))
    click.echo(summary)


@demo_cli.command("logins")
def logins():
    """Print the demo accounts that exist in this database."""
    from app.demo import DEMO_USERS

    rows = [u for u in DEMO_USERS if services.find_user(db.session, u[0]) is not None]
    if not rows:
        return
    click.echo("Demo logins (demo database only):")
    for email, _name, role, password in rows:
        click.echo(f"  {role:<15} {email:<20} {password}")
    from passports.demo import demo_lines

    for line in demo_lines(db.session):
        click.echo(line)


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    from app.backup import backup_cli

    app.cli.add_command(backup_cli)
