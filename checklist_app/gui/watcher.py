"""Notices when a project's files change, and says so once things have settled (debounced)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

DEBOUNCE_MS = 1500


class ProjectWatcher(QObject):
    """Watches a set of paths; `changed` fires `debounce_ms` after the last change seen."""

    changed = Signal()

    def __init__(self, debounce_ms: int = DEBOUNCE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._touched)
        self._watcher.fileChanged.connect(self._touched)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.changed)
        self._paths: set[str] = set()
        self._enabled = True

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._paths)

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled:
            self._timer.stop()

    def watch(self, paths: Sequence[str]) -> None:
        """Watch exactly these paths (only the difference is added and removed)."""
        wanted = set(paths)
        gone = sorted(self._paths - wanted)
        new = sorted(wanted - self._paths)
        if gone:
            self._watcher.removePaths(gone)
        if new:
            self._watcher.addPaths(new)
        self._paths = set(self._watcher.files()) | set(self._watcher.directories())

    def clear(self) -> None:
        self.watch(())
        self._timer.stop()

    def _touched(self, path: str) -> None:
        if self._enabled:
            self._timer.start()  # restarts: fires once things are quiet
