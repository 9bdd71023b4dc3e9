"""Staff passport pages on the ``passport_admin`` blueprint (signed in).

Passports by exam with the issue button, search by number, name or IIN (never in a URL), a
passport's page with revoke / re-issue / new private link, PDF and CSV downloads, and the
signing keys.
"""

from __future__ import annotations

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
from sqlalchemy import Select, func, select

from app import metrics
from app.auth.permissions import has_permission, requires
from app.db import run_write
from app.extensions import db
from app.navigation import add_nav
from assessments import access
from assessments.models import Exam, ExamStatus, Result
from passports.forms import ConfirmForm, RevokeForm, SearchForm
from passports.messages import STATUS_BADGES, STATUS_LABELS
from passports.models import Passport, SigningKey
from passports.pdf import passports_pdf
from passports.services import PassportError, exports, holders, issuance, keys, verification
from passports.services.search import may_hold_an_iin, search_query, typed_iin
from passports.settings import current_settings
from passports.views.common import no_store, passport_context, pdf_or_error, pdf_response

bp = Blueprint("passport_admin", __name__, url_prefix="/passports")

add_nav(
    "passport_admin.index",
    _l("Passports"),
    _l("Issue, find and revoke Skills Passports"),
    "passports.view",
    60,
)


def _visible_exam(exam_id: int) -> Exam:
    """Return the exam; 404 when it does not exist or the user may not see it."""
    return access.visible_exam(db.session, current_user, exam_id) or abort(404)


def _visible_passport(number: str) -> Passport:
    passport = verification.find_by_number(db.session, number)
    if passport is None:
        abort(404)
    if access.visible_exam(db.session, current_user, passport.exam_id) is None:
        abort(404)  # the same answer as a number that does not exist
    return passport


FOUND_LIMIT = 50


def _visible_exam_ids() -> Select:
    return access.visible_exams(current_user).with_only_columns(Exam.id)


def _index_page(query: str = "", page: Any = None, found: list[Passport] | None = None):
    """The passports page; ``page`` holds a listed search, ``found`` an IIN search's hits."""
    exams_query = (
        access.visible_exams(current_user)
        .where(Exam.status == ExamStatus.FINALISED)
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
    to_issue = issuance.issuable_counts(db.session, ids)
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
        to_issue=to_issue,
        status_labels=STATUS_LABELS,
        badges=STATUS_BADGES,
    )


@bp.get("/")
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
        search_query(_visible_exam_ids(), query),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        max_per_page=200,
    )
    return _index_page(query, page=page)


@bp.post("/search")
@requires("passports.view")
def search():
    """Search: by number or name, redirect to the list; by IIN, answer here (no URL holds it)."""
    form = SearchForm()
    text = (form.q.data or "").strip()[:200]
    if not may_hold_an_iin(text):
        return redirect(url_for("passport_admin.index", q=text or None))
    iin = typed_iin(text)
    query = search_query(_visible_exam_ids(), text, iin)
    found = list(db.session.scalars(query.limit(FOUND_LIMIT)))
    if not found and iin is None:
        flash(_("Enter all 12 digits of a valid IIN to find a passport by IIN."), "info")
    return no_store(make_response(_index_page(found=found)))


@bp.get("/exams/<int:exam_id>")
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


@bp.post("/exams/<int:exam_id>/issue")
@requires("passports.issue")
def issue(exam_id: int):
    exam = _visible_exam(exam_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    settings = current_settings()
    try:
        summary = run_write(
            db.session,
            lambda: issuance.issue_for_exam(db.session, settings, exam, user=current_user),
        )
    except PassportError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("passport_admin.exam", exam_id=exam.id))
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


@bp.get("/exams/<int:exam_id>/passports.pdf")
@requires("passports.view")
def exam_pdf(exam_id: int):
    exam = _visible_exam(exam_id)
    passports = exports.exam_passports(db.session, exam)
    if not passports:
        flash(_("This exam has no current passports yet."), "warning")
        return redirect(url_for("passport_admin.exam", exam_id=exam.id))
    try:
        data = passports_pdf(passports, f"Skills Passports, exam {exam.id}")
    except PassportError as exc:
        current_app.logger.error("exam %s passports PDF: %s", exam.id, exc)
        abort(503)
    return pdf_response(data, f"skills-passports-exam-{exam.id}.pdf")


@bp.get("/exams/<int:exam_id>/links.csv")
@requires("passports.view")
def exam_links(exam_id: int):
    exam = _visible_exam(exam_id)
    text = exports.links_csv(exports.exam_passports(db.session, exam), current_settings())
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="passport-links-exam-{exam.id}.csv"'
    )
    return no_store(response)


@bp.get("/keys")
@requires("keys.manage")
def keys_page():
    rows = sorted(keys.all_keys(db.session), key=lambda k: (k.created_at, k.id), reverse=True)
    counts = dict(
        db.session.execute(select(Passport.kid, func.count()).group_by(Passport.kid)).all()
    )
    return render_template(
        "passports/admin/keys.html", keys=rows, counts=counts, form=ConfirmForm()
    )


@bp.post("/keys/rotate")
@requires("keys.manage")
def rotate_keys():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    key, previous = run_write(db.session, lambda: keys.rotate_key(db.session, current_settings()))
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


@bp.get("/<number>")
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
    link = holders.private_link_token(current_settings(), passport)
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


@bp.post("/<number>/revoke")
@requires("passports.revoke")
def revoke(number: str):
    passport = _visible_passport(number)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for revoking the passport."), "error")
        return redirect(url_for("passport_admin.detail", number=passport.number))
    reason = form.reason.data
    try:
        run_write(db.session, lambda: issuance.revoke(db.session, passport, reason, current_user))
    except PassportError as exc:
        flash(exc.translated(), "error")
    else:
        flash(_("Passport %(number)s is revoked.", number=passport.number), "success")
    return redirect(url_for("passport_admin.detail", number=passport.number))


@bp.post("/<number>/reissue")
@requires("passports.issue")
def reissue(number: str):
    passport = _visible_passport(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    settings = current_settings()
    try:
        outcome = run_write(
            db.session, lambda: issuance.reissue(db.session, settings, passport, current_user)
        )
    except PassportError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("passport_admin.detail", number=passport.number))
    if outcome.new is None:
        flash(_("The holder no longer qualifies, so the passport was revoked."), "error")
        return redirect(url_for("passport_admin.detail", number=passport.number))
    new = outcome.new
    metrics.count_passports_issued("reissue", 1)
    flash(
        _("Issued %(new)s; %(old)s is superseded.", new=new.number, old=passport.number), "success"
    )
    return redirect(url_for("passport_admin.detail", number=new.number))


@bp.post("/<number>/link")
@requires("passports.issue")
def regenerate_link(number: str):
    passport = _visible_passport(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_write(db.session, lambda: holders.regenerate_link(db.session, current_settings(), passport))
    flash(_("A new private link was made; the old one no longer works."), "success")
    return redirect(url_for("passport_admin.detail", number=passport.number))


@bp.get("/<number>/passport.pdf")
@requires("passports.view")
def pdf(number: str):
    return pdf_or_error(_visible_passport(number))
