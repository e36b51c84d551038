"""The scan worker process: results by signal, stale results dropped, cancel (also of a scan
stuck in a detector), failures and crashes reported; the project facts; the file watcher."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from checklist_app.checklists import Checklists
from checklist_app.gui.facts import MAX_WATCHED_PATHS, project_facts, watch_paths
from checklist_app.gui.scan_process import ScanJob
from checklist_app.gui.watcher import ProjectWatcher
from checklist_app.gui.worker import ScanDone, Scanner
from tests.gui import jobs
from tests.repos import Repo

NO_RULES = Checklists((), (), "none")
TIMEOUT_MS = 20_000


@pytest.fixture
def scanners() -> Iterator[Callable[..., Scanner]]:
    """`scanners(run=..., kill_after_s=...)`: a Scanner whose process ends with the test."""
    made: list[Scanner] = []

    def make(**options: object) -> Scanner:
        scanner = Scanner(**options)  # type: ignore[arg-type]
        made.append(scanner)
        return scanner

    yield make
    for scanner in made:
        scanner.shutdown(wait_s=0.1)


def job(tmp_path: Path, name: str, released: bool = False) -> ScanJob:
    root = tmp_path / name
    root.mkdir()
    if released:
        (root / jobs.RELEASE).touch()
    return ScanJob(root, NO_RULES, None)


def test_the_scan_runs_in_one_worker_process_for_the_session(
        qtbot: QtBot, tmp_path: Path, scanners: Callable[..., Scanner]) -> None:
    scanner = scanners(run=jobs.until_released)
    assert scanner.worker_pid is None  # nothing is started before the first scan
    first = job(tmp_path, "one")
    with qtbot.waitSignal(scanner.progressed, timeout=TIMEOUT_MS) as progressed:
        scanner.start(first)
    assert progressed.args == [1, 2, "a.first"]
    assert scanner.running
    pid = scanner.worker_pid
    assert pid is not None and pid != os.getpid()
    with qtbot.waitSignal(scanner.finished, timeout=TIMEOUT_MS) as finished:
        (first.root / jobs.RELEASE).touch()
    done = finished.args[0]
    assert isinstance(done, ScanDone)
    assert done.root == first.root and done.facts == jobs.FACTS and done.error is None
    assert done.result is not None and not done.result.cancelled
    assert done.result.rules_digest == f"pid {pid}"  # made in the worker process
    assert not scanner.running
    with qtbot.waitSignal(scanner.finished, timeout=TIMEOUT_MS) as finished:
        scanner.start(job(tmp_path, "two", released=True))
    assert finished.args[0].result.rules_digest == f"pid {pid}"  # the same process again
    scanner.shutdown()
    assert scanner.worker_pid is None and not scanner.running


def test_a_newer_scan_drops_the_older_one(qtbot: QtBot, tmp_path: Path,
                                          scanners: Callable[..., Scanner]) -> None:
    scanner = scanners(run=jobs.until_released)
    seen: list[ScanDone] = []
    scanner.finished.connect(seen.append)
    with qtbot.waitSignal(scanner.progressed, timeout=TIMEOUT_MS):
        scanner.start(job(tmp_path, "old"))
    with qtbot.waitSignal(scanner.finished, timeout=TIMEOUT_MS):
        scanner.start(job(tmp_path, "new", released=True))
    qtbot.wait(100)  # anything late from the old scan would have arrived by now
    assert [done.root.name for done in seen] == ["new"]
    assert seen[0].result is not None and not seen[0].result.cancelled


def test_cancel_stops_the_scan_at_its_next_step(qtbot: QtBot, tmp_path: Path,
                                                scanners: Callable[..., Scanner]) -> None:
    scanner = scanners(run=jobs.until_released)
    with qtbot.waitSignal(scanner.progressed, timeout=TIMEOUT_MS):
        scanner.start(job(tmp_path, "one"))
    pid = scanner.worker_pid
    with qtbot.waitSignal(scanner.finished, timeout=TIMEOUT_MS) as finished:
        scanner.cancel()
    done = finished.args[0]
    assert done.result is not None and done.result.cancelled and done.facts is None
    assert done.error is None and not scanner.running
    assert scanner.worker_pid == pid  # it stopped by itself: the process goes on


def test_a_scan_stuck_in_a_detector_is_ended_on_cancel(
        qtbot: QtBot, tmp_path: Path, scanners: Callable[..., Scanner]) -> None:
    scanner = scanners(run=jobs.stuck, kill_after_s=0.2)
    with qtbot.waitSignal(scanner.progressed, timeout=TIMEOUT_MS):
        scanner.start(job(tmp_path, "one"))
    pid = scanner.worker_pid
    with qtbot.waitSignal(scanner.finished, timeout=5000) as finished:
        scanner.cancel()
    done = finished.args[0]
    assert done.cancelled and done.result is None and done.error is None
    assert scanner.worker_pid is None and not scanner.running
    with qtbot.waitSignal(scanner.progressed, timeout=TIMEOUT_MS):
        scanner.start(job(tmp_path, "two"))  # a new process takes over
    assert scanner.worker_pid not in (None, pid)


@pytest.mark.parametrize(("run", "error"), [
    (jobs.until_released, "RuntimeError: git exploded"),
    (jobs.crashes, "the scan process ended unexpectedly (exit code 3)"),
])
def test_a_failing_or_crashing_scan_is_reported(
        qtbot: QtBot, tmp_path: Path, scanners: Callable[..., Scanner],
        run: object, error: str) -> None:
    scanner = scanners(run=run)
    with qtbot.waitSignal(scanner.finished, timeout=TIMEOUT_MS) as finished:
        scanner.start(job(tmp_path, "broken", released=True))
    done = finished.args[0]
    assert done.result is None and done.error == error and not done.cancelled
    assert ("Traceback" in done.details) == (run is jobs.until_released)
    assert not scanner.running


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
