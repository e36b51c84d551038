"""Qt item models over plain values: topics, items, evidence, history, recent projects.

Each model holds a tuple of frozen values, replaced whole by `set_rows`; columns and roles are
named constants. The models never talk to the workspace: the window hands them values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from checklist_app.findings import Evidence
from checklist_app.gui.filters import Filter, shown
from checklist_app.gui.icons import StatusIcons, badge_colour
from checklist_app.gui.wording import (
    STATUS_WORDS,
    answer_text,
    badge,
    finding_text,
    percent_text,
    review_text,
    tally_text,
    when_text,
)
from checklist_app.progress import ItemProgress, Progress, Tally

Index = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FONT = Qt.ItemDataRole.FontRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_USER = Qt.ItemDataRole.UserRole


def _palette() -> QPalette:
    return QApplication.palette()


# --- topics -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicRow:
    topic: str | None
    """None: the row for every topic (overall progress)."""
    title: str
    tally: Tally


def topic_rows(progress: Progress) -> tuple[TopicRow, ...]:
    rows = [TopicRow(None, "All topics", progress.tally)]
    rows += [TopicRow(topic.topic, topic.title, topic.tally) for topic in progress.topics]
    return tuple(rows)


class TopicModel(QAbstractListModel):
    """The topics, with the overall row first."""

    TopicRole = _USER + 1
    """The topic id (str), or None for the overall row."""
    TallyRole = _USER + 2
    PercentTextRole = _USER + 3

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[TopicRow, ...] = ()

    def set_rows(self, rows: tuple[TopicRow, ...]) -> None:
        if [r.topic for r in rows] == [r.topic for r in self._rows]:
            self._rows = rows  # same topics: update in place, the selection stays
            if rows:
                self.dataChanged.emit(self.index(0), self.index(len(rows) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of(self, topic: str | None) -> int:
        for position, row in enumerate(self._rows):
            if row.topic == topic:
                return position
        return -1

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == _DISPLAY:
            return row.title
        if role == _TOOLTIP:
            return f"{row.title}: {percent_text(row.tally)} complete\n{tally_text(row.tally)}"
        if role == self.TopicRole:
            return row.topic
        if role == self.TallyRole:
            return row.tally
        if role == self.PercentTextRole:
            return percent_text(row.tally)
        if role == _FONT and row.topic is None:
            font = QFont(QApplication.font())
            font.setBold(True)
            return font
        return None


# --- items --------------------------------------------------------------------------------------


class ItemModel(QAbstractTableModel):
    """Every item of every topic; `ItemFilterModel` picks the topic and the filter."""

    COL_STATUS = 0
    COL_TITLE = 1
    COL_LEVEL = 2
    COL_FINDING = 3
    COL_ANSWER = 4
    COL_REVIEW = 5
    HEADERS = ("Status", "Item", "Level", "Finding", "Answer", "Review")

    ItemRole = _USER + 1
    """The row's ItemProgress."""
    ItemIdRole = _USER + 2
    SortRole = _USER + 3

    def __init__(self, icons: StatusIcons | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[ItemProgress, ...] = ()
        self._icons = icons

    @property
    def rows(self) -> tuple[ItemProgress, ...]:
        return self._rows

    def set_icons(self, icons: StatusIcons) -> None:
        self._icons = icons
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

    def set_rows(self, rows: tuple[ItemProgress, ...]) -> None:
        """Replace the items. When the same items come back (a rescan, an answer), the rows
        are updated in place so views keep their selection and scroll position."""
        if [r.item.id for r in rows] == [r.item.id for r in self._rows]:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(self.HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of(self, item_id: str) -> int:
        for position, row in enumerate(self._rows):
            if row.item.id == item_id:
                return position
        return -1

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role == _DISPLAY:
            return self._display(entry, column)
        if role == self.ItemRole:
            return entry
        if role == self.ItemIdRole:
            return entry.item.id
        if role == self.SortRole:
            return self._sort_key(entry, column)
        if role == _DECORATION:
            return self._decoration(entry, column)
        if role == _TOOLTIP:
            return self._tooltip(entry, column)
        if role == _FOREGROUND and column == self.COL_STATUS:
            return badge_colour(badge(entry), _palette())
        return None

    def _display(self, entry: ItemProgress, column: int) -> str | None:
        if column == self.COL_STATUS:
            return STATUS_WORDS[entry.status]
        if column == self.COL_TITLE:
            return entry.item.title
        if column == self.COL_LEVEL:
            return entry.item.level.value
        if column == self.COL_FINDING:
            return finding_text(entry.finding)
        if column == self.COL_ANSWER:
            return answer_text(entry.answer, entry.answer_expired)
        if column == self.COL_REVIEW:
            return review_text(entry)
        return None

    def _sort_key(self, entry: ItemProgress, column: int) -> str | int:
        if column == self.COL_LEVEL:
            return ("must", "should", "could").index(entry.item.level.value)
        if column == self.COL_STATUS:
            return ("unmet", "unknown", "met", "na").index(entry.status.value)
        return str(self._display(entry, column) or "").casefold()

    def _decoration(self, entry: ItemProgress, column: int) -> Any:
        if self._icons is None:
            return None
        if column == self.COL_STATUS:
            return self._icons.badge(badge(entry))
        if column == self.COL_REVIEW and (entry.needs_review or entry.answer_expired):
            return self._icons.review()
        return None

    def _tooltip(self, entry: ItemProgress, column: int) -> str | None:
        if column == self.COL_FINDING and entry.finding is not None:
            return entry.finding.message
        if column == self.COL_TITLE:
            return entry.item.id
        if column == self.COL_REVIEW and entry.needs_review:
            return "the finding changed since this answer was given: check the answer again"
        if column == self.COL_REVIEW and entry.answer_expired:
            return "the answer has expired: answer again"
        return None


class ItemFilterModel(QSortFilterProxyModel):
    """The items of one topic (or all), kept by a filter and a search text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._topic: str | None = None
        self._filter = Filter.ALL
        self._search = ""
        self.setSortRole(ItemModel.SortRole)

    @property
    def topic(self) -> str | None:
        return self._topic

    @property
    def filter(self) -> Filter:
        return self._filter

    @property
    def search(self) -> str:
        return self._search

    def set_topic(self, topic: str | None) -> None:
        if topic != self._topic:
            self.beginFilterChange()
            self._topic = topic
            self.endFilterChange()

    def set_filter(self, filter_: Filter) -> None:
        if filter_ is not self._filter:
            self.beginFilterChange()
            self._filter = filter_
            self.endFilterChange()

    def set_search(self, search: str) -> None:
        if search != self._search:
            self.beginFilterChange()
            self._search = search
            self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ItemModel) or not 0 <= source_row < len(model.rows):
            return False
        return shown(model.rows[source_row], self._topic, self._filter, self._search)

    def visible_items(self) -> list[ItemProgress]:
        """The items in the order the view shows them."""
        found = []
        for row in range(self.rowCount()):
            entry = self.index(row, 0).data(ItemModel.ItemRole)
            if isinstance(entry, ItemProgress):
                found.append(entry)
        return found

    def row_of(self, item_id: str) -> int:
        for row in range(self.rowCount()):
            if self.index(row, 0).data(ItemModel.ItemIdRole) == item_id:
                return row
        return -1


_Row = TypeVar("_Row")


class _RowsModel(QAbstractListModel, Generic[_Row]):
    """A list model over a tuple of plain values, replaced all at once by `set_rows`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[_Row, ...] = ()

    def set_rows(self, rows: tuple[_Row, ...]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def _row(self, index: Index) -> _Row | None:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]


# --- evidence -----------------------------------------------------------------------------------


class EvidenceModel(_RowsModel[Evidence]):
    EvidenceRole = _USER + 1

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        evidence = self._row(index)
        if evidence is None:
            return None
        if role == _DISPLAY:
            excerpt = " ".join(evidence.excerpt.split())
            if len(excerpt) > 120:
                excerpt = excerpt[:119] + "…"
            return f"{evidence.location}    {excerpt}" if excerpt else evidence.location
        if role == _TOOLTIP:
            hint = "commit" if evidence.commit and evidence.line is None else "file"
            return f"{evidence.location}\n{evidence.excerpt}\n\nDouble-click to open the {hint}"
        if role == self.EvidenceRole:
            return evidence
        return None


# --- history ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One change to an answer, as the details pane lists it."""

    changed_at: datetime
    author: str
    change: str
    """e.g. `unmet → n/a`."""
    reason: str


class HistoryModel(_RowsModel[HistoryLine]):
    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        line = self._row(index)
        if line is None:
            return None
        if role == _DISPLAY:
            text = f"{when_text(line.changed_at)}  {line.author}: {line.change}"
            return f"{text} — {line.reason}" if line.reason else text
        if role == _TOOLTIP:
            return f"{line.changed_at.isoformat(timespec='seconds')}\n{line.reason}".strip()
        return None


# --- recent projects ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecentProject:
    root: str
    name: str
    tally: Tally | None
    """None: never scanned."""
    exists: bool


class RecentProjectsModel(_RowsModel[RecentProject]):
    RootRole = _USER + 1
    ProjectRole = _USER + 2

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        project = self._row(index)
        if project is None:
            return None
        if role == _DISPLAY:
            if not project.exists:
                state = "folder not found"
            elif project.tally is None:
                state = "not scanned yet"
            else:
                state = f"{percent_text(project.tally)} complete"
            return f"{project.name}  —  {state}\n{project.root}"
        if role == _TOOLTIP:
            return project.root
        if role == self.RootRole:
            return project.root
        if role == self.ProjectRole:
            return project
        if role == _FOREGROUND and not project.exists:
            return _palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None
