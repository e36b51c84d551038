"""ruff and mypy --strict are part of the test suite, so CI holds the line."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed next to {sys.executable}: "
                    "install the test extras (scripts/setup --test)")
    return found


def test_ruff_is_clean() -> None:
    done = subprocess.run([tool("ruff"), "check", "."], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    done = subprocess.run([tool("mypy")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _module_level_names(tree: ast.Module) -> list[tuple[str, int]]:
    """(name, line) of each module-level assignment, function and class (not under `if`)."""
    found: list[tuple[str, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                node.value is not None:
            found.append((node.target.id, node.lineno))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append((node.name, node.lineno))
    return found


def test_no_module_defines_a_name_twice() -> None:
    """A second module-level `_WORD = ...` silently replaces the first for every use above it
    too; ruff only reports redefinitions of unused names."""
    twice = []
    for path in sorted((ROOT / "checklist_app").rglob("*.py")):
        seen: dict[str, int] = {}
        for name, line in _module_level_names(ast.parse(path.read_text(encoding="utf-8"))):
            if name in seen:
                twice.append(f"{path.relative_to(ROOT)}:{line}: {name} (first at {seen[name]})")
            seen.setdefault(name, line)
    assert twice == []
