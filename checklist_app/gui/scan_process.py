"""What runs inside the scan worker process (no Qt here).

The window's process keeps its main thread free: the scan (loading and saving the facts cache,
parsing thousands of modules, reading the git log, the garbage collections all that causes)
runs in a separate process, started with `spawn`, so it never holds the window's GIL. The
process serves one `Request` at a time on a duplex pipe and answers with `Progressed` messages
and exactly one `Ended` per request. A shared integer names the one scan that may go on: when it
changes, the scan under way sees itself cancelled at the next item and ends.

Everything that crosses the pipe is a frozen, picklable value.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the scan's modules load in the worker process, not at the window's start
    from multiprocessing.connection import Connection
    from multiprocessing.sharedctypes import Synchronized

    from checklist_app.checklists import Checklists
    from checklist_app.findings import ScanResult
    from checklist_app.gui.facts import ProjectFacts
    from checklist_app.scan import CancelCheck, ProgressCallback, ScanProgress

JobFunction = Callable[["ScanJob", "ProgressCallback", "CancelCheck"],
                       "tuple[ScanResult, ProjectFacts | None]"]
"""Runs in the worker process: a module-level function (it is sent by reference, so the
worker process imports its module)."""


SCAN_NICENESS = 10


@dataclass(frozen=True, slots=True)
class ScanJob:
    """What to scan, with which checklists and facts cache (the workspace's)."""

    root: Path
    checklists: Checklists
    cache_dir: Path | None


@dataclass(frozen=True, slots=True)
class Request:
    token: int
    job: ScanJob
    run: JobFunction


@dataclass(frozen=True, slots=True)
class Progressed:
    token: int
    done: int
    total: int
    item_id: str


@dataclass(frozen=True, slots=True)
class Ended:
    token: int
    result: ScanResult | None
    facts: ProjectFacts | None
    error: str | None = None
    """What went wrong, when the scan itself failed (not a detector: those are findings)."""
    details: str = ""


def scan_job(job: ScanJob, on_progress: ProgressCallback,
             should_cancel: CancelCheck) -> tuple[ScanResult, ProjectFacts | None]:
    """The scan the window runs: `scan_path` with the workspace's checklists and facts cache,
    then the project facts the window needs (not for a cancelled scan)."""
    from checklist_app.gui.facts import project_facts
    from checklist_app.scan import scan_path

    result = scan_path(job.root, job.checklists, cache_dir=job.cache_dir,
                       on_progress=on_progress, should_cancel=should_cancel)
    facts = None if result.cancelled else project_facts(job.root, job.cache_dir)
    return result, facts


def run_request(request: Request, replies: Connection, current: Synchronized[int]) -> Ended:
    """Run one request, sending its progress while it is the scan that may go on."""

    def cancelled() -> bool:
        return bool(current.value != request.token)

    def progressed(progress: ScanProgress) -> None:
        if not cancelled():
            replies.send(Progressed(request.token, progress.done, progress.total,
                                    progress.item_id))

    try:
        result, facts = request.run(request.job, progressed, cancelled)
    except Exception as error:  # noqa: BLE001 - reported in the window, never lost
        return Ended(request.token, None, None, f"{type(error).__name__}: {error}",
                     traceback.format_exc())
    return Ended(request.token, result, facts)


def lower_priority() -> None:
    """A scan is background work: the window (and the user's editor) go first when the
    cores are busy. The processes the scan starts to parse modules inherit this."""
    nice = getattr(os, "nice", None)
    if nice is None:  # not on Windows
        return
    try:
        nice(SCAN_NICENESS)
    except OSError:
        pass


def serve(connection: Connection, current: Synchronized[int]) -> None:
    """The worker process's loop: one request at a time, until None or the pipe closes."""
    lower_priority()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):  # the window's process is gone
            return
        if not isinstance(request, Request):
            return
        ended = run_request(request, connection, current)
        try:
            connection.send(ended)
        except OSError:  # the window's process is gone
            return
        except Exception as error:  # noqa: BLE001 - it did not pickle: nothing was sent
            connection.send(Ended(request.token, None, None,
                                  f"cannot send the scan's result: {error}",
                                  traceback.format_exc()))
