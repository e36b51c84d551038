"""A strip above the project that says plainly what will not work (not a git repository, not a
Flask project, problems in the checklists)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QWidget,
)

from checklist_app.gui.icons import review_colour


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._messages: tuple[str, ...] = ()
        self._tint()
        self.hide()

    @property
    def messages(self) -> tuple[str, ...]:
        return self._messages

    def show_messages(self, messages: tuple[str, ...]) -> None:
        """Show these messages; the same messages again do not undo a dismissal."""
        if messages == self._messages:
            return
        self._messages = messages
        self.text.setText("\n".join(messages))
        self.setVisible(bool(messages))

    def _tint(self) -> None:
        palette = QPalette(QApplication.palette())
        base = palette.color(QPalette.ColorRole.Window)
        accent = review_colour(palette)
        mixed = QColor(
            round(base.red() * 0.82 + accent.red() * 0.18),
            round(base.green() * 0.82 + accent.green() * 0.18),
            round(base.blue() * 0.82 + accent.blue() * 0.18),
        )
        palette.setColor(QPalette.ColorRole.Window, mixed)
        self.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._tint()
