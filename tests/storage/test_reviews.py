"""Reviews, sign-offs and answer proposals in the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from checklist_app.findings import AnswerValue, Confidence, Evidence, Finding, Outcome, Status
from checklist_app.progress import Tally
from checklist_app.reviews import (
    AnswerState,
    Decision,
    ItemState,
    SignOff,
    Snapshot,
    TopicSummary,
)
from checklist_app.storage import AnswerConflict, Store
from checklist_app.storage.errors import (
    ProposalError,
    ReviewAlreadyOpen,
    ReviewClosed,
    ReviewNotFound,
)
from checklist_app.storage.values import Proposal, ProposalState
from tests.storage.samples import answer, at

SNAPSHOT = Snapshot(
    at(30), "c1", "main", False, at(20),
    (TopicSummary("security", "Security", Tally(2, 1, 1, 0, 0)),),
    (ItemState("security.csrf", "security", "CSRF", "must", Status.MET,
               Finding(Outcome.PASS, Confidence.HIGH, "ok \x00<x> \udcff",
                       (Evidence("app.py", 3, None, "csrf"),), "security.csrf"), None),
     ItemState("security.https", "security", "HTTPS", "must", Status.UNMET, None,
               AnswerState(AnswerValue.UNMET, "Ann", at(25), "after 1.0"))))


def test_start_sign_close_and_read_back(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    started = store.start_review(project.id, " 1.0 ", "c1", "v1.0", True, "Ann", at(0))
    assert (started.id, started.title, started.commit, started.tag, started.tag_exact,
            started.started_by, started.closed, started.snapshot) == (
        started.id, "1.0", "c1", "v1.0", True, "Ann", False, None)
    store.sign_review(started.id, SignOff("security", "Bo", Decision.CHANGES, "no HSTS", at(1)))
    signed = store.sign_review(started.id, SignOff("security", "Bo", Decision.APPROVE, "",
                                                   at(2)))
    assert [(s.topic, s.reviewer, s.decision, s.comment, s.signed_at)
            for s in signed.sign_offs] == [
        ("security", "Bo", Decision.CHANGES, "no HSTS", at(1)),
        ("security", "Bo", Decision.APPROVE, "", at(2))]
    closed = store.close_review(started.id, "Ann", at(30), SNAPSHOT)
    assert (closed.closed_at, closed.closed_by) == (at(30), "Ann")
    assert store.review(started.id) == closed
    csrf = replace(SNAPSHOT.items[0].finding, message="ok \x00<x> \ufffd")  # type: ignore[type-var]
    assert closed.snapshot == replace(SNAPSHOT, items=(replace(SNAPSHOT.items[0], finding=csrf),
                                                       SNAPSHOT.items[1]))
    assert store.reviews(project.id) == (closed,)


def test_a_closed_review_is_frozen(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    review = store.start_review(project.id, "1.0", "c1", None, False, "Ann", at(0))
    closed = store.close_review(review.id, "Ann", at(1), SNAPSHOT)
    with pytest.raises(ReviewClosed, match=r"review \d+ \('1.0'\) was closed on .* by Ann and "
                       "cannot be signed any more; start a new review"):
        store.sign_review(review.id, SignOff("security", "Bo", Decision.APPROVE, "", at(2)))
    with pytest.raises(ReviewClosed, match="cannot be closed any more"):
        store.close_review(review.id, "Bo", at(3), replace(SNAPSHOT, commit="other"))
    store.save_answer(project.id, answer("security.https", AnswerValue.MET), "", None)
    frozen = store.review(review.id)
    assert frozen is not None and frozen == closed and frozen.sign_offs == ()
    assert frozen.snapshot is not None and frozen.snapshot.commit == "c1"


def test_one_open_review_per_project(store: Store) -> None:
    shop = store.project("/work/shop", "shop")
    other = store.project("/work/other", "other")
    first = store.start_review(shop.id, "1.0", "c1", None, False, "Ann", at(0))
    with pytest.raises(ReviewAlreadyOpen, match=rf"review {first.id} \('1.0'\) is still open"):
        store.start_review(shop.id, "1.1", "c2", None, False, "Ann", at(1))
    store.start_review(other.id, "0.1", None, None, False, "Bo", at(1))
    store.close_review(first.id, "Ann", at(2), SNAPSHOT)
    second = store.start_review(shop.id, "1.1", "c2", None, False, "Ann", at(3))
    assert [r.id for r in store.reviews(shop.id)] == [first.id, second.id]
    with pytest.raises(ReviewNotFound):
        store.sign_review(999, SignOff("security", "Bo", Decision.APPROVE, "", at(2)))


def proposal(item_id: str = "security.https", value: AnswerValue = AnswerValue.MET,
             justification: str = "LB does TLS") -> Proposal:
    return Proposal(0, 0, item_id, value, "Ann", at(5), justification, "", None, "team.yaml",
                    at(6), "Bo")


def test_proposals_are_stored_then_accepted_or_rejected(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    assert store.add_proposals(project.id, [proposal(), proposal("security.csrf")]) == 2
    first, second = store.proposals(project.id)
    assert (first.item_id, first.state, first.author, first.proposed_by, first.source) == (
        "security.https", ProposalState.OPEN, "Ann", "Bo", "team.yaml")
    saved = store.accept_proposal(project.id, first.id, answer("security.https"), "from file",
                                  None, "Cy")
    assert saved.revision == 1
    assert [(a.item_id, a.value) for a in store.answers(project.id)] == [
        ("security.https", AnswerValue.MET)]
    assert store.history(project.id)[0].reason == "from file"
    rejected = store.reject_proposal(project.id, second.id, "Cy", at(9))
    assert (rejected.state, rejected.decided_by, rejected.decided_at) == (
        ProposalState.REJECTED, "Cy", at(9))
    assert store.proposals(project.id) == ()
    assert [p.state for p in store.proposals(project.id, None)] == [
        ProposalState.ACCEPTED, ProposalState.REJECTED]
    with pytest.raises(ProposalError, match="already rejected by Cy"):
        store.reject_proposal(project.id, second.id, "Cy", at(10))


def test_accepting_a_stale_proposal_changes_nothing(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    store.add_proposals(project.id, [proposal()])
    (waiting,) = store.proposals(project.id)
    store.save_answer(project.id, answer("security.https", AnswerValue.UNMET), "", None)
    with pytest.raises(AnswerConflict):
        store.accept_proposal(project.id, waiting.id, answer("security.https"), "", None, "Cy")
    assert store.proposals(project.id) == (waiting,)
    assert [a.value for a in store.answers(project.id)] == [AnswerValue.UNMET]
    other = store.project("/work/other", "other")
    with pytest.raises(ProposalError, match=f"no proposal {waiting.id}"):
        store.reject_proposal(other.id, waiting.id, "Cy", at(9))
