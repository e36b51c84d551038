from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checklist_app.checklists import Checklist, Checklists, Combine, Item, Level
from checklist_app.findings import (
    Answer,
    AnswerValue,
    Confidence,
    Evidence,
    Finding,
    Outcome,
    ProjectInfo,
    ScanResult,
    Status,
    failed,
    passed,
)
from checklist_app.progress import Tally, build_progress, justification_problem

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def item(item_id: str, na_allowed: bool = True, override_required: bool = True) -> Item:
    topic = item_id.split(".")[0]
    return Item(item_id, topic, item_id, Level.SHOULD, "why", "how", (), na_allowed,
                override_required, (), (), Combine.ANY, "rules/x.yaml", 1)


def checklists(*items: Item) -> Checklists:
    topics: dict[str, list[Item]] = {}
    for entry in items:
        topics.setdefault(entry.topic, []).append(entry)
    return Checklists(tuple(Checklist(t, t.title(), "", tuple(i), ()) for t, i in topics.items()),
                      (), "digest")


def scan_of(*findings: Finding) -> ScanResult:
    return ScanResult(ProjectInfo("/p", "p"), NOW, 1.0, "digest", findings)


def answer(item_id: str, value: AnswerValue, fingerprint: str | None = None,
           expires: datetime | None = None, justification: str = "") -> Answer:
    return Answer(item_id, value, "ann", NOW - timedelta(days=1), justification=justification,
                  expires=expires, finding_fingerprint=fingerprint)


def with_id(finding: Finding, item_id: str) -> Finding:
    return Finding(finding.outcome, finding.confidence, finding.message, finding.evidence, item_id)


@pytest.mark.parametrize(("outcome", "status"), [
    (Outcome.PASS, Status.MET),
    (Outcome.FAIL, Status.UNMET),
    (Outcome.NOT_APPLICABLE, Status.NA),
    (Outcome.UNKNOWN, Status.UNKNOWN),
    (Outcome.ERROR, Status.UNKNOWN),
    (Outcome.MANUAL, Status.UNKNOWN),
])
def test_without_an_answer_the_finding_decides(outcome: Outcome, status: Status) -> None:
    found = Finding(outcome, Confidence.HIGH, "m", (), "a.one")
    progress = build_progress(checklists(item("a.one")), scan_of(found), (), NOW)
    assert progress.items[0].status is status


def test_an_answer_wins_over_the_finding() -> None:
    found = with_id(failed("no"), "a.one")
    given = answer("a.one", AnswerValue.MET, found.fingerprint, justification="done elsewhere")
    entry = build_progress(checklists(item("a.one")), scan_of(found), [given], NOW).items[0]
    assert entry.status is Status.MET
    assert entry.overridden and not entry.needs_review


def test_a_changed_finding_flags_re_review_and_the_answer_still_stands() -> None:
    before = with_id(failed("no"), "a.one")
    after = with_id(failed("no", Evidence("app.py", 3)), "a.one")
    given = answer("a.one", AnswerValue.MET, before.fingerprint, justification="j")
    entry = build_progress(checklists(item("a.one")), scan_of(after), [given], NOW).items[0]
    assert entry.status is Status.MET and entry.needs_review


def test_an_expired_answer_is_flagged_and_counts_as_unknown() -> None:
    found = with_id(passed("yes"), "a.one")
    given = answer("a.one", AnswerValue.MET, found.fingerprint, expires=NOW - timedelta(hours=1))
    entry = build_progress(checklists(item("a.one")), scan_of(found), [given], NOW).items[0]
    assert entry.status is Status.UNKNOWN and entry.answer_expired


def test_answers_to_unknown_items_are_kept_as_orphans() -> None:
    given = answer("gone.item", AnswerValue.MET)
    progress = build_progress(checklists(item("a.one")), None, [given], NOW)
    assert progress.orphaned_answers == (given,)


@pytest.mark.parametrize(("value", "outcome", "justification", "problem"), [
    (AnswerValue.NA, Outcome.PASS, "", "an n/a answer needs a justification"),
    (AnswerValue.NA, Outcome.PASS, "we have no forms", None),
    (AnswerValue.MET, Outcome.FAIL, "", "this answer overrides the scan (which found fail) "
     "and needs a justification"),
    (AnswerValue.UNMET, Outcome.PASS, "", "this answer overrides the scan (which found pass) "
     "and needs a justification"),
    (AnswerValue.MET, Outcome.PASS, "", None),
    (AnswerValue.MET, Outcome.MANUAL, "", None),
    (AnswerValue.MET, Outcome.UNKNOWN, "", None),
])
def test_justification_rules(value: AnswerValue, outcome: Outcome, justification: str,
                             problem: str | None) -> None:
    found = Finding(outcome, Confidence.HIGH, "m")
    assert justification_problem(item("a.one"), value, justification, found) == problem


def test_na_can_be_forbidden_and_overrides_can_be_free() -> None:
    strict = item("a.one", na_allowed=False)
    assert justification_problem(strict, AnswerValue.NA, "because", None) == (
        "a.one cannot be answered n/a: the checklist says it applies to every project")
    lenient = item("a.two", override_required=False)
    assert justification_problem(lenient, AnswerValue.MET, "", failed("x")) is None


@pytest.mark.parametrize(("tally", "percent"), [
    (Tally(total=4, met=2, unmet=2), 50.0),
    (Tally(total=200, met=199, unmet=1), 99.0),
    (Tally(total=1000, met=999, unknown=1), 99.0),
    (Tally(total=3, met=2, na=1), 100.0),
    (Tally(total=19 + 2, met=10, unmet=6, na=2, unknown=3), 52.6),
    (Tally(total=2, na=2), 100.0),
])
def test_progress_is_at_most_99_until_complete(tally: Tally, percent: float) -> None:
    assert tally.percent == percent


def test_tallies_per_topic_and_overall() -> None:
    rules = checklists(item("a.one"), item("a.two"), item("b.one"))
    scan = scan_of(with_id(passed("y"), "a.one"), with_id(failed("n"), "a.two"),
                   Finding(Outcome.NOT_APPLICABLE, Confidence.HIGH, "na", (), "b.one"))
    progress = build_progress(rules, scan, (), NOW)
    assert [(t.topic, t.tally) for t in progress.topics] == [
        ("a", Tally(2, 1, 1, 0, 0)), ("b", Tally(1, 0, 0, 1, 0))]
    assert progress.tally == Tally(3, 1, 1, 1, 0)
    assert progress.tally.percent == 50.0
