"""Make docs/screenshot.png: the main window on the demo project, after its first scan.

    python scripts/screenshot.py [OUTPUT]

Runs offscreen (unless QT_QPA_PLATFORM says otherwise) with a fresh, temporary user data,
cache and settings folder, so the picture is the same on every machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1440, 900)
SHOWN_ITEM = "security.no-sql-injection"
TIMEOUT_MS = 120_000


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else ROOT / "docs" / "screenshot.png"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="checklist-shot-") as temporary:
        home = Path(temporary)
        for variable, folder in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                                 ("XDG_CONFIG_HOME", "config")):
            os.environ[variable] = str(home / folder)
        os.environ.pop("CHECKLIST_APP_DB", None)
        os.environ.pop("CHECKLIST_APP_CACHE", None)
        return shoot(output, home)


def shoot(output: Path, home: Path) -> int:
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
        if not window.items.select(SHOWN_ITEM):
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
