"""Passport pages.

``passports`` (public): the QR verification page ``/V`` (the token stays in the URL fragment;
the page's script verifies it in the browser and asks ``POST /api/v1/verify`` for the live
status), the JWK Set, the signed status lists, the manual check by number + code, the share
page and the graduate's private page.

``passport_admin`` (signed in): passports by exam with the issue button, a passport's page
with revoke / re-issue / new private link, PDF and CSV downloads, and the signing keys.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select

from app import metrics
from app.auth.permissions import has_permission, public, requires
from app.extensions import db, limiter
from app.i18n import current_locale
from app.navigation import add_nav
from assessments import access
from assessments.iin import InvalidIIN, validate_iin
from assessments.models import Candidate, Exam, Result
from assessments.personal_data import iin_lookup_hash
from passports import cli as passport_cli
from passports.forms import CheckForm, ConfirmForm, HolderChoicesForm, RevokeForm, SearchForm
from passports.messages import (
    STATUS_BADGES,
    STATUS_LABELS,
    SUPERSEDE_REASONS,
    VERIFY_PAGE_TEXTS,
    error_text,
)
from passports.models import Passport, SigningKey
from passports.numbers import NUMBER_PATTERN, normalise_number
from passports.qr import qr_svg
from passports.services import PassportError, issuance, keys, status, verification

STATIC = Path(__file__).resolve().parent / "static"

bp = Blueprint(
    "passports", __name__, static_folder=str(STATIC), static_url_path="/static/passports"
)
admin = Blueprint("passport_admin", __name__, url_prefix="/passports")

add_nav(
    "passport_admin.index",
    _l("Passports"),
    _l("Issue, find and revoke Skills Passports"),
    "passports.view",
    60,
)

PUBLIC_CACHE = "public, max-age=300"


@lru_cache(maxsize=256)
def cached_qr_svg(url: str) -> str:
    """The QR code of a verification URL as SVG, made once per URL and process."""
    return qr_svg(url, module_size=4)


@bp.app_template_filter("decimal_text")
def decimal_text(value: str) -> str:
    """Show a stored decimal string ("87.50") in the user's number format ("87,50")."""
    from app.i18n import format_number

    return format_number(Decimal(value))


def _check_limit() -> str:
    return current_app.config["PASSPORT_CHECK_RATE_LIMIT"]


# --- shared view helpers ----------------------------------------------------------------


def profile_bars(passport: Passport, which: str) -> list:
    """Chart bars of a passport's frozen profile (criteria or sections)."""
    from assessments.charts import Bar

    denominator = passport.snapshot["result"]["denominator"]
    bars = []
    for part in passport.snapshot[which]:
        if which == "criteria":
            label = f"{part['key']}. {part['name']}" if part["name"] else part["key"]
        else:
            name = _localized_names(part["name"])
            label = f"{part['key']}. {name}" if name else part["key"]
        bars.append(
            Bar(
                label,
                Fraction(part["units"], denominator),
                Fraction(part["max_units"], denominator),
            )
        )
    return bars


def profile_chart(passport: Passport, which: str) -> Markup:
    from assessments.charts import profile_chart as chart

    title = (
        _("Skills profile by module")
        if which == "criteria"
        else _("Skills profile by WSOS section")
    )
    return chart(profile_bars(passport, which), title=title, chart_id=f"chart-{which}")


def _localized_names(names: dict[str, str] | None) -> str:
    """Pick the request's language from a {kk, ru, en} dict, falling back to kk, ru, en."""
    names = names or {}
    for code in (current_locale(), "kk", "ru", "en"):
        if names.get(code):
            return names[code]
    return ""


def passport_context(passport: Passport, current_status: str | None = None) -> dict[str, Any]:
    """Everything the passport macros need, from the frozen snapshot (never the IIN)."""
    state = current_status or passport.status()
    fields = verification.public_fields(db.session, passport, state)
    url = verification.passport_url(passport)
    return {
        "passport": passport,
        "fields": fields,
        "status": state,
        "status_label": STATUS_LABELS[state],
        "badge": STATUS_BADGES[state],
        "supersede_reason": SUPERSEDE_REASONS.get(passport.supersede_reason or ""),
        "qr": Markup(cached_qr_svg(url)),  # noqa: S704 - generated SVG, no user text
        "qr_url": url,
        "chart_sections": profile_chart(passport, "sections"),
        "chart_criteria": profile_chart(passport, "criteria"),
        "names": _localized_names,
        "numbers": {key: Decimal(fields["result"][key]) for key in ("total", "max", "percent")},
        "dates": issuance.exam_dates(passport.snapshot),
    }


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- public: verification ---------------------------------------------------------------


@bp.get("/V")
@bp.get("/v")
@public
def verify_page():
    """The page a QR code opens; the token is in the fragment, never sent here."""
    texts = {key: str(value) for key, value in VERIFY_PAGE_TEXTS.items()}
    response = Response(render_template("passports/verify.html", texts=texts))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    response = current_app.response_class(
        current_app.json.dumps(keys.jwks(db.session)), mimetype="application/jwk-set+json"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.get("/status/<purpose>")
@public
def status_list(purpose: str):
    """The signed status list (Bitstring Status List credential as VC-JWT)."""
    if purpose not in ("revocation", "message"):
        abort(404)
    try:
        text = status.signed_list(db.session, purpose)
    except PassportError:
        abort(503)
    response = Response(text, mimetype="application/vc+jwt")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.route("/check", methods=["GET", "POST"])
@public
@limiter.limit(_check_limit, methods=["POST"])
def check():
    """Manual check: passport number + verification code (misses all look the same)."""
    form = CheckForm()
    context: dict[str, Any] = {"form": form, "checked": False}
    if form.validate_on_submit():
        verdict = verification.check_number(db.session, form.number.data, form.code.data)
        metrics.count_verification("check", verdict.status if verdict else "not_found")
        context["checked"] = True
        if verdict is not None:
            context.update(passport_context(verdict.passport, verdict.status))
            context["found"] = True
        else:
            context["found"] = False
    return _no_store(Response(render_template("passports/check.html", **context)))


@bp.get("/s/<slug>")
@public
def share(slug: str):
    """The holder's public share link."""
    passport = verification.find_by_share_slug(db.session, slug)
    if passport is None:
        abort(404)
    response = Response(render_template("passports/share.html", **passport_context(passport)))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- public: the graduate's private page ------------------------------------------------


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
        issuance.set_holder_choices(
            db.session,
            passport,
            share_enabled=form.share_enabled.data,
            lookup_enabled=form.lookup_enabled.data,
        )
        db.session.commit()
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("passports.holder", token=token))
    from passports.credentials import linkedin_url

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    share_url = f"{base}{url_for('passports.share', slug=passport.share_slug)}"
    context = passport_context(passport)
    cert_url = share_url if passport.share_enabled else context["qr_url"]
    context.update(
        form=form,
        token=token,
        share_url=share_url,
        linkedin=linkedin_url(passport, cert_url),
    )
    return _no_store(Response(render_template("passports/holder.html", **context)))


def _pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _pdf_or_error(passport: Passport) -> Response:
    from passports.pdf import passport_pdf

    try:
        data = passport_pdf(passport)
    except PassportError as exc:
        current_app.logger.error("passport PDF %s: %s", passport.number, exc)
        abort(503)
    return _pdf_response(data, f"skills-passport-{passport.number}.pdf")


@bp.get("/my/<token>/passport.pdf")
@public
def holder_pdf(token: str):
    return _pdf_or_error(_holder_passport(token))


@bp.get("/my/<token>/credential.jwt")
@public
def holder_credential(token: str):
    """The Open Badges 3.0 credential as a VC-JWT, for digital wallets."""
    from passports.credentials import signed_credential

    passport = _holder_passport(token)
    try:
        text = signed_credential(db.session, passport)
    except PassportError:
        abort(503)
    response = Response(text, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="skills-passport-{passport.number}.jwt"'
    )
    return _no_store(response)


# --- staff pages ------------------------------------------------------------------------


def _visible_exam(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        abort(404)
    if not access.can_view_exam(current_user, exam):
        abort(403)
    return exam


def _visible_passport(number: str) -> Passport:
    passport = verification.find_by_number(db.session, number)
    if passport is None:
        abort(404)
    exam = db.session.get(Exam, passport.exam_id)
    if exam is None or not access.can_view_exam(current_user, exam):
        abort(403)
    return passport


# an IIN may be typed with spaces, dashes, dots or slashes between its digits
_IIN_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−./]")
FOUND_LIMIT = 50


def may_hold_an_iin(text: str) -> bool:
    """Whether a search text may hold (part of) an IIN, which must never reach a URL.

    Rule: six or more digits, unless the text is a passport number (``26-000123-4``) of
    fewer than 12 digits.
    """
    digits = sum(char.isdigit() for char in text)
    if digits < 6:
        return False
    return digits >= 12 or NUMBER_PATTERN.fullmatch(normalise_number(text)) is None


def _typed_iin(text: str) -> str | None:
    """The valid IIN typed as ``text`` (separators allowed), else None."""
    digits = _IIN_SEPARATORS.sub("", text)
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return validate_iin(digits)
    except InvalidIIN:
        return None


def _search(text: str, iin: str | None = None):
    """The passports of exams the user may see whose number, holder's name or IIN match."""
    visible = access.visible_exams(current_user).with_only_columns(Exam.id)
    matches = [
        Passport.number == normalise_number(text),
        func.lower(Passport.holder_name).like(f"%{text.lower()}%"),
        Passport.holder_name.like(f"%{text}%"),
    ]
    if iin is not None:
        holders = select(Candidate.id).where(Candidate.iin_hash == iin_lookup_hash(iin))
        matches.append(Passport.candidate_id.in_(holders))
    return (
        select(Passport)
        .where(Passport.exam_id.in_(visible), or_(*matches))
        .order_by(Passport.id.desc())
    )


def _index_page(query: str = "", page: Any = None, found: list[Passport] | None = None):
    """The passports page; ``page`` holds a listed search, ``found`` an IIN search's hits."""
    exams_query = (
        access.visible_exams(current_user)
        .where(Exam.status == "finalised")
        .order_by(Exam.start_date.desc(), Exam.id.desc())
        .limit(100)
    )
    exams = list(db.session.scalars(exams_query).unique())
    ids = [e.id for e in exams]
    passed = dict(
        db.session.execute(
            select(Result.exam_id, func.count())
            .where(Result.exam_id.in_(ids), Result.passed.is_(True))
            .group_by(Result.exam_id)
        ).all()
    )
    current = dict(
        db.session.execute(
            select(Passport.exam_id, func.count())
            .where(
                Passport.exam_id.in_(ids),
                Passport.revoked_at.is_(None),
                Passport.superseded_by_id.is_(None),
            )
            .group_by(Passport.exam_id)
        ).all()
    )
    return render_template(
        "passports/admin/index.html",
        # never bound to the posted form: a typed IIN is not sent back to the browser
        search=SearchForm(formdata=None, q=query),
        query=query,
        page=page,
        found=page.items if page is not None else found,
        searched=page is not None or found is not None,
        exams=exams,
        passed=passed,
        current=current,
        status_labels=STATUS_LABELS,
        badges=STATUS_BADGES,
    )


@admin.get("/")
@requires("passports.view")
def index():
    """The passports page; ``?q=`` lists passports by number or holder's name, page by page."""
    query = (request.args.get("q") or "").strip()[:200]
    if not query:
        return _index_page()
    if may_hold_an_iin(query):
        # a hand-made or old address: search by IIN only through the posted form
        flash(_("Search by IIN with the search box: an IIN is never put in a web address."), "info")
        return redirect(url_for("passport_admin.index"))
    page = db.paginate(
        _search(query),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        max_per_page=200,
    )
    return _index_page(query, page=page)


@admin.post("/search")
@requires("passports.view")
def search():
    """Search: by number or name, redirect to the list; by IIN, answer here (no URL holds it)."""
    form = SearchForm()
    text = (form.q.data or "").strip()[:200]
    if not may_hold_an_iin(text):
        return redirect(url_for("passport_admin.index", q=text or None))
    iin = _typed_iin(text)
    found = list(db.session.scalars(_search(text, iin).limit(FOUND_LIMIT)))
    if not found and iin is None:
        flash(_("Enter all 12 digits of a valid IIN to find a passport by IIN."), "info")
    return _no_store(make_response(_index_page(found=found)))


@admin.get("/exams/<int:exam_id>")
@requires("passports.view")
def exam(exam_id: int):
    exam = _visible_exam(exam_id)
    passports = list(
        db.session.scalars(
            select(Passport).where(Passport.exam_id == exam.id).order_by(Passport.sequence)
        )
    )
    passed = db.session.scalar(
        select(func.count()).where(Result.exam_id == exam.id, Result.passed.is_(True))
    )
    return render_template(
        "passports/admin/exam.html",
        exam=exam,
        passports=passports,
        passed=passed,
        current_count=sum(1 for p in passports if p.current),
        form=ConfirmForm(),
        status_labels=STATUS_LABELS,
        badges=STATUS_BADGES,
        can_issue=has_permission(current_user, "passports.issue"),
    )


@admin.post("/exams/<int:exam_id>/issue")
@requires("passports.issue")
def issue(exam_id: int):
    exam = _visible_exam(exam_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        summary = issuance.issue_for_exam(db.session, exam, user=current_user)
    except PassportError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("passport_admin.exam", exam_id=exam.id))
    db.session.commit()
    metrics.count_passports_issued("exam", summary.issued)
    flash(
        _(
            "Issued %(issued)s, already issued %(already)s, not eligible %(not_eligible)s, "
            "superseded %(superseded)s, revoked %(revoked)s.",
            issued=summary.issued,
            already=summary.already_issued,
            not_eligible=summary.not_eligible,
            superseded=summary.superseded,
            revoked=summary.revoked,
        ),
        "success",
    )
    return redirect(url_for("passport_admin.exam", exam_id=exam.id))


@admin.get("/exams/<int:exam_id>/passports.pdf")
@requires("passports.view")
def exam_pdf(exam_id: int):
    from passports.pdf import passports_pdf

    exam = _visible_exam(exam_id)
    passports = passport_cli.exam_passports(exam)
    if not passports:
        flash(_("This exam has no current passports yet."), "warning")
        return redirect(url_for("passport_admin.exam", exam_id=exam.id))
    try:
        data = passports_pdf(passports, f"Skills Passports, exam {exam.id}")
    except PassportError as exc:
        current_app.logger.error("exam %s passports PDF: %s", exam.id, exc)
        abort(503)
    return _pdf_response(data, f"skills-passports-exam-{exam.id}.pdf")


@admin.get("/exams/<int:exam_id>/links.csv")
@requires("passports.view")
def exam_links(exam_id: int):
    exam = _visible_exam(exam_id)
    text = passport_cli.links_csv(passport_cli.exam_passports(exam))
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="passport-links-exam-{exam.id}.csv"'
    )
    return _no_store(response)


@admin.get("/keys")
@requires("keys.manage")
def keys_page():
    rows = sorted(keys.all_keys(db.session), key=lambda k: (k.created_at, k.id), reverse=True)
    counts = dict(
        db.session.execute(select(Passport.kid, func.count()).group_by(Passport.kid)).all()
    )
    return render_template(
        "passports/admin/keys.html", keys=rows, counts=counts, form=ConfirmForm()
    )


@admin.post("/keys/rotate")
@requires("keys.manage")
def rotate_keys():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    key, previous = keys.rotate_key(db.session)
    db.session.commit()
    if previous is None:
        flash(_("Created signing key %(kid)s.", kid=key.kid), "success")
    else:
        flash(
            _(
                "New signing key %(kid)s; %(old)s is retired and keeps verifying.",
                kid=key.kid,
                old=previous.kid,
            ),
            "success",
        )
    return redirect(url_for("passport_admin.keys_page"))


@admin.get("/<number>")
@requires("passports.view")
def detail(number: str):
    passport = _visible_passport(number)
    history = list(
        db.session.scalars(
            select(Passport)
            .where(
                Passport.exam_id == passport.exam_id, Passport.candidate_id == passport.candidate_id
            )
            .order_by(Passport.id)
        )
    )
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = issuance.private_link_token(passport)
    context = passport_context(passport)
    context.update(
        history=history,
        exam=db.session.get(Exam, passport.exam_id),
        private_link=f"{base}{url_for('passports.holder', token=link)}" if link else None,
        share_url=f"{base}{url_for('passports.share', slug=passport.share_slug)}",
        revoke_form=RevokeForm(),
        form=ConfirmForm(),
        status_labels=STATUS_LABELS,
        badges=STATUS_BADGES,
        signing_key=db.session.scalar(select(SigningKey).where(SigningKey.kid == passport.kid)),
    )
    return render_template("passports/admin/detail.html", **context)


@admin.post("/<number>/revoke")
@requires("passports.revoke")
def revoke(number: str):
    passport = _visible_passport(number)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for revoking the passport."), "error")
        return redirect(url_for("passport_admin.detail", number=passport.number))
    try:
        issuance.revoke(db.session, passport, form.reason.data, current_user)
    except PassportError as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
    else:
        db.session.commit()
        flash(_("Passport %(number)s is revoked.", number=passport.number), "success")
    return redirect(url_for("passport_admin.detail", number=passport.number))


@admin.post("/<number>/reissue")
@requires("passports.issue")
def reissue(number: str):
    passport = _visible_passport(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        new = issuance.reissue(db.session, passport, current_user)
    except PassportError as exc:
        if exc.code == "no_longer_eligible":
            db.session.commit()
        else:
            db.session.rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("passport_admin.detail", number=passport.number))
    db.session.commit()
    metrics.count_passports_issued("reissue", 1)
    flash(
        _("Issued %(new)s; %(old)s is superseded.", new=new.number, old=passport.number), "success"
    )
    return redirect(url_for("passport_admin.detail", number=new.number))


@admin.post("/<number>/link")
@requires("passports.issue")
def regenerate_link(number: str):
    passport = _visible_passport(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    issuance.regenerate_link(db.session, passport)
    db.session.commit()
    flash(_("A new private link was made; the old one no longer works."), "success")
    return redirect(url_for("passport_admin.detail", number=passport.number))


@admin.get("/<number>/passport.pdf")
@requires("passports.view")
def pdf(number: str):
    return _pdf_or_error(_visible_passport(number))


def init_app(app) -> None:
    from assessments.services import candidates
    from passports.api import bp as api_bp

    # a candidate holding a passport cannot be erased; their export lists the passports
    if issuance.holds_passport not in candidates.PASSPORT_CHECKS:
        candidates.PASSPORT_CHECKS.append(issuance.holds_passport)
    if all(key != "passports" for key, _section in candidates.EXPORT_SECTIONS):
        candidates.EXPORT_SECTIONS.append(("passports", issuance.personal_data))

    app.register_blueprint(bp)
    app.register_blueprint(admin)
    app.register_blueprint(api_bp)
