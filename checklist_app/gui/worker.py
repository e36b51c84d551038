"""Scans off the main thread.

`Scanner` runs one scan at a time in a `QThreadPool`: the job calls the (pure, thread-safe) scan
function, then reads the project facts the window needs, and hands a `ScanDone` value back by
signal. Every scan has a token; results and progress of a scan that is no longer the current one
(the user cancelled, switched projects or started another scan) are dropped. Nothing here
touches the store: the window records the scan on the main thread.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from checklist_app.findings import ScanResult

if TYPE_CHECKING:  # the scan and the project facts load after the window shows
    from checklist_app.gui.facts import ProjectFacts
    from checklist_app.scan import CancelCheck, ProgressCallback, ScanProgress

    ScanFunction = Callable[[Path, ProgressCallback, CancelCheck], ScanResult]
    FactsFunction = Callable[[Path], ProjectFacts]


@dataclass(frozen=True, slots=True)
class ScanDone:
    token: int
    root: Path
    result: ScanResult | None
    facts: ProjectFacts | None
    error: str | None = None
    """What went wrong, when the scan itself failed (not a detector: those are findings)."""
    details: str = ""


class _Signals(QObject):
    progressed = Signal(int, int, int, str)  # token, done, total, item id
    done = Signal(object)  # ScanDone


class _ScanJob(QRunnable):
    def __init__(self, token: int, root: Path, scan: ScanFunction, facts: FactsFunction,
                 cancel: threading.Event, signals: _Signals) -> None:
        super().__init__()
        self.token = token
        self.root = root
        self.scan = scan
        self.facts = facts
        self.cancel = cancel
        self.signals = signals

    def _progress(self, progress: ScanProgress) -> None:
        if not self.cancel.is_set():
            self.signals.progressed.emit(self.token, progress.done, progress.total,
                                         progress.item_id)

    def run(self) -> None:
        try:
            result = self.scan(self.root, self._progress, self.cancel.is_set)
            facts = None if result.cancelled else self.facts(self.root)
            done = ScanDone(self.token, self.root, result, facts)
        except Exception as error:  # noqa: BLE001 - reported in the window, never lost
            done = ScanDone(self.token, self.root, None, None,
                            f"{type(error).__name__}: {error}", traceback.format_exc())
        self.signals.done.emit(done)


class Scanner(QObject):
    """Starts scans and forwards the current scan's progress and result."""

    progressed = Signal(int, int, str)  # done, total, item id
    finished = Signal(object)  # ScanDone of the current scan only

    def __init__(self, scan: ScanFunction, facts: FactsFunction,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scan = scan
        self._facts = facts
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # a dropped scan may still be winding down
        self._signals = _Signals(self)
        self._signals.progressed.connect(self._on_progress)
        self._signals.done.connect(self._on_done)
        self._token = 0
        self._running: int | None = None
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._running is not None

    @property
    def token(self) -> int:
        return self._token

    def start(self, root: Path) -> int:
        """Start scanning `root`, dropping any scan under way; returns the new scan's token."""
        self.drop()
        self._token += 1
        self._cancel = threading.Event()
        self._running = self._token
        self._pool.start(_ScanJob(self._token, root, self._scan, self._facts, self._cancel,
                                  self._signals))
        return self._token

    def cancel(self) -> None:
        """Ask the current scan to stop; it finishes with a cancelled result."""
        self._cancel.set()

    def drop(self) -> None:
        """Forget the current scan: it is cancelled and whatever it sends is ignored."""
        self._cancel.set()
        self._token += 1
        self._running = None

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Wait for every job to end (on quit); True when they all did."""
        return self._pool.waitForDone(timeout_ms)

    def _on_progress(self, token: int, done: int, total: int, item_id: str) -> None:
        if token == self._running:
            self.progressed.emit(done, total, item_id)

    def _on_done(self, done: ScanDone) -> None:
        if done.token != self._running:
            return
        self._running = None
        self.finished.emit(done)
