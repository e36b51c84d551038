"""The first page a user sees without a project: open a folder, open the demo, or pick a
recent project (each with its progress)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.models import RecentProjectsModel


class WelcomePage(QWidget):
    open_folder = Signal()
    open_demo = Signal()
    open_recent = Signal(str)  # the project's root

    def __init__(self, recent: RecentProjectsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("Flask Checklist")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel("Check a Flask project against best-practice checklists, with evidence. "
                       "Open a project folder (or drop one on this window), or try the demo "
                       "project to see how it works.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.open_button = QPushButton("&Open Folder…")
        self.open_button.clicked.connect(self.open_folder)
        self.demo_button = QPushButton("Open the &Demo Project")
        self.demo_button.clicked.connect(self.open_demo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        self.recent_label = QLabel("&Recent projects")
        bold = QFont(self.recent_label.font())
        bold.setBold(True)
        self.recent_label.setFont(bold)
        self.recent = QListView()
        self.recent.setModel(recent)
        self.recent.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.recent.setSpacing(3)
        self.recent.setAccessibleName("Recent projects")
        self.recent.activated.connect(self._activated)
        self.recent_label.setBuddy(self.recent)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addWidget(self.message)
        column.addSpacing(18)
        column.addWidget(self.recent_label)
        column.addWidget(self.recent, 3)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 4)
        outer.addStretch(1)
        recent.modelReset.connect(self._update_recent)
        self._update_recent()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update_recent(self) -> None:
        has_rows = self.recent.model().rowCount() > 0
        self.recent.setVisible(has_rows)
        self.recent_label.setVisible(has_rows)

    def _activated(self, index: QModelIndex) -> None:
        root = index.data(RecentProjectsModel.RootRole)
        if isinstance(root, str):
            self.open_recent.emit(root)
