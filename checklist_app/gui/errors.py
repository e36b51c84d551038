"""Errors show in the window, never as a traceback on stderr.

`install_excepthook` routes any exception that escapes a slot or an event handler to a dialog
(with the traceback under "Show Details"); the window stays usable.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class ErrorDisplay(Protocol):
    """Shows an error to the person: the window, a title, a message and optional details."""

    def __call__(self, parent: QWidget | None, title: str, message: str,
                 details: str = "", /) -> None: ...



def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)
    box.exec()


class ErrorReporter:
    """Shows unexpected exceptions in a dialog, one at a time (an error while showing an error
    is not shown again)."""

    def __init__(self, parent: Callable[[], QWidget | None],
                 show: ErrorDisplay = show_error) -> None:
        self._parent = parent
        self._show = show
        self._showing = False
        self.count = 0

    def __call__(self, kind: type[BaseException], error: BaseException,
                 trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self.count += 1
        if self._showing:
            return
        self._showing = True
        try:
            details = "".join(traceback.format_exception(kind, error, trace))
            self._show(self._parent(), "Flask Checklist: unexpected error",
                       f"Something went wrong: {kind.__name__}: {error}\n\n"
                       "The window is still usable. If this keeps happening, please report it "
                       "with the details below.", details)
        finally:
            self._showing = False


def install_excepthook(reporter: ErrorReporter) -> ExceptHook:
    """Install `reporter` as sys.excepthook; returns the previous hook."""
    previous = sys.excepthook
    sys.excepthook = reporter
    return previous
