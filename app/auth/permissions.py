"""The single authorisation mechanism: permissions granted to roles, checked per route.

Every view is decorated with ``@requires(PERMISSION)`` or ``@public``; a view
with neither is refused at request time (and fails the route-table test), so a
forgotten check cannot ship.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

STAFF = frozenset({"admin", "centre_manager", "chief_expert", "expert"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # signed in at all
    "staff": STAFF,
    "users.manage": frozenset({"admin"}),
    # a centre manager invites experts for their own centre (app/auth/invitations.py)
    "experts.invite": frozenset({"centre_manager"}),
    "reference.view": STAFF,
    "reference.manage": frozenset({"admin"}),
    "candidates.view": frozenset({"admin", "centre_manager", "chief_expert"}),
    "candidates.manage": frozenset({"admin", "centre_manager"}),
    "candidates.personal_data": frozenset({"admin"}),
    "schemes.view": STAFF,
    "schemes.manage": frozenset({"admin"}),
    # exams: object-level scoping in assessments/access.py decides which exams
    "exams.view": STAFF,
    "exams.manage": frozenset({"admin", "centre_manager"}),
    "exams.reopen": frozenset({"admin"}),
    "exams.early_marking": frozenset({"admin"}),
    "marks.enter": frozenset({"chief_expert", "expert"}),
    "forms.lock": frozenset({"chief_expert"}),
    "results.view": frozenset({"admin", "centre_manager", "chief_expert"}),
    # passports: centre managers see (and hand over) those of their centre's exams
    "passports.view": frozenset({"admin", "centre_manager"}),
    "passports.issue": frozenset({"admin"}),
    "passports.revoke": frozenset({"admin"}),
    "keys.manage": frozenset({"admin"}),
    # reports: centre managers see their centre's figures only (reports/services.py)
    "reports.view": frozenset({"admin", "centre_manager"}),
}

PUBLIC_ENDPOINTS = frozenset({"static"})

SESSION_ENDED = _l("Your session has ended. Please sign in again.")


def has_permission(user: Any, permission: str) -> bool:
    """Return True when ``user`` is signed in, active and holds ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(getattr(user, "is_authenticated", False) and user.role in PERMISSIONS[permission])


def requires(permission: str) -> Callable[[F], F]:
    """Allow the view only to signed-in users whose role holds ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                if g.get("session_ended"):
                    flash(SESSION_ENDED, "info")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in PERMISSIONS[permission]:
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorate


def public(view: F) -> F:
    """Mark a view as open to everyone, signed in or not."""
    view.public = True
    return view


def view_policy(app: Flask, endpoint: str) -> str | None:
    """Return "public", the permission name, or None when the view declares neither."""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith(".static"):
        return "public"
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    if getattr(view, "public", False):
        return "public"
    return getattr(view, "permission", None)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_undeclared_views() -> None:
        endpoint = request.endpoint
        if endpoint and view_policy(current_app, endpoint) is None:
            current_app.logger.error("view %s declares no permission", endpoint)
            abort(403)
