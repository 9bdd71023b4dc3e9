"""Services take a session and arguments: no module under a ``services`` package (or a
``services.py``) reaches for the request's app, language, request or flash messages.

Settings come in as arguments built at the boundary (e.g. ``PassportSettings``), so a
service runs the same from a page, the API, the CLI or a test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "assessments", "passports", "reports")
FORBIDDEN = frozenset({"current_app", "get_locale", "request", "flash"})


def service_modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "services" in path.parts or path.name == "services.py"
    ]


def boundary_names(source: str) -> list[tuple[int, str]]:
    """(line, name) of each use or import of a forbidden name in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            found.extend(
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.split(".")[-1] in FORBIDDEN
            )
    return sorted(found)


def test_the_guard_sees_the_request_context():
    source = (
        "from flask import current_app\n"
        "import flask_babel\n"
        "def f(session):\n"
        "    return current_app.config['X'], flask_babel.get_locale()\n"
    )
    assert boundary_names(source) == [(1, "current_app"), (4, "current_app"), (4, "get_locale")]
    assert boundary_names("def f(session, settings):\n    return settings.x\n") == []


def test_no_service_reads_the_request_context():
    modules = service_modules()
    assert any(p.match("passports/services/keys.py") for p in modules)
    assert any(p.match("app/auth/services.py") for p in modules)
    found = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in modules
        for line, name in boundary_names(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "pass settings in from the view or command: " + ", ".join(found)
