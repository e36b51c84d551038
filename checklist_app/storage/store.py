"""The store: per-project progress (projects, scans, answers and their history).

Every method is one transaction and takes and returns frozen values; sessions never leave this
module. Writes start with the write lock (SQLite BEGIN IMMEDIATE), so a writer either waits
for another one or, after the busy timeout, raises StoreBusy: nothing is half written.

Answers use optimistic locking: a caller says which revision it last saw, and the write only
happens if that is still the stored one, checked in the UPDATE/DELETE statement itself, so it
holds across processes and on PostgreSQL too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

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
from checklist_app.reviews import (
    Decision,
    Review,
    SignOff,
    Snapshot,
    snapshot_from_json,
    snapshot_to_json,
)
from checklist_app.storage.connection import WRITE, open_engine, translate_errors
from checklist_app.storage.errors import (
    AnswerConflict,
    ProjectExists,
    ProjectNotFound,
    ProposalError,
    ReviewAlreadyOpen,
    ReviewClosed,
    ReviewNotFound,
    StoreBusy,
)
from checklist_app.storage.models import (
    AnswerChangeRow,
    AnswerRow,
    EvidenceRow,
    FindingRow,
    NoteRow,
    ProjectRow,
    ProposalRow,
    ReviewRow,
    ScanRow,
    SignOffRow,
    clean_text,
)
from checklist_app.storage.values import (
    AnswerChange,
    ProjectRecord,
    Proposal,
    ProposalState,
    ScanSummary,
)

DEFAULT_BUSY_TIMEOUT_S = 10.0


class Store:
    """Open with `Store.open(url)`; close with `close()` (or use it as a context manager).

    Use a store from the thread that opened it."""

    def __init__(self, engine: Engine, name: str, backup: Path | None) -> None:
        self._engine = engine
        self.name = name
        """The store as named in messages: its path, or its URL without the password."""
        self.backup = backup
        """The copy of the file kept before migrating it on open, if migrations ran."""

    @classmethod
    def open(cls, url: str, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Store:
        """Open the store at an SQLAlchemy URL (see `resolve_url`), creating it or applying
        pending migrations. Raises StoreCorrupt, StoreForeign, StoreTooNew, StoreBusy or
        StoreError, each saying what to do."""
        # SQLite answers "busy" at once, without waiting, when two processes create or switch
        # the journal of the same new file together; that passes in moments, so try again.
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                opened = open_engine(url, busy_timeout_s)
            except StoreBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
                continue
            return cls(opened.engine, opened.name, opened.backup)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with translate_errors(self.name), Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with translate_errors(self.name), self._engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with Session(bind=connection) as session, session.begin():
                yield session

    # --- projects ----------------------------------------------------------------------------

    def project(self, root: str, name: str) -> ProjectRecord:
        """The project at `root` (an absolute path), created if new; marks it as just opened
        and takes `name` as its display name."""
        root = _normal_root(root)
        try:
            return self._open_project(root, name)
        except IntegrityError:  # created by another process meanwhile: read it
            return self._open_project(root, name)

    def _open_project(self, root: str, name: str) -> ProjectRecord:
        now = datetime.now(UTC)
        with self._writing() as session:
            row = _project_at(session, root)
            if row is None:
                row = ProjectRow(root=root, name=name, created_at=now, last_opened_at=now)
                session.add(row)
            else:
                row.last_opened_at = now
                if name and row.name != name:
                    row.name = name
            session.flush()
            return _project_record(row)

    def find_project(self, root: str) -> ProjectRecord | None:
        with self._reading() as session:
            row = _project_at(session, _normal_root(root))
            return _project_record(row) if row is not None else None

    def projects(self) -> tuple[ProjectRecord, ...]:
        """Every project, the most recently opened first."""
        with self._reading() as session:
            rows = session.scalars(select(ProjectRow).order_by(
                ProjectRow.last_opened_at.desc(), ProjectRow.id.desc()))
            return tuple(_project_record(row) for row in rows)

    def relink(self, old_root: str, new_root: str) -> ProjectRecord:
        """Move a project (its scans, answers and history) to the folder it was moved or
        renamed to. Refuses when `new_root` already has a project of its own."""
        old_root, new_root = _normal_root(old_root), _normal_root(new_root)
        try:
            with self._writing() as session:
                row = _project_at(session, old_root)
                if row is None:
                    raise ProjectNotFound(f"the store {self.name} has no project at {old_root}")
                if new_root != old_root:
                    taken = _project_at(session, new_root)
                    if taken is not None:
                        raise _project_exists(row, taken)
                    row.root = new_root
                    session.flush()
                return _project_record(row)
        except IntegrityError:
            taken_now = self.find_project(new_root)
            moved = self.find_project(old_root)
            if taken_now is None or moved is None:
                raise
            raise _project_exists_record(moved, taken_now) from None

    # --- scans -------------------------------------------------------------------------------

    def record_scan(self, project_id: int, result: ScanResult) -> int:
        """Store a scan with every finding, its evidence and the scan's notes; its id."""
        _require_aware(result.scanned_at, "scanned_at")
        info = result.project
        scan = ScanRow(
            project_id=project_id, scanned_at=result.scanned_at, root=info.root,
            name=info.name, commit_sha=info.commit, branch=info.branch, dirty=info.dirty,
            is_git=info.is_git, rules_digest=result.rules_digest,
            duration_s=result.duration_s, cancelled=result.cancelled,
            findings=[_finding_row(position, finding)
                      for position, finding in enumerate(result.findings)],
            notes=[NoteRow(position=position, message=note.message, path=note.path)
                   for position, note in enumerate(result.notes)],
        )
        with self._writing() as session:
            self._require_project(session, project_id)
            session.add(scan)
            session.flush()
            return scan.id

    def latest_scans(self, project_id: int, limit: int = 2, *,
                     include_cancelled: bool = True) -> tuple[ScanResult, ...]:
        """The project's most recent scans, newest first."""
        if limit < 0:
            raise ValueError(f"limit must not be negative, not {limit}")
        query = (select(ScanRow).where(ScanRow.project_id == project_id)
                 .order_by(ScanRow.scanned_at.desc(), ScanRow.id.desc()).limit(limit)
                 .options(selectinload(ScanRow.findings).selectinload(FindingRow.evidence),
                          selectinload(ScanRow.notes)))
        if not include_cancelled:
            query = query.where(ScanRow.cancelled.is_(False))
        with self._reading() as session:
            return tuple(_scan_result(row) for row in session.scalars(query))

    def scan(self, scan_id: int) -> ScanResult | None:
        """One recorded scan by id (see `scan_summaries`)."""
        query = (select(ScanRow).where(ScanRow.id == scan_id)
                 .options(selectinload(ScanRow.findings).selectinload(FindingRow.evidence),
                          selectinload(ScanRow.notes)))
        with self._reading() as session:
            row = session.scalars(query).one_or_none()
            return _scan_result(row) if row is not None else None

    def scan_summaries(self, project_id: int) -> tuple[ScanSummary, ...]:
        """Every scan of the project without its findings, newest first."""
        with self._reading() as session:
            scans = session.scalars(select(ScanRow).where(ScanRow.project_id == project_id)
                                    .order_by(ScanRow.scanned_at.desc(), ScanRow.id.desc()))
            scans_list = list(scans)
            counts: dict[int, dict[Outcome, int]] = {row.id: {} for row in scans_list}
            tally = session.execute(
                select(FindingRow.scan_id, FindingRow.outcome, func.count())
                .join(ScanRow, ScanRow.id == FindingRow.scan_id)
                .where(ScanRow.project_id == project_id)
                .group_by(FindingRow.scan_id, FindingRow.outcome))
            for scan_id, outcome, count in tally:
                counts[scan_id][Outcome(outcome)] = count
            return tuple(_scan_summary(row, counts[row.id]) for row in scans_list)

    # --- answers -----------------------------------------------------------------------------

    def answers(self, project_id: int) -> tuple[Answer, ...]:
        """The current answers of the project, by item id, including answers to items that no
        longer exist in the checklists (the progress layer shows them as orphaned)."""
        with self._reading() as session:
            rows = session.scalars(select(AnswerRow).where(AnswerRow.project_id == project_id)
                                   .order_by(AnswerRow.item_id))
            return tuple(_answer(row) for row in rows)

    def save_answer(self, project_id: int, answer: Answer, reason: str,
                    expected_revision: int | None) -> Answer:
        """Store `answer` (its `revision` is ignored) and a history row, in one transaction;
        the stored answer with its new revision.

        `expected_revision` is the revision the caller last saw (None: it saw no answer). When
        the stored one differs, raises AnswerConflict naming who changed it and when."""
        _check_answer(answer)
        try:
            with self._writing() as session:
                self._require_project(session, project_id)
                revision = _save_answer(session, project_id, answer, reason, expected_revision)
        except IntegrityError:
            raise self._conflict_now(project_id, answer.item_id, expected_revision) from None
        return replace(answer, revision=revision)

    def clear_answer(self, project_id: int, item_id: str, author: str, reason: str,
                     expected_revision: int | None, at: datetime | None = None) -> None:
        """Remove the answer to `item_id` (the item falls back to its finding), recording who
        and why in the history. Nothing happens when there is no answer and the caller saw
        none; otherwise the same optimistic locking as `save_answer`."""
        when = at or datetime.now(UTC)
        _require_aware(when, "at")
        try:
            with self._writing() as session:
                self._require_project(session, project_id)
                row = _answer_row(session, project_id, item_id)
                current = row.revision if row is not None else None
                if current != expected_revision:
                    raise _conflict(session, project_id, item_id, expected_revision, current)
                if row is None:
                    return
                old = _answer(row)
                removed = session.connection().execute(
                    delete(AnswerRow)
                    .where(AnswerRow.id == row.id, AnswerRow.revision == row.revision))
                if removed.rowcount != 1:  # changed by another writer since the SELECT
                    raise _conflict(session, project_id, item_id, expected_revision,
                                    _stored_revision(session, project_id, item_id))
                session.add(_change_row(project_id, item_id, row.revision + 1, when,
                                        author, old, None, reason.strip()))
                session.flush()
        except IntegrityError:
            raise self._conflict_now(project_id, item_id, expected_revision) from None

    def history(self, project_id: int, item_id: str | None = None) -> tuple[AnswerChange, ...]:
        """Every change to the project's answers (or to one item's), oldest first."""
        query = select(AnswerChangeRow).where(AnswerChangeRow.project_id == project_id)
        if item_id is not None:
            query = query.where(AnswerChangeRow.item_id == item_id)
        with self._reading() as session:
            rows = session.scalars(query.order_by(AnswerChangeRow.id))
            return tuple(_answer_change(row) for row in rows)

    # --- reviews -----------------------------------------------------------------------------

    def start_review(self, project_id: int, title: str, commit: str | None, tag: str | None,
                     tag_exact: bool, by: str, at: datetime) -> Review:
        """A new open review pinned to `commit`. Refuses (ReviewAlreadyOpen) while the project
        has an open review."""
        _require_aware(at, "at")
        if not title.strip():
            raise ValueError("a review needs a title")
        with self._writing() as session:
            self._lock_project(session, project_id)
            open_row = _open_review_row(session, project_id)
            if open_row is not None:
                raise ReviewAlreadyOpen(
                    f"review {open_row.id} ({open_row.title!r}) is still open: close it before "
                    "starting another")
            row = ReviewRow(project_id=project_id, title=title.strip(), commit_sha=commit,
                            tag=tag, tag_exact=tag_exact, started_at=at,
                            started_by=by.strip() or "unknown", closed_at=None, closed_by=None,
                            snapshot=None)
            session.add(row)
            session.flush()
            return _review(row)

    def reviews(self, project_id: int) -> tuple[Review, ...]:
        """Every review of the project, oldest first."""
        with self._reading() as session:
            rows = session.scalars(select(ReviewRow).where(ReviewRow.project_id == project_id)
                                   .order_by(ReviewRow.id)
                                   .options(selectinload(ReviewRow.sign_offs)))
            return tuple(_review(row) for row in rows)

    def review(self, review_id: int) -> Review | None:
        with self._reading() as session:
            row = session.get(ReviewRow, review_id)
            return _review(row) if row is not None else None

    def sign_review(self, review_id: int, sign_off: SignOff) -> Review:
        """Add a reviewer's decision on a topic of an open review."""
        _require_aware(sign_off.signed_at, "signed_at")
        if not sign_off.reviewer.strip():
            raise ValueError("a sign-off needs a reviewer's name")
        with self._writing() as session:
            row = self._open_review_for_update(session, review_id, "signed")
            row.sign_offs.append(SignOffRow(
                topic=sign_off.topic, reviewer=sign_off.reviewer.strip(),
                decision=sign_off.decision.value, comment=sign_off.comment.strip(),
                signed_at=sign_off.signed_at))
            session.flush()
            return _review(row)

    def close_review(self, review_id: int, by: str, at: datetime,
                     snapshot: Snapshot) -> Review:
        """Close an open review, freezing `snapshot` with it."""
        _require_aware(at, "at")
        with self._writing() as session:
            row = self._open_review_for_update(session, review_id, "closed")
            row.closed_at = at
            row.closed_by = by.strip() or "unknown"
            row.snapshot = clean_text(snapshot_to_json(snapshot))  # as it will read back
            session.flush()
            return _review(row)

    def _open_review_for_update(self, session: Session, review_id: int,
                                verb: str) -> ReviewRow:
        row = session.get(ReviewRow, review_id, with_for_update=True)
        if row is None:
            raise ReviewNotFound(f"the store {self.name} has no review {review_id}")
        if row.closed_at is not None:
            raise ReviewClosed(
                f"review {row.id} ({row.title!r}) was closed on {row.closed_at:%Y-%m-%d} by "
                f"{row.closed_by} and cannot be {verb} any more; start a new review")
        return row

    # --- proposals ---------------------------------------------------------------------------

    def add_proposals(self, project_id: int, proposals: Sequence[Proposal]) -> int:
        """Record proposals (their id and state are ignored: they are new and open), all or
        none; how many were recorded."""
        for proposal in proposals:
            _require_aware(proposal.answered_at, "answered_at")
            _require_aware(proposal.proposed_at, "proposed_at")
        with self._writing() as session:
            self._require_project(session, project_id)
            session.add_all(ProposalRow(
                project_id=project_id, item_id=p.item_id, value=p.value.value,
                author=p.author, answered_at=p.answered_at, justification=p.justification,
                note=p.note, expires=p.expires, source=p.source, proposed_at=p.proposed_at,
                proposed_by=p.proposed_by, state=ProposalState.OPEN.value, decided_at=None,
                decided_by=None) for p in proposals)
            session.flush()
        return len(proposals)

    def proposals(self, project_id: int,
                  state: ProposalState | None = ProposalState.OPEN) -> tuple[Proposal, ...]:
        """The project's proposals in that state (None: all), oldest first."""
        query = select(ProposalRow).where(ProposalRow.project_id == project_id)
        if state is not None:
            query = query.where(ProposalRow.state == state.value)
        with self._reading() as session:
            return tuple(_proposal(row) for row in session.scalars(query.order_by(ProposalRow.id)))

    def reject_proposal(self, project_id: int, proposal_id: int, by: str,
                        at: datetime) -> Proposal:
        _require_aware(at, "at")
        with self._writing() as session:
            row = self._open_proposal(session, proposal_id, project_id)
            row.state, row.decided_by, row.decided_at = ProposalState.REJECTED.value, by, at
            session.flush()
            return _proposal(row)

    def accept_proposal(self, project_id: int, proposal_id: int, answer: Answer, reason: str,
                        expected_revision: int | None, by: str) -> Answer:
        """Save `answer` (made from the proposal) and mark the proposal accepted, in one
        transaction; the same optimistic locking as `save_answer`."""
        _check_answer(answer)
        try:
            with self._writing() as session:
                row = self._open_proposal(session, proposal_id, project_id)
                if row.item_id != answer.item_id:
                    raise ValueError(f"proposal {proposal_id} is about {row.item_id}, not "
                                     f"{answer.item_id}")
                revision = _save_answer(session, project_id, answer, reason, expected_revision)
                row.state = ProposalState.ACCEPTED.value
                row.decided_by, row.decided_at = by, answer.answered_at
                session.flush()
        except IntegrityError:
            raise self._conflict_now(project_id, answer.item_id, expected_revision) from None
        return replace(answer, revision=revision)

    def _open_proposal(self, session: Session, proposal_id: int,
                       project_id: int) -> ProposalRow:
        row = session.get(ProposalRow, proposal_id, with_for_update=True)
        if row is None or row.project_id != project_id:
            raise ProposalError(f"the project has no proposal {proposal_id}; see `answers "
                                "proposals` for the open ones")
        if row.state != ProposalState.OPEN.value:
            raise ProposalError(f"proposal {proposal_id} was already {row.state} by "
                                f"{row.decided_by}")
        return row

    # --- helpers -----------------------------------------------------------------------------

    def _require_project(self, session: Session, project_id: int) -> None:
        if session.get(ProjectRow, project_id) is None:
            raise ProjectNotFound(f"the store {self.name} has no project with id {project_id}")

    def _lock_project(self, session: Session, project_id: int) -> None:
        """The project row, locked until the transaction ends (PostgreSQL; SQLite's write
        transaction already holds the whole database)."""
        if session.get(ProjectRow, project_id, with_for_update=True) is None:
            raise ProjectNotFound(f"the store {self.name} has no project with id {project_id}")

    def _conflict_now(self, project_id: int, item_id: str,
                      expected_revision: int | None) -> AnswerConflict:
        """After a write lost a race to another writer: what is stored now."""
        with self._reading() as session:
            return _conflict(session, project_id, item_id, expected_revision,
                             _stored_revision(session, project_id, item_id))


# --- rows <-> values ------------------------------------------------------------------------


def _normal_root(root: str) -> str:
    if not os.path.isabs(root):
        raise ValueError(f"a project root must be an absolute path, not {root!r}")
    return os.path.normpath(root)


def _require_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field} must carry a time zone, not {moment!r}")


def _check_answer(answer: Answer) -> None:
    if not answer.item_id.strip():
        raise ValueError("an answer needs an item id")
    _require_aware(answer.answered_at, "answered_at")
    if answer.expires is not None:
        _require_aware(answer.expires, "expires")


def _project_at(session: Session, root: str) -> ProjectRow | None:
    return session.scalars(select(ProjectRow).where(ProjectRow.root == root)).one_or_none()


def _project_record(row: ProjectRow) -> ProjectRecord:
    return ProjectRecord(row.id, row.root, row.name, row.created_at, row.last_opened_at)


def _project_exists(moving: ProjectRow, taken: ProjectRow) -> ProjectExists:
    return _project_exists_record(_project_record(moving), _project_record(taken))


def _project_exists_record(moving: ProjectRecord, taken: ProjectRecord) -> ProjectExists:
    return ProjectExists(
        f"cannot move the project {moving.name!r} from {moving.root} to {taken.root}: the "
        f"store already has a project there ({taken.name!r}, id {taken.id}) with its own "
        "scans and answers; keep using that one, or choose another folder")


def _finding_row(position: int, finding: Finding) -> FindingRow:
    return FindingRow(
        position=position, item_id=finding.item_id, outcome=finding.outcome.value,
        confidence=finding.confidence.value, message=finding.message,
        evidence=[EvidenceRow(position=index, path=found.path, line=found.line,
                              commit_sha=found.commit, excerpt=found.excerpt)
                  for index, found in enumerate(finding.evidence)],
    )


def _scan_result(row: ScanRow) -> ScanResult:
    info = ProjectInfo(root=row.root, name=row.name, commit=row.commit_sha, branch=row.branch,
                       dirty=row.dirty, is_git=row.is_git)
    findings = tuple(
        Finding(Outcome(found.outcome), Confidence(found.confidence), found.message,
                tuple(Evidence(e.path, e.line, e.commit_sha, e.excerpt)
                      for e in found.evidence),
                found.item_id)
        for found in row.findings)
    notes = tuple(Note(note.message, note.path) for note in row.notes)
    return ScanResult(project=info, scanned_at=row.scanned_at, duration_s=row.duration_s,
                      rules_digest=row.rules_digest, findings=findings, notes=notes,
                      cancelled=row.cancelled)


def _scan_summary(row: ScanRow, counts: dict[Outcome, int]) -> ScanSummary:
    outcomes = tuple((outcome, counts[outcome]) for outcome in Outcome if outcome in counts)
    return ScanSummary(
        id=row.id, project_id=row.project_id, scanned_at=row.scanned_at,
        commit=row.commit_sha, branch=row.branch, dirty=row.dirty,
        rules_digest=row.rules_digest, duration_s=row.duration_s, cancelled=row.cancelled,
        outcomes=outcomes)


def _save_answer(session: Session, project_id: int, answer: Answer, reason: str,
                 expected_revision: int | None) -> int:
    """Write `answer` and its history row in the caller's transaction; its new revision."""
    item_id = answer.item_id
    why = reason.strip() or answer.justification
    row = _answer_row(session, project_id, item_id)
    current = row.revision if row is not None else None
    if current != expected_revision:
        raise _conflict(session, project_id, item_id, expected_revision, current)
    if row is None:
        revision = _last_revision(session, project_id, item_id) + 1
        session.add(_new_answer_row(project_id, answer, revision))
        old = None
    else:
        revision = row.revision + 1
        old = _answer(row)
        changed = session.connection().execute(
            update(AnswerRow)
            .where(AnswerRow.id == row.id, AnswerRow.revision == row.revision)
            .values(_answer_values(answer, revision)))
        if changed.rowcount != 1:  # changed by another writer since the SELECT
            raise _conflict(session, project_id, item_id, expected_revision,
                            _stored_revision(session, project_id, item_id))
    session.add(_change_row(project_id, item_id, revision, answer.answered_at,
                            answer.author, old, answer, why))
    session.flush()
    return revision


def _answer_row(session: Session, project_id: int, item_id: str) -> AnswerRow | None:
    return session.scalars(select(AnswerRow).where(
        AnswerRow.project_id == project_id, AnswerRow.item_id == item_id)).one_or_none()


def _stored_revision(session: Session, project_id: int, item_id: str) -> int | None:
    return session.scalar(select(AnswerRow.revision).where(
        AnswerRow.project_id == project_id, AnswerRow.item_id == item_id))


def _last_revision(session: Session, project_id: int, item_id: str) -> int:
    """The revision of the item's last change (0 if never answered); a new answer after a
    clear continues from it, so a revision number is never reused."""
    last = session.scalar(select(func.max(AnswerChangeRow.revision)).where(
        AnswerChangeRow.project_id == project_id, AnswerChangeRow.item_id == item_id))
    return last or 0


def _answer_values(answer: Answer, revision: int) -> dict[str, object]:
    return {
        "value": answer.value.value, "note": answer.note,
        "justification": answer.justification, "author": answer.author,
        "answered_at": answer.answered_at, "expires": answer.expires,
        "finding_fingerprint": answer.finding_fingerprint, "revision": revision,
    }


def _new_answer_row(project_id: int, answer: Answer, revision: int) -> AnswerRow:
    return AnswerRow(
        project_id=project_id, item_id=answer.item_id, value=answer.value.value,
        note=answer.note, justification=answer.justification, author=answer.author,
        answered_at=answer.answered_at, expires=answer.expires,
        finding_fingerprint=answer.finding_fingerprint, revision=revision)


def _answer(row: AnswerRow) -> Answer:
    return Answer(
        item_id=row.item_id, value=AnswerValue(row.value), author=row.author,
        answered_at=row.answered_at, note=row.note, justification=row.justification,
        expires=row.expires, finding_fingerprint=row.finding_fingerprint,
        revision=row.revision)


def _change_row(project_id: int, item_id: str, revision: int, when: datetime, author: str,
                old: Answer | None, new: Answer | None, reason: str) -> AnswerChangeRow:
    return AnswerChangeRow(
        project_id=project_id, item_id=item_id, revision=revision, changed_at=when,
        author=author,
        old_value=old.value.value if old else None, new_value=new.value.value if new else None,
        old_note=old.note if old else "", new_note=new.note if new else "",
        old_justification=old.justification if old else "",
        new_justification=new.justification if new else "",
        old_expires=old.expires if old else None, new_expires=new.expires if new else None,
        reason=reason)


def _answer_change(row: AnswerChangeRow) -> AnswerChange:
    return AnswerChange(
        project_id=row.project_id, item_id=row.item_id, revision=row.revision,
        changed_at=row.changed_at, author=row.author,
        old_value=AnswerValue(row.old_value) if row.old_value is not None else None,
        new_value=AnswerValue(row.new_value) if row.new_value is not None else None,
        old_note=row.old_note, new_note=row.new_note,
        old_justification=row.old_justification, new_justification=row.new_justification,
        old_expires=row.old_expires, new_expires=row.new_expires, reason=row.reason)


def _conflict(session: Session, project_id: int, item_id: str, expected: int | None,
              current: int | None) -> AnswerConflict:
    last = session.scalars(
        select(AnswerChangeRow)
        .where(AnswerChangeRow.project_id == project_id, AnswerChangeRow.item_id == item_id)
        .order_by(AnswerChangeRow.revision.desc()).limit(1)).one_or_none()
    return AnswerConflict(item_id, expected, current,
                          last.author if last is not None else None,
                          last.changed_at if last is not None else None)


def _open_review_row(session: Session, project_id: int) -> ReviewRow | None:
    return session.scalars(select(ReviewRow).where(
        ReviewRow.project_id == project_id, ReviewRow.closed_at.is_(None))
        .order_by(ReviewRow.id.desc()).limit(1)).one_or_none()


def _review(row: ReviewRow) -> Review:
    return Review(
        id=row.id, project_id=row.project_id, title=row.title, commit=row.commit_sha,
        tag=row.tag, tag_exact=row.tag_exact, started_at=row.started_at,
        started_by=row.started_by, closed_at=row.closed_at, closed_by=row.closed_by,
        sign_offs=tuple(SignOff(s.topic, s.reviewer, Decision(s.decision), s.comment,
                                s.signed_at) for s in row.sign_offs),
        snapshot=snapshot_from_json(row.snapshot) if row.snapshot is not None else None)


def _proposal(row: ProposalRow) -> Proposal:
    return Proposal(
        id=row.id, project_id=row.project_id, item_id=row.item_id,
        value=AnswerValue(row.value), author=row.author, answered_at=row.answered_at,
        justification=row.justification, note=row.note, expires=row.expires,
        source=row.source, proposed_at=row.proposed_at, proposed_by=row.proposed_by,
        state=ProposalState(row.state), decided_at=row.decided_at, decided_by=row.decided_by)
