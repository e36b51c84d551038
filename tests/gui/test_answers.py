"""Shared answers in the window: export them, import a file as proposals, accept and reject
them (a conflict asks first), and hostile files refused with where and why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from checklist_app.findings import AnswerValue
from checklist_app.gui.answers_dialog import ProposalsDialog
from checklist_app.gui.main_window import MainWindow
from tests.gui.conftest import SCAN_TIMEOUT_MS, Dialogs
from tests.repos import Repo

WindowFactory = Callable[..., MainWindow]

SHARED = """\
format: 1
answers:
  guitest.changelog:
    value: na
    author: Carol
    answered_at: 2026-11-20
    justification: released from tags only
  guitest.readme:
    value: met
    author: Dan <d@x>
    answered_at: '2026-11-21T10:00:00+00:00'
    note: checked by hand
"""


@pytest.fixture
def window(qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
           dialogs: Dialogs) -> MainWindow:
    repo = make_repo({"README.md": "# x\n"})
    made = make_window(show=dialogs.show, confirm=dialogs.confirm)
    with qtbot.waitSignal(made.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        made.start(repo.root)
    assert made.workspace is not None and made.project is not None
    made.workspace.answer(made.project, "guitest.changelog", AnswerValue.NA, author="Bob",
                          justification="no releases")
    made._reload()
    return made


def rows(dialog: ProposalsDialog) -> list[tuple[str, ...]]:
    table = dialog.table
    found = []
    for row in range(table.rowCount()):
        cells = [table.item(row, column) for column in range(4)]
        found.append(tuple(cell.text() if cell is not None else "" for cell in cells))
    return found


def answer_of(window: MainWindow, item_id: str) -> tuple[str, str, str] | None:
    assert window.progress is not None
    entry = window.progress.item(item_id)
    assert entry is not None
    answer = entry.answer
    return None if answer is None else (answer.value.value, answer.author,
                                        answer.justification)


def test_import_shows_proposals_and_accepting_one_makes_it_the_answer(
        window: MainWindow, dialogs: Dialogs, tmp_path: Path) -> None:
    shared = tmp_path / ".flask-checklist.yaml"
    shared.write_text(SHARED, encoding="utf-8")
    dialog = window.import_answers_from(shared)
    assert dialog is not None and dialog.isVisible()
    assert dialog.summary.text().startswith("2 open proposal(s), 1 in conflict")
    local = [v.local for v in dialog.views if v.proposal.item_id == "guitest.changelog"][0]
    assert local is not None
    assert rows(dialog) == [
        ("guitest.changelog", "conflict",
         "n/a by Carol on 2026-11-20\nJustification: released from tags only",
         f"n/a by Bob on {local.answered_at:%Y-%m-%d}\nJustification: no releases"),
        ("guitest.readme", "new", "met by Dan <d@x> on 2026-11-21\nNote: checked by hand",
         "no local answer"),
    ]
    readme = next(v.proposal.id for v in dialog.views if v.proposal.item_id == "guitest.readme")
    changelog = next(v.proposal.id for v in dialog.views
                     if v.proposal.item_id == "guitest.changelog")

    accept = dialog.button(readme, "accept")
    assert accept is not None
    accept.click()
    assert answer_of(window, "guitest.readme") == ("met", "Dan <d@x>", "")
    assert [v.proposal.item_id for v in dialog.views] == ["guitest.changelog"]

    # the conflict asks before replacing; No keeps the local answer
    dialogs.answers = [False]
    accept = dialog.button(changelog, "accept")
    assert accept is not None
    accept.click()
    assert answer_of(window, "guitest.changelog") == ("na", "Bob", "no releases")
    assert "Local: n/a by Bob" in dialogs.questions[0]
    assert "Proposed: n/a by Carol" in dialogs.questions[0]
    accept.click()  # Yes
    assert answer_of(window, "guitest.changelog") == ("na", "Carol", "released from tags only")
    assert dialog.views == () and dialog.summary.text() == "No open proposals."
    assert dialogs.errors == []

    # importing the same file again proposes nothing: the answers already say the same
    again = window.import_answers_from(shared)
    assert again is not None and again.views == ()
    assert window.statusBar().currentMessage() == (
        "0 proposal(s) recorded, 2 already answered the same, 0 already proposed.")


def test_reject_drops_a_proposal_and_keeps_the_local_answer(
        window: MainWindow, dialogs: Dialogs, tmp_path: Path) -> None:
    shared = tmp_path / "shared.yaml"
    shared.write_text(SHARED, encoding="utf-8")
    dialog = window.import_answers_from(shared)
    assert dialog is not None
    changelog = next(v.proposal.id for v in dialog.views
                     if v.proposal.item_id == "guitest.changelog")
    reject = dialog.button(changelog, "reject")
    assert reject is not None
    reject.click()
    assert [v.proposal.item_id for v in dialog.views] == ["guitest.readme"]
    assert answer_of(window, "guitest.changelog") == ("na", "Bob", "no releases")


def test_export_writes_the_answers_file_that_import_reads_back(
        window: MainWindow, dialogs: Dialogs, tmp_path: Path) -> None:
    target = tmp_path / ".flask-checklist.yaml"
    assert window.export_answers_to(target)
    text = target.read_text(encoding="utf-8")
    assert "  guitest.changelog:\n    value: na\n    author: Bob\n" in text
    assert "    justification: no releases\n" in text
    dialog = window.import_answers_from(target)
    assert dialog is not None and dialog.views == ()
    assert dialogs.errors == []


HOSTILE: list[tuple[str, str | bytes, str]] = [
    ("alias", "format: 1\nanswers:\n  guitest.readme: &a\n    value: met\n",
     "{path}:3: anchors (&name) are not allowed in an answers file"),
    ("unknown item", "format: 1\nanswers:\n  evil.item:\n    value: met\n"
     "    author: x\n    answered_at: 2026-01-01\n",
     "{path}:3: evil.item: no such item in the checklists"),
    ("n/a without a justification", "format: 1\nanswers:\n  guitest.changelog:\n"
     "    value: na\n    author: x\n    answered_at: 2026-01-01\n",
     "{path}:3: guitest.changelog.justification: an n/a answer needs a justification"),
    ("a bad date", "format: 1\nanswers:\n  guitest.readme:\n    value: met\n    author: x\n"
     "    answered_at: yesterday\n",
     "{path}:6: guitest.readme.answered_at: 'yesterday' is not a date like 2026-12-31 or "
     "2026-12-31T09:30:00+00:00"),
    ("not UTF-8", b"format: 1\nanswers:\n  \xff\xfe: x\n",
     "{path}:3: the file is not UTF-8 text"),
    ("too large", b"#" * 1_000_001,
     "{path}: the file is larger than 1000000 bytes, the limit of an answers file"),
]


def test_a_hostile_file_is_refused_with_where_and_why_and_changes_nothing(
        window: MainWindow, dialogs: Dialogs, tmp_path: Path) -> None:
    assert window.workspace is not None and window.project is not None
    before = window.workspace.store.answers(window.project.id)
    for number, (name, content, message) in enumerate(HOSTILE):
        hostile = tmp_path / f"hostile-{number}.yaml"
        if isinstance(content, bytes):
            hostile.write_bytes(content)
        else:
            hostile.write_text(content, encoding="utf-8")
        dialogs.errors.clear()
        assert window.import_answers_from(hostile) is None, name
        assert dialogs.errors == [("The answers were not imported",
                                   message.format(path=hostile) + "\n\nNothing was changed.")]
        assert window.workspace.proposals(window.project) == (), name
        assert window.workspace.store.answers(window.project.id) == before, name
        assert window.proposals_dialog is None, name


def test_a_missing_file_shows_why(window: MainWindow, dialogs: Dialogs, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert window.import_answers_from(missing) is None
    assert dialogs.errors == [("The answers were not imported",
                               f"{missing}: No such file or directory")]
