"""Command-line groups: ``flask keys …`` (signing keys) and ``flask passports …``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.db import run_write
from app.extensions import db
from assessments.models import Exam
from passports import trust, verifier
from passports.models import Passport
from passports.moments import iso_z
from passports.services import (
    PassportError,
    exports,
    issuance,
    keys,
    status,
    trust_lists,
    verification,
)
from passports.settings import current_settings
from passports.trust_cli import trust_cli

keys_cli = AppGroup(
    "keys", help="The issuer's signing keys (ES256 for passports, RS256 for Open Badges)."
)
ALG_OPTION = click.option(
    "--alg",
    type=click.Choice([keys.ES256, keys.RS256]),
    default=keys.ES256,
    show_default=True,
    help="ES256 signs passports and status lists; RS256 signs the Open Badges credentials.",
)
passports_cli = AppGroup("passports", help="Issue, list, verify and revoke Skills Passports.")


def _fail(error: PassportError) -> click.ClickException:
    return click.ClickException(str(error))


def _exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise click.ClickException(f"EXAM: no exam with id {exam_id}")
    return exam


def _passport(number: str) -> Passport:
    passport = verification.find_by_number(db.session, number)
    if passport is None:
        raise click.ClickException(f"NUMBER: no passport with number {number}")
    return passport


# --- keys -------------------------------------------------------------------------------


def _key_row(key) -> dict:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state,
        "created_at": key.created_at.isoformat(),
        "activated_at": key.activated_at.isoformat() if key.activated_at else None,
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
    }


def _centre(code: str | None, alg: str):
    """The centre of ``--centre`` (None without it) whose own key of ``alg`` is wanted."""
    if not code:
        return None
    from assessments.models import Centre

    centre = db.session.scalar(select(Centre).where(Centre.code == code))
    if centre is None:
        raise click.ClickException(f"--centre: no competence centre with code {code}")
    if alg != keys.ES256:
        raise click.UsageError("--centre: only ES256 keys sign for a competence centre")
    return centre


def _trust_hint(key) -> None:
    """In production a new key signs nothing until the trust anchor lists it."""
    if current_settings().production:
        click.echo(
            f"key {key.kid} signs nothing until the trust anchor adds it to the trust list: "
            "send its public JWK (flask keys jwks) to the anchor, then flask trust install"
        )


@keys_cli.command("generate")
@click.option("--activate", is_flag=True, help="Sign with it at once.")
@ALG_OPTION
@click.option("--centre", "centre_code", help="A competence centre's own ES256 key (its code).")
def generate_key(activate, alg, centre_code):
    """Create a key; it signs when --activate is given or no key of its --alg and issuer
    signs yet."""
    centre = _centre(centre_code, alg)
    key = run_write(
        db.session,
        lambda: keys.generate_key(
            db.session, current_settings(), activate=activate or None, alg=alg, centre=centre
        ),
    )
    click.echo(f"created {key.alg} key {key.kid} ({key.state}, issuer {key.issuer_id})")
    _trust_hint(key)


@keys_cli.command("rotate")
@ALG_OPTION
@click.option("--centre", "centre_code", help="Rotate a competence centre's own ES256 key.")
def rotate_key(alg, centre_code):
    """Make a new key the signing key of --alg; the old one stays published and verifying."""
    centre = _centre(centre_code, alg)
    key, previous = run_write(
        db.session, lambda: keys.rotate_key(db.session, current_settings(), alg, centre=centre)
    )
    if previous is None:
        click.echo(f"created {key.alg} key {key.kid} (active)")
    else:
        click.echo(f"created {key.alg} key {key.kid} (active); retired {previous.kid}")
    _trust_hint(key)


@keys_cli.command("activate")
@click.argument("kid")
def activate_key(kid):
    """Make a published key (flask keys generate) the signing key; the old one retires."""
    try:
        key, previous = run_write(
            db.session, lambda: keys.activate_key(db.session, current_settings(), kid)
        )
    except PassportError as exc:
        raise _fail(exc) from exc
    retired = f"; retired {previous.kid}" if previous is not None else ""
    click.echo(f"{key.alg} key {key.kid} is active{retired}")


@keys_cli.command("ensure")
def ensure_key():
    """Create the ES256 and the RS256 signing key if missing (idempotent; `make run` and
    `make serve` call it).

    Development: also creates the development trust anchor in instance/ and installs a
    development trust list holding every ES256 key. Production: refuses a development list.
    """
    settings = current_settings()
    listed = trust_lists.list_status(db.session)
    if settings.production and listed.development:
        raise click.ClickException(
            "a development trust list is installed on this production deployment: install the "
            "list signed by the national trust anchor (flask trust install FILE --force)"
        )

    def ensure_both():
        return [keys.ensure_key(db.session, settings, alg) for alg in keys.ALGORITHMS]

    for key, created in run_write(db.session, ensure_both):
        click.echo(f"{'created' if created else 'signing key is'} {key.kid} ({key.alg})")
        if created and key.alg == keys.ES256:
            _trust_hint(key)
    after = trust_lists.list_status(db.session)
    if after.seq != listed.seq:
        click.echo(f"installed development trust list {after.seq} (every key, any competence)")


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_keys(as_json):
    """List the keys: kid, state (active, published, retired) and dates."""
    rows = [_key_row(k) for k in keys.all_keys(db.session, None)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['kid']}\t{row['alg']}\t{row['state']}\t{row['created_at']}")


@keys_cli.command("jwks")
def print_jwks():
    """Print the JWK Set (public keys only), as served at /.well-known/jwks.json."""
    click.echo(json.dumps(keys.jwks(db.session), indent=2))


# --- passports --------------------------------------------------------------------------


@passports_cli.command("issue")
@click.argument("exam_id", metavar="EXAM", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON summary.")
def issue(exam_id, as_json):
    """Issue the passports of a finalised exam (idempotent; re-issues after corrections)."""
    exam = _exam(exam_id)
    try:
        summary = run_write(
            db.session, lambda: issuance.issue_for_exam(db.session, current_settings(), exam)
        )
    except PassportError as exc:
        raise _fail(exc) from exc
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    click.echo(json.dumps(summary.as_dict()))
    if summary.revoked:
        click.echo(f"revoked {summary.revoked} passport(s) whose holder no longer qualifies")


def _list_rows(exam: Exam) -> list[dict]:
    passports = db.session.scalars(
        select(Passport).where(Passport.exam_id == exam.id).order_by(Passport.sequence)
    ).all()
    base_url = current_settings().public_base_url
    return [
        {
            "number": p.number,
            "last_name": p.snapshot["holder"]["last_name"],
            "first_name": p.snapshot["holder"]["first_name"],
            "total": p.snapshot["result"]["total"],
            "percent": p.snapshot["result"]["percent"],
            "grade": p.snapshot["result"]["grade"],
            "status": p.status(),
            "url": verification.passport_url(p, base_url),
        }
        for p in passports
    ]


@passports_cli.command("list")
@click.option("--exam", "exam_id", type=int, required=True, help="Exam id.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_passports(exam_id, as_json):
    """List an exam's passports with their status and QR URL."""
    rows = _list_rows(_exam(exam_id))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['number']}\t{row['status']}\t{row['last_name']} {row['first_name']}\t"
            f"{row['total']}\t{row['grade']}\t{row['url']}"
        )


@passports_cli.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why; shown to everyone who checks the passport.")
def revoke(number, reason):
    """Revoke a passport."""
    passport = _passport(number)
    try:
        run_write(db.session, lambda: issuance.revoke(db.session, passport, reason))
    except PassportError as exc:
        raise _fail(exc) from exc
    click.echo(f"revoked {passport.number}")


@passports_cli.command("reissue")
@click.argument("number", required=False)
@click.option("--key", "kid", help="Re-sign every current passport of this (retired) key.")
def reissue(number, kid):
    """Issue a new passport from the current records (e.g. the holder's corrected name),
    or with --key KID every current passport that key signed (after a compromise)."""
    if bool(number) == bool(kid):
        raise click.UsageError("give either NUMBER or --key KID")
    if kid:
        try:
            outcome = run_write(
                db.session,
                lambda: issuance.reissue_for_key(db.session, current_settings(), kid),
            )
        except PassportError as exc:
            raise _fail(exc) from exc
        for old, new in outcome.reissued:
            click.echo(f"issued {new.number} (key {new.kid}); {old.number} is superseded")
        click.echo(
            f"re-issued {len(outcome.reissued)} passport(s) of key {kid} in {outcome.exams} "
            f"exam(s); revoked {outcome.revoked} whose holder no longer qualifies"
        )
        return
    passport = _passport(number)
    try:
        outcome = run_write(
            db.session, lambda: issuance.reissue(db.session, current_settings(), passport)
        )
    except PassportError as exc:
        raise _fail(exc) from exc
    if outcome.new is None:
        raise click.ClickException(
            f"passport {passport.number}: its holder no longer qualifies, so it was revoked"
        )
    click.echo(f"issued {outcome.new.number}; {passport.number} is superseded")


def _anchor_source(anchor_file: str | None) -> str | None:
    if anchor_file:
        return anchor_file
    configured = current_app.config.get("TRUST_ANCHOR_JWK")
    return configured or None


@passports_cli.command("verify")
@click.argument("url_or_token")
@click.option("--jwks", "jwks_file", help="JWK Set file (default: the deployment's keys).")
@click.option("--status", "status_source", help="Signed status list: a file or an http(s) URL.")
@click.option("--trust-list", "trust_file", help="Signed trust list file.")
@click.option(
    "--anchor", "anchor_file", help="The anchor's public JWK file (default: TRUST_ANCHOR_JWK)."
)
@click.option("--at", "at_text", help="Verify as at this ISO 8601 moment (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(url_or_token, jwks_file, status_source, trust_file, anchor_file, at_text, as_json):
    """Verify a passport (signature, trust list, expiry, revocation) without the web server.

    Without --jwks it checks this deployment's passports with this deployment's keys,
    installed trust list and current status list; --trust-list and --status replace them.
    Exits 0 when genuine, else 3 invalid,
    4 revoked, 5 superseded, 6 expired, 7 unchecked (no usable trust or status list),
    8 damaged (a cut-off link), 9 untrusted (a key not allowed to certify this passport).
    """
    anchor_source = _anchor_source(anchor_file)
    if trust_file and not anchor_source:
        raise click.UsageError("--trust-list needs --anchor (or the TRUST_ANCHOR_JWK setting)")
    public_keys = (
        verifier.load_jwks(jwks_file)
        if jwks_file
        else keys.public_keys(db.session, current_settings())
    )
    trust_text = verifier.read_trust_text(trust_file)
    if trust_text is None and not jwks_file:
        # this deployment's keys: judged by the trust list installed here
        installed = trust_lists.current_row(db.session)
        trust_text = installed.jws if installed is not None else None
    own_status = None
    if status_source is None and not jwks_file:
        # this deployment's passports: revoked or superseded as its records say now
        try:
            own_status = status.current_list(db.session, current_settings(), "message")
        except PassportError:
            own_status = None  # no signing key yet: nothing signed, revocation not checked
    result = verifier.run(
        url_or_token,
        keys=public_keys,
        status_source=status_source,
        trust_text=trust_text,
        status_text=own_status,
        anchor=verifier.load_anchor(anchor_source) if anchor_source else None,
        at=verifier.parse_moment(at_text) if at_text else None,
        max_age=int(status.max_age(current_settings()).total_seconds()),
    )
    verifier.report(result, as_json)


@passports_cli.command("test-vectors")
@click.argument("outdir", type=click.Path(file_okay=False))
def test_vectors(outdir):
    """Write the public test vectors (docs/test-vectors/): fixed keys, times and signatures."""
    from passports import vectors

    try:
        files = vectors.write(outdir)
    except OSError as exc:
        raise click.ClickException(f"OUTDIR {outdir}: cannot write ({exc})") from exc
    count = len(vectors.vectors())
    click.echo(f"wrote {len(files)} files, {count} vectors, to {outdir}")


@passports_cli.command("status-list")
@click.option("--purpose", type=click.Choice(["message", "revocation"]), default="message")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
def status_list(purpose, output):
    """Write the signed status list (VC-JWT) for offline verifiers."""
    try:
        text = status.signed_list(db.session, current_settings(), purpose)
    except PassportError as exc:
        raise _fail(exc) from exc
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@passports_cli.command("pdf")
@click.argument("number", required=False)
@click.option("--exam", "exam_id", type=int, help="All passports of an exam, one page each.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def pdf(number, exam_id, output):
    """Write a passport's PDF (or with --exam every current passport of the exam)."""
    from passports import pdf as pdf_module

    if bool(number) == bool(exam_id):
        raise click.UsageError("give either NUMBER or --exam")
    try:
        if number:
            data = pdf_module.passport_pdf(_passport(number))
        else:
            passports = exports.exam_passports(db.session, _exam(exam_id))
            if not passports:
                raise click.ClickException(f"exam {exam_id} has no current passports")
            data = pdf_module.passports_pdf(passports, f"Skills Passports, exam {exam_id}")
    except PassportError as exc:
        raise _fail(exc) from exc
    Path(output).write_bytes(data)
    click.echo(f"wrote {output} ({len(data)} bytes)")


@passports_cli.command("links")
@click.option("--exam", "exam_id", type=int, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
def links(exam_id, output):
    """CSV of the exam's graduates' private links, to hand over."""
    passports = exports.exam_passports(db.session, _exam(exam_id))
    text = exports.links_csv(passports, current_settings())
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# --- the trust list on this deployment (the `flask trust` group of trust_cli.py) ----


@trust_cli.command("install")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force", is_flag=True, help="Install an older, equal or expired list on purpose.")
def install_trust_list(file, force):
    """Install a trust list signed by the trust anchor (TRUST_ANCHOR_JWK) on this deployment.

    All or nothing: a list that is not signed by the anchor, breaks the format, has expired,
    or is not newer than the installed one (unless --force) changes nothing.
    """
    try:
        with click.open_file(file, encoding="utf-8") as handle:
            text = handle.read(trust.MAX_TRUST_LIST_CHARS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read ({exc})") from exc
    settings = current_settings()
    try:
        row = run_write(
            db.session, lambda: trust_lists.install(db.session, settings, text, force=force)
        )
    except PassportError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    listed = trust_lists.current(db.session, settings).trust_list
    count = len(listed.keys) if listed is not None else 0
    click.echo(f"installed trust list {row.seq} ({count} keys, expires {iso_z(row.expires_at)})")


@trust_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def trust_status(as_json):
    """The installed trust list: seq, expiry and keys; warns when it expires within 7 days.

    Exits 1 when no usable list is installed (missing, expired or not signed by the anchor).
    """
    settings = current_settings()
    listed = trust_lists.list_status(db.session)
    installed = trust_lists.current(db.session, settings)
    warning = trust_lists.warning(listed, production=settings.production)
    if installed.trust_list is None and installed.problem not in (None, "missing"):
        warning = trust_lists.describe(installed.problem)
    rows = []
    if installed.trust_list is not None:
        for entry in installed.trust_list.keys.values():
            rows.append(
                {
                    "kid": entry.kid,
                    "issuer": entry.issuer_id,
                    "status": entry.status,
                    "competences": list(entry.competences),
                    "valid_from": entry.valid_from,
                    "valid_to": entry.valid_to,
                }
            )
    if as_json:
        click.echo(json.dumps({**listed.as_dict(), "keys": rows, "warning": warning}, indent=2))
    elif not listed.installed:
        click.echo("no trust list is installed")
    else:
        data = listed.as_dict()
        kind = " (development)" if listed.development else ""
        click.echo(f"trust list {listed.seq}{kind}: {listed.state}")
        click.echo(f"issued:    {data['issued_at']}")
        click.echo(f"expires:   {data['expires_at']}")
        click.echo(f"installed: {data['installed_at']}")
        for row in rows:
            competences = ",".join(row["competences"])
            click.echo(f"{row['kid']}\t{row['status']}\t{row['issuer']}\t{competences}")
    if warning:
        click.echo(f"warning: {warning}", err=True)
    usable = installed.trust_list is not None and listed.state in ("ok", "expiring")
    if not usable:
        sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(passports_cli)
    app.cli.add_command(trust_cli)
