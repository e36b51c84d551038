"""The scan worker: results by signal, stale results dropped, cancel, failures reported; the
project facts; the file watcher."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pytestqt.qtbot import QtBot

from checklist_app.findings import ProjectInfo, ScanResult
from checklist_app.gui.facts import MAX_WATCHED_PATHS, ProjectFacts, project_facts, watch_paths
from checklist_app.gui.watcher import ProjectWatcher
from checklist_app.gui.worker import ScanDone, Scanner
from checklist_app.scan import CancelCheck, ProgressCallback, ScanProgress
from tests.repos import Repo

FACTS = ProjectFacts(True, (), True)


class SlowScan:
    """A scan function that reports two steps and waits to be released (or cancelled)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, root: Path, on_progress: ProgressCallback,
                 should_cancel: CancelCheck) -> ScanResult:
        on_progress(ScanProgress(1, 2, "a.first"))
        while not self.release.wait(0.01):
            if should_cancel():
                break
        if root.name == "broken":
            raise RuntimeError("git exploded")
        return ScanResult(ProjectInfo(str(root), root.name), datetime.now(UTC), 0.1, "d", (),
                          cancelled=should_cancel())


def test_progress_and_result_of_the_current_scan(qtbot: QtBot, tmp_path: Path) -> None:
    scan = SlowScan()
    scanner = Scanner(scan, lambda _root: FACTS)
    with qtbot.waitSignal(scanner.progressed) as progressed:
        scanner.start(tmp_path / "one")
    assert progressed.args == [1, 2, "a.first"]
    assert scanner.running
    with qtbot.waitSignal(scanner.finished) as finished:
        scan.release.set()
    done = finished.args[0]
    assert isinstance(done, ScanDone)
    assert done.root == tmp_path / "one" and done.facts == FACTS and done.error is None
    assert done.result is not None and not done.result.cancelled
    assert not scanner.running
    assert scanner.wait()


def test_a_newer_scan_drops_the_older_one(qtbot: QtBot, tmp_path: Path) -> None:
    scan = SlowScan()
    scanner = Scanner(scan, lambda _root: FACTS)
    seen: list[ScanDone] = []
    scanner.finished.connect(seen.append)
    scanner.start(tmp_path / "old")
    with qtbot.waitSignal(scanner.finished):
        scanner.start(tmp_path / "new")
        scan.release.set()
    assert scanner.wait()
    qtbot.wait(50)  # anything late from the old scan would have arrived by now
    assert [done.root.name for done in seen] == ["new"]


def test_cancel_and_failure(qtbot: QtBot, tmp_path: Path) -> None:
    scanner = Scanner(SlowScan(), lambda _root: FACTS)
    with qtbot.waitSignal(scanner.finished) as finished:
        scanner.start(tmp_path / "one")
        scanner.cancel()
    done = finished.args[0]
    assert done.result is not None and done.result.cancelled and done.facts is None
    failing = SlowScan()
    failing.release.set()
    scanner = Scanner(failing, lambda _root: FACTS)
    with qtbot.waitSignal(scanner.finished) as finished:
        scanner.start(tmp_path / "broken")
    done = finished.args[0]
    assert done.result is None and done.error == "RuntimeError: git exploded"
    assert "Traceback" in done.details
    assert scanner.wait()


def test_project_facts(make_repo: Callable[..., Repo], tmp_path: Path) -> None:
    flask = make_repo({"app/__init__.py": "from flask import Flask\n", "README.md": "x\n"})
    root = flask.root.resolve()
    facts = project_facts(flask.root, tmp_path / "cache")
    assert facts.is_flask and facts.watch_complete
    assert facts.watch_paths == (str(root), str(root / "app"), str(root / ".git" / "HEAD"),
                                 str(root / ".git" / "logs" / "HEAD"),
                                 str(root / "app" / "__init__.py"), str(root / "README.md"))
    by_dependency = make_repo({"pyproject.toml": "[project]\ndependencies = ['Flask-Login']\n"})
    assert project_facts(by_dependency.root, None).is_flask
    plain = make_repo({"main.py": "import flasky\nprint('flask')\n"}, git=False)
    facts = project_facts(plain.root, None)
    assert not facts.is_flask
    assert facts.watch_paths == (str(plain.root.resolve()),
                                 str(plain.root.resolve() / "main.py"))


def test_watch_paths_are_capped(tmp_path: Path) -> None:
    files = tuple(f"pkg{n // 100}/m{n}.py" for n in range(MAX_WATCHED_PATHS + 10))
    paths, complete = watch_paths(tmp_path, files, git_dir=False)
    assert not complete and len(paths) == MAX_WATCHED_PATHS
    assert paths[:2] == [str(tmp_path), str(tmp_path / "pkg0")]


def test_watcher_fires_once_after_changes_settle(qtbot: QtBot, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    watcher = ProjectWatcher(debounce_ms=100)
    watcher.watch([str(tmp_path), str(tmp_path / "app.py")])
    assert watcher.paths == {str(tmp_path), str(tmp_path / "app.py")}
    fired: list[bool] = []
    watcher.changed.connect(lambda: fired.append(True))
    with qtbot.waitSignal(watcher.changed, timeout=5000):
        (tmp_path / "app.py").write_text("x = 2\n", encoding="utf-8")
        (tmp_path / "new.py").write_text("y = 1\n", encoding="utf-8")
    qtbot.wait(250)
    assert fired == [True]
    watcher.set_enabled(False)
    (tmp_path / "other.py").write_text("z = 1\n", encoding="utf-8")
    qtbot.wait(250)
    assert fired == [True]
    watcher.clear()
    assert watcher.paths == frozenset()
