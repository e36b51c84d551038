"""Reliability with real processes: killed writers, concurrent writers, a locked store."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from checklist_app.findings import AnswerValue
from checklist_app.storage import Store, StoreBusy
from checklist_app.storage.location import sqlite_url
from tests.storage.samples import answer, scan_result

ROOT = Path(__file__).resolve().parents[2]


def _writer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.storage.writer", *args], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _complete_lines(output: str) -> list[str]:
    """The lines the child finished printing (a kill may cut the last one)."""
    return output.split("\n")[:-1]


def _start_together(children: dict[str, subprocess.Popen[str]]) -> dict[str, tuple[str, str]]:
    """Wait until every child is ready, let them all go at once, and collect their output."""
    for child in children.values():
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
    for child in children.values():
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    return {author: child.communicate(timeout=120) for author, child in children.items()}


@pytest.mark.parametrize("round_", range(2))
def test_a_writer_killed_at_a_random_moment_loses_nothing_it_reported(
        sqlite_path: Path, round_: int) -> None:
    url = sqlite_url(sqlite_path)
    delay = random.Random(round_).uniform(0.02, 0.4)
    child = _writer("forever", url)
    assert child.stdout is not None
    first = child.stdout.readline()  # the child is saving now
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    rest, errors = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, errors
    lines = _complete_lines(first + rest)
    reported_answers = {line.split()[1] for line in lines if line.startswith("answer ")}
    reported_scans = {int(line.split()[1]) for line in lines if line.startswith("scan ")}
    assert reported_answers, f"the child saved nothing before the kill ({delay=:.3f})"

    with Store.open(url) as store:
        (project,) = store.projects()
        stored = {a.item_id: a for a in store.answers(project.id)}
        history = store.history(project.id)
        summaries = store.scan_summaries(project.id)

    assert reported_answers <= set(stored), f"{delay=:.3f}"
    assert len(stored) - len(reported_answers) in (0, 1)  # at most one saved, not yet reported
    assert sorted((c.item_id, c.revision) for c in history) == sorted(
        (item, 1) for item in stored)  # every answer came with its history row
    assert reported_scans <= {s.id for s in summaries}
    assert {s.findings for s in summaries} == {6}  # no scan was half written
    with sqlite3.connect(sqlite_path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    connection.close()


def test_two_processes_writing_at_once_lose_nothing(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.project("/work/shop", "shop")
    children = {author: _writer("pair", store_url, author, "25") for author in ("ana", "bo")}
    outputs = _start_together(children)
    for author, child in children.items():
        assert child.returncode == 0, outputs[author][1]
    lines = [line for out, _ in outputs.values() for line in _complete_lines(out)]

    with Store.open(store_url) as store:
        (project,) = store.projects()
        stored = {a.item_id for a in store.answers(project.id)}
        scans = {s.id for s in store.scan_summaries(project.id)}
        shared = store.history(project.id, "shared.item")

    busy = [line for line in lines if line.startswith("busy ")]
    assert all("try again" in line for line in busy)
    saved = {line.split()[1] for line in lines if line.startswith("answer ")}
    assert len(saved) + len(busy) == 50
    assert saved == stored - {"shared.item"}
    assert {int(line.split()[1]) for line in lines if line.startswith("scan ")} == scans
    turns = sorted((int(line.split()[1]), line.split()[2]) for line in lines
                   if line.startswith("shared "))
    assert [(c.revision, c.author) for c in shared] == turns
    assert [c.revision for c in shared] == list(range(1, len(shared) + 1))


def test_processes_creating_the_same_new_store_at_once(store_url: str) -> None:
    authors = ("ana", "bo")
    outputs = _start_together({author: _writer("open", store_url, author) for author in authors})

    for author in authors:
        assert outputs[author][0] == f"answer open.{author}\n", outputs[author][1]
    with Store.open(store_url) as store:
        (project,) = store.projects()
        assert [a.item_id for a in store.answers(project.id)] == [
            f"open.{author}" for author in authors]


@contextmanager
def _write_lock_held_elsewhere(store_url: str, sqlite_path: Path) -> Iterator[None]:
    """Another connection holds the lock a save needs (SQLite: the write lock; PostgreSQL:
    the answer's row)."""
    if store_url.startswith("sqlite"):
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM answers FOR UPDATE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def test_a_locked_store_says_busy_and_works_again_after(store_url: str,
                                                        sqlite_path: Path) -> None:
    with Store.open(store_url, busy_timeout_s=0.2) as store:
        project = store.project("/work/shop", "shop")
        store.save_answer(project.id, answer(), "", None)

        with _write_lock_held_elsewhere(store_url, sqlite_path):
            with pytest.raises(StoreBusy) as raised:
                store.save_answer(project.id, answer(value=AnswerValue.UNMET), "", 1)
            assert store.answers(project.id)[0].value is AnswerValue.MET  # reading still works

        message = str(raised.value)
        assert store.name in message
        assert "try again" in message
        store.save_answer(project.id, answer(value=AnswerValue.UNMET), "", 1)
        store.record_scan(project.id, scan_result())
        assert [(a.value, a.revision) for a in store.answers(project.id)] == [
            (AnswerValue.UNMET, 2)]
