"""The standalone verifier ``skills-passport-verify``: no database, no app configuration.

Other systems (an employer's HR software, another country's registry) run it with the files
a deployment publishes: the anchor's public JWK, the signed trust list, the JWK Set and the
signed status list. ``flask passports verify`` shares its reading and its output, and adds
the deployment's own keys and settings as defaults. Nothing here imports the Flask app or
the models.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric import ec

from passports.moments import numeric_date
from passports.offline import OfflineResult, verify_offline
from passports.status_list import StatusList, StatusListInvalid, read_signed_list
from passports.token import es256_jwks, public_key_from_jwk
from passports.trust import TrustList, TrustListError, load_anchor_jwk, read_trust_list

# exit codes, one per verdict (docs/passport-token.md §8, docs/trust-list.md);
# 1 and 2 stay click's (an unreadable file, a wrong option)
VERDICT_EXIT = {
    "genuine": 0,
    "invalid": 3,
    "revoked": 4,
    "superseded": 5,
    "expired": 6,
    "unchecked": 7,
    "damaged": 8,
    "untrusted": 9,
}
MAX_DOWNLOAD_BYTES = 20_000_000


def parse_moment(text: str, option: str = "--at") -> int:
    """Return the NumericDate of an ISO 8601 moment; one without an offset is UTC."""
    try:
        return numeric_date(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 moment (e.g. 2026-03-01T12:00:00Z)",
            param_hint=option,
        ) from exc


def read_text(source: str, option: str) -> str:
    """Read a file, or an http(s) URL; a clear click error naming the option otherwise."""
    if source.startswith(("https://", "http://")):
        try:
            with urllib.request.urlopen(source, timeout=20) as response:  # noqa: S310 - http(s) only
                return response.read(MAX_DOWNLOAD_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{option} {source}: cannot fetch ({exc})") from exc
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{option} {source}: cannot read ({exc})") from exc


def load_jwks(source: str) -> dict[str, ec.EllipticCurvePublicKey]:
    """The ES256 keys of a JWK Set by kid (keys of other types, e.g. RS256, are skipped)."""
    try:
        document = json.loads(read_text(source, "--jwks"))
        return {k["kid"]: public_key_from_jwk(k) for k in es256_jwks(document) if "kid" in k}
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"--jwks {source}: not a JWK Set of P-256 keys ({exc})") from exc


def load_anchor(source: str) -> dict[str, Any]:
    """The anchor's public JWK from a file (or the JWK JSON itself)."""
    try:
        return load_anchor_jwk(source)
    except TrustListError as exc:
        raise click.ClickException(f"--anchor {source}: {exc}") from exc


def load_status(source: str, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> StatusList:
    """Verify and decode a signed status list (a file or an http(s) URL)."""
    try:
        return read_signed_list(read_text(source, "--status"), keys)
    except StatusListInvalid as exc:
        raise click.ClickException(
            f"--status {source}: the status list is not valid: {exc}"
        ) from exc


def run(
    url_or_token: str,
    *,
    keys: Mapping[str, ec.EllipticCurvePublicKey],
    status_source: str | None,
    trust_text: str | None,
    status_text: str | None = None,
    anchor: Mapping[str, Any] | None,
    at: int | None,
    max_age: int | None,
) -> OfflineResult:
    """Read the status list with every key known (JWK Set and trust list), then verify.

    ``status_text`` is a signed status list already at hand (the deployment's own), used
    when no ``status_source`` is given.
    """
    every_key = dict(keys)
    listed: TrustList | str | None = trust_text
    if trust_text is not None and anchor is not None:
        try:
            listed = read_trust_list(trust_text, anchor)  # read once, for both uses
            every_key.update(listed.public_keys())
        except TrustListError:
            pass  # verify_offline reads the text again to say why it is not usable
    if status_source:
        status_list = load_status(status_source, every_key)
    elif status_text is not None:
        status_list = read_signed_list(status_text, every_key)
    else:
        status_list = None
    return verify_offline(
        url_or_token,
        keys,
        status_list,
        max_age=max_age,
        trust_list=listed,
        anchor=anchor,
        at=at,
    )


def report(result: OfflineResult, as_json: bool) -> None:
    """Print the verdict (text or JSON) and exit with its code."""
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.status.upper())
        data = result.as_dict()
        if result.claims is not None:
            claims = data["claims"]
            click.echo(f"number:     {claims['number']}")
            click.echo(f"holder:     {claims['holder_name']}")
            click.echo(f"competence: {claims['competence_code']}")
            click.echo(f"total:      {claims['total']}  grade: {claims['grade']}")
            if claims["profile"] is not None:
                percents = " ".join(str(percent) for percent in claims["profile"])
                click.echo(f"profile:    {percents}  (% of each WSOS section's maximum)")
        if result.issuer is not None:
            click.echo(f"issuer:     {result.issuer['id']} ({result.issuer['name']['en']})")
        if result.kid is not None:
            click.echo(f"key:        {result.kid}")
        if result.detail:
            click.echo(f"detail:     {result.detail}")
    sys.exit(VERDICT_EXIT[result.status])


def read_trust_text(path: str | None) -> str | None:
    return None if path is None else read_text(path, "--trust-list")


@click.command(
    "skills-passport-verify",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.argument("url_or_token")
@click.option(
    "--anchor",
    "anchor_source",
    envvar="TRUST_ANCHOR_JWK",
    help=("The trust anchor's public JWK: a file or the JSON (default: $TRUST_ANCHOR_JWK)."),
)
@click.option("--trust-list", "trust_source", help="Signed trust list: a file or an http(s) URL.")
@click.option("--jwks", "jwks_source", help="The issuer's JWK Set: a file or an http(s) URL.")
@click.option("--status", "status_source", help="Signed status list: a file or an http(s) URL.")
@click.option("--at", "at_text", help="Verify as at this ISO 8601 moment (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def main(url_or_token, anchor_source, trust_source, jwks_source, status_source, at_text, as_json):
    """Verify a Skills Passport offline: its signature, its issuer's authority, its status.

    Exits 0 genuine (needs --trust-list, --anchor and --status), 3 invalid, 4 revoked,
    5 superseded, 6 expired, 7 unchecked (no usable trust or status list), 8 damaged (a
    cut-off link), 9 untrusted (a key the trust list does not allow for this passport).
    """
    if trust_source and not anchor_source:
        raise click.UsageError("--trust-list needs --anchor (the anchor's public JWK)")
    if not trust_source and not jwks_source:
        raise click.UsageError("give --trust-list (with --anchor) or --jwks: keys to verify with")
    anchor = load_anchor(anchor_source) if anchor_source else None
    keys = load_jwks(jwks_source) if jwks_source else {}
    at = parse_moment(at_text) if at_text else None
    result = run(
        url_or_token,
        keys=keys,
        status_source=status_source,
        trust_text=read_trust_text(trust_source),
        anchor=anchor,
        at=at,
        max_age=None,
    )
    report(result, as_json)


if __name__ == "__main__":  # pragma: no cover - `python -m passports.verifier`
    main()
