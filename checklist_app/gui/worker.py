"""Scans in a worker process, so the window's main thread never waits for them.

`Scanner` keeps one worker process for the session (spawned on the first scan, never before the
window's first paint) and runs one scan at a time in it (`scan_process.serve`). A QTimer on the
main thread reads the process's messages while a scan is under way: progress, then one result.
Every scan has a token; progress and results of a scan that is no longer the current one (the
user cancelled, switched projects or started another scan) are dropped. Cancelling tells the
scan to stop at its next item; a scan that has not stopped `kill_after_s` later (a detector stuck
on a huge input) is ended by terminating the process, and a new one starts for the next scan.
Nothing here touches the store: the window records the scan on the main thread.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from checklist_app.gui.scan_process import (
    Ended,
    JobFunction,
    Progressed,
    Request,
    ScanJob,
    scan_job,
    serve,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.sharedctypes import Synchronized

    from checklist_app.findings import ScanResult
    from checklist_app.gui.facts import ProjectFacts

POLL_MS = 20
KILL_AFTER_S = 3.0
SHUTDOWN_WAIT_S = 1.0
NO_SCAN = 0
"""The shared token when no scan may go on (tokens start at 1)."""


@dataclass(frozen=True, slots=True)
class ScanDone:
    token: int
    root: Path
    result: ScanResult | None
    facts: ProjectFacts | None
    error: str | None = None
    """What went wrong, when the scan itself failed (not a detector: those are findings)."""
    details: str = ""
    cancelled: bool = False
    """Cancelled without a result (the process was ended); a scan that stopped by itself
    has a result with `cancelled` set."""


@dataclass(frozen=True, slots=True)
class _Sent:
    token: int
    job: ScanJob
    stop_asked: float | None = None
    """When this scan was told to stop (perf_counter), if it was."""


class _Worker:
    """The worker process, its pipe and the shared token of the scan that may go on.

    The process is not a daemon (the scan starts processes of its own to parse modules), so it
    is ended explicitly: by `end`, or when this object is collected, or at interpreter exit
    before multiprocessing joins its children (a `Finalize` with an exit priority)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.current: Synchronized[int] = context.Value("q", NO_SCAN)
        self.connection, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=serve, args=(child, self.current), name="checklist-scan")
        self.process.start()
        child.close()
        self._finalizer = Finalize(self, end_process, args=(self.process, self.connection,
                                                            self.current, 0.0),
                                   exitpriority=10)

    def alive(self) -> bool:
        return self.process.is_alive()

    def end(self, wait_s: float) -> None:
        self._finalizer.cancel()
        end_process(self.process, self.connection, self.current, wait_s)


def end_process(process: BaseProcess, connection: Connection, current: Synchronized[int],
                wait_s: float) -> None:
    """Ask the worker process to finish (it stops its scan at the next item); terminate it when
    it has not within `wait_s`."""
    current.value = NO_SCAN
    try:
        connection.send(None)
    except OSError:
        pass
    process.join(wait_s)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join(1.0)
    connection.close()


class Scanner(QObject):
    """Starts scans and forwards the current scan's progress and result."""

    progressed = Signal(int, int, str)  # done, total, item id
    finished = Signal(object)  # ScanDone of the current scan only

    def __init__(self, parent: QObject | None = None, *, run: JobFunction = scan_job,
                 kill_after_s: float = KILL_AFTER_S) -> None:
        super().__init__(parent)
        self._run = run
        self._kill_after_s = kill_after_s
        self._worker: _Worker | None = None
        self._token = NO_SCAN
        self._running: int | None = None
        self._in_flight: _Sent | None = None
        """Sent to the process, not answered yet (the current scan or one winding down)."""
        self._waiting: _Sent | None = None
        """The current scan, waiting for the process to end the one in flight."""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self._running is not None

    @property
    def token(self) -> int:
        return self._token

    @property
    def worker_pid(self) -> int | None:
        """The worker process's id, once started."""
        return self._worker.process.pid if self._worker is not None else None

    def start(self, job: ScanJob) -> int:
        """Start scanning `job.root`, dropping any scan under way; returns the new token."""
        self.drop()
        self._token += 1
        self._running = self._token
        self._waiting = _Sent(self._token, job)
        self._send_waiting()
        self._timer.start()
        return self._token

    def cancel(self) -> None:
        """Ask the current scan to stop; it finishes with a cancelled result."""
        if self._running is None:
            return
        waiting = self._waiting
        if waiting is not None and waiting.token == self._running:
            self._waiting = None
            self._finish(ScanDone(waiting.token, waiting.job.root, None, None, cancelled=True))
            return
        self._stop_in_flight()

    def drop(self) -> None:
        """Forget the current scan: it is cancelled and whatever it sends is ignored."""
        self._running = None
        self._waiting = None
        self._stop_in_flight()

    def shutdown(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Drop the current scan and end the worker process (on quit)."""
        self.drop()
        self._timer.stop()
        self._in_flight = None
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.end(wait_s)

    def _stop_in_flight(self) -> None:
        sent = self._in_flight
        if sent is None or self._worker is None:
            return
        self._worker.current.value = NO_SCAN
        if sent.stop_asked is None:
            self._in_flight = _Sent(sent.token, sent.job, time.perf_counter())

    def _send_waiting(self) -> None:
        waiting = self._waiting
        if waiting is None or self._in_flight is not None:
            return
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                self._worker.end(0.0)
            self._worker = _Worker()
        self._worker.current.value = waiting.token
        self._waiting = None
        try:
            self._worker.connection.send(Request(waiting.token, waiting.job, self._run))
        except OSError as error:  # the process died just now
            self._finish(ScanDone(waiting.token, waiting.job.root, None, None,
                                  f"cannot reach the scan process: {error}"))
            return
        self._in_flight = waiting

    def _poll(self) -> None:
        worker = self._worker
        if worker is not None and self._in_flight is not None:
            try:
                while self._in_flight is not None and worker.connection.poll():
                    self._receive(worker.connection.recv())
            except (EOFError, OSError):
                pass  # the process is gone: seen below
            sent = self._in_flight
            if sent is not None and not worker.alive():
                self._lost(sent, f"the scan process ended unexpectedly "
                                 f"(exit code {worker.process.exitcode})")
            elif sent is not None and sent.stop_asked is not None \
                    and time.perf_counter() - sent.stop_asked > self._kill_after_s:
                self._lost(sent, None)
        self._send_waiting()
        if self._in_flight is None and self._waiting is None:
            self._timer.stop()

    def _receive(self, message: object) -> None:
        sent = self._in_flight
        if sent is None:
            return
        if isinstance(message, Progressed):
            if message.token == sent.token == self._running:
                self.progressed.emit(message.done, message.total, message.item_id)
        elif isinstance(message, Ended) and message.token == sent.token:
            self._in_flight = None
            self._finish(ScanDone(message.token, sent.job.root, message.result, message.facts,
                                  message.error, message.details))

    def _lost(self, sent: _Sent, error: str | None) -> None:
        """The scan in flight ended without a result: the process died (`error`) or was ended
        because the scan did not stop when asked (`error` None: cancelled)."""
        self._in_flight = None
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.end(0.0)
        self._finish(ScanDone(sent.token, sent.job.root, None, None, error,
                              cancelled=error is None))

    def _finish(self, done: ScanDone) -> None:
        if done.token != self._running:
            return
        self._running = None
        self.finished.emit(done)
