"""SQLAlchemy models of the store. Items are stored by id (text), so checklists can change
without a migration. Every change here needs an Alembic revision in `migrations/versions/`
(a test compares the two)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC, read back aware in UTC (SQLite keeps no zone).

    A naive datetime is refused: its meaning (local? UTC?) would be a guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r} (give it a zone)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CleanText(TypeDecorator[str]):
    """Text that any backend accepts: NUL characters (PostgreSQL refuses them) and lone
    surrogates (from undecodable file names; no UTF-8 encoding exists) become U+FFFD.

    Scanned projects are untrusted: an excerpt or a path must never make a save fail."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return clean_text(value)


REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), str: CleanText()}


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    created_at: Mapped[datetime]
    last_opened_at: Mapped[datetime]


class ScanRow(Base):
    __tablename__ = "scans"
    __table_args__ = (Index(None, "project_id", "scanned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    scanned_at: Mapped[datetime]
    root: Mapped[str]
    name: Mapped[str]
    commit_sha: Mapped[str | None]
    branch: Mapped[str | None]
    dirty: Mapped[bool]
    is_git: Mapped[bool]
    rules_digest: Mapped[str]
    duration_s: Mapped[float] = mapped_column(Double)
    cancelled: Mapped[bool]

    findings: Mapped[list[FindingRow]] = relationship(
        order_by="FindingRow.position", cascade="all, delete-orphan", passive_deletes=True)
    notes: Mapped[list[NoteRow]] = relationship(
        order_by="NoteRow.position", cascade="all, delete-orphan", passive_deletes=True)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("scan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    position: Mapped[int]
    item_id: Mapped[str]
    outcome: Mapped[str]
    confidence: Mapped[str]
    message: Mapped[str]

    evidence: Mapped[list[EvidenceRow]] = relationship(
        order_by="EvidenceRow.position", cascade="all, delete-orphan", passive_deletes=True)


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("finding_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    position: Mapped[int]
    path: Mapped[str]
    line: Mapped[int | None]
    commit_sha: Mapped[str | None]
    excerpt: Mapped[str]


class NoteRow(Base):
    __tablename__ = "scan_notes"
    __table_args__ = (UniqueConstraint("scan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    position: Mapped[int]
    message: Mapped[str]
    path: Mapped[str | None]


class AnswerRow(Base):
    """The current answer per (project, item). `revision` grows by one with every change,
    and keeps growing across a clear (the history holds the last one)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("project_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[str]
    value: Mapped[str]
    note: Mapped[str]
    justification: Mapped[str]
    author: Mapped[str]
    answered_at: Mapped[datetime]
    expires: Mapped[datetime | None]
    finding_fingerprint: Mapped[str | None]
    revision: Mapped[int]


class AnswerChangeRow(Base):
    """Append-only: every change to an answer. `new_value` NULL means the answer was cleared."""

    __tablename__ = "answer_history"
    __table_args__ = (UniqueConstraint("project_id", "item_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[str]
    revision: Mapped[int]
    changed_at: Mapped[datetime]
    author: Mapped[str]
    old_value: Mapped[str | None]
    new_value: Mapped[str | None]
    old_note: Mapped[str]
    new_note: Mapped[str]
    old_justification: Mapped[str]
    new_justification: Mapped[str]
    old_expires: Mapped[datetime | None]
    new_expires: Mapped[datetime | None]
    reason: Mapped[str]


class ReviewRow(Base):
    """A release review: pinned to a commit (and tag) when started; `snapshot` (JSON, see
    `checklist_app.reviews`) is written once, when it is closed, and never changed."""

    __tablename__ = "reviews"
    __table_args__ = (Index(None, "project_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str]
    commit_sha: Mapped[str | None]
    tag: Mapped[str | None]
    tag_exact: Mapped[bool]
    started_at: Mapped[datetime]
    started_by: Mapped[str]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None]
    snapshot: Mapped[str | None]

    sign_offs: Mapped[list[SignOffRow]] = relationship(
        order_by="SignOffRow.id", cascade="all, delete-orphan", passive_deletes=True)


class SignOffRow(Base):
    """Append-only: a reviewer's decision on one topic of a review."""

    __tablename__ = "review_sign_offs"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    topic: Mapped[str]
    reviewer: Mapped[str]
    decision: Mapped[str]
    comment: Mapped[str]
    signed_at: Mapped[datetime]


class ProposalRow(Base):
    """An answer read from a shared answers file, waiting for a person to accept or reject it.
    `state`: open, accepted or rejected."""

    __tablename__ = "answer_proposals"
    __table_args__ = (Index(None, "project_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    item_id: Mapped[str]
    value: Mapped[str]
    author: Mapped[str]
    answered_at: Mapped[datetime]
    justification: Mapped[str]
    note: Mapped[str]
    expires: Mapped[datetime | None]
    source: Mapped[str]
    proposed_at: Mapped[datetime]
    proposed_by: Mapped[str]
    state: Mapped[str]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None]
