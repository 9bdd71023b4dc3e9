"""Site-wide routes: home, language switch, health probes and offline assets."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.auth.permissions import public
from app.extensions import db
from app.i18n import LOCALES
from app.urls import safe_local_target
from passports.forms import CheckForm
from passports.services import trust_lists

bp = Blueprint("web", __name__)

# files served from npm packages installed by `make run` / `make test` (never committed)
ASSET_PACKAGES = {
    "fonts": Path("@fontsource") / "noto-sans" / "files",
}


@bp.get("/")
@public
def home():
    """Signed out, the page is for a visitor holding a passport: how to check it."""
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return render_template("home.html", form=CheckForm())


@bp.get("/favicon.ico")
@public
def favicon():
    """Browsers ask the site root for it; the pages also link the SVG icon."""
    icon = Path(current_app.static_folder or "") / "img" / "favicon.ico"
    response = current_app.response_class(icon.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


@bp.app_context_processor
def link_preview_context() -> dict[str, object]:
    """``public_url(path)``: an absolute URL under PUBLIC_BASE_URL (link-preview tags)."""

    def public_url(path: str) -> str:
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path

    return {"public_url": public_url}


@bp.get("/dashboard")
@public
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("dashboard.html")


@bp.get("/language/<code>")
@public
def switch_language(code: str):
    """Remember the chosen language and go back where the user was."""
    if code not in LOCALES:
        abort(404)
    target = safe_local_target(request.args.get("next")) or url_for("web.home")
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.app_template_global()
def language_return_path() -> str:
    """Where the language switch leads back to: a page the browser can GET.

    A page rendered by a refused POST (a form with its errors) has an address that may
    answer only POST; the switch then leads to that address if it has a GET page, else
    to the page the form was sent from (the Referer, on this site only), else the
    dashboard — never to a 405.
    """
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(request.path, method="GET")
    except HTTPException:
        pass
    else:
        return request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host:
        query = f"?{referrer.query}" if referrer.query else ""
        target = safe_local_target(referrer.path + query)
        if target:
            return target
    return url_for("web.dashboard")


@bp.get("/healthz")
@public
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
@public
def readyz():
    """Ready when the database answers (docs/deployment.md, "Readiness").

    The installed trust list is reported (``trust_list.state``: ok, expiring within 7 days,
    expired, missing) with a warning, but fails readiness only when it is a development list
    on a production deployment: an expired or missing list makes verdicts ``unchecked`` and
    stops issuing, and taking the instance out of service would stop marking too.
    """
    try:  # the trust list's row is read from the database: its answer is the check
        listed = trust_lists.list_status(db.session)
    except Exception:  # any driver error means "not ready"
        current_app.logger.warning("readiness check: database unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    production = current_app.config["ENVIRONMENT"] == "production"
    body: dict = {"status": "ok", "database": "ok", "trust_list": listed.as_dict()}
    warning = trust_lists.warning(listed, production=production)
    if warning is not None:
        body["warnings"] = [warning]
    if listed.development and production:
        body["status"] = "unavailable"
        return body, 503
    return body


@bp.get("/assets/<kind>/<path:filename>")
@public
def asset(kind: str, filename: str):
    """Serve a front-end file from an installed npm package (fonts)."""
    package = ASSET_PACKAGES.get(kind)
    if package is None:
        abort(404)
    folder = Path(current_app.config["ASSETS_DIR"]) / package
    return send_from_directory(folder, filename, max_age=365 * 24 * 3600)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
