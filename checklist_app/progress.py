"""The pure merge of checklists, the latest scan and people's answers into one immutable view.

The status rules (DESIGN.md):
- an answer, present and not expired, wins; if the finding changed since the answer was given,
  the item needs re-review, and the answer still stands;
- an expired answer is flagged and the item counts as unknown;
- without an answer: pass -> met, fail -> unmet, not_applicable -> na, anything else -> unknown;
- progress = met / (all - na), shown at most 99% until every applicable item is met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from checklist_app.checklists import Checklist, Checklists, Item
from checklist_app.findings import (
    Answer,
    AnswerValue,
    Finding,
    Outcome,
    ProjectInfo,
    ScanResult,
    Status,
)

_FROM_OUTCOME = {
    Outcome.PASS: Status.MET,
    Outcome.FAIL: Status.UNMET,
    Outcome.NOT_APPLICABLE: Status.NA,
}
_FROM_ANSWER = {AnswerValue.MET: Status.MET, AnswerValue.UNMET: Status.UNMET,
                AnswerValue.NA: Status.NA}


def status_of_finding(finding: Finding | None) -> Status:
    if finding is None:
        return Status.UNKNOWN
    return _FROM_OUTCOME.get(finding.outcome, Status.UNKNOWN)


def is_override(value: AnswerValue, finding: Finding | None) -> bool:
    """An answer that contradicts a conclusive finding."""
    if finding is None or finding.outcome not in _FROM_OUTCOME:
        return False
    return _FROM_ANSWER[value] is not _FROM_OUTCOME[finding.outcome]


def justification_problem(item: Item, value: AnswerValue, justification: str,
                          finding: Finding | None) -> str | None:
    """Why this answer cannot be saved as it is, or None when it can."""
    if value is AnswerValue.NA and not item.na_allowed:
        return f"{item.id} cannot be answered n/a: the checklist says it applies to every project"
    if not justification.strip():
        if value is AnswerValue.NA:
            return "an n/a answer needs a justification"
        if item.override_needs_justification and is_override(value, finding):
            seen = finding.outcome.value if finding else "unknown"
            return (f"this answer overrides the scan (which found {seen}) and needs a "
                    "justification")
    return None


@dataclass(frozen=True, slots=True)
class Tally:
    total: int = 0
    met: int = 0
    unmet: int = 0
    na: int = 0
    unknown: int = 0

    @property
    def applicable(self) -> int:
        return self.total - self.na

    @property
    def complete(self) -> bool:
        return self.met == self.applicable

    @property
    def percent(self) -> float:
        """met / applicable, one decimal; at most 99.0 until complete, 100.0 when complete."""
        if self.complete:
            return 100.0
        return min(round(100.0 * self.met / self.applicable, 1), 99.0)

    def add(self, status: Status) -> Tally:
        return Tally(
            self.total + 1,
            self.met + (status is Status.MET),
            self.unmet + (status is Status.UNMET),
            self.na + (status is Status.NA),
            self.unknown + (status is Status.UNKNOWN),
        )


@dataclass(frozen=True, slots=True)
class ItemProgress:
    item: Item
    finding: Finding | None
    answer: Answer | None
    status: Status
    needs_review: bool
    """The finding changed since the answer was given."""
    answer_expired: bool
    overridden: bool
    """The answer contradicts the finding."""

    @property
    def needs_attention(self) -> bool:
        return self.status in (Status.UNMET, Status.UNKNOWN) or self.needs_review \
            or self.answer_expired


@dataclass(frozen=True, slots=True)
class TopicProgress:
    topic: str
    title: str
    items: tuple[ItemProgress, ...]
    tally: Tally


@dataclass(frozen=True, slots=True)
class Progress:
    project: ProjectInfo | None
    scan: ScanResult | None
    topics: tuple[TopicProgress, ...]
    tally: Tally
    orphaned_answers: tuple[Answer, ...]
    """Answers to items that no checklist defines any more: kept and shown, never dropped."""

    @property
    def items(self) -> tuple[ItemProgress, ...]:
        return tuple(entry for topic in self.topics for entry in topic.items)

    def item(self, item_id: str) -> ItemProgress | None:
        for entry in self.items:
            if entry.item.id == item_id:
                return entry
        return None


def item_progress(item: Item, finding: Finding | None, answer: Answer | None,
                  now: datetime) -> ItemProgress:
    if answer is None:
        return ItemProgress(item, finding, None, status_of_finding(finding), False, False, False)
    expired = answer.expired(now)
    current = finding.fingerprint if finding is not None else None
    needs_review = answer.finding_fingerprint != current
    status = Status.UNKNOWN if expired else _FROM_ANSWER[answer.value]
    return ItemProgress(item, finding, answer, status, needs_review, expired,
                        is_override(answer.value, finding))


def _topic(checklist: Checklist, scan: ScanResult | None, answers: dict[str, Answer],
           now: datetime) -> TopicProgress:
    entries = []
    tally = Tally()
    for item in checklist.items:
        finding = scan.finding(item.id) if scan is not None else None
        entry = item_progress(item, finding, answers.get(item.id), now)
        entries.append(entry)
        tally = tally.add(entry.status)
    return TopicProgress(checklist.topic, checklist.title, tuple(entries), tally)


def build_progress(
    checklists: Checklists,
    scan: ScanResult | None,
    answers: Iterable[Answer],
    now: datetime,
    project: ProjectInfo | None = None,
) -> Progress:
    by_item = {answer.item_id: answer for answer in answers}
    topics = tuple(_topic(c, scan, by_item, now) for c in checklists.checklists)
    tally = Tally()
    for topic in topics:
        for entry in topic.items:
            tally = tally.add(entry.status)
    known = {item.id for item in checklists.items}
    orphaned = tuple(a for a in by_item.values() if a.item_id not in known)
    info = project if project is not None else (scan.project if scan is not None else None)
    return Progress(info, scan, topics, tally, orphaned)
