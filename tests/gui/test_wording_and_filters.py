"""How items read, and which items each filter keeps (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checklist_app.checklists import Combine, Item, Level
from checklist_app.findings import Answer, AnswerValue, Confidence, Finding, Outcome, Status
from checklist_app.gui.filters import Filter, filter_counts, next_needing_attention, shown
from checklist_app.gui.wording import (
    Badge,
    answer_text,
    badge,
    finding_text,
    percent_text,
    review_text,
    when_text,
)
from checklist_app.progress import ItemProgress, Tally

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def item(item_id: str, topic: str = "security") -> Item:
    return Item(item_id, topic, f"Title of {item_id}", Level.MUST, "why", "how", (), True, True,
                (), (), Combine.ANY, "rules/x.yaml", 1)


def entry(item_id: str, status: Status, *, outcome: Outcome | None = None,
          answer: AnswerValue | None = None, review: bool = False, expired: bool = False,
          overridden: bool = False, topic: str = "security") -> ItemProgress:
    finding = Finding(outcome, Confidence.MEDIUM, f"message {item_id}") if outcome else None
    given = Answer(item_id, answer, "Ada", NOW) if answer else None
    return ItemProgress(item(item_id, topic), finding, given, status, review, expired,
                        overridden)


@pytest.mark.parametrize(("outcome", "expected"), [
    (Outcome.PASS, "passes (likely)"),
    (Outcome.FAIL, "fails (likely)"),
    (Outcome.UNKNOWN, "could not check"),
    (Outcome.NOT_APPLICABLE, "does not apply"),
    (Outcome.ERROR, "detector error"),
    (Outcome.MANUAL, "answer by hand"),
    (None, "not scanned yet"),
])
def test_finding_text(outcome: Outcome | None, expected: str) -> None:
    finding = Finding(outcome, Confidence.MEDIUM, "m") if outcome else None
    assert finding_text(finding) == expected


def test_badge_shows_a_detector_error_unless_answered() -> None:
    assert badge(entry("a", Status.UNKNOWN, outcome=Outcome.ERROR)) is Badge.ERROR
    assert badge(entry("a", Status.MET, outcome=Outcome.ERROR, answer=AnswerValue.MET)) \
        is Badge.MET
    assert badge(entry("a", Status.NA, outcome=Outcome.NOT_APPLICABLE)) is Badge.NA


def test_answer_review_percent_and_when() -> None:
    answered = entry("a", Status.NA, answer=AnswerValue.NA, review=True)
    assert answer_text(answered.answer) == "n/a (Ada)"
    assert answer_text(answered.answer, expired=True) == "n/a (Ada), expired"
    assert answer_text(None) == ""
    assert review_text(answered) == "re-review"
    assert review_text(entry("b", Status.UNKNOWN, answer=AnswerValue.MET, expired=True)) \
        == "expired"
    assert percent_text(Tally(3, 2, 1, 0, 0)) == "66.7%"
    assert percent_text(Tally(2, 2, 0, 0, 0)) == "100%"
    assert percent_text(Tally(1, 0, 0, 1, 0)) == "–"
    assert when_text(NOW - timedelta(seconds=20), NOW) == "just now"
    assert when_text(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert when_text(NOW - timedelta(hours=3), NOW) == "3 h ago"


ENTRIES = [
    entry("security.a", Status.MET, outcome=Outcome.PASS),
    entry("security.b", Status.UNMET, outcome=Outcome.FAIL),
    entry("security.c", Status.UNKNOWN, outcome=Outcome.ERROR),
    entry("security.d", Status.MET, outcome=Outcome.FAIL, answer=AnswerValue.MET,
          overridden=True),
    entry("testing.e", Status.NA, outcome=Outcome.PASS, answer=AnswerValue.NA, review=True,
          overridden=True, topic="testing"),
]


@pytest.mark.parametrize(("topic", "filter_", "search", "expected"), [
    (None, Filter.ALL, "", ["security.a", "security.b", "security.c", "security.d",
                            "testing.e"]),
    (None, Filter.ATTENTION, "", ["security.b", "security.c", "testing.e"]),
    (None, Filter.UNKNOWN, "", ["security.c"]),
    (None, Filter.OVERRIDDEN, "", ["security.d", "testing.e"]),
    (None, Filter.REVIEW, "", ["testing.e"]),
    ("security", Filter.ATTENTION, "", ["security.b", "security.c"]),
    (None, Filter.ALL, "MESSAGE security.d", ["security.d"]),
    (None, Filter.ALL, "ada", ["security.d", "testing.e"]),
    (None, Filter.ALL, "nothing like this", []),
])
def test_shown(topic: str | None, filter_: Filter, search: str, expected: list[str]) -> None:
    assert [e.item.id for e in ENTRIES if shown(e, topic, filter_, search)] == expected


def test_filter_counts_and_next_needing_attention() -> None:
    assert filter_counts(ENTRIES, "security") == {
        Filter.ALL: 4, Filter.ATTENTION: 2, Filter.UNKNOWN: 1, Filter.OVERRIDDEN: 1,
        Filter.REVIEW: 0}
    assert next_needing_attention(ENTRIES, None) == "security.b"
    assert next_needing_attention(ENTRIES, "security.b") == "security.c"
    assert next_needing_attention(ENTRIES, "security.c") == "testing.e"
    assert next_needing_attention(ENTRIES, "testing.e") == "security.b"  # wraps round
    assert next_needing_attention(ENTRIES[:1], None) is None
    assert next_needing_attention([], None) is None
