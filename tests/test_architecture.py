"""The apps are floors: an app imports only from the floors below it (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["patients", "protection", "prescriptions", "logistics", "billing"]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(FLOORS)


def test_each_app_imports_only_from_floors_below():
    violations = []
    for level, app in enumerate(FLOORS):
        allowed = set(FLOORS[: level + 1])
        for path in (ROOT / app).rglob("*.py"):
            bad = imported_apps(path) - allowed
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert violations == []


def test_the_check_itself_sees_an_upward_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from protection.gate import something\nimport billing.models\n")
    assert imported_apps(sample) == {"protection", "billing"}


def test_top_level_layout_is_as_designed():
    expected = {
        "manage.py", "pyproject.toml", "config", "patients", "protection", "prescriptions",
        "logistics", "billing", "templates", "tests", "docs",
    }  # fmt: skip
    present = {p.name for p in ROOT.iterdir()}
    assert expected <= present
