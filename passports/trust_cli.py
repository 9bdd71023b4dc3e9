"""``flask trust …``: the anchor holder's commands, offline, on files (docs/trust-list.md).

The anchor holder keeps a *draft* (the unsigned list as JSON, ``--draft FILE``), changes it
with ``init``, ``add-key``, ``retire-key`` and ``compromise-key``, and signs it with the
anchor key (``sign``), which writes the compact JWS deployments install. Every command
checks all its input before it writes, and writes each file whole (a temporary file
renamed over it), so a refused command changes nothing. None of these commands touches a
database; deployment commands (install, status) join this group.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from passports import trust, trust_draft
from passports.moments import from_numeric_date, iso_z
from passports.numbers import normalise_number, parse_passport_number
from passports.token import es256_jwks, key_id, public_key_from_jwk
from passports.verifier import parse_moment

trust_cli = AppGroup("trust", help="The national trust list: anchor key, drafts, signing.")
anchor_cli = AppGroup("anchor", help="The trust anchor's key.")
trust_cli.add_command(anchor_cli)

PASSPHRASE_ENV = "TRUST_ANCHOR_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
DEFAULT_DAYS = 30
MAX_DAYS = 400

draft_option = click.option(
    "--draft",
    "draft_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The draft (unsigned list, JSON) to change.",
)


# --- files -----------------------------------------------------------------------------------


def write_atomically(path: str | os.PathLike[str], text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` whole: a temporary file beside it, renamed over it."""
    path = Path(path)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write ({exc})") from exc


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{what} {path}: cannot read ({exc})") from exc


def _load_draft(path: str) -> dict[str, Any]:
    try:
        return trust_draft.read_draft(_read(path, "--draft"))
    except trust.TrustListError as exc:
        raise click.ClickException(f"--draft {path}: {exc}") from exc


def _save_draft(path: str, draft: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(draft, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _passphrase(passphrase_file: str | None, confirm: bool) -> bytes:
    """From --passphrase-file (first line), else $TRUST_ANCHOR_PASSPHRASE, else a prompt."""
    if passphrase_file:
        lines = _read(passphrase_file, "--passphrase-file").splitlines()
        text = lines[0] if lines else ""
    elif os.environ.get(PASSPHRASE_ENV):
        text = os.environ[PASSPHRASE_ENV]
    else:
        text = click.prompt(
            "Anchor passphrase", hide_input=True, confirmation_prompt=confirm, default=""
        )
    if not text:
        raise click.ClickException("the anchor passphrase is empty")
    return text.encode("utf-8")


def _moment(text: str | None, option: str) -> int:
    return int(time.time()) if text is None else parse_moment(text, option)


def _iso(moment: int | None) -> str:
    if moment is None:
        return "-"
    return iso_z(from_numeric_date(moment))


# --- anchor ----------------------------------------------------------------------------------


@anchor_cli.command("create")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False), help="Passphrase file.")
@click.option("--development", is_flag=True, help="Mark it a development anchor.")
def create_anchor(out, passphrase_file, development):
    """Create the anchor key: encrypted PKCS#8 PEM at --out, public JWK at OUT.pub.jwk.

    The passphrase comes from --passphrase-file, else $TRUST_ANCHOR_PASSPHRASE, else a
    prompt. Keep the key file off issuing servers; verifiers configure the .pub.jwk.
    """
    for target in (Path(out), trust.anchor_public_path(out)):
        if target.exists():
            raise click.ClickException(f"{target} exists already; refusing to overwrite it")
    passphrase = _passphrase(passphrase_file, confirm=True)
    key = trust.new_anchor_key()
    try:
        public_path = trust.write_anchor_key(out, key, passphrase, development=development)
    except trust.AnchorKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    kind = "development anchor" if development else "anchor"
    click.echo(f"created {kind} {key_id(key)}: {out} (public JWK {public_path})")


# --- drafts ----------------------------------------------------------------------------------


@trust_cli.command("init")
@draft_option
@click.option("--anchor-id", required=True, help='The anchor\'s id in the list, e.g. "KZ".')
@click.option("--development", is_flag=True, help="A development list.")
def init_draft(draft_path, anchor_id, development):
    """Start an empty draft (refuses to overwrite one)."""
    if Path(draft_path).exists():
        raise click.ClickException(f"--draft {draft_path} exists already")
    try:
        draft = trust_draft.new_draft(anchor_id, development)
    except trust.TrustListError as exc:
        raise click.ClickException(f"--anchor-id: {exc}") from exc
    _save_draft(draft_path, draft)
    click.echo(f"started {draft_path} for anchor {anchor_id}")


def _jwks_keys(path: str, kids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The ES256 public JWKs of a JWK or JWK Set file, only ``kids`` when given."""
    try:
        document = json.loads(_read(path, "--jwk"))
    except ValueError as exc:
        raise click.ClickException(f"--jwk {path}: not JSON ({exc})") from exc
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        candidates = es256_jwks(document)
    elif isinstance(document, dict) and "kty" in document:
        candidates = [document]
    else:
        raise click.ClickException(f"--jwk {path}: neither a JWK nor a JWK Set")
    found = []
    for index, jwk in enumerate(candidates):
        try:
            public_key_from_jwk(jwk)
        except ValueError as exc:
            name = jwk.get("kid", f"key {index + 1}")
            raise click.ClickException(f"--jwk {path}: {name}: {exc}") from exc
        found.append(jwk)
    if kids:
        by_kid = {jwk.get("kid"): jwk for jwk in found}
        missing = [kid for kid in kids if kid not in by_kid]
        if missing:
            raise click.ClickException(f"--jwk {path}: no ES256 key {', '.join(missing)}")
        found = [by_kid[kid] for kid in kids]
    if not found:
        raise click.ClickException(f"--jwk {path}: no ES256 (P-256) key in it")
    return found


@trust_cli.command("add-key")
@draft_option
@click.option("--jwk", "jwk_path", required=True, help="JWK or JWK Set file (e.g. jwks.json).")
@click.option("--kid", "kids", multiple=True, help="Only this key of the JWK Set (repeatable).")
@click.option("--issuer-id", required=True, help='The issuer\'s id, e.g. "kz-astana-cc-01".')
@click.option("--name-kk", required=True, help="The issuer's name in Kazakh.")
@click.option("--name-ru", required=True, help="The issuer's name in Russian.")
@click.option("--name-en", required=True, help="The issuer's name in English.")
@click.option("--status-list", "status_list", help="URL of the issuer's signed status list.")
@click.option(
    "--competence",
    "competences",
    multiple=True,
    required=True,
    help='A competence code the key may certify (repeatable); "*" for any.',
)
@click.option("--valid-from", required=True, help="ISO 8601: passports signed from then on.")
@click.option("--valid-to", help="ISO 8601: passports signed before then (default: open).")
def add_key(
    draft_path,
    jwk_path,
    kids,
    issuer_id,
    name_kk,
    name_ru,
    name_en,
    status_list,
    competences,
    valid_from,
    valid_to,
):
    """Add an issuer's keys (every ES256 key of the file, or those --kid names) to the draft."""
    draft = _load_draft(draft_path)
    start = parse_moment(valid_from, "--valid-from")
    end = parse_moment(valid_to, "--valid-to") if valid_to else None
    entries = []
    for jwk in _jwks_keys(jwk_path, kids):
        try:
            entries.append(
                trust_draft.key_entry(
                    jwk,
                    issuer_id=issuer_id,
                    issuer_name={"kk": name_kk, "ru": name_ru, "en": name_en},
                    status_list=status_list,
                    competences=list(competences),
                    valid_from=start,
                    valid_to=end,
                )
            )
        except trust.TrustListError as exc:
            raise click.ClickException(f"--jwk {jwk_path}: {exc}") from exc
    try:
        draft = trust_draft.add_keys(draft, entries)
    except trust.TrustListError as exc:
        raise click.ClickException(f"--draft {draft_path}: {exc}") from exc
    _save_draft(draft_path, draft)
    for entry in entries:
        click.echo(f"added {entry['kid']} ({issuer_id}: {', '.join(competences)})")


@trust_cli.command("retire-key")
@draft_option
@click.argument("kid")
@click.option("--at", "at_text", help="ISO 8601 (default: now): it signs nothing from then on.")
def retire_key(draft_path, kid, at_text):
    """Retire a key: it verifies what it signed before --at and nothing later."""
    draft = _load_draft(draft_path)
    at = _moment(at_text, "--at")
    try:
        draft = trust_draft.retire_key(draft, kid, at)
    except trust.TrustListError as exc:
        raise click.ClickException(f"--draft {draft_path}: {exc}") from exc
    _save_draft(draft_path, draft)
    click.echo(f"retired {kid} at {_iso(at)}")


def _numbers(path: str) -> list[str]:
    """Passport numbers, one a line; blank lines and lines starting with # are skipped."""
    numbers = []
    for line_number, line in enumerate(_read(path, "--issued-before").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if parse_passport_number(text) is None:
            raise click.ClickException(
                f"--issued-before {path}, line {line_number}: {text!r} is not a passport number"
            )
        numbers.append(normalise_number(text))
    return numbers


@trust_cli.command("compromise-key")
@draft_option
@click.argument("kid")
@click.option("--at", "at_text", required=True, help="ISO 8601: when the key was compromised.")
@click.option(
    "--issued-before",
    "numbers_path",
    required=True,
    help="File of the passport numbers it signed before (one a line; may be empty).",
)
def compromise_key(draft_path, kid, at_text, numbers_path):
    """Mark a key compromised: it verifies only the passports the --issued-before file lists."""
    draft = _load_draft(draft_path)
    at = parse_moment(at_text, "--at")
    numbers = _numbers(numbers_path)
    try:
        draft = trust_draft.compromise_key(draft, kid, at, numbers)
    except trust.TrustListError as exc:
        raise click.ClickException(f"--draft {draft_path}: {exc}") from exc
    _save_draft(draft_path, draft)
    click.echo(f"compromised {kid} at {_iso(at)}; {len(set(numbers))} passport(s) still verify")


@trust_cli.command("sign")
@draft_option
@click.option("--anchor", "anchor_path", required=True, help="The anchor key file (PEM).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="JWS file.")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    default=DEFAULT_DAYS,
    show_default=True,
    help="The list expires this many days after signing.",
)
@click.option("--passphrase-file", type=click.Path(dir_okay=False), help="Passphrase file.")
def sign(draft_path, anchor_path, out, days, passphrase_file):
    """Sign the draft with the anchor: seq + 1, iat now, exp now + --days; write --out."""
    draft = _load_draft(draft_path)
    public_path = trust.anchor_public_path(anchor_path)
    try:
        anchor_jwk = trust.load_anchor_jwk(str(public_path))
    except trust.TrustListError as exc:
        raise click.ClickException(f"--anchor {anchor_path}: {exc}") from exc
    if trust.anchor_is_development(anchor_jwk) != draft["development"]:
        raise click.ClickException(
            f"--anchor {anchor_path}: a development anchor signs development lists only, and "
            f'only it does ("development" of the draft is {str(draft["development"]).lower()})'
        )
    try:
        key = trust.load_anchor_key(anchor_path, _passphrase(passphrase_file, confirm=False))
    except trust.AnchorKeyError as exc:
        raise click.ClickException(f"--anchor {anchor_path}: {exc}") from exc
    if key_id(key) != anchor_jwk["kid"]:
        raise click.ClickException(
            f"--anchor {anchor_path}: the key is not the one of {public_path}"
        )
    now = int(time.time())
    try:
        payload = trust_draft.payload_of(draft, now, now + days * 86_400)
        text = trust.sign_trust_list(payload, key)
    except trust.TrustListError as exc:
        raise click.ClickException(f"--draft {draft_path}: {exc}") from exc
    write_atomically(out, text + "\n")
    _save_draft(draft_path, {**draft, "seq": payload["seq"]})
    click.echo(
        f"signed {out}: seq {payload['seq']}, {len(payload['keys'])} key(s), "
        f"expires {_iso(payload['exp'])}"
    )


def _describe(payload: dict[str, Any], verified: str) -> None:
    kind = " (development)" if payload.get("development") else ""
    click.echo(f"anchor:  {payload.get('anchor')}{kind}")
    click.echo(f"seq:     {payload.get('seq')}")
    if "iat" in payload:
        click.echo(f"issued:  {_iso(payload['iat'])}")
        click.echo(f"expires: {_iso(payload['exp'])}")
    click.echo(f"signature: {verified}")
    for entry in payload.get("keys", []):
        validity = f"{_iso(entry['valid_from'])} .. {_iso(entry['valid_to'])}"
        click.echo(
            f"{entry['kid']}\t{entry['status']}\t{entry['issuer']['id']}\t"
            f"{','.join(entry['competences'])}\t{validity}"
        )
        if entry["status"] == "compromised":
            listed = len(entry["issued_before_compromise"])
            click.echo(f"\tcompromised at {_iso(entry['compromised_at'])}; {listed} listed")


@trust_cli.command("show")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--anchor", "anchor_source", help="Check the signature with this public JWK.")
@click.option("--json", "as_json", is_flag=True, help="Print the payload as JSON.")
def show(path, anchor_source, as_json):
    """Show a signed list (checked when --anchor is given) or a draft."""
    text = _read(path, "FILE").strip()
    try:
        if text.startswith("{"):
            payload, verified = trust_draft.read_draft(text), "none (a draft)"
        elif anchor_source:
            trust.read_trust_list(text, trust.load_anchor_jwk(anchor_source))
            payload, verified = trust_draft.unverified_payload(text), "verified with the anchor"
        else:
            payload = trust_draft.unverified_payload(text)
            trust.parse_payload(payload)
            verified = "NOT checked (give --anchor)"
    except trust.TrustListError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        _describe(payload, verified)
