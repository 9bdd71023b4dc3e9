"""Application factory: ``create_app()`` wires config, extensions, blueprints and CLI."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import extensions
from app.config import PROJECT_ROOT, load_config
from app.json_limits import BoundedJSONProvider, BoundedRequest


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; ``config`` overrides every other source."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    # a deeply nested JSON body is bad input (400), never a RecursionError (500)
    app.json = BoundedJSONProvider(app)
    app.request_class = BoundedRequest
    if config and config.get("TESTING"):
        app.testing = True
    load_config(app, config)
    if app.config["TRUSTED_PROXIES"]:
        # client addresses (rate limits) and https links must come from the proxy's headers
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = DatabaseInteger
    register_observability(app)
    register_database(app)
    register_extensions(app)
    register_domains(app)
    register_blueprints(app)
    register_cli(app)
    return app


class DatabaseInteger(IntegerConverter):
    """``<int:…>`` URL parts that fit a database integer column; larger ones are a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_observability(app: Flask) -> None:
    """Request log, request ids and /metrics; first, so its hook sees the final response.

    Compression comes next: its hook runs after every other one has set the body.
    """
    from app import compression, metrics, observability

    observability.init_app(app)
    metrics.init_app(app)
    compression.init_app(app)


def register_database(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    # pre-ping: a pooled connection the server dropped (restart, failover) is replaced
    # before use, so an instance recovers by itself once the database is back (a SQLite
    # file has no server to drop it); JSON columns (passport snapshots) are read by orjson
    options: dict[str, Any] = {
        "pool_pre_ping": not url.startswith("sqlite"),
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif url.startswith("postgresql") and "connect_timeout" not in url:
        # a database host that does not answer is a 503 after seconds, not a hung worker
        options["connect_args"] = {"connect_timeout": 5}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Turn on foreign keys and WAL, fold case like PostgreSQL; let SQLAlchemy own
    transactions (savepoints work)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's own lower() folds ASCII only; names here are Kazakh and Russian
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        # a write unit asks for the write lock up front (app.db.begin_write)
        # so it waits for other writers instead of failing on a stale snapshot
        options = conn.get_execution_options()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate") else "BEGIN")


def register_extensions(app: Flask) -> None:
    from app import i18n
    from app.auth import permissions

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.login_manager.init_app(app)
    i18n.init_app(app)
    permissions.init_app(app)
    # every model must be imported before migrations or create_all look at the metadata
    from app.auth import models as auth_models  # noqa: F401
    from assessments import models as assessment_models  # noqa: F401
    from passports import models as passport_models  # noqa: F401


def register_domains(app: Flask) -> None:
    """Initialise the domain packages (passports plugs into assessments' personal data)."""
    import passports

    passports.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app import errors, hosts, navigation, offline, security, web
    from app.auth.views import bp as auth_bp
    from assessments import api
    from assessments.views.candidates import bp as candidates_bp
    from assessments.views.exams import bp as exams_bp
    from assessments.views.marking import bp as marking_bp
    from assessments.views.reference import bp as reference_bp
    from assessments.views.results import bp as results_bp
    from assessments.views.schemes import bp as schemes_bp
    from passports.api import bp as passport_api_bp
    from passports.views import holder as _holder  # noqa: F401 - adds its routes to public.bp
    from passports.views import public as passport_public
    from passports.views import staff as passport_staff
    from reports.views import bp as reports_bp

    errors.init_app(app)
    hosts.init_app(app)
    security.init_app(app)
    navigation.init_app(app)
    web.init_app(app)
    offline.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(passport_public.bp)
    app.register_blueprint(passport_staff.bp)
    app.register_blueprint(passport_api_bp)
    app.register_blueprint(reference_bp)
    app.register_blueprint(candidates_bp)
    app.register_blueprint(exams_bp)
    app.register_blueprint(marking_bp)
    api.init_app(app)
    app.register_blueprint(results_bp)
    app.register_blueprint(schemes_bp)
    app.register_blueprint(reports_bp)


def register_cli(app: Flask) -> None:
    from app.cli import register as register_app_cli
    from assessments.cli import register as register_assessments_cli
    from assessments.commands.candidates import register as register_candidates_cli
    from assessments.commands.exams import register as register_exams_cli
    from assessments.commands.marks import register as register_marks_cli
    from assessments.commands.reference import register as register_reference_cli
    from assessments.commands.results import register as register_results_cli
    from assessments.commands.schemes import register as register_schemes_cli
    from passports.cli import register as register_passports_cli
    from reports.cli import register as register_reports_cli

    register_app_cli(app)
    register_passports_cli(app)
    register_assessments_cli(app)
    register_exams_cli(app)
    register_marks_cli(app)
    register_results_cli(app)
    register_reference_cli(app)
    register_candidates_cli(app)
    register_schemes_cli(app)
    register_reports_cli(app)
