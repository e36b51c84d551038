from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from checklist_app.checklists import Checklists, Combine, DetectorRef
from checklist_app.detectors.registry import DuplicateDetectorError, detector, registered
from checklist_app.findings import Confidence, Finding, Outcome, failed, passed, unknown
from checklist_app.project import Project
from checklist_app.scan import (
    EARLY_THREADS,
    ScanProgress,
    _EarlyThreads,
    combine,
    load_rules,
    scan,
    scan_path,
)
from tests.repos import Repo


@detector("test_raises")
def _raises(project: Project) -> Finding:
    """Always raises, to show that one bad detector never stops a scan."""
    raise ValueError("boom")


RULES = """\
topic: demo
title: Demo
items:
  - id: demo.readme
    title: README
    why: w
    how: h
    detectors:
      - file_exists: {paths: [README.md]}
  - id: demo.broken
    title: Broken detector
    why: w
    how: h
    detectors: [test_raises]
  - id: demo.manual
    title: By hand
    why: w
    how: h
  - id: demo.forms
    title: Only with forms
    why: w
    how: h
    applies_when:
      - python_import: {modules: [flask_wtf]}
    detectors:
      - python_call: {names: [flask_wtf.csrf.CSRFProtect]}
"""


@pytest.fixture
def demo_rules(tmp_path: Path) -> Checklists:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "demo.yaml").write_text(RULES)
    checklists = load_rules([folder], include_builtin=False)
    assert checklists.problems == ()
    return checklists


def test_scan_isolates_errors_marks_manual_and_not_applicable(
    make_repo: Callable[..., Repo], demo_rules: Checklists, tmp_path: Path
) -> None:
    repo = make_repo({"README.md": "# hi\n", "app.py": "from flask import Flask\n"})
    result = scan_path(repo.root, demo_rules, cache_dir=tmp_path / "cache")
    outcomes = {f.item_id: (f.outcome, f.message) for f in result.findings}
    assert outcomes["demo.readme"] == (Outcome.PASS, "found README.md")
    assert outcomes["demo.broken"] == (
        Outcome.ERROR, "detector test_raises failed: ValueError: boom")
    assert outcomes["demo.manual"][0] is Outcome.MANUAL
    assert outcomes["demo.forms"] == (
        Outcome.NOT_APPLICABLE,
        "does not apply to this project: no Python file imports flask_wtf")
    assert result.project.is_git and result.project.commit is not None
    assert result.rules_digest == demo_rules.digest


def test_scan_reports_progress_and_can_be_cancelled(
    make_repo: Callable[..., Repo], demo_rules: Checklists
) -> None:
    repo = make_repo({"README.md": "x"})
    seen: list[ScanProgress] = []
    result = scan(Project(repo.root), demo_rules, on_progress=seen.append,
                  should_cancel=lambda: len(seen) >= 2)
    assert [(p.done, p.total, p.item_id) for p in seen] == [
        (1, 4, "demo.readme"), (2, 4, "demo.broken")]
    assert result.cancelled and len(result.findings) == 2


def test_items_waiting_for_history_detectors_are_evaluated_last_and_reported_in_order(
    make_repo: Callable[..., Repo], rules: Checklists
) -> None:
    repo = make_repo({"README.md": "x",
                      "app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    seen: list[str] = []
    result = scan(Project(repo.root), rules, on_progress=lambda p: seen.append(p.item_id))
    early = {item.id for item in rules.items
             if any(registered()[ref.name].early for ref in (*item.applies_when, *item.detectors))}
    assert "security.no-committed-secrets" in early
    assert set(seen[-len(early):]) == early  # the items that wait for them come last
    assert sorted(seen) == sorted(item.id for item in rules.items)
    assert [f.item_id for f in result.findings] == [item.id for item in rules.items]


def test_a_detector_is_registered_once() -> None:
    with pytest.raises(DuplicateDetectorError):
        detector("test_raises")(_raises)
    assert registered()["test_raises"].doc.startswith("Always raises")


P = passed("found it")
F = failed("not found")
U = unknown("could not look")
E = Finding(Outcome.ERROR, Confidence.HIGH, "crashed")
N = Finding(Outcome.NOT_APPLICABLE, Confidence.HIGH, "no forms")


@pytest.mark.parametrize(("findings", "mode", "expected"), [
    ([F, P], Combine.ANY, Outcome.PASS),
    ([F, F], Combine.ANY, Outcome.FAIL),
    ([F, U], Combine.ANY, Outcome.UNKNOWN),
    ([E, P], Combine.ANY, Outcome.PASS),
    ([E, F], Combine.ANY, Outcome.ERROR),
    ([N, F], Combine.ANY, Outcome.FAIL),
    ([N, N], Combine.ANY, Outcome.NOT_APPLICABLE),
    ([P, P], Combine.ALL, Outcome.PASS),
    ([P, F], Combine.ALL, Outcome.FAIL),
    ([U, F], Combine.ALL, Outcome.FAIL),
    ([P, U], Combine.ALL, Outcome.UNKNOWN),
    ([P, N], Combine.ALL, Outcome.PASS),
])
def test_combine(findings: list[Finding], mode: Combine, expected: Outcome) -> None:
    assert combine(findings, mode).outcome is expected


def test_combine_all_merges_the_failures_evidence() -> None:
    from checklist_app.findings import Evidence

    one = failed("a", Evidence("x.py", 1))
    two = failed("b", Evidence("y.py", 2), confidence=Confidence.MEDIUM)
    merged = combine([one, two], Combine.ALL)
    assert merged.message == "a; b"
    assert merged.evidence == (Evidence("x.py", 1), Evidence("y.py", 2))
    assert merged.confidence is Confidence.MEDIUM


def test_facts_cache_reuses_unchanged_modules_and_reads_only_new_commits(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    from checklist_app.project.cache import FactsCache

    repo = make_repo({"a.py": "import flask\n", "b.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    first = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert len(first.history().commits) == 1
    first.modules()
    first.close()
    repo.commit({"b.py": textwrap.dedent("import os\n")}, "second")
    cache = FactsCache.for_project(cache_dir, repo.root)
    second = Project(repo.root, cache)
    modules = {m.path: m for m in second.modules()}
    assert modules["b.py"].imports[0].module == "os"
    commits = second.history().commits
    assert [c.subject for c in commits] == ["second", "initial"]
    second.close()
    third = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert [c.subject for c in third.history().commits] == ["second", "initial"]


def test_remembered_facts_survive_to_the_next_scan_and_unused_ones_are_dropped(
    make_repo: Callable[..., Repo], tmp_path: Path
) -> None:
    from checklist_app.project.cache import FactsCache

    repo = make_repo({"a.py": "x = 1\n"})
    cache_dir = tmp_path / "cache"
    calls: list[str] = []

    def compute(value: str) -> Callable[[], str]:
        def run() -> str:
            calls.append(value)
            return value.upper()
        return run

    first = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert first.remembered("test-v1", "one", compute("one")) == "ONE"
    assert first.remembered("test-v1", "one", compute("one")) == "ONE"
    assert first.remembered("test-v1", "two", compute("two")) == "TWO"
    first.close()
    second = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert second.remembered("test-v1", "one", compute("one")) == "ONE"
    second.close()
    third = Project(repo.root, FactsCache.for_project(cache_dir, repo.root))
    assert third.remembered("test-v1", "two", compute("two")) == "TWO"
    third.close()
    assert calls == ["one", "two", "two"]


def test_early_threads_run_each_reference_once_a_few_at_a_time() -> None:
    lock = threading.Lock()
    running, most, ran = 0, 0, []
    release = threading.Event()

    def run(ref: DetectorRef) -> Finding:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
            ran.append(ref.name)
        return passed(ref.name)

    early = _EarlyThreads(run)
    refs = [DetectorRef(f"d{n}") for n in range(5)]
    for ref in refs:
        early.start(ref)
    assert refs[0] in early and DetectorRef("other") not in early
    release.set()
    assert [early.result(ref).message for ref in reversed(refs)] == ["d4", "d3", "d2", "d1", "d0"]
    early.finish()
    assert sorted(ran) == [ref.name for ref in refs]
    assert most == EARLY_THREADS


def test_early_threads_drop_what_has_not_begun_when_finished() -> None:
    release = threading.Event()
    begun: list[str] = []

    def run(ref: DetectorRef) -> Finding:
        begun.append(ref.name)
        release.wait(5)
        return passed(ref.name)

    early = _EarlyThreads(run)
    for n in range(EARLY_THREADS + 2):
        early.start(DetectorRef(f"d{n}"))
    for _ in range(500):  # at most 5 s for the threads to begin
        if len(begun) >= EARLY_THREADS:
            break
        threading.Event().wait(0.01)
    threading.Timer(0.05, release.set).start()
    early.finish()
    assert sorted(begun) == [f"d{n}" for n in range(EARLY_THREADS)]
