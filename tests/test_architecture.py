"""The apps are floors: an app imports only from the floors below it (docs/architecture.md);
and no module grows much past the size where house style 1 makes it a package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["patients", "protection", "prescriptions", "logistics", "billing"]
# House style 1: a module becomes a package past about 600 lines; the check allows some slack.
MAX_MODULE_LINES = 650


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


def oversized_modules(root: Path = ROOT) -> set[str]:
    """App, settings and test modules over MAX_MODULE_LINES; migrations are generated and
    exempt."""
    found = set()
    for top in [*FLOORS, "config", "tests"]:
        for path in (root / top).rglob("*.py"):
            if "migrations" in path.parts or "node_modules" in path.parts:
                continue
            with path.open(encoding="utf-8") as lines:
                if sum(1 for _ in lines) > MAX_MODULE_LINES:
                    found.add(path.relative_to(root).as_posix())
    return found


def test_no_module_is_over_the_size_limit():
    assert oversized_modules() == set(), (
        f"split these modules along their seams (house style 1: past about 600 lines a module "
        f"becomes a package); no module may exceed {MAX_MODULE_LINES} lines"
    )


def test_the_size_check_itself_sees_a_long_module_but_not_a_migration(tmp_path):
    (tmp_path / "patients" / "migrations").mkdir(parents=True)
    (tmp_path / "patients" / "long.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    (tmp_path / "patients" / "at_the_limit.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (tmp_path / "patients" / "migrations" / "0001_initial.py").write_text("x = 1\n" * 2000)
    assert oversized_modules(tmp_path) == {"patients/long.py"}
