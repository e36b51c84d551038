"""Fixtures for the GUI tests: a workspace on a temporary store, settings in a temporary file,
and the main window wired to fakes for the editor and the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QUrl
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from checklist_app.gui.errors import ErrorDisplay, show_error
from checklist_app.gui.main_window import MainWindow
from checklist_app.gui.review_panel import Confirm, ask
from checklist_app.gui.scan_process import JobFunction, scan_job
from checklist_app.gui.settings import file_settings
from checklist_app.workspace import Workspace

GUI_RULES = Path(__file__).resolve().parent / "rules"
OFFSCREEN_CONFIG = Path(__file__).resolve().parent / "data" / "offscreen.json"
SCAN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    """Offscreen, on a 1920 x 1080 screen (the plain offscreen screen is 800 x 800, too small
    for the window's restored geometry)."""
    return ["pytest-qt-qapp", "-platform", f"offscreen:configfile={OFFSCREEN_CONFIG}"]


@dataclass
class Launches:
    """What the window asked to start or open, instead of starting it."""

    commands: list[list[str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def launch(self, argv: list[str]) -> bool:
        self.commands.append(argv)
        return True

    def open_url(self, url: QUrl) -> bool:
        self.urls.append(url.toString())
        return True


@dataclass
class Dialogs:
    """The errors the window showed and the questions it asked, instead of showing them;
    `answers` are the replies to the questions, in order (then yes)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)

    def show(self, parent: QWidget | None, title: str, message: str,
             details: str = "", /) -> None:
        self.errors.append((title, message))

    def confirm(self, parent: QWidget, title: str, question: str) -> bool:
        self.questions.append(question)
        return self.answers.pop(0) if self.answers else True


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "flask-checklist.ini"


@pytest.fixture
def connect(tmp_path: Path) -> Callable[[], Workspace]:
    def open_workspace() -> Workspace:
        return Workspace.open(db=str(tmp_path / "progress.db"), rules_dirs=[GUI_RULES],
                              cache_dir=tmp_path / "cache")

    return open_workspace


@pytest.fixture
def launches() -> Launches:
    return Launches()


@pytest.fixture
def make_window(qtbot: QtBot, settings_path: Path, connect: Callable[[], Workspace],
                launches: Launches) -> Iterator[Callable[..., MainWindow]]:
    """`make_window(environ={...}, scan_job=...)`: a shown main window, not yet started."""
    made: list[MainWindow] = []

    def make(environ: dict[str, str] | None = None,
             scan_job: JobFunction = scan_job, show: ErrorDisplay = show_error,
             confirm: Confirm = ask) -> MainWindow:
        settings: QSettings = file_settings(settings_path)
        window = MainWindow(settings, connect, launcher=launches.launch,
                            open_url=launches.open_url, debounce_ms=100,
                            environ=environ if environ is not None else {},
                            scan_job=scan_job, show=show, confirm=confirm)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        if window.workspace is not None:
            window.close()
