"""The one object the CLI and the GUI talk to: open a project, scan, record, answer, progress.

`Workspace` owns the store and the checklists. `scan` is pure (it reads the project and touches
no database), so the GUI can run it on a worker thread; everything else runs on the thread that
opened the workspace. Database sessions never leave `storage/`.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from checklist_app.answers_file import SharedAnswer, read_answers, write_answers
from checklist_app.checklists import Checklists
from checklist_app.findings import Answer, AnswerValue, ScanResult, Status
from checklist_app.progress import Progress, build_progress, justification_problem
from checklist_app.project.cache import default_cache_dir
from checklist_app.project.git import Git
from checklist_app.reports import full_report
from checklist_app.reviews import (
    Comparison,
    Decision,
    ProgressPoint,
    Review,
    SignOff,
    Snapshot,
    TopicSignOff,
    compare,
    point_of_progress,
    point_of_snapshot,
    snapshot_of,
    topic_sign_offs,
)
from checklist_app.scan import CancelCheck, ProgressCallback, load_rules, scan_path
from checklist_app.storage import AnswerChange, ProjectRecord, Store, StoreError, resolve_url
from checklist_app.storage.errors import ReviewError, ReviewNotFound
from checklist_app.storage.values import Proposal, ProposalState

__all__ = ["AnswerChange", "AnswerRefused", "ImportResult", "ItemChange", "ProjectRecord",
           "ReviewError", "StoreError", "UnknownItem", "Workspace", "answers_as_of",
           "default_author", "default_cache_dir"]

PROGRESS_POINTS = 50
"""At most this many recorded scans make the progress-over-time series (the newest)."""


class AnswerRefused(Exception):
    """An answer that the checklist's rules do not allow as given; the message says why."""


class UnknownItem(AnswerRefused):
    pass


@dataclass(frozen=True, slots=True)
class ItemChange:
    """How one item's status moved between two scans."""

    item_id: str
    before: Status | None
    after: Status | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What importing a shared answers file did."""

    proposed: tuple[Proposal, ...]
    """New proposals, waiting for a decision."""
    unchanged: tuple[str, ...]
    """Items whose local answer already says the same."""
    already_proposed: tuple[str, ...]
    """Items with an identical open proposal."""


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal beside the local answer it would replace (None: no local answer)."""

    proposal: Proposal
    local: Answer | None

    @property
    def conflicts(self) -> bool:
        return self.local is not None and not _same(self.proposal, self.local)


def _same(proposal: Proposal, answer: Answer) -> bool:
    return (proposal.value is answer.value and proposal.justification == answer.justification
            and proposal.note == answer.note and proposal.expires == answer.expires)


def answers_as_of(changes: Sequence[AnswerChange], moment: datetime) -> tuple[Answer, ...]:
    """The answers as they stood at `moment`, rebuilt from their history (oldest first)."""
    latest: dict[str, AnswerChange] = {}
    for change in changes:
        if change.changed_at <= moment:
            latest[change.item_id] = change
    return tuple(
        Answer(item_id, change.new_value, change.author, change.changed_at,
               change.new_note, change.new_justification, change.new_expires)
        for item_id, change in sorted(latest.items()) if change.new_value is not None)


def pinned_commit(root: Path) -> tuple[str | None, str | None, bool]:
    """HEAD's commit, and its tag (exact: True) or the nearest tag before it (False), read
    through the safe git runner; (None, None, False) outside git."""
    git = Git(root)
    head = git.run(["rev-parse", "--verify", "-q", "HEAD"])
    if head.status != 0:
        return None, None, False
    commit = head.out.decode("ascii", "replace").strip() or None
    exact = git.run(["describe", "--tags", "--exact-match", "HEAD"])
    if exact.status == 0:
        return commit, exact.out.decode("utf-8", "replace").strip() or None, True
    nearest = git.run(["describe", "--tags", "--abbrev=0", "HEAD"])
    if nearest.status == 0:
        return commit, nearest.out.decode("utf-8", "replace").strip() or None, False
    return commit, None, False


def default_author(root: Path) -> str:
    """git's user.name for this project (its config, then the user's), else the login name."""
    try:
        import git

        with git.Repo(root, search_parent_directories=True) as repo:
            name = repo.config_reader().get_value("user", "name", default="")
            if isinstance(name, str) and name.strip():
                return name.strip()
    except Exception:  # noqa: BLE001 - not a repository, unreadable config: fall back
        pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


class Workspace:
    def __init__(self, store: Store, checklists: Checklists, cache_dir: Path | None) -> None:
        self.store = store
        self.checklists = checklists
        self.cache_dir = cache_dir

    @classmethod
    def open(cls, db: str | None = None, rules_dirs: Sequence[Path] = (),
             cache_dir: Path | None = None, use_cache: bool = True) -> Workspace:
        """Open the store (migrating it if needed) and load the checklists."""
        store = Store.open(resolve_url(db))
        cache = (cache_dir or default_cache_dir()) if use_cache else None
        return cls(store, load_rules(rules_dirs, cache_dir=cache), cache)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- projects ----------------------------------------------------------------------------

    def open_project(self, root: Path) -> ProjectRecord:
        resolved = root.resolve()
        if not resolved.is_dir():
            raise NotADirectoryError(f"{root}: no such folder")
        return self.store.project(str(resolved), resolved.name)

    def find_project(self, root: Path) -> ProjectRecord | None:
        return self.store.find_project(str(root.resolve()))

    def projects(self) -> tuple[ProjectRecord, ...]:
        return self.store.projects()

    def relink(self, old_root: str, new_root: Path) -> ProjectRecord:
        return self.store.relink(old_root, str(new_root.resolve()))

    # --- scanning ----------------------------------------------------------------------------

    def scan(self, root: Path, on_progress: ProgressCallback | None = None,
             should_cancel: CancelCheck | None = None) -> ScanResult:
        """Scan a project. Pure: reads the project and the facts cache, never the store."""
        return scan_path(root, self.checklists, cache_dir=self.cache_dir,
                         on_progress=on_progress, should_cancel=should_cancel)

    def record_scan(self, project: ProjectRecord, result: ScanResult) -> int:
        return self.store.record_scan(project.id, result)

    # --- progress ----------------------------------------------------------------------------

    def latest_scan(self, project: ProjectRecord) -> ScanResult | None:
        scans = self.store.latest_scans(project.id, limit=1, include_cancelled=False)
        return scans[0] if scans else None

    def progress(self, project: ProjectRecord, scan: ScanResult | None = None,
                 now: datetime | None = None) -> Progress:
        """Checklists + the latest recorded scan (or `scan`) + answers, merged."""
        if scan is None:
            scan = self.latest_scan(project)
        from checklist_app.findings import ProjectInfo

        info = scan.project if scan is not None else ProjectInfo(project.root, project.name)
        return build_progress(self.checklists, scan, self.store.answers(project.id),
                              now or datetime.now(UTC), info)

    def changes_since_previous_scan(self, project: ProjectRecord) -> tuple[ItemChange, ...]:
        """Items whose status (without answers) differs between the last two scans."""
        scans = self.store.latest_scans(project.id, limit=2, include_cancelled=False)
        if len(scans) < 2:
            return ()
        now = datetime.now(UTC)
        newer = build_progress(self.checklists, scans[0], (), now)
        older = build_progress(self.checklists, scans[1], (), now)
        before = {entry.item.id: entry.status for entry in older.items}
        changes = []
        for entry in newer.items:
            previous = before.get(entry.item.id)
            if previous is not entry.status:
                changes.append(ItemChange(entry.item.id, previous, entry.status))
        return tuple(changes)

    # --- answers -----------------------------------------------------------------------------

    def answer(
        self, project: ProjectRecord, item_id: str, value: AnswerValue, *, author: str,
        note: str = "", justification: str = "", expires: datetime | None = None,
        expected_revision: int | None = None, now: datetime | None = None,
    ) -> Answer:
        """Record a person's answer. Refuses, with the reason, when a justification is required
        and missing. `expected_revision` is the revision the person saw (optimistic locking);
        by default the current one."""
        item = self.checklists.item(item_id)
        if item is None:
            raise UnknownItem(f"no item {item_id!r} in the checklists")
        progress = self.progress(project, now=now)
        entry = progress.item(item_id)
        finding = entry.finding if entry is not None else None
        problem = justification_problem(item, value, justification, finding)
        if problem:
            raise AnswerRefused(problem)
        current = entry.answer if entry is not None else None
        if expected_revision is None:  # not checking: whatever is stored now is replaced
            expected = current.revision if current is not None else None
        else:  # the revision the person saw; 0 when they saw no answer
            expected = expected_revision or None
        given = Answer(
            item_id=item_id, value=value, author=author.strip() or "unknown",
            answered_at=(now or datetime.now(UTC)).replace(microsecond=0), note=note.strip(),
            justification=justification.strip(), expires=expires,
            finding_fingerprint=finding.fingerprint if finding is not None else None,
            revision=current.revision if current is not None else 0,
        )
        reason = justification.strip() or note.strip()
        return self.store.save_answer(project.id, given, reason, expected)

    def history(self, project: ProjectRecord,
                item_id: str | None = None) -> tuple[AnswerChange, ...]:
        return self.store.history(project.id, item_id)

    # --- reviews -----------------------------------------------------------------------------

    def start_review(self, project: ProjectRecord, title: str, by: str,
                     now: datetime | None = None) -> Review:
        """Open a review pinned to the project's current commit and tag."""
        commit, tag, exact = pinned_commit(Path(project.root))
        return self.store.start_review(project.id, title, commit, tag, exact, by,
                                       _now(now))

    def reviews(self, project: ProjectRecord) -> tuple[Review, ...]:
        """Every review, oldest first."""
        return self.store.reviews(project.id)

    def review(self, project: ProjectRecord, review_id: int | None = None) -> Review:
        """The review `review_id`, or the latest one; ReviewNotFound when there is none."""
        reviews = self.store.reviews(project.id)
        if review_id is None:
            if not reviews:
                raise ReviewNotFound(f"{project.name} has no review yet; start one with "
                                     "`review start`")
            return reviews[-1]
        for review in reviews:
            if review.id == review_id:
                return review
        raise ReviewNotFound(f"{project.name} has no review {review_id}")

    def open_review(self, project: ProjectRecord) -> Review:
        for review in reversed(self.store.reviews(project.id)):
            if not review.closed:
                return review
        raise ReviewNotFound(f"{project.name} has no open review; start one with "
                             "`review start`")

    def review_topics(self, review: Review) -> tuple[tuple[str, str], ...]:
        """(topic, title) of a review: those frozen with it, or today's checklists."""
        if review.snapshot is not None:
            return tuple((t.topic, t.title) for t in review.snapshot.topics)
        return tuple((c.topic, c.title) for c in self.checklists.checklists)

    def sign_review(self, project: ProjectRecord, topic: str, reviewer: str,
                    decision: Decision, comment: str, review_id: int | None = None,
                    now: datetime | None = None) -> Review:
        """A reviewer's decision on a topic of the open review (or of `review_id`)."""
        review = (self.open_review(project) if review_id is None
                  else self.review(project, review_id))
        topics = [t for t, _ in self.review_topics(review)]
        if topic not in topics:
            raise ReviewError(f"no topic {topic!r} in the checklists; the topics are "
                              f"{', '.join(topics)}")
        if decision is Decision.CHANGES and not comment.strip():
            raise ReviewError("requesting changes needs a comment saying which")
        sign_off = SignOff(topic, reviewer.strip(), decision, comment.strip(), _now(now))
        return self.store.sign_review(review.id, sign_off)

    def review_status(self, review: Review) -> tuple[TopicSignOff, ...]:
        """Each topic of the review: approved, changes requested or unsigned."""
        return topic_sign_offs(review, self.review_topics(review))

    def close_review(self, project: ProjectRecord, by: str, review_id: int | None = None,
                     now: datetime | None = None) -> Review:
        """Close the open review, freezing the state of every item from the latest scan.
        Refuses when that scan is not of the commit the review is pinned to."""
        review = (self.open_review(project) if review_id is None
                  else self.review(project, review_id))
        if review.closed:
            return self.store.close_review(review.id, by, _now(now), self.snapshot(project))
        scan = self.latest_scan(project)
        if scan is None:
            raise ReviewError(f"{project.name} has no recorded scan: scan it before closing "
                              "the review")
        if review.commit is not None and scan.project.commit != review.commit:
            seen = scan.project.commit[:10] if scan.project.commit else "no commit"
            raise ReviewError(
                f"review {review.id} is pinned to commit {review.commit[:10]} but the latest "
                f"scan is of {seen}: check out {review.commit[:10]} and scan it, or start a "
                "new review")
        moment = _now(now)
        return self.store.close_review(review.id, by, moment,
                                       self.snapshot(project, scan, moment))

    def snapshot(self, project: ProjectRecord, scan: ScanResult | None = None,
                 now: datetime | None = None) -> Snapshot:
        """Every item's state now (from the latest scan, or `scan`, and the answers)."""
        moment = _now(now)
        return snapshot_of(self.progress(project, scan, moment), moment)

    def previous_closed_review(self, project: ProjectRecord, review: Review) -> Review | None:
        """The last review closed before `review` started."""
        earlier = [r for r in self.store.reviews(project.id)
                   if r.closed and r.id < review.id and r.snapshot is not None]
        return earlier[-1] if earlier else None

    def review_changes(self, project: ProjectRecord, review: Review,
                       now: datetime | None = None) -> Comparison | None:
        """What changed since the previous closed review: to the frozen state of `review`
        when it is closed, else to now. None when there is no previous closed review."""
        previous = self.previous_closed_review(project, review)
        if previous is None or previous.snapshot is None:
            return None
        after = review.snapshot or self.snapshot(project, now=now)
        after_label = f"review {review.id}" if review.snapshot else "now"
        return compare(previous.snapshot, after, f"review {previous.id}", after_label)

    def compare(self, project: ProjectRecord, before: int | None, after: int | None,
                now: datetime | None = None) -> Comparison:
        """Compare two points: review ids, None meaning now."""
        def point(review_id: int | None) -> tuple[Snapshot, str]:
            if review_id is None:
                return self.snapshot(project, now=now), "now"
            review = self.review(project, review_id)
            if review.snapshot is None:
                return self.snapshot(project, now=now), f"review {review.id} (open: now)"
            return review.snapshot, f"review {review.id}"

        older, older_label = point(before)
        newer, newer_label = point(after)
        return compare(older, newer, older_label, newer_label)

    def progress_over_time(self, project: ProjectRecord,
                           limit: int = PROGRESS_POINTS) -> tuple[ProgressPoint, ...]:
        """Overall and per-topic progress at each recorded scan (with the answers as they
        stood then; the newest `limit` scans) and each closed review, oldest first."""
        summaries = [s for s in self.store.scan_summaries(project.id) if not s.cancelled]
        history = self.store.history(project.id)
        points = []
        for summary in reversed(summaries[:limit]):
            scan = self.store.scan(summary.id)
            if scan is None:
                continue
            answers = answers_as_of(history, scan.scanned_at)
            progress = build_progress(self.checklists, scan, answers, scan.scanned_at)
            label = scan.project.commit[:10] if scan.project.commit else "scan"
            points.append(point_of_progress(progress, scan.scanned_at, "scan", label))
        for review in self.store.reviews(project.id):
            if review.snapshot is not None:
                points.append(point_of_snapshot(review.snapshot, "review", review.title))
        return tuple(sorted(points, key=lambda p: (p.at, p.kind)))

    def report(self, project: ProjectRecord, format_: str, review_id: int | None = None,
               now: datetime | None = None) -> str:
        """The exported report: progress from the latest recorded scan and the answers, the
        answers' history, the review `review_id` (default: the latest, if any) with its
        sign-offs, deferred items and changes, and progress over time."""
        moment = _now(now)
        part = None
        if review_id is not None or self.store.reviews(project.id):
            review = self.review(project, review_id)
            part = full_report.ReviewPart(review, self.review_status(review),
                                          self.review_changes(project, review, moment))
        data = full_report.ReportData(self.progress(project, now=moment), moment,
                                      self.history(project), part,
                                      self.progress_over_time(project))
        return full_report.render(data, format_)

    # --- shared answers ----------------------------------------------------------------------

    def export_answers(self, project: ProjectRecord) -> tuple[str, tuple[Answer, ...]]:
        """The answers file text, and the answers left out (to items no checklist has)."""
        answers = self.store.answers(project.id)
        known = {item.id for item in self.checklists.items}
        kept = tuple(a for a in answers if a.item_id in known)
        left_out = tuple(a for a in answers if a.item_id not in known)
        return write_answers(kept, project.name), left_out

    def import_answers(self, project: ProjectRecord, data: bytes, source: str, by: str,
                       now: datetime | None = None) -> ImportResult:
        """Read a shared answers file and record its answers as proposals (all or none);
        AnswersFileError says what is wrong and where, and then nothing is recorded."""
        shared = read_answers(data, source, self.checklists)
        local = {a.item_id: a for a in self.store.answers(project.id)}
        waiting = self.store.proposals(project.id)
        moment = _now(now)
        new: list[Proposal] = []
        unchanged: list[str] = []
        already: list[str] = []
        for answer in shared:
            proposal = _proposal(project, answer, source, by, moment)
            current = local.get(answer.item_id)
            if current is not None and answer.same_as(current):
                unchanged.append(answer.item_id)
            elif any(p.item_id == answer.item_id and p.author == answer.author
                     and _same(p, _as_answer(proposal)) for p in waiting):
                already.append(answer.item_id)
            else:
                new.append(proposal)
        self.store.add_proposals(project.id, new)
        stored = self.store.proposals(project.id)[-len(new):] if new else ()
        return ImportResult(tuple(stored), tuple(unchanged), tuple(already))

    def proposals(self, project: ProjectRecord) -> tuple[ProposalView, ...]:
        """The open proposals, each beside the local answer it would replace."""
        local = {a.item_id: a for a in self.store.answers(project.id)}
        return tuple(ProposalView(p, local.get(p.item_id))
                     for p in self.store.proposals(project.id))

    def accept_proposal(self, project: ProjectRecord, proposal_id: int, by: str,
                        replace: bool = False, now: datetime | None = None) -> Answer:
        """Make a proposal the project's answer. A proposal that differs from the local
        answer is refused unless `replace`; the checklist's justification rules apply."""
        view = next((v for v in self.proposals(project) if v.proposal.id == proposal_id), None)
        if view is None:
            raise ReviewError(f"{project.name} has no open proposal {proposal_id}; see "
                              "`answers proposals`")
        proposal = view.proposal
        if view.conflicts and not replace:
            assert view.local is not None
            raise AnswerRefused(
                f"proposal {proposal_id} ({proposal.value.value} by {proposal.author}) differs "
                f"from the local answer to {proposal.item_id} ({view.local.value.value} by "
                f"{view.local.author}); accept it with --replace, or reject it")
        item = self.checklists.item(proposal.item_id)
        if item is None:
            raise UnknownItem(f"no item {proposal.item_id!r} in the checklists")
        entry = self.progress(project, now=now).item(proposal.item_id)
        finding = entry.finding if entry is not None else None
        problem = justification_problem(item, proposal.value, proposal.justification, finding)
        if problem:
            raise AnswerRefused(f"proposal {proposal_id}: {problem}")
        answer = Answer(
            item_id=proposal.item_id, value=proposal.value, author=proposal.author,
            answered_at=_now(now).replace(microsecond=0), note=proposal.note,
            justification=proposal.justification, expires=proposal.expires,
            finding_fingerprint=finding.fingerprint if finding is not None else None)
        reason = (f"proposed in {proposal.source} by {proposal.author}, accepted by "
                  f"{by.strip() or 'unknown'}")
        expected = view.local.revision if view.local is not None else None
        return self.store.accept_proposal(project.id, proposal_id, answer, reason, expected,
                                          by.strip() or "unknown")

    def reject_proposal(self, project: ProjectRecord, proposal_id: int, by: str,
                        now: datetime | None = None) -> Proposal:
        return self.store.reject_proposal(project.id, proposal_id, by.strip() or "unknown",
                                          _now(now))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _proposal(project: ProjectRecord, answer: SharedAnswer, source: str, by: str,
              moment: datetime) -> Proposal:
    return Proposal(
        id=0, project_id=project.id, item_id=answer.item_id, value=answer.value,
        author=answer.author, answered_at=answer.answered_at,
        justification=answer.justification, note=answer.note, expires=answer.expires,
        source=source, proposed_at=moment, proposed_by=by.strip() or "unknown",
        state=ProposalState.OPEN)


def _as_answer(proposal: Proposal) -> Answer:
    return Answer(proposal.item_id, proposal.value, proposal.author, proposal.answered_at,
                  proposal.note, proposal.justification, proposal.expires)
