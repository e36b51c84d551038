"""What the window remembers between runs (QSettings): geometry, splitter sizes, last project.

The caller chooses where the settings live (tests point them at a temporary file).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "flask-checklist"
APPLICATION = "flask-checklist"


def user_settings() -> QSettings:
    """The user's settings file (an INI file in the platform's configuration folder)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


def file_settings(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


class WindowSettings:
    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @property
    def state(self) -> QByteArray | None:
        return self._bytes("window/state")

    @property
    def splitter(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)
        self._settings.setValue("window/splitter", splitter)

    @property
    def last_project(self) -> Path | None:
        value = self._settings.value("project/last")
        return Path(value) if isinstance(value, str) and value else None

    @last_project.setter
    def last_project(self, root: Path | None) -> None:
        self._settings.setValue("project/last", str(root) if root is not None else "")

    def sync(self) -> None:
        self._settings.sync()
