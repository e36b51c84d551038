"""Starting the desktop app: `run()` is what the CLI calls.

Start-up is kept lean so that a window is on screen within half a second: only Qt and the
window's own modules are imported before the first paint. The workspace (SQLAlchemy, Alembic,
the detectors) is imported on a worker thread while the window paints, then opened on the main
thread, and only then is the project opened and scanned in the background.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRunnable, QSettings, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from checklist_app.gui.errors import ErrorReporter, install_excepthook
from checklist_app.gui.settings import APPLICATION, ORGANIZATION, user_settings

if TYPE_CHECKING:
    from checklist_app.gui.main_window import MainWindow
    from checklist_app.workspace import Workspace

HEAVY_MODULES = ("checklist_app.workspace",)
FIRST_PAINT_FALLBACK_MS = 1500


class FirstPaint(QObject):
    """Calls `then` once, right after the first paint of `window` (or of a widget in it)."""

    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._then: Callable[[], None] | None = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._then is not None and event.type() == QEvent.Type.Paint \
                and isinstance(watched, QWidget) and watched.window() is self._window:
            self.fire()
        return False

    def fire(self) -> None:
        """Call `then` now, unless it was called already (also the fallback when the window is
        not painted, e.g. started minimised)."""
        if self._then is None:
            return
        then, self._then = self._then, None
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        QTimer.singleShot(0, then)


class _Imported(QObject):
    done = Signal()


class _ImportJob(QRunnable):
    """Imports the heavy modules on a worker thread, so the main thread keeps painting."""

    def __init__(self, signals: _Imported) -> None:
        super().__init__()
        self.signals = signals

    def run(self) -> None:
        try:
            for name in HEAVY_MODULES:
                importlib.import_module(name)
        finally:  # an import error shows when the main thread imports the module again
            self.signals.done.emit()


def application(argv: Sequence[str] = ()) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "checklist-app", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Flask Checklist")
    app.setDesktopFileName("flask-checklist")
    return app


def workspace_opener(db: str | None, rules_dirs: Sequence[Path]) -> Callable[[], Workspace]:
    def connect() -> Workspace:
        from checklist_app.workspace import Workspace

        return Workspace.open(db, rules_dirs)

    return connect


def start(path: Path | None, *, demo: bool = False, db: str | None = None,
          rules_dirs: Sequence[Path] = (), settings: QSettings | None = None,
          ) -> tuple[QApplication, MainWindow]:
    """Create the application and show the main window; the workspace and the project open
    after the first paint. Returns without running the event loop."""
    app = application()
    from checklist_app.gui.main_window import MainWindow

    window = MainWindow(settings or user_settings(), workspace_opener(db, rules_dirs))
    reporter = ErrorReporter(lambda: window if window.isVisible() else None)
    install_excepthook(reporter)
    window.setWindowIcon(window.window_icon())
    pool = QThreadPool(window)
    signals = _Imported(window)
    signals.done.connect(lambda: window.start(path, demo))

    def after_paint() -> None:
        pool.start(_ImportJob(signals))

    first_paint = FirstPaint(window, after_paint)
    app.installEventFilter(first_paint)
    QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, first_paint.fire)
    window.show()
    return app, window


def run(path: Path | None, *, demo: bool = False, db: str | None = None,
        rules_dirs: Sequence[Path] = ()) -> int:
    """Open the main window (on `path`, the demo, or the last project) and run until it is
    closed; the exit code."""
    app, _window = start(path, demo=demo, db=db, rules_dirs=rules_dirs)
    return app.exec()
