"""Security headers on every response, and ``Cache-Control: no-store`` where it must be.

No browser, proxy or shared computer may keep a copy of: any page or file served to a
signed-in user (staff pages carry names, IINs, marks, and the user's own name in the
header), any staff URL (also its redirect to the sign-in page), and the public pages that
hold a private link or personal data (the graduate's own page and files, the shared page,
the manual check's answer, the password-reset page); a weaker rule such answers set
(``no-cache``) becomes ``no-store``. Other answers keep their own Cache-Control (static
files, the JWKS, status lists).
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

from app.auth.permissions import view_policy

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # style="" attributes (bar widths, chart sizes) but no <style> blocks
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# public endpoints whose answers hold a private link or personal data
PRIVATE_PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.reset_password",
        "passports.holder",
        "passports.holder_pdf",
        "passports.holder_credential",
        "passports.share",
        "passports.check",
    }
)


def must_not_be_stored() -> bool:
    """True when this request's answer may not be kept by any cache."""
    if g.get("user_session") is not None:  # signed in (app/auth/views.py), read no database
        return True
    endpoint = request.endpoint
    if endpoint is None:
        return False
    return endpoint in PRIVATE_PUBLIC_ENDPOINTS or view_policy(current_app, endpoint) != "public"


def init_app(app: Flask) -> None:
    hsts = app.config["ENVIRONMENT"] != "development" and not app.testing

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if hsts:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "no-store" not in headers.get("Cache-Control", "") and must_not_be_stored():
            # replaces a weaker rule too (send_file's no-cache, the share page's no-cache)
            headers["Cache-Control"] = "no-store"
        return response
