"""The one object the CLI and the GUI talk to: open a project, scan, record, answer, progress.

`Workspace` owns the store and the checklists. `scan` is pure (it reads the project and touches
no database), so the GUI can run it on a worker thread; everything else runs on the thread that
opened the workspace. Database sessions never leave `storage/`.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from checklist_app.checklists import Checklists
from checklist_app.findings import Answer, AnswerValue, ScanResult, Status
from checklist_app.progress import Progress, build_progress, justification_problem
from checklist_app.scan import CancelCheck, ProgressCallback, load_rules, scan_path
from checklist_app.storage import AnswerChange, ProjectRecord, Store, StoreError, resolve_url

__all__ = ["AnswerChange", "AnswerRefused", "ItemChange", "ProjectRecord", "StoreError",
           "UnknownItem", "Workspace", "default_author", "default_cache_dir"]


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


def default_cache_dir() -> Path:
    override = os.environ.get("CHECKLIST_APP_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("flask-checklist"))


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
        checklists = load_rules(rules_dirs)
        return cls(store, checklists, (cache_dir or default_cache_dir()) if use_cache else None)

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
