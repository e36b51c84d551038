"""Opening evidence in the user's editor: commands per editor, and what is never opened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checklist_app.gui.editor import editor_command, project_file, safe_for_system_handler

FILE = "/work/app/views.py"


def nothing_on_path(_name: str) -> str | None:
    return None


@pytest.mark.parametrize(("environ", "line", "expected"), [
    ({"VISUAL": "code"}, 7, ["code", "-g", f"{FILE}:7"]),
    ({"VISUAL": "code --wait"}, 7, ["code", "--wait", "-g", f"{FILE}:7"]),
    ({"EDITOR": "/opt/pycharm/bin/pycharm.sh"}, 7,
     ["/opt/pycharm/bin/pycharm.sh", "--line", "7", FILE]),
    ({"EDITOR": "charm"}, 3, ["charm", "--line", "3", FILE]),
    ({"VISUAL": "subl -w"}, 7, ["subl", "-w", f"{FILE}:7"]),
    ({"VISUAL": "gvim -f"}, 7, ["gvim", "-f", "+7", FILE]),
    ({"VISUAL": "kate"}, 7, ["kate", "-l", "7", FILE]),
    ({"VISUAL": "'/Applications/My Editor/editor'"}, 7, ["/Applications/My Editor/editor", FILE]),
    ({"VISUAL": "code"}, None, ["code", FILE]),
    ({"VISUAL": "vim", "EDITOR": "code"}, 7, ["code", "-g", f"{FILE}:7"]),  # no terminal
    ({"VISUAL": "nano"}, 7, None),
    ({"VISUAL": "'unbalanced"}, 7, None),
    ({}, 7, None),
])
def test_editor_command(environ: dict[str, str], line: int | None,
                        expected: list[str] | None) -> None:
    assert editor_command(environ, FILE, line, nothing_on_path) == expected


def test_falls_back_to_vscode_then_pycharm_on_the_path() -> None:
    found = {"pycharm": "/usr/bin/pycharm"}
    assert editor_command({"EDITOR": "vi"}, FILE, 4, found.get) == [
        "/usr/bin/pycharm", "--line", "4", FILE]
    found["code"] = "/usr/bin/code"
    assert editor_command({}, FILE, 4, found.get) == ["/usr/bin/code", "-g", f"{FILE}:4"]


def test_project_file_stays_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "views.py").write_text("x = 1\n", encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret\n", encoding="utf-8")
    os.symlink(outside, root / "link.txt")
    os.symlink(root / "app" / "views.py", root / "inner.py")
    assert project_file(root, "app/views.py") == (root / "app" / "views.py").resolve()
    assert project_file(root, "inner.py") == (root / "app" / "views.py").resolve()
    for bad in ("link.txt", "../secret.txt", "app/../../secret.txt", str(outside), "app",
                "missing.py", ""):
        assert project_file(root, bad) is None, bad


@pytest.mark.parametrize(("name", "executable", "expected"), [
    ("views.py", False, True),
    ("requirements.txt", False, True),
    ("Dockerfile", False, True),
    (".gitignore", False, True),
    ("deploy.py", True, False),
    ("evil.desktop", False, False),
    ("page.html", False, False),
    ("run.sh", False, False),
    ("tool", False, False),
])
def test_safe_for_system_handler(tmp_path: Path, name: str, executable: bool,
                                 expected: bool) -> None:
    path = tmp_path / name
    path.write_text("x\n", encoding="utf-8")
    path.chmod(0o755 if executable else 0o644)
    assert safe_for_system_handler(path) is expected
