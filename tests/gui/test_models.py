"""The Qt item models, without a window, over Progress values from scans of real repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from checklist_app.checklists import Checklists
from checklist_app.findings import Answer, AnswerValue, Evidence
from checklist_app.gui.filters import Filter
from checklist_app.gui.models import (
    EvidenceModel,
    HistoryLine,
    HistoryModel,
    ItemFilterModel,
    ItemModel,
    RecentProject,
    RecentProjectsModel,
    TopicModel,
    topic_rows,
)
from checklist_app.progress import Progress, Tally, build_progress
from checklist_app.scan import load_rules, scan_path
from tests.gui.conftest import GUI_RULES
from tests.repos import Repo

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
DISPLAY = Qt.ItemDataRole.DisplayRole


@pytest.fixture(scope="module")
def gui_rules() -> Checklists:
    return load_rules([GUI_RULES], include_builtin=False)


@pytest.fixture
def progress(make_repo: Callable[..., Repo], gui_rules: Checklists) -> Progress:
    """README present (met), no changelog (unmet), flask declared on line 2 (met)."""
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "requests\nflask==3.0\n"})
    return build_progress(gui_rules, scan_path(repo.root, gui_rules), (), NOW)


def answer(item_id: str, value: AnswerValue, fingerprint: str | None = None) -> Answer:
    return Answer(item_id, value, "Ada", NOW, justification="agreed in review",
                  finding_fingerprint=fingerprint, revision=3)


def texts(model: ItemModel | ItemFilterModel, column: int) -> list[str]:
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def test_topic_model_has_the_overall_row_first(qtbot: QtBot, progress: Progress) -> None:
    model = TopicModel()
    model.set_rows(topic_rows(progress))
    assert model.rowCount() == 2
    assert [model.index(row).data() for row in range(2)] == ["All topics", "GUI test practices"]
    assert model.index(0).data(TopicModel.TopicRole) is None
    assert model.index(1).data(TopicModel.TopicRole) == "guitest"
    assert model.index(1).data(TopicModel.TallyRole) == Tally(3, 2, 1, 0, 0)
    assert model.index(1).data(TopicModel.PercentTextRole) == "66.7%"
    assert model.index(1).data(Qt.ItemDataRole.ToolTipRole) == (
        "GUI test practices: 66.7% complete\n2 met · 1 unmet · 0 n/a · 0 unknown")
    assert model.row_of("guitest") == 1 and model.row_of("nope") == -1
    assert model.rowCount(model.index(0)) == 0


def test_item_model_columns_and_roles(qtbot: QtBot, progress: Progress) -> None:
    model = ItemModel()
    model.set_rows(progress.items)
    assert model.rowCount() == 3 and model.columnCount() == 6
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)] == [
        "Status", "Item", "Level", "Finding", "Answer", "Review"]
    assert texts(model, ItemModel.COL_STATUS) == ["met", "unmet", "met"]
    assert texts(model, ItemModel.COL_TITLE) == [
        "A README explains the project", "A changelog is kept", "Flask is a declared dependency"]
    assert texts(model, ItemModel.COL_LEVEL) == ["should", "could", "must"]
    assert texts(model, ItemModel.COL_FINDING) == [
        "passes (certain)", "fails (certain)", "passes (certain)"]
    assert texts(model, ItemModel.COL_ANSWER) == ["", "", ""]
    assert model.index(1, 0).data(ItemModel.ItemIdRole) == "guitest.changelog"
    assert model.index(1, 0).data(ItemModel.ItemRole) is progress.items[1]
    assert model.index(2, ItemModel.COL_LEVEL).data(ItemModel.SortRole) == 0  # must first
    assert model.data(QModelIndex()) is None
    assert model.index(0, ItemModel.COL_STATUS).data(Qt.ItemDataRole.DecorationRole) is None


def test_item_model_shows_answers_and_re_review(qtbot: QtBot, make_repo: Callable[..., Repo],
                                                gui_rules: Checklists) -> None:
    repo = make_repo({"README.md": "# x\n"})
    scan = scan_path(repo.root, gui_rules)
    readme = scan.finding("guitest.readme")
    assert readme is not None
    answers = [answer("guitest.readme", AnswerValue.MET, readme.fingerprint),
               answer("guitest.changelog", AnswerValue.NA, "stale-fingerprint")]
    model = ItemModel()
    model.set_rows(build_progress(gui_rules, scan, answers, NOW).items)
    assert texts(model, ItemModel.COL_ANSWER) == ["met (Ada)", "n/a (Ada)", ""]
    assert texts(model, ItemModel.COL_REVIEW) == ["", "re-review", ""]
    assert texts(model, ItemModel.COL_STATUS) == ["met", "n/a", "unmet"]
    assert model.index(1, ItemModel.COL_REVIEW).data(Qt.ItemDataRole.ToolTipRole) == (
        "the finding changed since this answer was given: check the answer again")


def test_same_items_update_in_place(qtbot: QtBot, progress: Progress,
                                    gui_rules: Checklists) -> None:
    model = ItemModel()
    model.set_rows(progress.items)
    resets: list[bool] = []
    changes: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.dataChanged.connect(lambda top, bottom, _roles=(): changes.append(
        (top.row(), bottom.row())))
    answered = build_progress(gui_rules, progress.scan,
                              [answer("guitest.changelog", AnswerValue.MET)], NOW)
    model.set_rows(answered.items)
    assert resets == [] and changes == [(0, 2)]
    assert texts(model, ItemModel.COL_STATUS) == ["met", "met", "met"]
    model.set_rows(answered.items[:1])
    assert resets == [True] and model.rowCount() == 1


@pytest.mark.parametrize(("topic", "filter_", "search", "expected"), [
    (None, Filter.ALL, "", ["guitest.readme", "guitest.changelog", "guitest.flask"]),
    ("guitest", Filter.ATTENTION, "", ["guitest.changelog"]),
    ("other", Filter.ALL, "", []),
    (None, Filter.UNKNOWN, "", []),
    (None, Filter.ALL, "FLASK declared", ["guitest.flask"]),
    (None, Filter.ALL, "requirements.txt:2", ["guitest.flask"]),
    (None, Filter.ALL, "could", ["guitest.changelog"]),
])
def test_filter_model(qtbot: QtBot, progress: Progress, topic: str | None, filter_: Filter,
                      search: str, expected: list[str]) -> None:
    model = ItemModel()
    model.set_rows(progress.items)
    proxy = ItemFilterModel()
    proxy.setSourceModel(model)
    proxy.set_topic(topic)
    proxy.set_filter(filter_)
    proxy.set_search(search)
    assert [entry.item.id for entry in proxy.visible_items()] == expected
    assert proxy.row_of("guitest.flask") == (expected.index("guitest.flask")
                                             if "guitest.flask" in expected else -1)


def test_filter_model_sorts_by_level(qtbot: QtBot, progress: Progress) -> None:
    model = ItemModel()
    model.set_rows(progress.items)
    proxy = ItemFilterModel()
    proxy.setSourceModel(model)
    proxy.sort(ItemModel.COL_LEVEL, Qt.SortOrder.AscendingOrder)
    assert texts(proxy, ItemModel.COL_LEVEL) == ["must", "should", "could"]


def test_evidence_model(qtbot: QtBot) -> None:
    model = EvidenceModel()
    model.set_rows((Evidence("app/db.py", 12, None, "  cursor.execute(\n  f'...')"),
                    Evidence("migrations/env.py", None, "0123456789abcdef")))
    assert model.rowCount() == 2
    assert model.index(0).data() == "app/db.py:12    cursor.execute( f'...')"
    assert model.index(1).data() == "migrations/env.py@0123456789"
    assert model.index(1).data(EvidenceModel.EvidenceRole) == Evidence(
        "migrations/env.py", None, "0123456789abcdef")


def test_history_and_recent_models(qtbot: QtBot) -> None:
    history = HistoryModel()
    history.set_rows((HistoryLine(datetime(2020, 5, 1, 9, 30, tzinfo=UTC), "Ada",
                                  "no answer → n/a", "we have no forms"),))
    text = history.index(0).data()
    assert text.endswith("  Ada: no answer → n/a — we have no forms")
    recent = RecentProjectsModel()
    recent.set_rows((RecentProject("/p/shop", "shop", Tally(4, 1, 1, 0, 2), True),
                     RecentProject("/p/gone", "gone", None, False),
                     RecentProject("/p/new", "new", None, True)))
    assert [recent.index(r).data() for r in range(3)] == [
        "shop  —  25% complete\n/p/shop", "gone  —  folder not found\n/p/gone",
        "new  —  not scanned yet\n/p/new"]
    assert recent.index(1).data(RecentProjectsModel.RootRole) == "/p/gone"
