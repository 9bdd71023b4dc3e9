"""The graduate's private pages, reached by the private link ``/my/<token>``: their
choices (share link, lookup), the PDF and the Open Badges credential. The routes are on
the public ``passports`` blueprint, so their endpoints are ``passports.holder…``."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.permissions import public
from app.db import run_write
from app.extensions import db
from passports.credentials import linkedin_url, signed_credential
from passports.forms import HolderChoicesForm
from passports.models import Passport
from passports.services import PassportError, holders, secrets, verification
from passports.settings import current_settings
from passports.views.common import no_store, passport_context, pdf_or_error
from passports.views.public import bp


def _holder_passport(token: str) -> Passport:
    passport = verification.find_by_private_link(db.session, token)
    if passport is None:
        abort(404)
    return passport


@bp.route("/my/<token>", methods=["GET", "POST"])
@public
def holder(token: str):
    passport = _holder_passport(token)
    form = HolderChoicesForm(
        data=None
        if request.method == "POST"
        else {"share_enabled": passport.share_enabled, "lookup_enabled": passport.lookup_enabled}
    )
    if form.validate_on_submit():
        share, lookup = form.share_enabled.data, form.lookup_enabled.data
        run_write(
            db.session,
            lambda: holders.set_holder_choices(
                db.session, passport, share_enabled=share, lookup_enabled=lookup
            ),
        )
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("passports.holder", token=token))
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    share_url = f"{base}{url_for('passports.share', slug=passport.share_slug)}"
    context = passport_context(passport)
    cert_url = share_url if passport.share_enabled else context["qr_url"]
    context.update(
        form=form,
        token=token,
        share_url=share_url,
        code=secrets.printed_code(current_settings(), passport.number, passport.code_nonce),
        linkedin=linkedin_url(passport, cert_url),
    )
    return no_store(Response(render_template("passports/holder.html", **context)))


@bp.get("/my/<token>/passport.pdf")
@public
def holder_pdf(token: str):
    return pdf_or_error(_holder_passport(token))


@bp.get("/my/<token>/credential.jwt")
@public
def holder_credential(token: str):
    """The Open Badges 3.0 credential as a VC-JWT, for digital wallets."""
    passport = _holder_passport(token)
    try:
        text = signed_credential(db.session, passport)
    except PassportError:
        abort(503)
    response = Response(text, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="skills-passport-{passport.number}.jwt"'
    )
    return no_store(response)
