"""The layout README describes: imports point one way between the domains, and no module
grows past the size where it starts holding several concerns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 600


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("assessments", ("passports", "reports")), ("passports", ("reports",))],
)
def test_imports_point_one_way(package, forbidden):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules_of(package)
        for name in sorted(imported_modules(path))
        if name.split(".")[0] in forbidden
    ]
    assert wrong == []


@pytest.mark.parametrize("package", ["app", "assessments", "passports", "reports"])
def test_no_module_is_over_600_lines(package):
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in modules_of(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []
