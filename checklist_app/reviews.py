"""Release reviews as values, and the pure comparison of two points in a project's life.

A `Snapshot` is every item's state at one moment (status, finding with evidence, answer); a
closed review keeps one, frozen. `compare` tells, item by item, what changed between two
snapshots. A `ProgressPoint` is one point of progress over time (a scan or a closed review).
Nothing here touches a database, a file or git.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from checklist_app.findings import (
    AnswerValue,
    Confidence,
    Evidence,
    Finding,
    Outcome,
    Status,
)
from checklist_app.progress import Progress, Tally

SNAPSHOT_FORMAT = 1


class Decision(StrEnum):
    """What a reviewer said about one topic."""

    APPROVE = "approve"
    CHANGES = "changes"
    """Changes requested."""


class TopicState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes requested"
    UNSIGNED = "unsigned"


class Change(StrEnum):
    """How one item moved between two snapshots."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    NEW = "new"
    REMOVED = "removed"
    STATUS = "status changed"
    """Between two statuses of the same rank (met <-> n/a)."""
    ANSWER = "answer changed"
    """Same status, but the answer changed."""


_RANK = {Status.MET: 2, Status.NA: 2, Status.UNKNOWN: 1, Status.UNMET: 0}


@dataclass(frozen=True, slots=True)
class AnswerState:
    """A person's answer as it stood in a snapshot."""

    value: AnswerValue
    author: str
    answered_at: datetime
    justification: str = ""
    note: str = ""
    expires: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemState:
    item_id: str
    topic: str
    title: str
    level: str
    status: Status
    finding: Finding | None
    answer: AnswerState | None
    needs_review: bool = False
    answer_expired: bool = False


@dataclass(frozen=True, slots=True)
class TopicSummary:
    topic: str
    title: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every item's state at `taken_at`, from the scan at `commit`."""

    taken_at: datetime
    commit: str | None
    branch: str | None
    dirty: bool
    scanned_at: datetime | None
    topics: tuple[TopicSummary, ...]
    items: tuple[ItemState, ...]

    @property
    def tally(self) -> Tally:
        tally = Tally()
        for state in self.items:
            tally = tally.add(state.status)
        return tally

    def item(self, item_id: str) -> ItemState | None:
        for state in self.items:
            if state.item_id == item_id:
                return state
        return None

    @property
    def deferred(self) -> tuple[ItemState, ...]:
        """Unmet items: what a release goes out without."""
        return tuple(state for state in self.items if state.status is Status.UNMET)


def snapshot_of(progress: Progress, taken_at: datetime) -> Snapshot:
    """The state of every item in `progress`, as a value that no later change can alter."""
    items = []
    for topic in progress.topics:
        for entry in topic.items:
            answer = entry.answer
            items.append(ItemState(
                item_id=entry.item.id, topic=topic.topic, title=entry.item.title,
                level=entry.item.level.value, status=entry.status, finding=entry.finding,
                answer=AnswerState(answer.value, answer.author, answer.answered_at,
                                   answer.justification, answer.note, answer.expires)
                if answer is not None else None,
                needs_review=entry.needs_review, answer_expired=entry.answer_expired))
    project = progress.project
    scan = progress.scan
    return Snapshot(
        taken_at=taken_at, commit=project.commit if project else None,
        branch=project.branch if project else None, dirty=project.dirty if project else False,
        scanned_at=scan.scanned_at if scan else None,
        topics=tuple(TopicSummary(t.topic, t.title, t.tally) for t in progress.topics),
        items=tuple(items))


# --- reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignOff:
    topic: str
    reviewer: str
    decision: Decision
    comment: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class TopicSignOff:
    """Where one topic of a review stands: approved when it has sign-offs and every
    reviewer's latest decision on it is approve."""

    topic: str
    title: str
    state: TopicState
    latest: tuple[SignOff, ...]
    """Each reviewer's latest sign-off on the topic, oldest first."""


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    project_id: int
    title: str
    commit: str | None
    tag: str | None
    tag_exact: bool
    """True: the commit carries the tag; False: the tag is the nearest one before it."""
    started_at: datetime
    started_by: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    sign_offs: tuple[SignOff, ...] = ()
    """Every sign-off, oldest first (a reviewer may sign a topic again)."""
    snapshot: Snapshot | None = None
    """Frozen when the review was closed; None while it is open."""

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def tag_text(self) -> str:
        if self.tag is None:
            return "no tag"
        return self.tag if self.tag_exact else f"after {self.tag}"


def topic_sign_offs(review: Review,
                    topics: Sequence[tuple[str, str]]) -> tuple[TopicSignOff, ...]:
    """The sign-off state of each topic (`(topic id, title)` pairs, in order)."""
    result = []
    for topic, title in topics:
        latest: dict[str, SignOff] = {}
        for sign_off in review.sign_offs:
            if sign_off.topic == topic:
                latest.pop(sign_off.reviewer, None)
                latest[sign_off.reviewer] = sign_off
        decisions = tuple(latest.values())
        if not decisions:
            state = TopicState.UNSIGNED
        elif all(s.decision is Decision.APPROVE for s in decisions):
            state = TopicState.APPROVED
        else:
            state = TopicState.CHANGES_REQUESTED
        result.append(TopicSignOff(topic, title, state, decisions))
    return tuple(result)


# --- comparing two snapshots ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemDelta:
    item_id: str
    topic: str
    title: str
    change: Change
    before: Status | None
    """None: the item did not exist then."""
    after: Status | None
    """None: the item no longer exists."""
    answer_before: AnswerState | None
    answer_after: AnswerState | None

    @property
    def answer_changed(self) -> bool:
        return self.answer_before != self.answer_after


@dataclass(frozen=True, slots=True)
class Comparison:
    before_label: str
    after_label: str
    before: Tally
    after: Tally
    deltas: tuple[ItemDelta, ...]
    """Only the items that changed, in the order of the later snapshot (removed ones last)."""

    def of(self, change: Change) -> tuple[ItemDelta, ...]:
        return tuple(delta for delta in self.deltas if delta.change is change)

    @property
    def regressions(self) -> tuple[ItemDelta, ...]:
        return self.of(Change.REGRESSION)

    @property
    def improvements(self) -> tuple[ItemDelta, ...]:
        return self.of(Change.IMPROVEMENT)

    @property
    def answer_changes(self) -> tuple[ItemDelta, ...]:
        """Every delta whose answer changed, whatever happened to its status."""
        return tuple(delta for delta in self.deltas if delta.answer_changed)


def _change(before: Status, after: Status) -> Change | None:
    if _RANK[after] < _RANK[before]:
        return Change.REGRESSION
    if _RANK[after] > _RANK[before]:
        return Change.IMPROVEMENT
    if after is not before:
        return Change.STATUS
    return None


def compare(before: Snapshot, after: Snapshot, before_label: str = "before",
            after_label: str = "after") -> Comparison:
    """What changed, item by item, from `before` to `after`."""
    earlier = {state.item_id: state for state in before.items}
    later_ids = {state.item_id for state in after.items}
    deltas = []
    for state in after.items:
        old = earlier.get(state.item_id)
        if old is None:
            deltas.append(ItemDelta(state.item_id, state.topic, state.title, Change.NEW, None,
                                    state.status, None, state.answer))
            continue
        change = _change(old.status, state.status)
        if change is None and old.answer != state.answer:
            change = Change.ANSWER
        if change is not None:
            deltas.append(ItemDelta(state.item_id, state.topic, state.title, change,
                                    old.status, state.status, old.answer, state.answer))
    for old in before.items:
        if old.item_id not in later_ids:
            deltas.append(ItemDelta(old.item_id, old.topic, old.title, Change.REMOVED,
                                    old.status, None, old.answer, None))
    return Comparison(before_label, after_label, before.tally, after.tally, tuple(deltas))


# --- progress over time -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Overall and per-topic progress at one moment: a recorded scan (with the answers as they
    stood then) or a closed review."""

    at: datetime
    kind: str
    """"scan" or "review"."""
    label: str
    commit: str | None
    tally: Tally
    topics: tuple[tuple[str, Tally], ...]

    @property
    def percent(self) -> float:
        return self.tally.percent


def point_of_progress(progress: Progress, at: datetime, kind: str, label: str) -> ProgressPoint:
    commit = progress.project.commit if progress.project else None
    return ProgressPoint(at, kind, label, commit, progress.tally,
                         tuple((t.topic, t.tally) for t in progress.topics))


def point_of_snapshot(snapshot: Snapshot, kind: str, label: str) -> ProgressPoint:
    return ProgressPoint(snapshot.taken_at, kind, label, snapshot.commit, snapshot.tally,
                         tuple((t.topic, t.tally) for t in snapshot.topics))


# --- the frozen form of a snapshot ------------------------------------------------------------


def snapshot_to_json(snapshot: Snapshot) -> str:
    return json.dumps(_snapshot_dict(snapshot), ensure_ascii=False, sort_keys=True)


def snapshot_from_json(text: str) -> Snapshot:
    """The snapshot written by `snapshot_to_json`; ValueError when the text is not one."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a snapshot of format {SNAPSHOT_FORMAT}")
        return Snapshot(
            taken_at=datetime.fromisoformat(data["taken_at"]),
            commit=data["commit"], branch=data["branch"], dirty=bool(data["dirty"]),
            scanned_at=_time(data["scanned_at"]),
            topics=tuple(TopicSummary(t["topic"], t["title"], Tally(**t["tally"]))
                         for t in data["topics"]),
            items=tuple(_item_state(i) for i in data["items"]))
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise ValueError(f"a damaged review snapshot: {error!r}") from None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _snapshot_dict(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "format": SNAPSHOT_FORMAT,
        "taken_at": snapshot.taken_at.isoformat(),
        "commit": snapshot.commit, "branch": snapshot.branch, "dirty": snapshot.dirty,
        "scanned_at": snapshot.scanned_at.isoformat() if snapshot.scanned_at else None,
        "topics": [{"topic": t.topic, "title": t.title, "tally": _tally_dict(t.tally)}
                   for t in snapshot.topics],
        "items": [_item_dict(state) for state in snapshot.items],
    }


def _tally_dict(tally: Tally) -> dict[str, int]:
    return {"total": tally.total, "met": tally.met, "unmet": tally.unmet, "na": tally.na,
            "unknown": tally.unknown}


def _item_dict(state: ItemState) -> dict[str, Any]:
    finding = state.finding
    answer = state.answer
    return {
        "item_id": state.item_id, "topic": state.topic, "title": state.title,
        "level": state.level, "status": state.status.value,
        "needs_review": state.needs_review, "answer_expired": state.answer_expired,
        "finding": None if finding is None else {
            "outcome": finding.outcome.value, "confidence": finding.confidence.value,
            "message": finding.message,
            "evidence": [[e.path, e.line, e.commit, e.excerpt] for e in finding.evidence]},
        "answer": None if answer is None else {
            "value": answer.value.value, "author": answer.author,
            "answered_at": answer.answered_at.isoformat(),
            "justification": answer.justification, "note": answer.note,
            "expires": answer.expires.isoformat() if answer.expires else None},
    }


def _item_state(data: dict[str, Any]) -> ItemState:
    found = data["finding"]
    finding = None if found is None else Finding(
        Outcome(found["outcome"]), Confidence(found["confidence"]), found["message"],
        tuple(Evidence(path, line, commit, excerpt)
              for path, line, commit, excerpt in found["evidence"]),
        data["item_id"])
    said = data["answer"]
    answer = None if said is None else AnswerState(
        AnswerValue(said["value"]), said["author"], datetime.fromisoformat(said["answered_at"]),
        said["justification"], said["note"], _time(said["expires"]))
    return ItemState(data["item_id"], data["topic"], data["title"], data["level"],
                     Status(data["status"]), finding, answer, bool(data["needs_review"]),
                     bool(data["answer_expired"]))
