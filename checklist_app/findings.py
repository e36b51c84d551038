"""The value vocabulary shared by every layer: outcomes, findings, scans and answers.

Everything here is a frozen value. Layers pass these between each other and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


def printable(text: str) -> str:
    """Text safe to print or encode as UTF-8: bytes that were not UTF-8 (kept in file names
    with surrogateescape, so the file can still be opened) are shown as `\\xNN`."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Outcome(StrEnum):
    """What a detector concluded about one item."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
    MANUAL = "manual"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def words(self) -> str:
        """The confidence as a person would say it."""
        return {
            Confidence.HIGH: "certain",
            Confidence.MEDIUM: "likely",
            Confidence.LOW: "a guess",
        }[self]


class AnswerValue(StrEnum):
    """What a person said about one item."""

    MET = "met"
    UNMET = "unmet"
    NA = "na"


class Status(StrEnum):
    """The effective state of an item after merging its finding and its answer."""

    MET = "met"
    UNMET = "unmet"
    NA = "na"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A place in the project that supports a finding. Paths are relative, with '/'."""

    path: str
    line: int | None = None
    commit: str | None = None
    excerpt: str = ""

    @property
    def location(self) -> str:
        """`path:line`, `path@commit` or just `path`."""
        path = printable(self.path)
        text = path if self.line is None else f"{path}:{self.line}"
        if self.commit:
            text = f"{text}@{self.commit[:10]}"
        return text


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector returns for one item. The scan stamps `item_id`."""

    outcome: Outcome
    confidence: Confidence
    message: str
    evidence: tuple[Evidence, ...] = ()
    item_id: str = ""

    @property
    def fingerprint(self) -> str:
        """A short digest of outcome and evidence; changes when the finding changes."""
        parts = [self.outcome.value]
        parts += [f"{e.path}\0{e.line}\0{e.commit}" for e in self.evidence]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def passed(message: str, *evidence: Evidence, confidence: Confidence = Confidence.HIGH) -> Finding:
    return Finding(Outcome.PASS, confidence, message, tuple(evidence))


def failed(message: str, *evidence: Evidence, confidence: Confidence = Confidence.HIGH) -> Finding:
    return Finding(Outcome.FAIL, confidence, message, tuple(evidence))


def unknown(message: str, *evidence: Evidence) -> Finding:
    return Finding(Outcome.UNKNOWN, Confidence.LOW, message, tuple(evidence))


def not_applicable(message: str, *evidence: Evidence) -> Finding:
    return Finding(Outcome.NOT_APPLICABLE, Confidence.HIGH, message, tuple(evidence))


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """Who was scanned: the root and the state of its git checkout."""

    root: str
    name: str
    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    is_git: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """Something the scan could not read, said plainly (a skipped file, a git problem)."""

    message: str
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    project: ProjectInfo
    scanned_at: datetime
    duration_s: float
    rules_digest: str
    findings: tuple[Finding, ...]
    notes: tuple[Note, ...] = ()
    cancelled: bool = False

    def finding(self, item_id: str) -> Finding | None:
        for found in self.findings:
            if found.item_id == item_id:
                return found
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """A person's answer to an item."""

    item_id: str
    value: AnswerValue
    author: str
    answered_at: datetime
    note: str = ""
    justification: str = ""
    expires: datetime | None = None
    finding_fingerprint: str | None = None
    """The fingerprint of the finding the person saw when answering."""
    revision: int = field(default=1, compare=False)

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now
