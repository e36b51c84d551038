"""The review panel, driven in the real window: start a review pinned to the commit and tag,
sign its topics, close it (frozen), what changed since, and comparing any two points."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from checklist_app.findings import AnswerValue, Status
from checklist_app.gui.main_window import MainWindow
from checklist_app.gui.review_panel import ReviewPanel
from checklist_app.reviews import Change, Decision, TopicState
from checklist_app.workspace import default_author
from tests.gui.conftest import SCAN_TIMEOUT_MS, Dialogs
from tests.repos import Repo, git

WindowFactory = Callable[..., MainWindow]
TODAY = f"{datetime.now(UTC):%Y-%m-%d}"


def scanned_window(qtbot: QtBot, make_window: WindowFactory, dialogs: Dialogs,
                   root: Path) -> MainWindow:
    window = make_window(show=dialogs.show, confirm=dialogs.confirm)
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.start(root)
    window.show_reviews()
    return window


def topic_row(panel: ReviewPanel, topic: str) -> tuple[str, str]:
    """(topic and sign-offs, state) as the table shows them."""
    for row in range(panel.topic_table.rowCount()):
        cells = [panel.topic_table.item(row, column) for column in range(2)]
        if cells[0] is not None and cells[0].data(Qt.ItemDataRole.UserRole) == topic:
            return (cells[0].text(), cells[1].text() if cells[1] else "")
    raise AssertionError(f"no row for {topic}")


def sign(qtbot: QtBot, panel: ReviewPanel, topic: str, reviewer: str, decision: Decision,
         comment: str = "") -> None:
    assert panel.select_topic(topic)
    panel.reviewer_edit.setText(reviewer)
    panel.decision_box.setCurrentIndex(panel.decision_box.findData(decision.value))
    panel.comment_edit.setText(comment)
    panel.sign_button.click()


def test_start_sign_and_close_a_review_then_its_state_stays_frozen(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        dialogs: Dialogs) -> None:
    repo = make_repo({"README.md": "# x\n"})
    git(repo.root, "tag", "v1.0")
    head = git(repo.root, "rev-parse", "HEAD").strip()
    window = scanned_window(qtbot, make_window, dialogs, repo.root)
    panel = window.review_panel
    assert window.review_dock.isVisible()
    assert panel.heading.text() == "No review yet: give it a title and start one."
    assert panel.reviewer_edit.text() == default_author(repo.root)
    assert not panel.close_button.isEnabled()

    panel.title_edit.setText("  Release   <b>1.0</b> ")
    panel.start_button.click()
    review = panel.review
    assert review is not None
    assert (review.id, review.title, review.commit, review.tag, review.tag_exact) == (
        1, "Release <b>1.0</b>", head, "v1.0", True)
    assert panel.heading.text() == f"Review 1: Release <b>1.0</b> — {head[:10]} (v1.0); open"
    assert not panel.start_button.isEnabled()
    assert topic_row(panel, "guitest") == ("GUI test practices", "unsigned")

    sign(qtbot, panel, "guitest", "Ann", Decision.APPROVE, "looks right")
    assert topic_row(panel, "guitest") == (
        f"GUI test practices\napprove by Ann on {TODAY}: looks right", "approved")
    sign(qtbot, panel, "guitest", "Bob", Decision.CHANGES)  # refused: no comment
    assert dialogs.errors == [("The sign-off was not recorded",
                               "requesting changes needs a comment saying which")]
    assert topic_row(panel, "guitest")[1] == "approved"
    sign(qtbot, panel, "guitest", "Bob", Decision.CHANGES, "add a changelog")
    assert topic_row(panel, "guitest") == (
        f"GUI test practices\napprove by Ann on {TODAY}: looks right\n"
        f"changes by Bob on {TODAY}: add a changelog", "changes requested")

    dialogs.answers = [False]  # "Close the review?" Cancel: still open
    panel.close_button.click()
    assert panel.review is not None and not panel.review.closed
    assert "Not approved: " in dialogs.questions[0] and "GUI test practices" in \
        dialogs.questions[0]
    panel.close_button.click()
    closed = panel.review
    assert closed is not None and closed.closed and closed.snapshot is not None
    assert window.progress is not None
    assert closed.snapshot.tally == window.progress.tally
    frozen = closed.snapshot.item("guitest.changelog")
    assert frozen is not None and frozen.status is Status.UNMET
    assert panel.heading.text().startswith(f"Review 1: Release <b>1.0</b> — {head[:10]} "
                                           "(v1.0); closed ")
    assert not panel.sign_button.isEnabled() and not panel.close_button.isEnabled()
    assert panel.start_button.isEnabled()
    assert [panel.review_list.item(0).text()] == [
        f"Review 1: Release <b>1.0</b> — {head[:10]} (v1.0); closed "
        f"{closed.closed_at:%Y-%m-%d %H:%M} UTC by {closed.closed_by}"]

    # an answer given after the close changes now, not the frozen review
    assert window.workspace is not None and window.project is not None
    window.workspace.answer(window.project, "guitest.changelog", AnswerValue.NA,
                            author="Carol", justification="no releases yet")
    panel.refresh()
    assert panel.review is not None and panel.review.snapshot is not None
    still = panel.review.snapshot.item("guitest.changelog")
    assert still is not None and still.status is Status.UNMET and still.answer is None
    assert [t.state for t in panel.topics if t.topic == "guitest"] == [
        TopicState.CHANGES_REQUESTED]


def test_changes_since_the_previous_review_and_comparing_two_points(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        dialogs: Dialogs) -> None:
    repo = make_repo({"README.md": "# x\n"})
    window = scanned_window(qtbot, make_window, dialogs, repo.root)
    panel = window.review_panel
    assert window.workspace is not None and window.project is not None
    panel.title_edit.setText("First")
    panel.start_button.click()
    panel.close_button.click()
    assert dialogs.errors == []
    assert panel.changes_view.toPlainText() == "No earlier closed review to compare with."

    window.workspace.answer(window.project, "guitest.changelog", AnswerValue.NA,
                            author="Carol <c@x>", justification="no releases yet")
    panel.title_edit.setText("Second")
    panel.start_button.click()
    assert panel.review is not None and panel.review.id == 2
    changes = panel.changes
    assert changes is not None
    assert (changes.before_label, changes.after_label) == ("review 1", "now")
    assert [(d.item_id, d.change, d.before, d.after) for d in changes.deltas] == [
        ("guitest.changelog", Change.IMPROVEMENT, Status.UNMET, Status.NA)]
    text = panel.changes_view.toPlainText()
    assert "Improvements (1)" in text
    assert ("guitest.changelog A changelog is kept: unmet → n/a\nanswer: no answer → "
            "n/a by Carol <c@x>: no releases yet") in text

    # compare any two points: review 1 with now, then now with review 1 (a regression)
    panel.tabs.setCurrentIndex(1)
    panel.choose_points(1, None)
    panel.compare_button.click()
    assert panel.comparison is not None
    assert (panel.comparison.before_label, panel.comparison.after_label) == ("review 1", "now")
    assert [d.item_id for d in panel.comparison.improvements] == ["guitest.changelog"]
    panel.choose_points(None, 1)
    panel.compare_button.click()
    assert [(d.item_id, d.change) for d in panel.comparison.deltas] == [
        ("guitest.changelog", Change.REGRESSION)]
    assert "Regressions (1)" in panel.compare_view.toPlainText()
    # the open review compares as now
    panel.choose_points(1, 2)
    panel.compare_button.click()
    assert panel.comparison.after_label == "review 2 (open: now)"

    # progress over time: the scan and the closed review
    kinds = [p.kind for s in panel.chart.model.series[:1] for p in s.points]
    assert kinds == ["scan", "review"]


def test_closing_is_refused_when_the_latest_scan_is_of_another_commit(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        dialogs: Dialogs) -> None:
    repo = make_repo({"README.md": "# x\n"})
    first = git(repo.root, "rev-parse", "HEAD").strip()
    window = scanned_window(qtbot, make_window, dialogs, repo.root)
    panel = window.review_panel
    panel.title_edit.setText("Pinned")
    panel.start_button.click()
    second = repo.commit({"CHANGELOG.md": "# c\n"})
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.rescan()
    panel.close_button.click()
    assert dialogs.errors == [(
        "The review was not closed",
        f"review 1 is pinned to commit {first[:10]} but the latest scan is of {second[:10]}: "
        f"check out {first[:10]} and scan it, or start a new review")]
    assert panel.review is not None and not panel.review.closed
