"""Release reviews, comparisons, progress over time and shared answers through the Workspace
(the verbs the CLI and the GUI call), on real git repositories and an SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checklist_app.answers_file import AnswersFileError
from checklist_app.findings import AnswerValue, Status
from checklist_app.reviews import Change, Decision, TopicState
from checklist_app.storage.errors import ReviewClosed, ReviewError, ReviewNotFound
from checklist_app.storage.values import AnswerChange
from checklist_app.workspace import AnswerRefused, Workspace, answers_as_of
from tests.repos import Repo, git

APP = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
FACTORY = {"app.py": "from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n"}
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(str(tmp_path / "progress.db"), use_cache=False) as opened:
        yield opened


def scanned(workspace: Workspace, repo: Repo):  # type: ignore[no-untyped-def]
    project = workspace.open_project(repo.root)
    workspace.record_scan(project, workspace.scan(repo.root))
    return project


def test_a_review_is_pinned_signed_closed_and_frozen(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo(APP)
    git(repo.root, "tag", "v1.0")
    head = git(repo.root, "rev-parse", "HEAD").strip()
    project = scanned(workspace, repo)
    review = workspace.start_review(project, "Release 1.0", "Ann", now=T0)
    assert (review.commit, review.tag, review.tag_exact, review.started_by) == (
        head, "v1.0", True, "Ann")
    with pytest.raises(ReviewError, match="no topic 'nope' in the checklists; the topics are "
                       "organization, database, security, testing, performance, advanced"):
        workspace.sign_review(project, "nope", "Bo", Decision.APPROVE, "")
    with pytest.raises(ReviewError, match="requesting changes needs a comment"):
        workspace.sign_review(project, "security", "Bo", Decision.CHANGES, " ")
    signed = workspace.sign_review(project, "security", "Bo", Decision.APPROVE, "ok", now=T0)
    states = {t.topic: t.state for t in workspace.review_status(signed)}
    assert states["security"] is TopicState.APPROVED and states["testing"] is TopicState.UNSIGNED
    workspace.answer(project, "organization.app-factory", AnswerValue.UNMET, author="Ann",
                     justification="after 1.0", now=T0)
    closed = workspace.close_review(project, "Ann", now=T0 + timedelta(hours=1))
    assert closed.snapshot is not None
    factory = closed.snapshot.item("organization.app-factory")
    assert factory is not None and factory.status is Status.UNMET
    assert factory.answer is not None and factory.answer.justification == "after 1.0"
    assert "organization.app-factory" in [s.item_id for s in closed.snapshot.deferred]
    workspace.answer(project, "organization.app-factory", AnswerValue.MET, author="Bo",
                     justification="done anyway", now=T0 + timedelta(hours=2))
    assert workspace.review(project, closed.id) == closed  # later edits do not alter it
    with pytest.raises(ReviewNotFound, match="has no open review"):
        workspace.sign_review(project, "security", "Bo", Decision.APPROVE, "")
    with pytest.raises(ReviewClosed, match="cannot be signed any more"):
        workspace.sign_review(project, "security", "Bo", Decision.APPROVE, "", closed.id)


def test_the_nearest_tag_and_a_scan_of_another_commit(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo(APP)
    git(repo.root, "tag", "v0.9")
    project = scanned(workspace, repo)
    head = repo.commit({"README.md": "x\n"})
    review = workspace.start_review(project, "1.0", "Ann")
    assert (review.commit, review.tag, review.tag_exact) == (head, "v0.9", False)
    assert review.tag_text == "after v0.9"
    with pytest.raises(ReviewError, match=f"pinned to commit {head[:10]} but the latest scan "
                       "is of "):
        workspace.close_review(project, "Ann")
    workspace.record_scan(project, workspace.scan(repo.root))
    assert workspace.close_review(project, "Ann").closed


def test_changes_since_the_previous_review_and_progress_over_time(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    repo = make_repo(APP)
    project = scanned(workspace, repo)
    first = workspace.start_review(project, "1.0", "Ann")
    assert workspace.review_changes(project, first) is None
    workspace.close_review(project, "Ann")
    repo.commit(FACTORY)
    workspace.record_scan(project, workspace.scan(repo.root))
    second = workspace.start_review(project, "1.1", "Ann")
    changes = workspace.review_changes(project, second)
    assert changes is not None
    assert (changes.before_label, changes.after_label) == (f"review {first.id}", "now")
    factory = [d for d in changes.deltas if d.item_id == "organization.app-factory"]
    assert [(d.change, d.before, d.after) for d in factory] == [
        (Change.IMPROVEMENT, Status.UNMET, Status.MET)]
    closed = workspace.close_review(project, "Ann")
    assert workspace.compare(project, first.id, closed.id).deltas == changes.deltas
    points = workspace.progress_over_time(project)
    assert [p.at for p in points] == sorted(p.at for p in points)
    scans = [p for p in points if p.kind == "scan"]
    reviews = [p for p in points if p.kind == "review"]
    assert [p.label for p in reviews] == ["1.0", "1.1"]
    assert [p.percent for p in reviews] == [p.percent for p in scans]
    assert scans[0].percent < scans[1].percent


def test_answers_as_of_replays_the_history() -> None:
    def change(item: str, minute: int, new: AnswerValue | None) -> AnswerChange:
        return AnswerChange(1, item, minute, T0 + timedelta(minutes=minute), "Ann", None, new,
                            "", "", "", "why", None, None, "")

    history = [change("a.x", 1, AnswerValue.MET), change("a.y", 2, AnswerValue.NA),
               change("a.x", 3, None), change("a.y", 4, AnswerValue.UNMET)]
    assert [(a.item_id, a.value) for a in answers_as_of(history, T0)] == []
    assert [(a.item_id, a.value, a.justification) for a in
            answers_as_of(history, T0 + timedelta(minutes=2))] == [
        ("a.x", AnswerValue.MET, "why"), ("a.y", AnswerValue.NA, "why")]
    assert [(a.item_id, a.value) for a in answers_as_of(history, T0 + timedelta(hours=1))] == [
        ("a.y", AnswerValue.UNMET)]


SHARED = """\
format: 1
answers:
  security.https:
    value: met
    author: Ann
    answered_at: 2026-11-20
    justification: TLS ends at the load balancer
  advanced.websockets:
    value: na
    author: Ann
    answered_at: 2026-11-20
    justification: no realtime features
"""


def test_import_proposes_and_a_person_decides(
    workspace: Workspace, make_repo: Callable[..., Repo]
) -> None:
    project = scanned(workspace, make_repo(APP))
    workspace.answer(project, "advanced.websockets", AnswerValue.NA, author="Bo",
                     justification="CLI only")
    result = workspace.import_answers(project, SHARED.encode(), "team.yaml", "Cy")
    assert [p.item_id for p in result.proposed] == ["security.https", "advanced.websockets"]
    again = workspace.import_answers(project, SHARED.encode(), "team.yaml", "Cy")
    assert (again.proposed, again.already_proposed) == (
        (), ("security.https", "advanced.websockets"))
    views = workspace.proposals(project)
    assert [(v.proposal.item_id, v.conflicts) for v in views] == [
        ("security.https", False), ("advanced.websockets", True)]
    https, websockets = (v.proposal for v in views)
    with pytest.raises(AnswerRefused, match="differs from the local answer to "
                       "advanced.websockets \\(na by Bo\\); accept it with --replace"):
        workspace.accept_proposal(project, websockets.id, "Dee")
    assert [(a.item_id, a.author, a.justification) for a in workspace.store.answers(project.id)
            ] == [("advanced.websockets", "Bo", "CLI only")]
    saved = workspace.accept_proposal(project, https.id, "Dee")
    assert (saved.item_id, saved.value, saved.author) == ("security.https", AnswerValue.MET,
                                                          "Ann")
    assert workspace.history(project, "security.https")[-1].reason == (
        "proposed in team.yaml by Ann, accepted by Dee")
    workspace.reject_proposal(project, websockets.id, "Dee")
    assert workspace.proposals(project) == ()
    unchanged = workspace.import_answers(project, SHARED.encode(), "team.yaml", "Cy")
    assert unchanged.unchanged == ("security.https",)
    text, left_out = workspace.export_answers(project)
    assert "security.https:\n    value: met\n    author: Ann\n" in text and left_out == ()


def test_a_hostile_file_records_nothing(workspace: Workspace,
                                        make_repo: Callable[..., Repo]) -> None:
    project = scanned(workspace, make_repo(APP))
    hostile = SHARED + "  no.such-item:\n    value: met\n"
    with pytest.raises(AnswersFileError, match=r"^team.yaml:13: no.such-item: no such item"):
        workspace.import_answers(project, hostile.encode(), "team.yaml", "Cy")
    assert workspace.proposals(project) == ()
