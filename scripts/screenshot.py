"""Make docs/screenshot.png: the main window on the demo project, after its first scan; or,
with --review, docs/review.png: the review panel with a closed review, an open one partly
signed, and what changed between them.

    python scripts/screenshot.py [--review] [OUTPUT]

Runs offscreen (unless QT_QPA_PLATFORM says otherwise) with a fresh, temporary user data,
cache and settings folder, so the picture is the same on every machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checklist_app.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1440, 900)
SHOWN_ITEM = "security.no-sql-injection"
TIMEOUT_MS = 120_000


def main(argv: list[str]) -> int:
    review = "--review" in argv
    argv = [arg for arg in argv if arg != "--review"]
    default = "review.png" if review else "screenshot.png"
    output = Path(argv[0]) if argv else ROOT / "docs" / default
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="checklist-shot-") as temporary:
        home = Path(temporary)
        for variable, folder in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                                 ("XDG_CONFIG_HOME", "config")):
            os.environ[variable] = str(home / folder)
        os.environ.pop("CHECKLIST_APP_DB", None)
        os.environ.pop("CHECKLIST_APP_CACHE", None)
        return shoot(output, home, review)


def stage_reviews(window: MainWindow) -> None:
    """A closed review, then an answer, then an open review with some sign-offs."""
    from checklist_app.findings import AnswerValue
    from checklist_app.reviews import Decision

    workspace, project = window.workspace, window.project
    assert workspace is not None and project is not None
    topics = [topic for topic, _ in workspace.review_topics(
        workspace.start_review(project, "Release 1.3", "Ann Lee"))]
    for topic in topics:
        workspace.sign_review(project, topic, "Ann Lee", Decision.APPROVE, "")
    workspace.close_review(project, "Ann Lee")
    workspace.answer(project, "advanced.websockets", AnswerValue.NA, author="Ann Lee",
                     justification="No real-time features: plain request/response pages")
    workspace.start_review(project, "Release 1.4", "Ann Lee")
    workspace.sign_review(project, topics[0], "Ann Lee", Decision.APPROVE, "")
    workspace.sign_review(project, topics[1], "Ben Ode", Decision.APPROVE, "migrations ok")
    workspace.sign_review(project, topics[2], "Ben Ode", Decision.CHANGES,
                          "enable CSRF protection on the forms")
    window._reload()
    window.show_reviews()
    window.splitter.setSizes([230, 420, 350])
    window.review_panel.refresh()
    window.review_panel.select_topic(topics[3])


def shoot(output: Path, home: Path, review: bool = False) -> int:
    from PySide6.QtCore import QTimer

    from checklist_app.gui.app import start
    from checklist_app.gui.settings import file_settings
    from checklist_app.gui.worker import ScanDone

    app, window = start(None, demo=True, settings=file_settings(home / "settings.ini"))
    window.resize(*SIZE)
    outcome = {"code": 1}

    def finished(done: ScanDone) -> None:
        QTimer.singleShot(200, lambda: capture(done))

    def capture(done: ScanDone) -> None:
        if done.error is not None:
            print(f"the scan failed: {done.error}", file=sys.stderr)
            app.quit()
            return
        if review:
            stage_reviews(window)
            window.items.select("advanced.websockets")
        elif not window.items.select(SHOWN_ITEM):
            window.next_needing_attention()
        QTimer.singleShot(300, save)  # let the layouts settle

    def save() -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        if window.grab().save(str(output)):
            print(f"wrote {output}")
            outcome["code"] = 0
        window.close()
        app.quit()

    def give_up() -> None:
        print("timed out waiting for the demo scan", file=sys.stderr)
        app.quit()

    window.scanner.finished.connect(finished)
    QTimer.singleShot(TIMEOUT_MS, give_up)
    app.exec()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
