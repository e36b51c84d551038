"""Scan jobs for the worker-process tests. They run in the spawned worker process, so they are
module-level functions; the test steers them through files in the scanned folder."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from checklist_app.findings import ProjectInfo, ScanResult
from checklist_app.gui.facts import ProjectFacts
from checklist_app.gui.scan_process import ScanJob
from checklist_app.scan import CancelCheck, ProgressCallback, ScanProgress

FACTS = ProjectFacts(True, (), True)
RELEASE = "release"
"""The file whose creation in the scanned folder lets `until_released` finish."""


def result_for(job: ScanJob, cancelled: bool) -> ScanResult:
    info = ProjectInfo(str(job.root), job.root.name)
    return ScanResult(info, datetime.now(UTC), 0.1, f"pid {os.getpid()}", (),
                      cancelled=cancelled)


def until_released(job: ScanJob, on_progress: ProgressCallback,
                   should_cancel: CancelCheck) -> tuple[ScanResult, ProjectFacts | None]:
    """One step of two, then wait for the release file or a cancel; fails for `broken`."""
    on_progress(ScanProgress(1, 2, "a.first"))
    while not (job.root / RELEASE).exists():
        if should_cancel():
            return result_for(job, cancelled=True), None
        time.sleep(0.01)
    if job.root.name == "broken":
        raise RuntimeError("git exploded")
    on_progress(ScanProgress(2, 2, "a.second"))
    return result_for(job, cancelled=False), FACTS


def stuck(job: ScanJob, on_progress: ProgressCallback,
          should_cancel: CancelCheck) -> tuple[ScanResult, ProjectFacts | None]:
    """A detector that never looks at the cancel flag."""
    on_progress(ScanProgress(1, 2, "a.first"))
    time.sleep(120)
    return result_for(job, cancelled=False), FACTS


def crashes(job: ScanJob, on_progress: ProgressCallback,
            should_cancel: CancelCheck) -> tuple[ScanResult, ProjectFacts | None]:
    """The worker process dies mid-scan (out of memory, a crash in C)."""
    os._exit(3)
