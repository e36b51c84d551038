"""The Qt binding itself: PySide6 6.12.0 on Python 3.11 drops a reference to True on every
signal emit and to None on every processEvents(), and the process aborts once True or None is
freed (`Fatal Python error: bool_dealloc`). This catches such a binding early, with a clear
message, instead of an abort at the end of the test run or of a long session."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    fired = Signal(object)


def test_signals_keep_reference_counts(qtbot: QtBot) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.fired.connect(received.append)
    before = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    for number in range(50):
        emitter.fired.emit(number)
        QCoreApplication.processEvents()
    after = (sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None))
    assert received == list(range(50))
    drift = [now - then for now, then in zip(after, before, strict=True)]
    assert all(abs(change) < 25 for change in drift), (
        "this PySide6 build leaks or drops references to True/False/None on signal emits "
        f"(PySide6 6.12.0 does; True, False, None moved by {drift}): install another version")
