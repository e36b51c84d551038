"""One run of the detectors that the checklist items name, over one project.

The scan isolates failures: a detector that raises gives an `error` finding on its item and the
scan goes on. It reports progress after each item and stops early when asked to cancel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checklist_app.checklists import (
    BUILTIN_RULES_DIR,
    Checklists,
    Combine,
    DetectorRef,
    Item,
    RulesCache,
    load_checklists,
)
from checklist_app.collector import collector_paused
from checklist_app.detectors import check_params, registered, registered_facts
from checklist_app.findings import Confidence, Finding, Outcome, ScanResult
from checklist_app.project import ModuleFact, Project
from checklist_app.project.cache import FactsCache


@dataclass(frozen=True, slots=True)
class ScanProgress:
    done: int
    total: int
    item_id: str


ProgressCallback = Callable[[ScanProgress], None]
CancelCheck = Callable[[], bool]


def load_rules(extra_dirs: Sequence[Path] = (), include_builtin: bool = True,
               cache_dir: Path | None = None) -> Checklists:
    """The built-in checklists merged with a team's own folders, validated against the
    registered detectors; kept in `cache_dir` (when given) for the next run that loads the same
    files."""
    dirs = ([BUILTIN_RULES_DIR] if include_builtin else []) + list(extra_dirs)
    cache = None
    if cache_dir is not None:
        described = repr(sorted((d.name, d.parameters) for d in registered().values()))
        cache = RulesCache(cache_dir, described)
    return load_checklists(dirs, check_params, cache)


def facts_for(checklists: Checklists) -> tuple[ModuleFact[Any], ...]:
    """The module facts that the detectors read: every declared one, and those that depend on
    the parameters the checklists give, each once."""
    detectors = registered()
    found: dict[str, ModuleFact[Any]] = {fact.kind: fact for fact in registered_facts()}
    for item in checklists.items:
        for ref in item.refs:
            entry = detectors.get(ref.name)
            if entry is None:
                continue
            try:
                wanted = entry.facts_for(ref.kwargs)
            except TypeError:  # parameters that do not fit: the detector run says so
                continue
            for fact in wanted:
                found.setdefault(fact.kind, fact)
    return tuple(found.values())


EARLY_THREADS = 2
"""Threads for the detectors started early: one can wait for the modules while another reads
git."""


class _EarlyThreads:
    """Runs detector references in up to EARLY_THREADS threads, in the order they were
    started; `result` waits for one. (Plain threads: concurrent.futures would import logging
    into every scan.)"""

    def __init__(self, run: Callable[[DetectorRef], Finding]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._waiting: list[DetectorRef] = []
        self._done: dict[DetectorRef, threading.Event] = {}
        self._found: dict[DetectorRef, Finding] = {}
        self._threads: list[threading.Thread] = []
        self._running = 0

    def __contains__(self, ref: DetectorRef) -> bool:
        return ref in self._done

    def start(self, ref: DetectorRef) -> None:
        self._done[ref] = threading.Event()
        with self._lock:
            self._waiting.append(ref)
            if self._running >= EARLY_THREADS:
                return
            self._running += 1
        thread = threading.Thread(target=self._work, name="early", daemon=True)
        self._threads.append(thread)
        thread.start()

    def result(self, ref: DetectorRef) -> Finding:
        self._done[ref].wait()
        found = self._found.get(ref)
        if found is None:  # the detector ended the thread (not an Exception)
            return Finding(Outcome.ERROR, Confidence.HIGH, f"detector {ref.name} did not finish")
        return found

    def finish(self) -> None:
        """Drop the references not begun yet and wait for those under way."""
        with self._lock:
            self._waiting.clear()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._running -= 1
                    return
                ref = self._waiting.pop(0)
            try:
                self._found[ref] = self._run(ref)
            finally:
                self._done[ref].set()


class _Runner:
    """Runs detector references against one project, each distinct reference once. Those that
    mostly read the git history can be started early, in threads, while the modules are being
    indexed (in worker processes, so this process is free); git does much of their work."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.detectors = registered()
        self.memo: dict[DetectorRef, Finding] = {}
        self._early = _EarlyThreads(self._run)

    def start_early(self, refs: Iterable[DetectorRef]) -> None:
        """Start the early detectors among `refs` (see registry.Detector.early) in threads."""
        for ref in dict.fromkeys(refs):
            entry = self.detectors.get(ref.name)
            if entry is not None and entry.early and ref not in self._early:
                self._early.start(ref)

    def waits(self, item: Item) -> bool:
        """Whether the item needs a detector started early (and maybe not done yet)."""
        return any(ref in self._early for ref in item.refs)

    def finish(self) -> None:
        """Wait for the detectors started early (those not begun yet are dropped)."""
        self._early.finish()

    def run(self, ref: DetectorRef) -> Finding:
        found = self.memo.get(ref)
        if found is None:
            found = self._early.result(ref) if ref in self._early else self._run(ref)
            self.memo[ref] = found
        return found

    def _run(self, ref: DetectorRef) -> Finding:
        entry = self.detectors.get(ref.name)
        if entry is None:
            return Finding(Outcome.ERROR, Confidence.HIGH, f"unknown detector {ref.name!r}")
        try:
            result = entry.run(self.project, ref.kwargs)
        except Exception as error:  # noqa: BLE001 - one bad detector never stops a scan
            return Finding(Outcome.ERROR, Confidence.HIGH,
                           f"detector {ref.name} failed: {type(error).__name__}: {error}")
        if not isinstance(result, Finding):
            return Finding(Outcome.ERROR, Confidence.HIGH,
                           f"detector {ref.name} returned {type(result).__name__}, not a Finding")
        return result


def _merge(findings: list[Finding], outcome: Outcome) -> Finding:
    """One finding from several with the same outcome: messages joined, evidence combined."""
    if len(findings) == 1:
        return findings[0]
    order = [Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH]
    confidence = min((f.confidence for f in findings), key=order.index)
    messages = list(dict.fromkeys(f.message for f in findings))
    evidence = tuple(dict.fromkeys(e for f in findings for e in f.evidence))
    return Finding(outcome, confidence, "; ".join(messages), evidence)


def combine(findings: list[Finding], mode: Combine) -> Finding:
    """The item's finding from its detectors' findings.

    any: passes when one detector passes; all: fails when one detector fails. Errors and
    unknowns win over a conclusion that would need the detector that could not look.
    """
    by_outcome: dict[Outcome, list[Finding]] = {}
    for found in findings:
        by_outcome.setdefault(found.outcome, []).append(found)
    if mode is Combine.ANY and Outcome.PASS in by_outcome:
        best = max(by_outcome[Outcome.PASS],
                   key=lambda f: [Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH]
                   .index(f.confidence))
        return best
    if mode is Combine.ALL and Outcome.FAIL in by_outcome:
        return _merge(by_outcome[Outcome.FAIL], Outcome.FAIL)
    for outcome in (Outcome.ERROR, Outcome.UNKNOWN):
        if outcome in by_outcome:
            return _merge(by_outcome[outcome], outcome)
    if mode is Combine.ANY and Outcome.FAIL in by_outcome:
        return _merge(by_outcome[Outcome.FAIL], Outcome.FAIL)
    if Outcome.PASS in by_outcome:
        return _merge(by_outcome[Outcome.PASS], Outcome.PASS)
    if Outcome.NOT_APPLICABLE in by_outcome:
        return _merge(by_outcome[Outcome.NOT_APPLICABLE], Outcome.NOT_APPLICABLE)
    return Finding(Outcome.UNKNOWN, Confidence.LOW, "no detector gave an answer")


def evaluate(item: Item, runner: _Runner) -> Finding:
    if not item.detectors:
        found = Finding(Outcome.MANUAL, Confidence.LOW,
                        "no machine check: answer this item by hand")
        return replace(found, item_id=item.id)
    if item.applies_when:
        conditions = [runner.run(ref) for ref in item.applies_when]
        if not any(c.outcome is Outcome.PASS for c in conditions):
            if all(c.outcome is Outcome.FAIL for c in conditions):
                reasons = "; ".join(dict.fromkeys(c.message for c in conditions))
                found = Finding(Outcome.NOT_APPLICABLE, Confidence.MEDIUM,
                                f"does not apply to this project: {reasons}")
                return replace(found, item_id=item.id)
    found = combine([runner.run(ref) for ref in item.detectors], item.combine)
    return replace(found, item_id=item.id)


def scan(
    project: Project,
    checklists: Checklists,
    *,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ScanResult:
    """Run every item's detectors over the project and return the frozen result."""
    started = time.perf_counter()
    scanned_at = datetime.now(UTC).replace(microsecond=0)
    runner = _Runner(project)
    items = checklists.items
    runner.start_early(ref for item in items for ref in item.refs)
    # The items waiting for a detector started early go last: the others are evaluated while it
    # works (in order, the scan would wait for it at its item, then evaluate the rest).
    order = sorted(range(len(items)), key=lambda position: runner.waits(items[position]))
    found: dict[int, Finding] = {}
    cancelled = False
    # The detectors create few cyclic values, while a collection would walk every fact loaded.
    with collector_paused():
        try:
            for done, position in enumerate(order, start=1):
                if should_cancel is not None and should_cancel():
                    cancelled = True
                    break
                found[position] = evaluate(items[position], runner)
                if on_progress is not None:
                    on_progress(ScanProgress(done, len(items), items[position].id))
        finally:
            runner.finish()
        project.close()
    findings = [found[position] for position in sorted(found)]
    return ScanResult(
        project=project.info, scanned_at=scanned_at,
        duration_s=round(time.perf_counter() - started, 3), rules_digest=checklists.digest,
        findings=tuple(findings), notes=project.notes, cancelled=cancelled,
    )


def scan_path(
    root: Path,
    checklists: Checklists,
    *,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ScanResult:
    """Open the project at `root` (with the facts cache, when given) and scan it."""
    started = time.perf_counter()
    cache = FactsCache.for_project(cache_dir, root) if cache_dir is not None else None
    project = Project(root, cache, facts_for(checklists))
    result = scan(project, checklists, on_progress=on_progress, should_cancel=should_cancel)
    return replace(result, duration_s=round(time.perf_counter() - started, 3))

