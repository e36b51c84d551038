"""The real main window, driven offscreen: open the demo, scan, answer, re-open."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from checklist_app import scan as scan_module
from checklist_app.demo import demo_path
from checklist_app.findings import AnswerValue, Status
from checklist_app.gui.filters import Filter
from checklist_app.gui.main_window import MainWindow, banner_messages, dropped_folder
from checklist_app.gui.models import ItemModel, TopicModel
from checklist_app.gui.scan_process import JobFunction
from checklist_app.gui.settings import file_settings
from checklist_app.gui.wording import percent_text
from checklist_app.progress import Tally
from checklist_app.storage import StoreBusy
from checklist_app.workspace import Workspace
from tests.gui import jobs
from tests.gui.conftest import SCAN_TIMEOUT_MS, Launches
from tests.repos import Repo

WindowFactory = Callable[..., MainWindow]
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def start_and_scan(qtbot: QtBot, window: MainWindow, path: Path | None = None,
                   demo: bool = False) -> None:
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.start(path, demo)


def topic_tally(window: MainWindow, topic: str) -> Tally:
    row = window.topic_model.row_of(topic)
    tally = window.topic_model.index(row).data(TopicModel.TallyRole)
    assert isinstance(tally, Tally)
    return tally


def shown_ids(window: MainWindow) -> list[str]:
    return [entry.item.id for entry in window.items.proxy.visible_items()]


def current_filter(window: MainWindow) -> Filter:
    return window.items.proxy.filter


def cell(window: MainWindow, item_id: str, column: int) -> object:
    row = window.item_model.row_of(item_id)
    return window.item_model.index(row, column).data()


def test_demo_scan_answer_with_justification_and_reopen(
        qtbot: QtBot, make_window: WindowFactory) -> None:
    window = make_window()
    window.resize(1100, 700)
    start_and_scan(qtbot, window, demo=True)
    assert window.project is not None
    assert Path(window.project.root) == demo_path()
    assert window.stack.currentWidget() is window.project_page
    assert topic_tally(window, "guitest") == Tally(total=3, met=2, unmet=1, na=0, unknown=0)
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "unmet"
    assert cell(window, "guitest.changelog", ItemModel.COL_FINDING) == "fails (certain)"
    overall_before = window.progress.tally if window.progress else None
    assert overall_before is not None

    window.sidebar.topics.setCurrentIndex(window.topic_model.index(
        window.topic_model.row_of("guitest")))
    assert shown_ids(window) == ["guitest.readme", "guitest.changelog", "guitest.flask"]
    assert window.items.select("guitest.changelog")
    form = window.details.answer
    assert form.entry is not None and form.entry.item.id == "guitest.changelog"

    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # n/a
    assert form.chosen() is AnswerValue.NA
    assert not form.save.isEnabled()
    assert form.save.toolTip() == "an n/a answer needs a justification"
    assert form.problem.text() == "Cannot save: an n/a answer needs a justification"
    assert form.justification_label.text() == "&Justification (required):"
    assert form.justification.hasFocus()

    QTest.keyClicks(form.justification, "Release notes live in the wiki")
    assert form.save.isEnabled()
    QTest.mouseClick(form.save, Qt.MouseButton.LeftButton)

    assert topic_tally(window, "guitest") == Tally(total=3, met=2, unmet=0, na=1, unknown=0)
    assert window.progress is not None
    assert window.progress.tally.na == overall_before.na + 1
    assert window.progress.tally.unmet == overall_before.unmet - 1
    entry = window.progress.item("guitest.changelog")
    assert entry is not None and entry.status is Status.NA and entry.overridden
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "n/a"
    assert str(cell(window, "guitest.changelog", ItemModel.COL_ANSWER)).startswith("n/a (")
    assert window.details.history_model.rowCount() == 1
    history = str(window.details.history_model.index(0).data())
    assert "no answer → n/a — Release notes live in the wiki" in history
    assert not form.save.isEnabled()  # saved: nothing changed
    splitter_sizes = window.splitter.sizes()
    window.close()

    reopened = make_window()
    start_and_scan(qtbot, reopened)  # no path: the last project
    assert reopened.project is not None and Path(reopened.project.root) == demo_path()
    assert reopened.size() == QSize(1100, 700)
    assert reopened.splitter.sizes() == splitter_sizes
    assert topic_tally(reopened, "guitest") == Tally(total=3, met=2, unmet=0, na=1, unknown=0)
    assert reopened.items.select("guitest.changelog")
    again = reopened.details.answer
    assert again.chosen() is AnswerValue.NA
    assert again.justification.toPlainText() == "Release notes live in the wiki"
    assert reopened.details.history_model.rowCount() == 1


def test_a_folder_without_git_or_flask_opens_with_a_banner(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# notes\n", "main.py": "print('hi')\n"}, git=False)
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    assert window.project is not None
    assert window.banner.isVisible()
    assert window.banner.messages[0].startswith("This folder is not a git repository")
    assert window.banner.messages[1].startswith("No Flask found here")
    assert topic_tally(window, "guitest") == Tally(total=3, met=1, unmet=2, na=0, unknown=0)


def test_flask_project_in_git_has_no_banner(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"requirements.txt": "flask==3.0\n", "app.py": "import flask\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    assert window.facts is not None and window.facts.is_flask
    assert window.progress is not None and window.progress.project is not None
    assert window.progress.project.is_git
    assert banner_messages(window.progress, window.facts, problems=0) == ()
    assert banner_messages(window.progress, window.facts, problems=2) == (
        "2 problem(s) in the checklists: the items concerned are left out. Run "
        "`checklist-app rules check` for the list.",)


def test_filters_search_and_next_needing_attention(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "requests\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    window.sidebar.topics.setCurrentIndex(window.topic_model.index(
        window.topic_model.row_of("guitest")))
    assert shown_ids(window) == ["guitest.readme", "guitest.changelog", "guitest.flask"]
    buttons = window.items.filters.buttons
    assert [button.text() for button in buttons.values()] == [
        "All (3)", "Attention (2)", "Unknown (0)", "Overridden (0)", "Re-review (0)"]
    assert all(button.isVisible() for button in buttons.values())
    QTest.mouseClick(buttons[Filter.ATTENTION], Qt.MouseButton.LeftButton)
    assert current_filter(window) is Filter.ATTENTION
    assert shown_ids(window) == ["guitest.changelog", "guitest.flask"]
    assert buttons[Filter.ATTENTION].isChecked() and not buttons[Filter.ALL].isChecked()
    QTest.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # all
    assert current_filter(window) is Filter.ALL and buttons[Filter.ALL].isChecked()
    QTest.keyClicks(window.items.search, "changelog")
    assert shown_ids(window) == ["guitest.changelog"]
    window.items.clear_search()

    assert window.items.select("guitest.readme")
    QTest.keyClick(window, Qt.Key.Key_F8)
    assert window.items.selected_id() == "guitest.changelog"
    QTest.keyClick(window, Qt.Key.Key_F8)
    assert window.items.selected_id() == "guitest.flask"


def test_met_shortcut_saves_at_once_when_no_justification_is_needed(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    assert window.items.select("guitest.flask")  # unmet; override needs no justification
    QTest.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.progress is not None
    entry = window.progress.item("guitest.flask")
    assert entry is not None and entry.status is Status.MET and entry.answer is not None
    assert entry.answer.justification == ""


def test_rescans_when_a_file_changes(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "flask\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "unmet"
    qtbot.waitUntil(lambda: str(repo.root.resolve()) in window.watcher.paths)  # after a paint
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        (repo.root / "CHANGELOG.md").write_text("# 1.0\n", encoding="utf-8")
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "met"
    with qtbot.assertNotEmitted(window.watcher.changed, wait=500):
        pass  # scanning does not touch the project: no endless rescans


def test_evidence_opens_in_the_editor_at_its_line(
        qtbot: QtBot, make_window: WindowFactory, launches: Launches,
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "requests\nflask==3.0\n"})
    window = make_window(environ={"VISUAL": "code --wait"})
    start_and_scan(qtbot, window, repo.root)
    assert window.items.select("guitest.flask")
    view = window.details.evidence
    assert window.details.evidence_model.rowCount() == 1
    index = window.details.evidence_model.index(0)
    rect = view.visualRect(index)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, NO_MODIFIER, rect.center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, NO_MODIFIER, rect.center())
    target = str((repo.root / "requirements.txt").resolve())
    assert launches.commands == [["code", "--wait", "-g", f"{target}:2"]]


def test_references_open_in_the_browser(
        qtbot: QtBot, make_window: WindowFactory, launches: Launches,
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    assert window.items.select("guitest.changelog")
    window.details.references.linkActivated.emit("https://keepachangelog.com/")
    window.details.references.linkActivated.emit("javascript:alert(1)")
    assert launches.urls == ["https://keepachangelog.com/"]


def test_switching_projects_drops_the_old_scan(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo]) -> None:
    first = make_repo({"README.md": "# first\n"})
    second = make_repo({"CHANGELOG.md": "# second\n"})
    window = make_window()
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS) as blocker:
        window.start(first.root)
        window.open_project(second.root)
    done = blocker.args[0] if blocker.args else None
    assert done is not None and done.root == second.root.resolve()
    assert window.project is not None and Path(window.project.root) == second.root.resolve()
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "met"
    assert cell(window, "guitest.readme", ItemModel.COL_STATUS) == "unmet"


def test_a_store_that_cannot_open_shows_why(qtbot: QtBot, settings_path: Path) -> None:
    shown: list[tuple[str, str]] = []

    def show(_parent: QWidget | None, title: str, message: str, details: str = "") -> None:
        shown.append((title, message))

    def broken() -> Workspace:
        raise StoreBusy("progress.db is locked by another process: try again")

    window = MainWindow(file_settings(settings_path), broken, show=show)
    qtbot.addWidget(window)
    window.start()
    assert shown == [("Cannot open the progress database",
                      "progress.db is locked by another process: try again")]
    assert window.welcome.message.text() == ("The progress database cannot be opened: "
                                             "progress.db is locked by another process: "
                                             "try again")
    assert not window.open_action.isEnabled()
    assert window.stack.currentWidget() is window.welcome


def test_dropped_folder(tmp_path: Path) -> None:
    from PySide6.QtCore import QUrl

    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert dropped_folder([QUrl.fromLocalFile(str(tmp_path))]) == tmp_path
    assert dropped_folder([QUrl.fromLocalFile(str(tmp_path / "file.txt"))]) is None
    assert dropped_folder([QUrl.fromLocalFile(str(tmp_path))] * 2) is None
    assert dropped_folder([QUrl("https://example.com/")]) is None


def test_the_scan_runs_in_the_worker_process_and_its_result_is_shown(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def not_here(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the window's process scanned")

    monkeypatch.setattr(scan_module, "scan_path", not_here)
    monkeypatch.setattr(Workspace, "scan", not_here)
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "flask\n"})
    window = make_window()
    start_and_scan(qtbot, window, repo.root)
    pid = window.scanner.worker_pid
    assert pid is not None and pid != os.getpid()
    assert cell(window, "guitest.readme", ItemModel.COL_STATUS) == "met"
    assert cell(window, "guitest.changelog", ItemModel.COL_STATUS) == "unmet"
    assert topic_tally(window, "guitest") == Tally(total=3, met=2, unmet=1, na=0, unknown=0)
    assert window.progress is not None
    assert window.sidebar.percent.text() == f"{percent_text(window.progress.tally)} complete"
    assert window.workspace is not None and window.project is not None
    assert window.workspace.latest_scan(window.project) is not None  # recorded
    assert window.scan_label.text().startswith("scanned ")
    assert not window.scan_bar.isVisible() and not window.cancel_action.isEnabled()
    window.close()
    assert window.scanner.worker_pid is None  # the process ends with the window


@pytest.mark.parametrize("scan_job", [jobs.until_released, jobs.stuck])
def test_cancel_ends_the_scan_and_keeps_the_previous_results(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        scan_job: JobFunction) -> None:
    repo = make_repo({"README.md": "# x\n"})
    window = make_window(scan_job=scan_job)
    window.scanner._kill_after_s = 0.2  # noqa: SLF001 - a stuck scan is ended sooner
    with qtbot.waitSignal(window.scanner.progressed, timeout=SCAN_TIMEOUT_MS):
        window.start(repo.root)
    assert window.scanner.running and window.cancel_action.isEnabled()
    assert window.scan_bar.isVisible() and window.scan_bar.format() == "1/2"
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS) as finished:
        QTest.keyClick(window, Qt.Key.Key_Escape)
    done = finished.args[0]
    assert done.cancelled or (done.result is not None and done.result.cancelled)
    assert not window.scanner.running and not window.cancel_action.isEnabled()
    assert not window.scan_bar.isVisible()
    assert window.statusBar().currentMessage() == \
        "Scan cancelled: showing the previous results."
    assert window.progress is not None and window.progress.scan is None
    assert cell(window, "guitest.readme", ItemModel.COL_STATUS) == "unknown"
