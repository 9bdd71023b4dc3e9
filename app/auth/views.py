"""Sign-in, sign-out, password reset and the administrators' user management."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import mail
from app.auth import invitations, services, sessions
from app.auth.events import account_events
from app.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    InviteExpertForm,
    LoginForm,
    NewPasswordForm,
    NewUserForm,
    UserForm,
)
from app.auth.models import ROLES, Invitation, User
from app.auth.permissions import public, requires
from app.db import run_write, utcnow
from app.errors import DATABASE_UNWRITABLE, database_fault
from app.extensions import db, limiter, login_manager
from app.hosts import public_url
from app.i18n import localized
from app.navigation import ROLE_LABELS, add_nav
from app.urls import safe_local_target
from assessments.models import Centre, College

bp = Blueprint("auth", __name__)

add_nav("auth.users", _l("Users"), _l("Accounts and roles"), "users.manage", order=90)
add_nav(
    "auth.centre_experts",
    _l("Experts"),
    _l("Invite experts for your centre"),
    "experts.invite",
    order=85,
)


EVENT_LABELS = {
    "user.invited": _l("Invited by the centre manager"),
    "user.invitation_renewed": _l("New invitation link"),
    "user.invitation_accepted": _l("Invitation accepted, password set"),
    "user.college_changed": _l("College changed"),
}

SESSION_KEY = "sid"  # the server-side session's token inside Flask's signed cookie
# requests that need no signed-in user: no session look-up for them (the verify API answers
# everyone alike; the QR page calls it with the visitor's cookies)
SESSIONLESS_ENDPOINTS = frozenset(
    {"static", "web.asset", "web.healthz", "web.readyz", "passports_api.verify"}
)


@bp.before_app_request
def resume_session() -> None:
    """Find this browser's server-side session; end it when idle or too old, else note activity.

    Runs before any view touches the database, so its commit holds nothing of the view's.
    """
    g.pop("_login_user", None)  # decided afresh for every request
    g.user_session = None
    token = flask_session.get(SESSION_KEY)
    if token is None or request.endpoint in SESSIONLESS_ENDPOINTS:
        return
    row = sessions.find_session(db.session, token)
    limits = sessions.SessionLimits.from_config(current_app.config)
    now = utcnow()
    if row is None or limits.expired(row, now):
        if row is not None:
            _write_session_note(lambda: db.session.delete(row))
        flask_session.pop(SESSION_KEY, None)
        flask_session.pop("_user_id", None)
        g.session_ended = True
        return
    if sessions.activity_due(row, now):
        _write_session_note(lambda: sessions.record_activity(row, now))
    g.user_session = row


def _write_session_note(unit: Callable[[], object]) -> None:
    """Commit a session row's change; a database that cannot write loses only the note.

    One attempt: a note that loses a race is simply taken by the next request.
    """
    try:
        run_write(db.session, unit, attempts=1)
    except SQLAlchemyError as exc:
        if database_fault(exc) != DATABASE_UNWRITABLE:
            raise
        # read-only or full disk: the request may still read; the idle clock waits
        db.session.rollback()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    row = g.get("user_session")
    if row is None or str(row.user_id) != user_id:
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.active else None


def _open_session(user: User) -> str:
    """Open a server-side session for ``user`` (inside a write unit); return its token."""
    sessions.purge_expired(db.session, sessions.SessionLimits.from_config(current_app.config))
    return sessions.start_session(db.session, user)


def _sign_in(user: User, token: str) -> None:
    """Sign ``user`` in this browser with the committed session of ``token``."""
    flask_session[SESSION_KEY] = token
    login_user(user)


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to open this page.")
login_manager.login_message_category = "info"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    return safe_local_target(target) or url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email, password = form.email.data, form.password.data
        address = request.remote_addr or ""
        limits = services.LoginLimits.from_config(current_app.config)

        def unit() -> tuple[User | None, bool]:
            # reads then writes the failure counter: one write unit (lock taken up front)
            try:
                return services.authenticate(db.session, email, password, address, limits), False
            except services.LoginLocked:
                return None, True

        user, locked = run_write(db.session, unit)
        if locked:
            flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            flash(_("Wrong email or password."), "error")
            return render_template("auth/login.html", form=form), 401
        _sign_in(user, run_write(db.session, lambda: _open_session(user)))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, mail=mail.mail_configured())


@bp.post("/logout")
@requires("staff")
def logout():
    token = flask_session.pop(SESSION_KEY, None)
    run_write(db.session, lambda: sessions.end_session(db.session, token))
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("web.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("staff")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            password = form.password.data

            def unit() -> str:
                # every session of the user ends, this one too; this browser gets a new one
                services.set_password(db.session, user, password)
                return _open_session(user)

            _sign_in(user, run_write(db.session, unit))
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("web.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    if not mail.mail_configured():
        abort(404)
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user(db.session, form.email.data)
        if user is not None and user.active:
            # the link's host comes from PUBLIC_BASE_URL, never from the request's Host
            link = public_url(
                "auth.reset_password",
                token=services.ResetTokens.from_config(current_app.config).issue(user),
            )
            body = _("To set a new password for Skills Passport, open this link:") + f"\n\n{link}\n"
            # sent after the response: a known address answers as fast as an unknown one
            mail.send_after_response(user.email, _("Password reset"), body)
        # the same answer whether the address exists or not
        flash(_("If the address belongs to an account, a reset link is on its way."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    user = services.ResetTokens.from_config(current_app.config).user_for(db.session, token)
    if user is None:
        flash(_("This reset link is not valid any more. Ask for a new one."), "error")
        return redirect(url_for("auth.login"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        password = form.password.data
        run_write(db.session, lambda: services.set_password(db.session, user, password))
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


# --- administrators: users -------------------------------------------------


def _fill_choices(form: UserForm) -> None:
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in ROLES]
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    form.centre_id.choices = [(0, "—")] + [(c.id, f"{c.code} — {localized(c)}") for c in centres]
    _college_choices(form)


@bp.get("/admin/users")
@requires("users.manage")
def users():
    rows = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    invited = set(
        db.session.scalars(select(Invitation.user_id).where(Invitation.used_at.is_(None)))
    )
    return render_template("auth/users.html", users=rows, role_labels=ROLE_LABELS, invited=invited)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires("users.manage")
def create_user():
    form = NewUserForm()
    _fill_choices(form)
    if form.validate_on_submit():
        values = {
            "email": form.email.data,
            "name": form.name.data,
            "role": form.role.data,
            "password": form.password.data,
            "centre_id": form.centre_id.data or None,
            "college_id": form.college_id.data or None,
            "active": form.active.data,
        }
        try:
            run_write(db.session, lambda: services.create_user(db.session, **values))
        except services.AccountError as exc:
            getattr(form, exc.field or "email").errors.append(exc.translated())
        else:
            flash(_("User %(email)s created.", email=form.email.data), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    _fill_choices(form)
    if request.method == "GET":
        form.centre_id.data = user.centre_id or 0
        form.college_id.data = user.college_id or 0
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            flash(_("You cannot remove your own administrator access."), "error")
        else:
            values = {
                "email": form.email.data,
                "name": form.name.data,
                "role": form.role.data,
                "centre_id": form.centre_id.data or None,
                "college_id": form.college_id.data or None,
                "active": form.active.data,
                "actor": current_user._get_current_object(),
            }
            try:
                run_write(db.session, lambda: services.update_user(db.session, user, **values))
            except services.AccountError as exc:
                getattr(form, exc.field or "email").errors.append(exc.translated())
            else:
                flash(_("Changes saved."), "success")
                return redirect(url_for("auth.users"))
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        password_form=NewPasswordForm(prefix="pw"),
        events=account_events(db.session, user),
        event_labels=EVENT_LABELS,
    )


@bp.post("/admin/users/<int:user_id>/password")
@requires("users.manage")
def reset_user_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = NewPasswordForm(prefix="pw")
    if form.validate_on_submit():
        password = form.password.data
        run_write(db.session, lambda: services.set_password(db.session, user, password))
        flash(_("The password of %(email)s has been reset.", email=user.email), "success")
        return redirect(url_for("auth.edit_user", user_id=user.id))
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")
    return redirect(url_for("auth.edit_user", user_id=user.id))


# --- centre managers: inviting experts -------------------------------------------


def _college_choices(form: UserForm | InviteExpertForm) -> None:
    colleges = db.session.scalars(select(College).order_by(College.code)).all()
    form.college_id.choices = [(0, "—")] + [(c.id, f"{c.code} — {localized(c)}") for c in colleges]


def _experts_page(form: InviteExpertForm, status: int = 200, **extra):
    """The manager's experts (of their centre), each with their invitation, and the form."""
    centre_id = current_user.centre_id
    people = []
    if centre_id is not None:
        people = db.session.scalars(
            select(User)
            .where(User.centre_id == centre_id, User.role.in_(("expert", "chief_expert")))
            .order_by(User.name)
        ).all()
    pending = {
        i.user_id: i
        for i in db.session.scalars(
            select(Invitation).where(
                Invitation.user_id.in_([u.id for u in people]), Invitation.used_at.is_(None)
            )
        )
    }
    return render_template(
        "auth/centre_experts.html",
        form=form,
        experts=people,
        pending=pending,
        now=utcnow(),
        role_labels=ROLE_LABELS,
        mail=mail.mail_configured(),
        **extra,
    ), status


def _share_link(user: User, token: str) -> str:
    """Return the invitation link (on PUBLIC_BASE_URL); e-mail it too when mail is set up."""
    link = public_url("auth.accept_invitation", token=token)
    if mail.mail_configured():
        body = (
            _(
                "%(manager)s invites you to mark demonstration exams in Skills Passport. "
                "Open this link to set your password:",
                manager=current_user.name,
            )
            + f"\n\n{link}\n"
        )
        mail.send_after_response(user.email, _("Invitation to Skills Passport"), body)
    return link


@bp.get("/centre/experts")
@requires("experts.invite")
def centre_experts():
    return _experts_page(_fresh_invite_form())


@bp.post("/centre/experts")
@requires("experts.invite")
def invite_expert():
    form = InviteExpertForm()
    _college_choices(form)
    if not form.validate_on_submit():
        return _experts_page(form, 422)
    manager = current_user._get_current_object()
    settings = invitations.InvitationSettings.from_config(current_app.config)
    values = {
        "email": form.email.data,
        "name": form.name.data,
        "college_id": form.college_id.data or None,
    }
    try:
        user, token = run_write(
            db.session,
            lambda: invitations.invite_expert(
                db.session, manager=manager, settings=settings, now=utcnow(), **values
            ),
        )
    except services.AccountError as exc:
        target = getattr(form, exc.field, None) if exc.field else None
        (target or form.email).errors.append(exc.translated())
        return _experts_page(form, 422)
    # shown once, on this page: the link never travels in a cookie or a redirect
    return _experts_page(_fresh_invite_form(), invited=user, link=_share_link(user, token))


def _fresh_invite_form() -> InviteExpertForm:
    form = InviteExpertForm(formdata=None)
    _college_choices(form)
    return form


@bp.post("/centre/experts/<int:user_id>/link")
@requires("experts.invite")
def renew_invitation(user_id: int):
    if not FlaskForm().validate_on_submit():  # the CSRF token only
        abort(400)
    user = db.session.get(User, user_id)
    if user is None or user.centre_id != current_user.centre_id:
        abort(404)
    manager = current_user._get_current_object()
    settings = invitations.InvitationSettings.from_config(current_app.config)
    try:
        token = run_write(
            db.session,
            lambda: invitations.renew_invitation(
                db.session, manager=manager, user=user, settings=settings, now=utcnow()
            ),
        )
    except services.AccountError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("auth.centre_experts"))
    return _experts_page(_fresh_invite_form(), invited=user, link=_share_link(user, token))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str):
    invitation = invitations.pending_invitation(db.session, token, utcnow())
    if invitation is None:
        flash(
            _("This invitation link is not valid any more. Ask your centre manager for a new one."),
            "error",
        )
        return redirect(url_for("auth.login"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        password = form.password.data
        try:
            run_write(
                db.session,
                lambda: invitations.accept_invitation(db.session, token, password, utcnow()),
            )
        except services.AccountError as exc:
            form.password.errors.append(exc.translated())
        else:
            flash(
                _("Your password is set. Sign in with your e-mail address and this password."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)
