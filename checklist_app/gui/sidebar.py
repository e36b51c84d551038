"""The left side of the window: the project's overall progress and the list of topics, each
with a progress bar and its counts."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.icons import badge_colour
from checklist_app.gui.models import TopicModel
from checklist_app.gui.wording import Badge, percent_text, tally_text
from checklist_app.progress import Tally

_PAD = 8
_BAR = 6


def _small(font: QFont) -> QFont:
    smaller = QFont(font)
    smaller.setPointSizeF(max(7.0, font.pointSizeF() * 0.88))
    return smaller


class TopicDelegate(QStyledItemDelegate):
    """Title and percentage, a thin progress bar, and the counts in small type."""

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        metrics = option.fontMetrics
        small = QApplication.fontMetrics() if metrics is None else metrics
        height = _PAD + small.height() + 5 + _BAR + 5 + small.height() + _PAD
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        opt.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        tally = index.data(TopicModel.TallyRole)
        if not isinstance(tally, Tally):
            return
        palette: QPalette = opt.palette
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect: QRect = opt.rect.adjusted(_PAD + 2, _PAD, -_PAD - 2, -_PAD)
        font: QFont = opt.font
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(palette.color(text_role))
        painter.setFont(font)
        line = painter.fontMetrics().height()
        title_rect = QRect(rect.left(), rect.top(), rect.width(), line)
        percent = percent_text(tally)
        percent_width = painter.fontMetrics().horizontalAdvance(percent) + 6
        painter.drawText(title_rect.adjusted(0, 0, -percent_width, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(str(index.data()),
                                                          Qt.TextElideMode.ElideRight,
                                                          title_rect.width() - percent_width))
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         percent)
        bar = QRectF(rect.left(), title_rect.bottom() + 5, rect.width(), _BAR)
        track = QColor(palette.color(QPalette.ColorRole.Mid))
        track.setAlpha(90)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, _BAR / 2, _BAR / 2)
        if tally.applicable > 0 and tally.met > 0:
            filled = QRectF(bar)
            filled.setWidth(max(_BAR, bar.width() * tally.met / tally.applicable))
            painter.setBrush(badge_colour(Badge.MET, palette))
            painter.drawRoundedRect(filled, _BAR / 2, _BAR / 2)
        small = _small(font)
        painter.setFont(small)
        painter.setPen(palette.color(text_role))
        counts_rect = QRect(rect.left(), round(bar.bottom()) + 5, rect.width(),
                            painter.fontMetrics().height())
        painter.drawText(counts_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(tally_text(tally),
                                                          Qt.TextElideMode.ElideRight,
                                                          counts_rect.width()))
        painter.restore()


class ElidedLabel(QLabel):
    """Plain text on as many lines as it has, each elided in the middle to fit (a long path
    keeps its start and its end); the whole text is the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setMinimumWidth(40)
        self._full = ""

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(40, hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(40, hint.height())

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        width = max(0, self.contentsRect().width())
        self.setText("\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, width)
                               for line in self._full.split("\n")))


class Sidebar(QWidget):
    """The project's name and overall progress above the topic list."""

    def __init__(self, model: TopicModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel()
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        name_font = QFont(self.name.font())
        name_font.setPointSizeF(name_font.pointSizeF() * 1.25)
        name_font.setBold(True)
        self.name.setFont(name_font)
        self.where = ElidedLabel()
        self.where.setFont(_small(self.where.font()))
        self.where.setAccessibleName("Project folder")
        self.overall = QProgressBar()
        self.overall.setRange(0, 1000)
        self.overall.setTextVisible(False)  # the percentage is in a label beside it
        self.overall.setFixedHeight(10)
        self.overall.setAccessibleName("Overall progress")
        self.percent = QLabel("–")
        self.percent.setTextFormat(Qt.TextFormat.PlainText)
        percent_font = QFont(self.percent.font())
        percent_font.setBold(True)
        self.percent.setFont(percent_font)
        self.percent.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counts = QLabel()
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.counts.setFont(_small(self.counts.font()))
        self.topics = QListView()
        self.topics.setModel(model)
        self.topics.setItemDelegate(TopicDelegate(self.topics))
        self.topics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.topics.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.topics.setAccessibleName("Topics")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.name)
        layout.addWidget(self.where)
        layout.addSpacing(6)
        overall_row = QHBoxLayout()
        overall_row.setSpacing(8)
        overall_row.addWidget(self.overall, 1)
        overall_row.addWidget(self.percent)
        layout.addLayout(overall_row)
        layout.addWidget(self.counts)
        layout.addSpacing(6)
        layout.addWidget(self.topics, 1)
        self.setMinimumWidth(220)

    def show_project(self, name: str, where: str, tally: Tally | None) -> None:
        self.name.setText(name)
        self.where.set_full_text(where)
        if tally is None or tally.applicable == 0:
            self.overall.setValue(0)
            self.percent.setText("–")
            self.overall.setAccessibleDescription("")
            self.counts.setText(tally_text(tally) if tally is not None else "")
            return
        self.overall.setValue(round(10 * tally.percent))
        self.percent.setText(f"{percent_text(tally)} complete")
        self.overall.setAccessibleDescription(f"{percent_text(tally)} complete")
        self.counts.setText(tally_text(tally))
