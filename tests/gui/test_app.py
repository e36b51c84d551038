"""Starting the app the way the CLI does: the window first, the workspace and the project after
the first paint, errors routed to a dialog."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from checklist_app.gui.app import start
from checklist_app.gui.errors import ErrorReporter
from checklist_app.gui.settings import file_settings
from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.repos import Repo


def test_start_paints_first_then_opens_the_project(
        qtbot: QtBot, make_repo: Callable[..., Repo], tmp_path: Path) -> None:
    repo = make_repo({"README.md": "# x\n", "requirements.txt": "flask\n"})
    previous = sys.excepthook
    try:
        _app, window = start(repo.root, settings=file_settings(tmp_path / "settings.ini"))
        qtbot.addWidget(window)
        assert window.isVisible()
        assert window.workspace is None  # opened after the first paint, off the critical path
        assert isinstance(sys.excepthook, ErrorReporter)
        with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
            pass
        assert window.workspace is not None
        assert window.project is not None and Path(window.project.root) == repo.root.resolve()
        assert window.progress is not None and window.progress.scan is not None
    finally:
        sys.excepthook = previous
    window.close()
