"""What is at the store path (SQLite): refused files stay byte for byte as they were; old
stores are backed up and migrated forward with their data."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checklist_app.findings import AnswerValue, Evidence, Outcome
from checklist_app.storage import (
    Store,
    StoreCorrupt,
    StoreError,
    StoreForeign,
    StoreTooNew,
)
from checklist_app.storage.connection import backup_sqlite_file, open_engine
from checklist_app.storage.location import sqlite_url
from checklist_app.storage.migrate import MIGRATIONS, VERSION_TABLE, head_revision
from tests.storage.samples import answer, at, scan_result

DATA = Path(__file__).parent / "data"


def _store_with_data(path: Path) -> None:
    with Store.open(sqlite_url(path)) as store:
        project = store.project("/work/shop", "shop")
        store.record_scan(project.id, scan_result())
        store.save_answer(project.id, answer(), "", None)


def _text_file(path: Path) -> None:
    path.write_text("my shopping list\n- eggs\n")


def _binary_file(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def _header_then_garbage(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)


def _damaged_schema_page(path: Path) -> None:
    _store_with_data(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * 3996  # page 1 after the header: the schema b-tree
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    _store_with_data(path)
    path.write_bytes(path.read_bytes()[:8192])


def _another_programs_database(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, title TEXT)")
        connection.execute("INSERT INTO recipes (title) VALUES ('bread')")
    connection.close()


def _newer_revision(path: Path) -> None:
    _store_with_data(path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0999'")
    connection.close()


REFUSED: list[tuple[Callable[[Path], None], type[StoreError], str]] = [
    (_text_file, StoreCorrupt, "is damaged or is not an SQLite database"),
    (_binary_file, StoreCorrupt, "not the SQLite header"),
    (_header_then_garbage, StoreCorrupt, "is damaged or is not an SQLite database"),
    (_damaged_schema_page, StoreCorrupt, "malformed"),
    (_truncated, StoreCorrupt, "is damaged or is not an SQLite database"),
    (_another_programs_database, StoreForeign, "another program (it has the tables recipes)"),
    (_newer_revision, StoreTooNew, "newer version of Flask Checklist (its schema revision "
                                   "'0999' is unknown to this version)"),
]


@pytest.mark.parametrize("make, error, words", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refused_files_are_left_exactly_as_they_were(
        tmp_path: Path, make: Callable[[Path], None], error: type[StoreError],
        words: str) -> None:
    path = tmp_path / "progress.db"
    make(path)
    before = path.read_bytes()
    listing = sorted(os.listdir(tmp_path))

    with pytest.raises(error) as raised:
        Store.open(sqlite_url(path))

    message = str(raised.value)
    assert str(path) in message
    assert words in message
    assert "left unchanged" in message and "--db" in message
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing


def test_a_folder_at_the_store_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is not a file"):
        Store.open(sqlite_url(tmp_path))


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "progress.db"
    path.write_bytes(b"")
    with Store.open(sqlite_url(path)) as store:
        assert store.projects() == ()
        assert store.backup is None
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def test_a_new_store_needs_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "progress.db"
    with Store.open(sqlite_url(path)) as store:
        assert store.backup is None
    assert sorted(p.name for p in path.parent.iterdir()) == ["progress.db"]


def test_v1_store_migrates_forward_with_its_data(tmp_path: Path) -> None:
    """tests/storage/data/v1.sqlite was written by the first release (revision 0001); see
    data/make_v1.py. Whatever migrations come later, its data must survive them."""
    path = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "v1.sqlite", path)

    with Store.open(sqlite_url(path)) as store:
        if head_revision() == "0001":
            assert store.backup is None
        else:
            assert store.backup is not None
            assert store.backup.name.startswith("v1.sqlite.bak-0001-")
        (project,) = store.projects()
        assert (project.root, project.name) == ("/work/shop", "shop")
        assert store.find_project("/work/shop") == project

        newest, older = store.latest_scans(project.id)
        assert [newest.project.commit, older.project.commit] == ["c1", "c0"]
        assert newest.scanned_at == at(10)
        assert [(f.item_id, f.outcome) for f in newest.findings] == [
            ("organization.app-factory", Outcome.PASS),
            ("security.no-sql-injection", Outcome.FAIL),
            ("testing.ci", Outcome.UNKNOWN),
            ("performance.caching", Outcome.ERROR),
            ("advanced.websockets", Outcome.NOT_APPLICABLE),
            ("database.eager-loading", Outcome.MANUAL),
        ]
        assert newest.findings[1].evidence == (
            Evidence("shop/db.py", 40, None, 'f"SELECT * FROM {t}"'),
            Evidence("shop/db.py", 41),
            Evidence("migrations/env.py", None, "9f8e7d6c5b4a", ""),
        )
        assert [n.path for n in newest.notes] == ["static/big.bin", None]

        assert [(a.item_id, a.value, a.author, a.revision, a.expires)
                for a in store.answers(project.id)] == [
            ("security.csrf", AnswerValue.MET, "bo", 2, None),
            ("testing.ci", AnswerValue.UNMET, "ana", 1, at(60 * 24 * 30)),
        ]
        assert [(c.item_id, c.revision, c.old_value, c.new_value, c.reason)
                for c in store.history(project.id)] == [
            ("security.csrf", 1, None, AnswerValue.NA, "JSON API, no forms"),
            ("security.csrf", 2, AnswerValue.NA, AnswerValue.MET, "forms now"),
            ("testing.ci", 1, None, AnswerValue.UNMET, ""),
        ]
        store.save_answer(project.id, answer(minutes=20, value=AnswerValue.UNMET), "", 2)


NEXT_MIGRATION = '''"""a later migration, for the test"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("later", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("later")
'''


def test_pending_migrations_run_after_a_backup(tmp_path: Path) -> None:
    head = head_revision()
    later = f"{int(head) + 1:04d}"
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / f"v{later}_later.py").write_text(
        NEXT_MIGRATION.format(revision=later, down=head))
    path = tmp_path / "progress.db"
    _store_with_data(path)
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copyfile(path, saved / "before.db")

    opened = open_engine(sqlite_url(path), 5.0, migrations)
    opened.engine.dispose()

    assert opened.backup is not None
    assert opened.backup.parent == tmp_path
    assert opened.backup.name.startswith(f"progress.db.bak-{head}-")
    assert _dump(opened.backup) == _dump(saved / "before.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["migrations", "progress.db", "saved", opened.backup.name])
    with sqlite3.connect(path) as connection:
        assert connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [
            (later,)]
        assert connection.execute("SELECT root FROM projects").fetchall() == [("/work/shop",)]
    connection.close()
    with pytest.raises(StoreTooNew, match=f"'{later}'"):  # this version cannot read it now
        Store.open(sqlite_url(path))


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
        lines = list(connection.iterdump())
    connection.close()
    return lines


def test_backup_names_never_collide(tmp_path: Path) -> None:
    path = tmp_path / "progress.db"
    _store_with_data(path)
    moment = datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)

    first = backup_sqlite_file(path, "0001", moment)
    second = backup_sqlite_file(path, "0001", moment)

    assert (first.name, second.name) == ("progress.db.bak-0001-20260301T093015Z",
                                         "progress.db.bak-0001-20260301T093015Z-2")
    with sqlite3.connect(f"{second.as_uri()}?mode=ro", uri=True) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("SELECT item_id FROM answers").fetchall() == [("security.csrf",)]
    copy.close()


def test_no_migration_without_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "progress.db"
    _store_with_data(path)
    before = path.read_bytes()
    moment = datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)
    (tmp_path / "progress.db.bak-0001-20260301T093015Z.partial").mkdir()  # cannot be written

    with pytest.raises(StoreError, match="no copy of it could be kept") as raised:
        backup_sqlite_file(path, "0001", moment)

    assert str(path) in str(raised.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "progress.db", "progress.db.bak-0001-20260301T093015Z.partial"]
