"""The architecture of DESIGN.md, checked: each layer imports only the layers above it, and
nothing outside checklist_app/gui imports Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "checklist_app"

# layer -> the layers it may import (besides itself and the package root)
ALLOWED: dict[str, set[str]] = {
    "findings": set(),
    "line_yaml": set(),
    "pickled": set(),
    "collector": set(),
    "checklists": {"findings", "line_yaml", "pickled"},
    "project": {"findings", "pickled", "collector"},
    "detectors": {"findings", "project"},
    "scan": {"findings", "checklists", "project", "detectors", "collector"},
    "progress": {"findings", "checklists"},
    "reviews": {"findings", "checklists", "progress"},
    "answers_file": {"findings", "checklists", "progress"},
    "storage": {"findings", "checklists", "progress", "reviews"},
    "reports": {"findings", "checklists", "progress", "reviews"},
    "workspace": {"findings", "checklists", "project", "detectors", "scan", "progress",
                  "storage", "reports", "reviews", "answers_file"},
    "cli": {"cli_args", "findings", "checklists", "project", "detectors", "scan",
            "progress", "storage", "reports", "workspace", "reviews", "answers_file",
            "cli_review"},
    "cli_review": {"cli_args", "findings", "checklists", "progress", "storage", "reports",
                   "workspace",
                   "reviews", "answers_file"},
    "gui": {"findings", "checklists", "project", "progress", "reports", "workspace", "scan",
            "demo", "reviews", "answers_file"},
    "demo": {"findings"},
    "cli_args": set(),
}


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported_modules(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or
                 p.name not in ("__init__.py", "__main__.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_import_only_the_layers_above_them(path: Path) -> None:
    layer = layer_of(path)
    allowed = ALLOWED.get(layer)
    assert allowed is not None, f"{layer} is not a known layer; add it to ALLOWED"
    for module, line in imported_modules(path):
        parts = module.split(".")
        if parts[0] != "checklist_app" or len(parts) == 1:
            continue
        target = parts[1]
        if target == layer:
            continue
        if layer in ("cli", "cli_review") and target == "gui":
            continue  # the CLI starts the GUI (and renders PDF with Qt) lazily, inside a command
        assert target in allowed, f"{path.relative_to(PACKAGE)}:{line} imports {module}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_gui_imports_qt(path: Path) -> None:
    if layer_of(path) == "gui":
        return
    for module, line in imported_modules(path):
        assert not module.startswith(("PySide6", "shiboken6")), (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}")
