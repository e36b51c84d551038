"""The bundled demo project: a real little Flask app in git, the same on every machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from checklist_app.demo import DEMO_HISTORY, DemoError, demo_path, ensure_demo
from checklist_app.findings import Outcome
from checklist_app.scan import load_rules, scan_path
from tests.gui.conftest import GUI_RULES


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def test_created_once_in_the_user_data_folder_with_history(tmp_path: Path) -> None:
    root = ensure_demo(tmp_path)
    assert root == tmp_path / "demo" == demo_path(tmp_path)
    log = git(root, "log", "--format=%an <%ae> %aI %s").splitlines()
    assert log == [f"Dana Demo <dana@example.com> {c.date} {c.message}"
                   for c in reversed(DEMO_HISTORY)]
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git" / "hooks").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no build leftovers
    head = git(root, "rev-parse", "HEAD")
    (root / "bookshelf" / "local.py").write_text("x = 1\n", encoding="utf-8")
    assert ensure_demo(tmp_path) == root  # kept as the user left it
    assert (root / "bookshelf" / "local.py").exists()
    again = ensure_demo(tmp_path / "elsewhere")
    assert git(again, "rev-parse", "HEAD") == head  # the same commits everywhere


def test_a_foreign_folder_in_the_way_is_not_touched(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mine.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(DemoError, match="exists but is not the demo project"):
        ensure_demo(tmp_path)
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["mine.txt"]


# What the demo is made to show, for the built-in items that exist (others are being written).
INTENDED = {
    "organization.app-factory": Outcome.PASS,
    "organization.blueprints": Outcome.PASS,
    "organization.env-configs": Outcome.PASS,
    "database.migrations": Outcome.PASS,
    "security.password-hashing": Outcome.PASS,
    "security.csrf": Outcome.FAIL,
    "security.no-sql-injection": Outcome.FAIL,
    "testing.integration-tests": Outcome.PASS,
    "testing.ci": Outcome.FAIL,
    "performance.rate-limiting": Outcome.FAIL,
    "advanced.cli-commands": Outcome.PASS,
}


def line_of(root: Path, path: str, text: str) -> int:
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def test_the_demo_meets_some_items_and_misses_others(tmp_path: Path) -> None:
    rules = load_rules([GUI_RULES])
    root = ensure_demo(tmp_path)
    result = scan_path(root, rules)
    outcomes = {f.item_id: f.outcome for f in result.findings if f.item_id in INTENDED}
    assert outcomes == {item.id: INTENDED[item.id] for item in rules.items
                        if item.id in INTENDED}
    assert "organization.app-factory" in outcomes
    injection = result.finding("security.no-sql-injection")
    if injection is not None:
        line = line_of(root, "bookshelf/books/views.py", 'text(f"SELECT')
        assert [e.location for e in injection.evidence] == [f"bookshelf/books/views.py:{line}"]
    changelog = result.finding("guitest.changelog")
    assert changelog is not None and changelog.outcome is Outcome.FAIL
    flask = result.finding("guitest.flask")
    assert flask is not None and flask.outcome is Outcome.PASS
    assert [e.location for e in flask.evidence] == ["requirements.txt:1"]
