"""Main-menu entries: each package registers its pages with the permission they need."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.permissions import has_permission
from app.i18n import current_locale


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # lazy string
    hint: object
    permission: str
    order: int = 100


_ENTRIES: list[NavEntry] = []

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "centre_manager": _l("Centre manager"),
    "chief_expert": _l("Chief expert"),
    "expert": _l("Expert"),
}


def add_nav(endpoint: str, label, hint, permission: str, order: int = 100) -> None:
    """Register a main-menu entry shown to users holding ``permission``."""
    if all(e.endpoint != endpoint for e in _ENTRIES):
        _ENTRIES.append(NavEntry(endpoint, label, hint, permission, order))


def nav_items() -> list[dict]:
    items = []
    for entry in sorted(_ENTRIES, key=lambda e: e.order):
        if not has_permission(current_user, entry.permission):
            continue
        url = url_for(entry.endpoint)
        items.append(
            {
                "url": url,
                "label": str(entry.label),
                "hint": str(entry.hint),
                "active": request.path.startswith(url),
            }
        )
    return items


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation_context():
        return {
            "nav_items": nav_items,
            "role_label": role_label,
            "current_locale": current_locale,
            "has_permission": lambda perm: has_permission(current_user, perm),
        }
