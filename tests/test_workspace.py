from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checklist_app.findings import AnswerValue, Status
from checklist_app.storage import AnswerConflict
from checklist_app.workspace import AnswerRefused, UnknownItem, Workspace
from tests.repos import Repo

APP = {
    "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    "requirements.txt": "flask\n",
}


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(str(tmp_path / "progress.db"), cache_dir=tmp_path / "cache") as opened:
        yield opened


def test_scan_record_and_progress(workspace: Workspace, make_repo: Callable[..., Repo]) -> None:
    repo = make_repo(APP)
    project = workspace.open_project(repo.root)
    assert workspace.latest_scan(project) is None
    result = workspace.scan(repo.root)
    workspace.record_scan(project, result)
    progress = workspace.progress(project)
    assert progress.scan is not None and progress.scan.findings == result.findings
    factory = progress.item("organization.app-factory")
    assert factory is not None and factory.status is Status.UNMET


def test_an_override_needs_a_justification_and_then_wins(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo(APP)
    project = workspace.open_project(repo.root)
    workspace.record_scan(project, workspace.scan(repo.root))
    with pytest.raises(AnswerRefused, match="overrides the scan"):
        workspace.answer(project, "organization.app-factory", AnswerValue.MET, author="ann")
    saved = workspace.answer(project, "organization.app-factory", AnswerValue.MET,
                             author="ann", justification="factory lives in the wsgi package")
    assert saved.revision == 1
    entry = workspace.progress(project).item("organization.app-factory")
    assert entry is not None
    assert (entry.status, entry.overridden, entry.needs_review) == (Status.MET, True, False)
    (change,) = workspace.history(project, "organization.app-factory")
    assert (change.old_value, change.new_value, change.author) == (None, AnswerValue.MET, "ann")
    assert change.reason == "factory lives in the wsgi package"


def test_na_needs_a_justification_and_unknown_ids_are_refused(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    project = workspace.open_project(make_repo(APP).root)
    with pytest.raises(AnswerRefused, match="n/a answer needs a justification"):
        workspace.answer(project, "advanced.websockets", AnswerValue.NA, author="ann")
    with pytest.raises(UnknownItem):
        workspace.answer(project, "nope.nothing", AnswerValue.MET, author="ann")


def test_a_changed_finding_needs_re_review(workspace: Workspace,
                                           make_repo: Callable[..., Repo]) -> None:
    repo = make_repo(APP)
    project = workspace.open_project(repo.root)
    workspace.record_scan(project, workspace.scan(repo.root))
    workspace.answer(project, "performance.caching", AnswerValue.MET, author="ann",
                     justification="the CDN caches every page")
    repo.commit({"cache.py": "from functools import lru_cache\n\n@lru_cache(maxsize=128)\n"
                             "def price(sku):\n    return sku\n"}, "cache")
    workspace.record_scan(project, workspace.scan(repo.root))
    entry = workspace.progress(project).item("performance.caching")
    assert entry is not None and entry.needs_review and entry.status is Status.MET
    changes = {c.item_id: (c.before, c.after) for c in
               workspace.changes_since_previous_scan(project)}
    assert changes["performance.caching"] == (Status.UNMET, Status.MET)


def test_expired_answers_count_as_unknown(workspace: Workspace,
                                         make_repo: Callable[..., Repo]) -> None:
    project = workspace.open_project(make_repo(APP).root)
    now = datetime.now(UTC)
    workspace.answer(project, "security.https", AnswerValue.MET, author="ann",
                     expires=now - timedelta(days=1))
    entry = workspace.progress(project).item("security.https")
    assert entry is not None and entry.answer_expired and entry.status is Status.UNKNOWN


def test_a_stale_revision_is_told_someone_else_changed_it(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    project = workspace.open_project(make_repo(APP).root)
    first = workspace.answer(project, "security.https", AnswerValue.MET, author="ann")
    workspace.answer(project, "security.https", AnswerValue.UNMET, author="bob",
                     expected_revision=first.revision)
    with pytest.raises(AnswerConflict, match="bob"):
        workspace.answer(project, "security.https", AnswerValue.MET, author="ann",
                         expected_revision=first.revision)
