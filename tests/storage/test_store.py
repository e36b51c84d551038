"""The store's API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text

from checklist_app.findings import AnswerValue, Confidence, Evidence, Finding, Outcome
from checklist_app.storage import (
    AnswerChange,
    AnswerConflict,
    ProjectExists,
    ProjectNotFound,
    ScanSummary,
    Store,
    StoreError,
    StoreForeign,
    StoreTooNew,
)
from checklist_app.storage.migrate import VERSION_TABLE
from tests.storage.samples import PARIS, T0, answer, at, scan_result

# --- projects -------------------------------------------------------------------------------


def test_project_is_created_once_and_found_by_root(store: Store) -> None:
    created = store.project("/work/shop", "shop")
    again = store.project("/work/shop/", "shop")

    assert again.id == created.id
    assert (again.root, again.name, again.created_at) == ("/work/shop", "shop", created.created_at)
    assert again.last_opened_at >= created.last_opened_at
    assert created.created_at.tzinfo is UTC
    assert store.find_project("/work/shop") == again
    assert store.find_project("/work/other") is None
    assert store.project("/work/other", "other").id != created.id


def test_project_takes_the_latest_display_name(store: Store) -> None:
    store.project("/work/shop", "shop")
    renamed = store.project("/work/shop", "Shop (main)")

    assert renamed.name == "Shop (main)"
    assert store.find_project("/work/shop") == renamed


def test_relative_root_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="absolute"):
        store.project("shop", "shop")


def test_projects_most_recently_opened_first(store: Store) -> None:
    first = store.project("/work/a", "a")
    second = store.project("/work/b", "b")
    assert [p.id for p in store.projects()] == [second.id, first.id]

    store.project("/work/a", "a")
    assert [p.root for p in store.projects()] == ["/work/a", "/work/b"]


def test_relink_moves_scans_answers_and_history(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    store.record_scan(project.id, scan_result())
    store.save_answer(project.id, answer(), "checked the forms", None)

    moved = store.relink("/work/shop", "/home/ana/shop-renamed")

    assert (moved.id, moved.root, moved.name) == (project.id, "/home/ana/shop-renamed", "shop")
    assert store.find_project("/work/shop") is None
    assert store.find_project("/home/ana/shop-renamed") == moved
    assert [a.item_id for a in store.answers(moved.id)] == ["security.csrf"]
    assert len(store.latest_scans(moved.id)) == 1
    assert [c.revision for c in store.history(moved.id)] == [1]


def test_relink_refuses_a_root_that_has_its_own_project(store: Store) -> None:
    old = store.project("/work/shop", "shop")
    taken = store.project("/work/shop2", "shop2")

    with pytest.raises(ProjectExists) as raised:
        store.relink("/work/shop", "/work/shop2")

    message = str(raised.value)
    assert "/work/shop " in message and "/work/shop2" in message
    assert f"id {taken.id}" in message
    assert store.find_project("/work/shop") == old
    assert store.find_project("/work/shop2") == taken


def test_relink_of_an_unknown_project(store: Store) -> None:
    with pytest.raises(ProjectNotFound, match="no project at /work/nowhere"):
        store.relink("/work/nowhere", "/work/elsewhere")


# --- scans ----------------------------------------------------------------------------------


def test_scan_round_trips_exactly(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    result = scan_result()

    scan_id = store.record_scan(project.id, result)
    (back,) = store.latest_scans(project.id)

    assert back == result
    assert back.scanned_at.tzinfo is UTC
    assert [f.fingerprint for f in back.findings] == [f.fingerprint for f in result.findings]
    assert store.scan(scan_id) == result
    assert store.scan(scan_id + 1000) is None


def test_scan_time_in_another_zone_comes_back_as_the_same_instant_in_utc(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    local = datetime(2026, 3, 1, 10, 30, 15, 250000, tzinfo=PARIS)

    store.record_scan(project.id, scan_result(scanned_at=local))
    (back,) = store.latest_scans(project.id)

    assert back.scanned_at == T0
    assert back.scanned_at.tzinfo is UTC


def test_latest_scans_newest_first(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    other = store.project("/work/other", "other")
    for minutes, commit in ((0, "c0"), (20, "c2"), (10, "c1")):
        store.record_scan(project.id, scan_result(scanned_at=at(minutes), commit=commit))
    store.record_scan(project.id, scan_result(scanned_at=at(30), commit="c3", cancelled=True))
    store.record_scan(other.id, scan_result("/work/other", scanned_at=at(99), commit="x"))

    def commits(limit: int = 2, include_cancelled: bool = True) -> list[str | None]:
        return [s.project.commit
                for s in store.latest_scans(project.id, limit,
                                            include_cancelled=include_cancelled)]

    assert commits() == ["c3", "c2"]
    assert commits(3) == ["c3", "c2", "c1"]
    assert commits(10, include_cancelled=False) == ["c2", "c1", "c0"]
    assert commits(0) == []
    with pytest.raises(ValueError):
        store.latest_scans(project.id, -1)


def test_scan_summaries(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    first = store.record_scan(project.id, scan_result(scanned_at=at(0)))
    second = store.record_scan(project.id, scan_result(scanned_at=at(5), cancelled=True))

    summaries = store.scan_summaries(project.id)

    counts = tuple((outcome, 1) for outcome in Outcome)
    assert summaries == (
        ScanSummary(second, project.id, at(5), "a1b2c3d4e5f6", "main", True, "sha256:0f1e2d",
                    1.25, True, counts),
        ScanSummary(first, project.id, at(0), "a1b2c3d4e5f6", "main", True, "sha256:0f1e2d",
                    1.25, False, counts),
    )
    assert summaries[0].findings == 6
    assert summaries[0].count(Outcome.FAIL) == 1
    assert store.scan_summaries(project.id + 1000) == ()


def test_scan_of_an_unknown_project_is_refused(store: Store) -> None:
    with pytest.raises(ProjectNotFound, match="no project with id 4242"):
        store.record_scan(4242, scan_result())


def test_naive_times_are_refused_before_anything_is_written(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    naive = datetime(2026, 3, 1, 9, 30)

    with pytest.raises(ValueError, match="time zone"):
        store.record_scan(project.id, scan_result(scanned_at=naive))
    with pytest.raises(ValueError, match="time zone"):
        store.save_answer(project.id, replace(answer(), answered_at=naive), "", None)
    with pytest.raises(ValueError, match="time zone"):
        store.save_answer(project.id, answer(expires=naive), "", None)

    assert store.latest_scans(project.id) == ()
    assert store.answers(project.id) == ()


def test_hostile_text_is_stored_not_refused(store: Store) -> None:
    """NUL characters and undecodable file names (lone surrogates) from a scanned project."""
    project = store.project("/work/shop", "shop")
    result = scan_result()
    odd = Finding(Outcome.FAIL, Confidence.HIGH, "bad\x00byte",
                  (Evidence("caf\udce9.py", 1, None, "x = '\x00'"),), "security.odd")
    store.record_scan(project.id, replace(result, findings=(odd,)))

    (back,) = store.latest_scans(project.id)

    assert back.findings == (Finding(Outcome.FAIL, Confidence.HIGH, "bad\ufffdbyte",
                                     (Evidence("caf\ufffd.py", 1, None, "x = '\ufffd'"),),
                                     "security.odd"),)


# --- answers --------------------------------------------------------------------------------


def test_save_answer_and_change_it(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    fingerprint = scan_result().findings[1].fingerprint
    first = answer("security.no-sql-injection", AnswerValue.NA, justification="no SQL at all",
                   note="checked", fingerprint=fingerprint)

    saved = store.save_answer(project.id, first, "", None)
    assert saved == first and saved.revision == 1

    second = answer("security.no-sql-injection", AnswerValue.MET, author="bo", minutes=5,
                    expires=at(60 * 24), note="reviewed db.py")
    changed = store.save_answer(project.id, second, "the f-string is a constant", 1)

    assert changed.revision == 2
    (stored,) = store.answers(project.id)
    assert stored == second and stored.revision == 2
    assert stored.expires == at(60 * 24)
    assert store.history(project.id) == (
        AnswerChange(project.id, "security.no-sql-injection", 1, at(0), "ana", None,
                     AnswerValue.NA, "", "checked", "", "no SQL at all", None, None,
                     "no SQL at all"),
        AnswerChange(project.id, "security.no-sql-injection", 2, at(5), "bo", AnswerValue.NA,
                     AnswerValue.MET, "checked", "reviewed db.py", "no SQL at all", "", None,
                     at(60 * 24), "the f-string is a constant"),
    )


def test_answers_are_per_project_and_sorted_by_item(store: Store) -> None:
    shop = store.project("/work/shop", "shop")
    other = store.project("/work/other", "other")
    store.save_answer(shop.id, answer("testing.ci"), "", None)
    store.save_answer(shop.id, answer("gone.item-removed-from-rules"), "", None)
    store.save_answer(other.id, answer("security.csrf", AnswerValue.UNMET), "", None)

    assert [a.item_id for a in store.answers(shop.id)] == ["gone.item-removed-from-rules",
                                                            "testing.ci"]
    assert [(a.item_id, a.value) for a in store.answers(other.id)] == [
        ("security.csrf", AnswerValue.UNMET)]
    assert [c.item_id for c in store.history(shop.id, "testing.ci")] == ["testing.ci"]


def test_stale_revision_is_a_conflict_naming_who_and_when(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    store.save_answer(project.id, answer(), "", None)
    store.save_answer(project.id, answer(author="bo", minutes=7, value=AnswerValue.UNMET),
                      "", 1)

    with pytest.raises(AnswerConflict) as raised:
        store.save_answer(project.id, answer(author="cy", value=AnswerValue.NA,
                                             justification="n/a"), "", 1)

    conflict = raised.value
    assert (conflict.item_id, conflict.expected_revision, conflict.current_revision,
            conflict.changed_by, conflict.changed_at) == ("security.csrf", 1, 2, "bo", at(7))
    assert str(conflict) == (
        "the answer to security.csrf was changed by bo at 2026-03-01T09:37:15+00:00 since you "
        "last saw it (you saw revision 1, it is now revision 2); reload it and answer again")
    assert [(a.value, a.revision) for a in store.answers(project.id)] == [
        (AnswerValue.UNMET, 2)]
    assert [c.revision for c in store.history(project.id)] == [1, 2]


@pytest.mark.parametrize("expected", [None, 1, 3])
def test_conflict_when_the_caller_saw_something_else(store: Store, expected: int | None) -> None:
    project = store.project("/work/shop", "shop")
    if expected is None:
        store.save_answer(project.id, answer(), "", None)
    with pytest.raises(AnswerConflict) as raised:
        store.save_answer(project.id, answer(value=AnswerValue.UNMET), "", expected)
    assert raised.value.current_revision == (1 if expected is None else None)
    assert [a.value for a in store.answers(project.id)] == (
        [AnswerValue.MET] if expected is None else [])


def test_answer_for_an_unknown_project_is_refused(store: Store) -> None:
    with pytest.raises(ProjectNotFound):
        store.save_answer(4242, answer(), "", None)


def test_clear_then_answer_again_never_reuses_a_revision(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    store.save_answer(project.id, answer(note="n1", justification="j1"), "", None)

    store.clear_answer(project.id, "security.csrf", "bo", "wrong project", 1, at=at(3))

    assert store.answers(project.id) == ()
    again = store.save_answer(project.id, answer(author="cy", minutes=9), "", None)
    assert again.revision == 3
    with pytest.raises(AnswerConflict) as raised:  # someone who still saw revision 1
        store.save_answer(project.id, answer(author="dee", value=AnswerValue.UNMET), "", 1)
    assert (raised.value.current_revision, raised.value.changed_by) == (3, "cy")
    assert store.history(project.id)[1] == AnswerChange(
        project.id, "security.csrf", 2, at(3), "bo", AnswerValue.MET, None, "n1", "", "j1", "",
        None, None, "wrong project")


def test_stale_clear_is_a_conflict_and_clearing_nothing_does_nothing(store: Store) -> None:
    project = store.project("/work/shop", "shop")
    store.clear_answer(project.id, "security.csrf", "ana", "", None)
    assert store.history(project.id) == ()

    store.save_answer(project.id, answer(), "", None)
    store.save_answer(project.id, answer(author="bo", minutes=1), "", 1)
    with pytest.raises(AnswerConflict, match="changed by bo"):
        store.clear_answer(project.id, "security.csrf", "cy", "", 1)
    with pytest.raises(AnswerConflict, match="you saw no answer"):
        store.clear_answer(project.id, "security.csrf", "cy", "", None)
    assert [a.revision for a in store.answers(project.id)] == [2]


def test_two_sessions_lock_optimistically(store_url: str) -> None:
    with Store.open(store_url) as ana_store, Store.open(store_url) as bo_store:
        project = ana_store.project("/work/shop", "shop")
        ana_store.save_answer(project.id, answer(), "", None)
        (seen_by_ana,) = ana_store.answers(project.id)
        (seen_by_bo,) = bo_store.answers(project.id)

        bo_store.save_answer(project.id, answer(author="bo", minutes=2), "",
                             seen_by_bo.revision)
        with pytest.raises(AnswerConflict) as raised:
            ana_store.save_answer(project.id, answer(value=AnswerValue.UNMET), "",
                                  seen_by_ana.revision)

        assert (raised.value.changed_by, raised.value.current_revision) == ("bo", 2)
        assert [(a.author, a.revision) for a in ana_store.answers(project.id)] == [("bo", 2)]


def _race(left: Store, right: Store, project_id: int, expected: int) -> dict[str, str]:
    """Both stores save against revision `expected` at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def write(store: Store, author: str) -> None:
        barrier.wait()
        try:
            store.save_answer(project_id, answer(author=author), "", expected)
            outcomes[author] = "saved"
        except AnswerConflict:
            outcomes[author] = "conflict"

    threads = [threading.Thread(target=write, args=(store, author))
               for store, author in ((left, "left"), (right, "right"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_writers_exactly_one_wins(store_url: str) -> None:
    """Two connections save against the same revision at the same moment, many times."""
    with Store.open(store_url) as left, Store.open(store_url) as right:
        project = left.project("/work/shop", "shop")
        left.save_answer(project.id, answer(), "", None)
        for revision in range(1, 9):
            outcomes = _race(left, right, project.id, revision)
            assert sorted(outcomes.values()) == ["conflict", "saved"], outcomes
            winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
            assert [(a.author, a.revision) for a in left.answers(project.id)] == [
                (winner, revision + 1)]
        assert [c.revision for c in left.history(project.id)] == list(range(1, 10))


def test_data_survives_closing_and_reopening(store_url: str) -> None:
    opened = Store.open(store_url)
    project = opened.project("/work/shop", "shop")
    opened.close()
    with Store.open(store_url) as reopened:
        assert reopened.find_project("/work/shop") == replace(project)


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="only SQLite files and PostgreSQL") as raised:
        Store.open("mysql://user:secret@db.example/checklist")
    assert "mysql://user:***@db.example/checklist" in str(raised.value)


def test_a_store_of_a_newer_version_is_refused_and_left_alone(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.project("/work/shop", "shop")
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0999'"))

        with pytest.raises(StoreTooNew, match="newer version of Flask Checklist") as raised:
            Store.open(store_url)

        assert "'0999'" in str(raised.value) and "left unchanged" in str(raised.value)
        with engine.connect() as connection:
            assert connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all() \
                == [("0999",)]
            assert connection.execute(text("SELECT root FROM projects")).all() == [
                ("/work/shop",)]
    finally:
        engine.dispose()


def test_our_tables_without_our_version_table_are_refused(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE projects (id INTEGER PRIMARY KEY)"))
        with pytest.raises(StoreForeign, match="another program .*projects"):
            Store.open(store_url)
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == ["projects"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_an_unreachable_server_is_a_clear_error(scheme: str) -> None:
    with pytest.raises(StoreError, match="cannot reach the store") as raised:
        Store.open(f"{scheme}://ana:secret@127.0.0.1:1/checklist")
    assert "postgresql+psycopg://ana:***@127.0.0.1:1/checklist" in str(raised.value)
    assert "secret" not in str(raised.value)
