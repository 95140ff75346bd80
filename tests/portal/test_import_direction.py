"""Imports run one way: notifications -> schedules -> billing -> portal.

Every module of the four apps is parsed with ``ast`` (imports inside functions included): a module
may import its own app or a lower one, never a higher one. Only the composition root (portal's
urls, settings, Celery app and dashboard) may import anything.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first: an app may import the ones before it, never the ones after.
LAYERS = ["portal", "billing", "schedules", "notifications"]

COMPOSITION_ROOT = {
    "portal/urls.py",
    "portal/celery.py",
    "portal/dashboard.py",
}
COMPOSITION_ROOT_DIRS = ("portal/settings/",)


def _imported_apps(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                found.append((node.lineno, top))
    return found


def upward_imports() -> list[str]:
    problems = []
    for app in LAYERS:
        rank = LAYERS.index(app)
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in COMPOSITION_ROOT or relative.startswith(COMPOSITION_ROOT_DIRS):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            for lineno, target in _imported_apps(tree):
                if LAYERS.index(target) > rank:
                    problems.append(f"{relative}:{lineno} imports {target}")
    return problems


def test_apps_import_only_downwards():
    assert upward_imports() == []


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from notifications.delivery import x\n")
    assert _imported_apps(tree) == [(2, "notifications")]
