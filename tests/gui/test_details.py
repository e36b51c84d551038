"""The details pane's text rendering and the answer form's rules, and the error hook."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from checklist_app.checklists import Combine, Item, Level
from checklist_app.findings import Answer, AnswerValue, Confidence, Finding, Outcome, Status
from checklist_app.gui.details import (
    MINIMUM_WIDTH as DETAILS_MINIMUM_WIDTH,
)
from checklist_app.gui.details import (
    AnswerForm,
    AnswerRequest,
    DetailsPane,
    checklist_html,
    references_html,
)
from checklist_app.gui.errors import ErrorReporter, install_excepthook
from checklist_app.gui.icons import StatusIcons
from checklist_app.gui.main_window import MainWindow
from checklist_app.progress import ItemProgress
from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.repos import Repo

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def entry(na_allowed: bool = True, outcome: Outcome = Outcome.FAIL,
          answer: Answer | None = None) -> ItemProgress:
    item = Item("security.csrf", "security", "CSRF", Level.MUST, "why", "how", (), na_allowed,
                True, (), (), Combine.ANY, "rules/security.yaml", 3)
    finding = Finding(outcome, Confidence.HIGH, "no CSRFProtect", item_id=item.id)
    status = Status.UNMET if answer is None else Status(answer.value.value)
    return ItemProgress(item, finding, answer, status, False, False, False)


def test_checklist_html_escapes_and_keeps_code_blocks() -> None:
    text = ("Use `CSRFProtect` <script>x</script>:\n\n"
            "    csrf = CSRFProtect()\n    csrf.init_app(app)  # <b>\n\nThen test it.")
    assert checklist_html(text) == (
        "<p>Use <code>CSRFProtect</code> &lt;script&gt;x&lt;/script&gt;:</p>"
        '<pre style="white-space: pre-wrap">csrf = CSRFProtect()\n'
        "csrf.init_app(app)  # &lt;b&gt;</pre><p>Then test it.</p>")


def test_references_link_only_web_addresses() -> None:
    assert references_html((("Flask <docs>", "https://flask.example/a?b=1&c=2"),
                            ("local", "file:///etc/passwd"))) == (
        '<a href="https://flask.example/a?b=1&amp;c=2">Flask &lt;docs&gt;</a><br>'
        "local (file:///etc/passwd)")


def test_answer_form_needs_a_justification_where_the_rules_say(qtbot: QtBot) -> None:
    form = AnswerForm()
    qtbot.addWidget(form)
    sent: list[AnswerRequest] = []
    form.submitted.connect(sent.append)
    form.set_entry(entry())
    assert form.save_problem() == "choose met, unmet or n/a"
    form.choose(AnswerValue.UNMET)
    assert form.save_problem() is None  # agrees with the finding
    form.choose(AnswerValue.MET)
    assert form.save_problem() == ("this answer overrides the scan (which found fail) and needs "
                                   "a justification")
    assert not form.save.isEnabled()
    form.justification.setPlainText("  checked by hand: forms post JSON only  ")
    assert form.save.isEnabled()
    assert form.try_submit()
    assert sent == [AnswerRequest("security.csrf", AnswerValue.MET, "",
                                  "checked by hand: forms post JSON only", 0)]


def test_answer_form_refuses_na_where_not_allowed_and_keeps_edits(qtbot: QtBot) -> None:
    form = AnswerForm()
    qtbot.addWidget(form)
    form.set_entry(entry(na_allowed=False))
    assert not form.na.isEnabled()
    form.choose(AnswerValue.NA)
    assert form.save_problem() == ("security.csrf cannot be answered n/a: the checklist says it "
                                   "applies to every project")
    saved = Answer("security.csrf", AnswerValue.UNMET, "Ada", NOW, note="later", revision=4)
    form.set_entry(entry(answer=saved))  # the same item with an answer: the edit stays
    assert form.chosen() is AnswerValue.NA
    form.set_entry(None)
    form.set_entry(entry(answer=saved))
    assert form.chosen() is AnswerValue.UNMET and form.note.text() == "later"
    assert form.save_problem() == "nothing changed"
    form.note.setText("next sprint")
    form.set_entry(entry(answer=saved))  # a rescan: the same item, the edit stays
    assert form.note.text() == "next sprint"
    assert form.revert.isEnabled()
    form.revert.click()
    assert form.note.text() == "later"


def test_error_reporter_shows_a_dialog_instead_of_a_traceback(
        qtbot: QtBot, capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[tuple[str, str, str]] = []

    def show(_parent: QWidget | None, title: str, message: str, details: str = "") -> None:
        shown.append((title, message, details))

    reporter = ErrorReporter(lambda: None, show)
    previous = install_excepthook(reporter)
    try:
        try:
            raise ValueError("bad value")
        except ValueError as error:
            sys.excepthook(type(error), error, error.__traceback__)
    finally:
        sys.excepthook = previous
    assert len(shown) == 1
    title, message, details = shown[0]
    assert title == "Flask Checklist: unexpected error"
    assert message.startswith("Something went wrong: ValueError: bad value")
    assert 'raise ValueError("bad value")' in details
    assert capsys.readouterr().err == ""


def overflow(pane: DetailsPane) -> list[str]:
    """What in the details pane is wider than its viewport or sticks out of it."""
    body = pane.widget()
    assert body is not None
    width = pane.viewport().width()
    problems = [f"body {body.width()} > viewport {width}"] if body.width() > width else []
    for child in body.findChildren(QWidget):
        if child.isVisibleTo(body):
            right = child.mapTo(body, QPoint(child.width(), 0)).x()
            if right > width:
                problems.append(f"{type(child).__name__} {child.objectName()} ends at {right}")
    return problems


def test_the_details_pane_wraps_a_long_finding_to_a_narrow_pane(qtbot: QtBot) -> None:
    pane = DetailsPane(StatusIcons(QApplication.palette(), 1.0))
    qtbot.addWidget(pane)
    pane.resize(DETAILS_MINIMUM_WIDTH, 600)
    pane.show()
    long_path = "app/" + "very_long_package_name/" * 12 + "views.py:12"
    shown = entry()
    assert shown.finding is not None
    finding = replace(shown.finding, message=f"string-built SQL at {long_path} and more")
    pane.show_entry(replace(shown, finding=finding))
    QApplication.processEvents()
    assert pane.width() == DETAILS_MINIMUM_WIDTH
    assert overflow(pane) == []


def test_the_details_pane_fits_a_narrow_window_with_the_review_dock_open(
        qtbot: QtBot, make_window: Callable[..., MainWindow],
        make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "requests\n"})
    window = make_window()
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.start(repo.root)
    window.resize(1000, 700)
    window.show_reviews()
    assert window.items.select("guitest.flask")
    window.details.answer.choose(AnswerValue.MET)  # the form grows its justification label
    QApplication.processEvents()
    assert window.width() == 1000 and window.review_dock.isVisible()
    assert window.details.entry is not None
    assert overflow(window.details) == []
    assert window.details.answer.save.isVisibleTo(window.details)
