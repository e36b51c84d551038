"""The middle of the window: a row of filter buttons, a search box and the items table."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHeaderView,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.filters import FILTER_LABELS, FILTER_TIPS, Filter, filter_counts
from checklist_app.gui.models import ItemFilterModel, ItemModel


class FlowRow(QLayout):
    """Widgets side by side, left to right, going on to a new row when the width runs out: as
    narrow as the widest widget, as tall as the rows need."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 2) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        hints = [item.sizeHint() for item in self._items]
        width = sum(hint.width() for hint in hints) + self._gap * max(0, len(hints) - 1)
        return QSize(width, max((hint.height() for hint in hints), default=0))

    def minimumSize(self) -> QSize:
        widest = max((item.minimumSize().width() for item in self._items), default=0)
        return QSize(widest, self.heightForWidth(widest))

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the widgets out in rect (when move); the height they take."""
        x, y, row_height = rect.x(), rect.y(), 0
        for item in self._items:
            size = item.sizeHint().expandedTo(item.minimumSize())
            if x > rect.x() and x + size.width() > rect.right() + 1:
                x, y, row_height = rect.x(), y + row_height + self._gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), size))
            x += size.width() + self._gap
            row_height = max(row_height, size.height())
        return y + row_height - rect.y()


class FilterBar(QWidget):
    """One checkable button per filter, side by side, each with its count: all of them are
    always visible (no scroll arrows); when the panel is narrow they wrap onto a second row."""

    changed = Signal(object)  # the chosen Filter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Filter items")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[Filter, QToolButton] = {}
        row = FlowRow(self)
        for position, filter_ in enumerate(Filter):
            button = QToolButton()
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.setText(f"{FILTER_LABELS[filter_]} (888)")  # room for the count: the
            button.setMinimumWidth(button.sizeHint().width())  # row keeps its width
            button.setText(FILTER_LABELS[filter_])
            button.setToolTip(f"{FILTER_TIPS[filter_]} (Alt+{position + 1})")
            button.setAccessibleName(FILTER_TIPS[filter_])
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            self.group.addButton(button, position)
            self.buttons[filter_] = button
            row.addWidget(button)
        self.buttons[Filter.ALL].setChecked(True)
        self.group.idToggled.connect(self._toggled)

    def current(self) -> Filter:
        return list(Filter)[max(0, self.group.checkedId())]

    def set_current(self, filter_: Filter) -> None:
        self.buttons[filter_].setChecked(True)

    def set_counts(self, counts: dict[Filter, int]) -> None:
        for filter_, button in self.buttons.items():
            button.setText(f"{FILTER_LABELS[filter_]} ({counts[filter_]})")

    def _toggled(self, position: int, checked: bool) -> None:
        if checked and 0 <= position < len(Filter):
            self.changed.emit(list(Filter)[position])


class ItemsPanel(QWidget):
    current_changed = Signal(object)  # the selected item's id, or None

    def __init__(self, model: ItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = ItemFilterModel(self)
        self.proxy.setSourceModel(model)
        self.filters = FilterBar()
        self.filters.changed.connect(self._filter_changed)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search items  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(120)
        self.search.setAccessibleName("Search items")
        self.search.textChanged.connect(self._search_changed)

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
        header.setMinimumSectionSize(24)
        # the title takes the room; the short columns are as wide as what they show
        for column in range(len(ItemModel.HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ItemModel.COL_TITLE, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.proxy.modelReset.connect(self._update_counts)
        self.proxy.layoutChanged.connect(self._update_counts)
        model.dataChanged.connect(self._update_counts)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 8, 4, 4)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.filters)  # on their own row(s): all five always shown
        layout.addWidget(self.table, 1)
        self._update_counts()

    def set_topic(self, topic: str | None) -> None:
        current = self.selected_id()
        self.proxy.set_topic(topic)
        self._update_counts()
        self._restore(current)

    def set_filter(self, filter_: Filter) -> None:
        self.filters.set_current(filter_)

    def _filter_changed(self, filter_: Filter) -> None:
        current = self.selected_id()
        self.proxy.set_filter(filter_)
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
        self.filters.set_counts(filter_counts(self.model.rows, self.proxy.topic))

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
