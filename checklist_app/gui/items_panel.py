"""The middle of the window: filter buttons, a search box and the items table."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.filters import FILTER_LABELS, Filter, filter_counts
from checklist_app.gui.models import ItemFilterModel, ItemModel


class ItemsPanel(QWidget):
    current_changed = Signal(object)  # the selected item's id, or None

    def __init__(self, model: ItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = ItemFilterModel(self)
        self.proxy.setSourceModel(model)
        self.filters = QTabBar()
        self.filters.setDrawBase(False)
        self.filters.setExpanding(False)
        self.filters.setUsesScrollButtons(True)
        self.filters.setElideMode(Qt.TextElideMode.ElideNone)
        self.filters.setAccessibleName("Filter items")
        for filter_ in Filter:
            self.filters.addTab(FILTER_LABELS[filter_])
        self.filters.currentChanged.connect(self._filter_tab_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search items  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(140)
        self.search.setMaximumWidth(260)
        self.search.setAccessibleName("Search items")
        self.search.textChanged.connect(self._search_changed)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.filters, 1)
        bar.addWidget(self.search)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setAccessibleName("Items")
        row_height = self.table.fontMetrics().height() + 10
        self.table.verticalHeader().setDefaultSectionSize(row_height)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(ItemModel.COL_TITLE, QHeaderView.ResizeMode.Stretch)
        widths = {ItemModel.COL_STATUS: 84, ItemModel.COL_LEVEL: 58,
                  ItemModel.COL_FINDING: 136, ItemModel.COL_ANSWER: 110,
                  ItemModel.COL_REVIEW: 76}
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.proxy.modelReset.connect(self._update_counts)
        self.proxy.layoutChanged.connect(self._update_counts)
        model.dataChanged.connect(self._update_counts)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._update_counts()

    def set_topic(self, topic: str | None) -> None:
        current = self.selected_id()
        self.proxy.set_topic(topic)
        self._update_counts()
        self._restore(current)

    def set_filter(self, filter_: Filter) -> None:
        self.filters.setCurrentIndex(list(Filter).index(filter_))

    def _filter_tab_changed(self, position: int) -> None:
        if not 0 <= position < len(Filter):
            return
        current = self.selected_id()
        self.proxy.set_filter(list(Filter)[position])
        self._restore(current)

    def _search_changed(self, text: str) -> None:
        current = self.selected_id()
        self.proxy.set_search(text)
        self._restore(current)

    def _restore(self, item_id: str | None) -> None:
        """Keep the selection when it is still shown; else select the first row shown."""
        if item_id is not None and self.select(item_id):
            return
        if self.proxy.rowCount() > 0:
            self.table.selectRow(0)
        else:
            self.current_changed.emit(None)

    def _update_counts(self) -> None:
        counts = filter_counts(self.model.rows, self.proxy.topic)
        for position, filter_ in enumerate(Filter):
            self.filters.setTabText(position, f"{FILTER_LABELS[filter_]} ({counts[filter_]})")

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(ItemModel.ItemIdRole)
        return value if isinstance(value, str) else None

    def select(self, item_id: str) -> bool:
        """Select and show the item; False when the current topic, filter or search hides it."""
        row = self.proxy.row_of(item_id)
        if row < 0:
            return False
        index = self.proxy.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    def clear_search(self) -> None:
        self.search.clear()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.current_changed.emit(self.selected_id())
