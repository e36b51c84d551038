"""The pure parts of reviews: snapshots, their comparison, topic sign-off states, the chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checklist_app.findings import (
    Answer,
    AnswerValue,
    Evidence,
    Finding,
    ProjectInfo,
    ScanResult,
    Status,
    failed,
    passed,
)
from checklist_app.progress import Tally, build_progress
from checklist_app.reports import review_report
from checklist_app.reviews import (
    AnswerState,
    Change,
    Decision,
    ItemState,
    ProgressPoint,
    Review,
    SignOff,
    Snapshot,
    TopicState,
    TopicSummary,
    compare,
    snapshot_from_json,
    snapshot_of,
    snapshot_to_json,
    topic_sign_offs,
)
from tests.test_progress import checklists, item

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ANN = AnswerState(AnswerValue.UNMET, "Ann", NOW, "deferred to 2.1")


def state(item_id: str, status: Status, answer: AnswerState | None = None) -> ItemState:
    return ItemState(item_id, item_id.split(".")[0], item_id.title(), "should", status, None,
                     answer)


def snap(*items: ItemState) -> Snapshot:
    return Snapshot(NOW, "c" * 40, "main", False, NOW, (), items)


@pytest.mark.parametrize("before, after, change", [
    (Status.MET, Status.UNMET, Change.REGRESSION),
    (Status.NA, Status.UNKNOWN, Change.REGRESSION),
    (Status.UNKNOWN, Status.UNMET, Change.REGRESSION),
    (Status.UNMET, Status.MET, Change.IMPROVEMENT),
    (Status.UNKNOWN, Status.NA, Change.IMPROVEMENT),
    (Status.MET, Status.NA, Change.STATUS),
])
def test_a_status_change_is_classified(before: Status, after: Status, change: Change) -> None:
    comparison = compare(snap(state("a.x", before)), snap(state("a.x", after)), "r1", "now")
    (delta,) = comparison.deltas
    assert (delta.item_id, delta.change, delta.before, delta.after) == ("a.x", change, before,
                                                                        after)
    assert delta.answer_changed is False


def test_new_removed_answer_changes_and_unchanged_items() -> None:
    edited = AnswerState(AnswerValue.UNMET, "Bo", NOW, "deferred to 2.2")
    before = snap(state("a.same", Status.MET), state("a.gone", Status.UNMET),
                  state("a.answer", Status.UNMET, ANN), state("a.down", Status.MET))
    after = snap(state("a.new", Status.UNKNOWN), state("a.same", Status.MET),
                 state("a.answer", Status.UNMET, edited), state("a.down", Status.UNMET, ANN))
    comparison = compare(before, after, "review 1", "review 2")
    assert [(d.item_id, d.change, d.before, d.after) for d in comparison.deltas] == [
        ("a.new", Change.NEW, None, Status.UNKNOWN),
        ("a.answer", Change.ANSWER, Status.UNMET, Status.UNMET),
        ("a.down", Change.REGRESSION, Status.MET, Status.UNMET),
        ("a.gone", Change.REMOVED, Status.UNMET, None),
    ]
    assert [d.item_id for d in comparison.regressions] == ["a.down"]
    assert [d.item_id for d in comparison.answer_changes] == ["a.answer", "a.down"]
    assert comparison.answer_changes[0].answer_before == ANN
    assert comparison.answer_changes[0].answer_after == edited
    assert (comparison.before, comparison.after) == (Tally(4, 2, 2, 0, 0), Tally(4, 1, 2, 0, 1))
    assert review_report.comparison_text(comparison) == (
        "From review 1 (50.0%) to review 2 (25.0%):\n"
        "  new             a.new: new -> unknown\n"
        "  answer changed  a.answer: unmet -> unmet; answer unmet by Ann: deferred to 2.1 -> "
        "unmet by Bo: deferred to 2.2\n"
        "  regression      a.down: met -> unmet; answer no answer -> unmet by Ann: deferred "
        "to 2.1\n"
        "  removed         a.gone: unmet -> gone\n")


def test_identical_snapshots_have_no_deltas() -> None:
    one = snap(state("a.x", Status.MET, ANN))
    assert compare(one, one).deltas == ()


def test_snapshot_of_progress_freezes_findings_and_answers_and_round_trips() -> None:
    rules = checklists(item("security.csrf"), item("security.https"), item("testing.ci"))
    found = Finding(failed("no HTTPS", Evidence("app.py", 3, None, "x <y>")).outcome,
                    failed("x").confidence, "no HTTPS", (Evidence("app.py", 3, None, "<y>"),
                                                         Evidence("ci.yml", None, "abc", "")),
                    "security.https")
    ok = passed("CSRFProtect(app)")
    scan = ScanResult(ProjectInfo("/w/p", "p", "f" * 40, "main", True, True), NOW, 1.0, "d",
                      (Finding(ok.outcome, ok.confidence, ok.message, (), "security.csrf"),
                       found))
    answer = Answer("security.https", AnswerValue.UNMET, "Ann", NOW, "note", "deferred",
                    NOW + timedelta(days=30), found.fingerprint)
    snapshot = snapshot_of(build_progress(rules, scan, [answer], NOW), NOW)
    assert (snapshot.commit, snapshot.branch, snapshot.dirty) == ("f" * 40, "main", True)
    assert [(s.item_id, s.status) for s in snapshot.items] == [
        ("security.csrf", Status.MET), ("security.https", Status.UNMET),
        ("testing.ci", Status.UNKNOWN)]
    https = snapshot.item("security.https")
    assert https is not None and https.finding == found
    assert https.answer == AnswerState(AnswerValue.UNMET, "Ann", NOW, "deferred", "note",
                                       NOW + timedelta(days=30))
    assert [s.item_id for s in snapshot.deferred] == ["security.https"]
    assert snapshot.topics == (TopicSummary("security", "Security", Tally(2, 1, 1, 0, 0)),
                               TopicSummary("testing", "Testing", Tally(1, 0, 0, 0, 1)))
    assert snapshot_from_json(snapshot_to_json(snapshot)) == snapshot


@pytest.mark.parametrize("text", ["", "[]", '{"format": 2}', '{"format": 1}', "{"])
def test_a_damaged_snapshot_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        snapshot_from_json(text)


def sign(topic: str, reviewer: str, decision: Decision, minute: int) -> SignOff:
    return SignOff(topic, reviewer, decision, "", NOW + timedelta(minutes=minute))


def test_a_topic_is_approved_when_every_reviewers_latest_decision_approves() -> None:
    review = Review(1, 1, "1.0", "c", "v1.0", True, NOW, "Ann", sign_offs=(
        sign("security", "Ann", Decision.CHANGES, 1),
        sign("security", "Bo", Decision.APPROVE, 2),
        sign("testing", "Bo", Decision.APPROVE, 3),
        sign("security", "Ann", Decision.APPROVE, 4),
        sign("testing", "Ann", Decision.CHANGES, 5),
    ))
    states = topic_sign_offs(review, [("security", "Security"), ("testing", "Testing"),
                                      ("database", "Database")])
    assert [(t.topic, t.state, [(s.reviewer, s.decision) for s in t.latest])
            for t in states] == [
        ("security", TopicState.APPROVED, [("Bo", Decision.APPROVE), ("Ann", Decision.APPROVE)]),
        ("testing", TopicState.CHANGES_REQUESTED,
         [("Bo", Decision.APPROVE), ("Ann", Decision.CHANGES)]),
        ("database", TopicState.UNSIGNED, []),
    ]


def test_the_chart_is_inline_svg_with_escaped_labels() -> None:
    points = (
        ProgressPoint(NOW, "scan", "abc", "abc", Tally(4, 1, 3, 0, 0), ()),
        ProgressPoint(NOW + timedelta(days=1), "review", "<b>1.0</b>", None,
                      Tally(4, 4, 0, 0, 0), ()),
    )
    svg = review_report.chart_svg(points)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="180"')
    assert '<polyline points="40.0,115.0 630.0,10.0"' in svg
    assert "&lt;b&gt;1.0&lt;/b&gt;" in svg and "<b>" not in svg
    assert "<script" not in svg and "href" not in svg
    assert review_report.chart_svg(()) == ""
