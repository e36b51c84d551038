"""How statuses, findings and answers read in the window: plain words, one place.

Pure functions over values (no Qt), so the models, the details pane and the tests agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from checklist_app.findings import Answer, AnswerValue, Finding, Outcome, Status
from checklist_app.progress import ItemProgress, Tally

STATUS_WORDS = {
    Status.MET: "met",
    Status.UNMET: "unmet",
    Status.NA: "n/a",
    Status.UNKNOWN: "unknown",
}

ANSWER_WORDS = {
    AnswerValue.MET: "met",
    AnswerValue.UNMET: "unmet",
    AnswerValue.NA: "n/a",
}

OUTCOME_WORDS = {
    Outcome.PASS: "passes",
    Outcome.FAIL: "fails",
    Outcome.UNKNOWN: "could not check",
    Outcome.NOT_APPLICABLE: "does not apply",
    Outcome.ERROR: "detector error",
    Outcome.MANUAL: "answer by hand",
}

_WITH_CONFIDENCE = (Outcome.PASS, Outcome.FAIL)


class Badge(StrEnum):
    """What an item's icon shows: its status, or that its detector failed."""

    MET = "met"
    UNMET = "unmet"
    NA = "na"
    UNKNOWN = "unknown"
    ERROR = "error"


def badge(entry: ItemProgress) -> Badge:
    if entry.answer is None and entry.finding is not None \
            and entry.finding.outcome is Outcome.ERROR:
        return Badge.ERROR
    return Badge(entry.status.value)


def finding_text(finding: Finding | None) -> str:
    """`passes (certain)`, `fails (likely)`, `detector error`; `not scanned yet`."""
    if finding is None:
        return "not scanned yet"
    words = OUTCOME_WORDS[finding.outcome]
    if finding.outcome in _WITH_CONFIDENCE:
        return f"{words} ({finding.confidence.words})"
    return words


def answer_text(answer: Answer | None, expired: bool = False) -> str:
    if answer is None:
        return ""
    text = f"{ANSWER_WORDS[answer.value]} ({answer.author})"
    return f"{text}, expired" if expired else text


def review_text(entry: ItemProgress) -> str:
    if entry.needs_review:
        return "re-review"
    if entry.answer_expired:
        return "expired"
    return ""


def tally_text(tally: Tally) -> str:
    """`5 met · 3 unmet · 1 n/a · 2 unknown`."""
    return (f"{tally.met} met · {tally.unmet} unmet · {tally.na} n/a · "
            f"{tally.unknown} unknown")


def percent_text(tally: Tally) -> str:
    if tally.applicable == 0:
        return "–"
    return f"{tally.percent:.0f}%" if tally.percent == int(tally.percent) \
        else f"{tally.percent:.1f}%"


def when_text(moment: datetime, now: datetime | None = None) -> str:
    """A moment as a person reads it: `just now`, `5 min ago`, `3 h ago`, else the date."""
    current = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (current - moment).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if 0 <= seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
