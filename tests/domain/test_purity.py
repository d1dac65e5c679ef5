"""The domain is pure: no framework, no database, no web library, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cartflow

PACKAGE_ROOT = Path(cartflow.__file__).parent
PURE_PACKAGES = ("domain", "kinetics", "scheduling")
FORBIDDEN_MODULES = {
    "django", "ninja", "sqlite3", "psycopg", "psycopg2", "sqlalchemy", "requests", "httpx",
    "urllib", "http", "socket", "flask", "fastapi", "cartflow.clinic", "cartflow.cli",
}
CLOCK_CALLS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter", "time_ns"}
CLOCK_OWNERS = {"datetime", "date", "time"}


def _python_files() -> list[Path]:
    files: list[Path] = []
    for name in PURE_PACKAGES:
        files.extend(sorted((PACKAGE_ROOT / name).rglob("*.py")))
    return files


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN_MODULES)


def _clock_reads(tree: ast.AST) -> list[str]:
    reads = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in CLOCK_OWNERS
        ):
            reads.append(f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}")
    return reads


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(PACKAGE_ROOT)))
def test_it_imports_no_framework_database_or_web_library(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [m for m in _imported_modules(tree) if _forbidden(m)]
    assert bad == [], f"{path} imports {bad}"


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(PACKAGE_ROOT)))
def test_it_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _clock_reads(tree) == [], f"{path} reads the clock"


def test_the_checker_catches_a_django_import_and_a_clock_read() -> None:
    tree = ast.parse("import django.db\nfrom datetime import datetime\nx = datetime.now()\n")
    assert [m for m in _imported_modules(tree) if _forbidden(m)] == ["django.db"]
    assert _clock_reads(tree) == ["datetime.now() at line 3"]


def test_there_are_domain_files_to_check() -> None:
    assert len(_python_files()) >= 2
