"""The store's own frozen values (besides those of `checklist_app.findings`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from checklist_app.findings import AnswerValue, Outcome


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project known to the store, keyed by its root folder."""

    id: int
    root: str
    name: str
    created_at: datetime
    last_opened_at: datetime


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """One recorded scan without its findings: for a list of past scans."""

    id: int
    project_id: int
    scanned_at: datetime
    commit: str | None
    branch: str | None
    dirty: bool
    rules_digest: str
    duration_s: float
    cancelled: bool
    outcomes: tuple[tuple[Outcome, int], ...]
    """How many findings had each outcome, in the order of `Outcome`; outcomes seen only."""

    @property
    def findings(self) -> int:
        return sum(count for _, count in self.outcomes)

    def count(self, outcome: Outcome) -> int:
        return sum(count for seen, count in self.outcomes if seen is outcome)


@dataclass(frozen=True, slots=True)
class AnswerChange:
    """One row of an answer's append-only history. `new_value` None: the answer was cleared;
    `old_value` None: there was no answer before."""

    project_id: int
    item_id: str
    revision: int
    changed_at: datetime
    author: str
    old_value: AnswerValue | None
    new_value: AnswerValue | None
    old_note: str
    new_note: str
    old_justification: str
    new_justification: str
    old_expires: datetime | None
    new_expires: datetime | None
    reason: str
    """Why: the reason given, else the new justification."""


class ProposalState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Proposal:
    """An answer imported from a shared answers file, waiting for a person's decision."""

    id: int
    project_id: int
    item_id: str
    value: AnswerValue
    author: str
    """Who gave the answer in the file."""
    answered_at: datetime
    justification: str
    note: str
    expires: datetime | None
    source: str
    """The file it came from."""
    proposed_at: datetime
    proposed_by: str
    """Who imported the file."""
    state: ProposalState = ProposalState.OPEN
    decided_at: datetime | None = None
    decided_by: str | None = None
