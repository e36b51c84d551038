"""Sample values for store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from checklist_app.findings import (
    Answer,
    AnswerValue,
    Confidence,
    Evidence,
    Finding,
    Note,
    Outcome,
    ProjectInfo,
    ScanResult,
)

T0 = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def scan_result(root: str = "/work/shop", *, scanned_at: datetime = T0,
                cancelled: bool = False, commit: str | None = "a1b2c3d4e5f6") -> ScanResult:
    """A scan with every kind of finding, evidence with and without line and commit, notes."""
    return ScanResult(
        project=ProjectInfo(root=root, name="shop", commit=commit, branch="main", dirty=True,
                            is_git=True),
        scanned_at=scanned_at,
        duration_s=1.25,
        rules_digest="sha256:0f1e2d",
        findings=(
            Finding(Outcome.PASS, Confidence.HIGH, "create_app() found",
                    (Evidence("shop/__init__.py", 12, None, "def create_app():"),),
                    "organization.app-factory"),
            Finding(Outcome.FAIL, Confidence.MEDIUM, "SQL built with an f-string",
                    (Evidence("shop/db.py", 40, None, 'f"SELECT * FROM {t}"'),
                     Evidence("shop/db.py", 41),
                     Evidence("migrations/env.py", None, "9f8e7d6c5b4a", "")),
                    "security.no-sql-injection"),
            Finding(Outcome.UNKNOWN, Confidence.LOW, "not a git repository", (), "testing.ci"),
            Finding(Outcome.ERROR, Confidence.LOW, "detector crashed: ValueError('x')", (),
                    "performance.caching"),
            Finding(Outcome.NOT_APPLICABLE, Confidence.HIGH, "no websockets", (),
                    "advanced.websockets"),
            Finding(Outcome.MANUAL, Confidence.LOW, "", (), "database.eager-loading"),
        ),
        notes=(Note("skipped a 12 MB file", "static/big.bin"), Note("git log failed")),
        cancelled=cancelled,
    )


def answer(item_id: str = "security.csrf", value: AnswerValue = AnswerValue.MET, *,
           author: str = "ana", minutes: int = 0, note: str = "",
           justification: str = "", expires: datetime | None = None,
           fingerprint: str | None = None) -> Answer:
    return Answer(item_id=item_id, value=value, author=author, answered_at=at(minutes),
                  note=note, justification=justification, expires=expires,
                  finding_fingerprint=fingerprint)
