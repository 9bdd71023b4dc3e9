"""Settings: defaults in code, then ``instance/config.py``, then environment variables.

Every key of ``DEFAULTS`` can be overridden by an environment variable of the
same name; values are parsed according to the type of the default.
docs/configuration.md describes each one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Config, Flask

from app.hosts import parse_host_list
from app.rate_limit_memory import SCHEME
from passports.trust import TrustListError, anchor_is_development, load_anchor_jwk

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # "production" or "development"; production refuses to start without real secrets
    "ENVIRONMENT": "production",
    "SECRET_KEY": "",
    "DATABASE_URL": "",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # other host names this instance answers besides PUBLIC_BASE_URL's (app/hosts.py)
    "TRUSTED_HOSTS": "",
    "DEFAULT_LOCALE": "kk",
    "TIMEZONE": "Asia/Almaty",
    # keyed hash (HMAC-SHA256) for IIN look-ups and the key that encrypts IINs at rest
    "IIN_HASH_KEY": "",
    "IIN_ENCRYPTION_KEY": "",
    # secret that encrypts the passport signing keys stored in the database
    "KEY_ENCRYPTION_SECRET": "",
    # who signs the passports (shown on them and in credentials); ISSUER_URL "" = PUBLIC_BASE_URL
    "ISSUER_NAME_KK": "Алматы қаласының Білім басқармасы",
    "ISSUER_NAME_RU": "Управление образования города Алматы",
    "ISSUER_NAME_EN": "Almaty City Department of Education",
    "ISSUER_URL": "",
    # the issuer's id in the trust list (docs/trust-list.md): the deployment's default keys
    # sign as this issuer; a competence centre's own keys as "<ISSUER_ID>-<centre code>"
    "ISSUER_ID": "kz-almaty-education",
    # the trust anchor's public JWK (a file path, or the JWK JSON itself): only keys in a trust
    # list signed by it verify as genuine. Required in production; in development "" means
    # the development anchor that `flask keys ensure` creates in instance/
    "TRUST_ANCHOR_JWK": "",
    # years a passport stays valid from its issue date; 0 = it never expires
    "PASSPORT_VALIDITY_YEARS": 0,
    "PASSPORT_CHECK_RATE_LIMIT": "10 per minute",
    "VERIFY_API_RATE_LIMIT": "120 per minute",
    # hours a signed status list may stand in for the live record on the QR page and in
    # `flask passports verify`; also the list's own validity
    "STATUS_LIST_MAX_AGE_HOURS": 24,
    # reverse proxies in front of the app (nginx, a load balancer) whose X-Forwarded-For
    # and X-Forwarded-Proto are trusted; 0 = the app faces clients directly
    "TRUSTED_PROXIES": 0,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "10 per minute",
    # imports (marks, candidates, enrolments, reference data, schemes) per signed-in user,
    # all import endpoints together (app/rate_limits.py)
    "IMPORT_RATE_LIMIT": "20 per minute",
    "LOGIN_MAX_FAILURES": 5,
    # refused attempts (an IIN registered elsewhere given with another surname) a user may
    # make in an hour before registering candidates by IIN is refused for a while
    "CANDIDATE_IIN_MISMATCH_LIMIT": 5,
    "LOGIN_LOCKOUT_SECONDS": 300,
    # a signed-in session ends after this long without a request, and this long after
    # sign-in at the latest (app/auth/sessions.py)
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_LIFETIME_HOURS": 12,
    "PASSWORD_RESET_MAX_AGE": 3600,
    # hours an expert's invitation link stays valid (app/auth/invitations.py)
    "INVITATION_MAX_AGE_HOURS": 168,
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_USE_TLS": True,
    "MAIL_FROM": "",
    "PAGE_SIZE": 50,
    "MAX_UPLOAD_MB": 20,
    # an uploaded XLSX may unpack to at most this many bytes, all its parts together
    "MAX_XLSX_UNPACKED_BYTES": 50 * 1024 * 1024,
    "ASSETS_DIR": str(PROJECT_ROOT / "node_modules"),
    # folder with DejaVuSans.ttf, DejaVuSans-Bold.ttf and DejaVuSansMono.ttf for PDFs
    "PDF_FONT_DIR": "/usr/share/fonts/truetype/dejavu",
    # one log line per request (app/observability.py); LOG_FORMAT "json", "text" or ""
    # (= text in development, json otherwise)
    "REQUEST_LOG": True,
    "LOG_FORMAT": "",
    # who may read /metrics (app/metrics.py): the bearer token when set, else these networks
    "METRICS_TOKEN": "",
    "METRICS_ALLOW_FROM": "127.0.0.0/8, ::1",
}

SECRET_SETTINGS = ("SECRET_KEY", "IIN_HASH_KEY", "IIN_ENCRYPTION_KEY", "KEY_ENCRYPTION_SECRET")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the app safely."""


def parse_value(default: Any, raw: str) -> Any:
    """Parse an environment string by the type of the setting's default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"expected true/false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"expected an integer, got {raw!r}") from exc
    return raw


def apply_sources(config: Config) -> None:
    """Fill ``config`` from the defaults, the instance file and the environment, in that order."""
    config.update(DEFAULTS)
    config.from_pyfile("config.py", silent=True)
    for key, default in DEFAULTS.items():
        if key in os.environ:
            try:
                config[key] = parse_value(default, os.environ[key])
            except ConfigError as exc:
                raise ConfigError(f"environment variable {key}: {exc}") from exc


def read_settings() -> Config:
    """The settings as the app will see them, for a process that builds no app (gunicorn)."""
    config = Config(str(PROJECT_ROOT / "instance"))
    apply_sources(config)
    return config


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from defaults, the instance file, the environment and overrides."""
    apply_sources(app.config)
    if overrides:
        app.config.update(overrides)

    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'skills.db'}"
    url = app.config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    # a confirmation step carries its uploaded files back in a form field (scheme import)
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"] or "memory://"
    if app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        # the same counters, without a thread started every few requests
        app.config["RATELIMIT_STORAGE_URI"] = f"{SCHEME}://"
    # a shared store (Redis) that stops answering must not fail requests: each worker
    # process counts in its own memory meanwhile (limits still apply, per process), checks the
    # store again with growing pauses and returns to it (docs/deployment.md)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # an unreachable host must cost a request a second, not the TCP timeout
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )

    # Flask 3.1 reads TRUSTED_HOSTS itself and would refuse every unlisted host, the health
    # probes included; app/hosts.py does the check with its exceptions instead
    app.config["ACCEPTED_HOSTS"] = parse_host_list(app.config["TRUSTED_HOSTS"])
    app.config["TRUSTED_HOSTS"] = None

    development = app.config["ENVIRONMENT"] == "development"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = not development and not app.testing
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    if app.config["DEFAULT_LOCALE"] not in ("kk", "ru", "en"):
        raise ConfigError("DEFAULT_LOCALE must be one of kk, ru, en")
    age = app.config["STATUS_LIST_MAX_AGE_HOURS"]
    if type(age) is not int or not 1 <= age <= 24 * 366:
        raise ConfigError("STATUS_LIST_MAX_AGE_HOURS must be a whole number of hours, 1 to 8784")
    check_secrets(app)
    check_trust_anchor(app)


def check_secrets(app: Flask) -> None:
    """Refuse to run in production with a missing or obviously weak secret."""
    weak = [k for k in SECRET_SETTINGS if len(str(app.config.get(k) or "")) < 32]
    if not weak:
        return
    if app.config["ENVIRONMENT"] == "production" and not app.testing:
        raise ConfigError(
            "refusing to start in production without real secrets: set "
            + ", ".join(weak)
            + " (at least 32 characters each) in the environment or instance/config.py;"
            " `python -m app.instance` writes random ones into instance/config.py"
        )
    # development and tests: a fixed, clearly marked value keeps the app usable
    for key in weak:
        app.config[key] = f"insecure-development-{key.lower()}-do-not-use-in-production"


DEVELOPMENT_ANCHOR = "dev-trust-anchor.pem"


def check_trust_anchor(app: Flask) -> None:
    """Resolve TRUST_ANCHOR_JWK; refuse production without one or with a development anchor.

    Development (and tests) without a setting use the development anchor's public JWK in the
    instance folder (``flask keys ensure`` creates it).
    """
    value = str(app.config.get("TRUST_ANCHOR_JWK") or "").strip()
    production = app.config["ENVIRONMENT"] == "production" and not app.testing
    development_anchor = app.config.get("DEVELOPMENT_TRUST_ANCHOR") or str(
        Path(app.instance_path) / DEVELOPMENT_ANCHOR
    )
    app.config["DEVELOPMENT_TRUST_ANCHOR"] = development_anchor
    if not value:
        if production:
            raise ConfigError(
                "refusing to start in production without TRUST_ANCHOR_JWK: set it to the "
                "national trust anchor's public JWK (a file path or the JSON itself), as "
                "published by the trust anchor (docs/trust-list.md)"
            )
        value = development_anchor + ".pub.jwk"
    app.config["TRUST_ANCHOR_JWK"] = value
    if production:
        _check_production_anchor(value)


def _check_production_anchor(value: str) -> None:
    """Refuse a production start with an anchor that verifies nothing or is a development one.

    Rule: the anchor must read as ``passports.trust.load_anchor_jwk`` reads it (a P-256
    public JWK, file or JSON) — otherwise every verdict would quietly be ``unchecked`` — and
    must not carry ``"development": true``.
    """
    try:
        anchor = load_anchor_jwk(value)
    except TrustListError as exc:
        raise ConfigError(f"TRUST_ANCHOR_JWK: {exc}") from exc
    if anchor_is_development(anchor):
        raise ConfigError(
            "refusing to start in production with a development trust anchor: "
            'TRUST_ANCHOR_JWK names a key marked "development": true; configure the '
            "national trust anchor's public JWK instead"
        )
