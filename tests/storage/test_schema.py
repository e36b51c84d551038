"""Models and migrations agree; SQLite connections are set up as promised; where the store is."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Text, text
from sqlalchemy.exc import IntegrityError, OperationalError

from checklist_app.storage import Store, StoreBusy, StoreCorrupt, StoreError, resolve_url
from checklist_app.storage.connection import translate_errors
from checklist_app.storage.location import sqlite_url
from checklist_app.storage.migrate import (
    MIGRATIONS,
    VERSION_TABLE,
    head_revision,
    revisions,
    scripts,
)
from checklist_app.storage.models import Base


def test_models_and_migrations_agree(store: Store) -> None:
    """Autogenerate against a store migrated to head finds nothing to do."""
    with store._engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == head_revision()


def test_migrations_form_one_line_of_numbered_revisions() -> None:
    """What Alembic reads agrees with what the store reads from the file names alone."""
    walked = list(reversed(list(scripts().walk_revisions())))
    assert [script.revision for script in walked] == list(revisions())
    assert revisions() == tuple(f"{number:04d}" for number in range(1, len(walked) + 1))
    assert [script.down_revision for script in walked] == [None, *revisions()[:-1]]
    assert [Path(str(script.path)).name[:6] for script in walked] == [
        f"v{revision}_" for revision in revisions()]
    assert scripts().get_current_head() == head_revision()
    assert (MIGRATIONS / "env.py").is_file() and (MIGRATIONS / "script.py.mako").is_file()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_path: Path) -> None:
    with Store.open(sqlite_url(sqlite_path), busy_timeout_s=2.5) as store, \
            store._engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                   for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 2500,
                           "synchronous": 2}
        with pytest.raises(IntegrityError):
            connection.execute(text(
                "INSERT INTO findings (scan_id, position, item_id, outcome, confidence, message)"
                " VALUES (999, 0, 'x.y', 'pass', 'high', '')"))


def test_resolve_url_order_path_env_default(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    data_home = os.environ["XDG_DATA_HOME"]  # set by the autouse fixture in tests/conftest.py
    assert resolve_url(None) == f"sqlite:///{data_home}/flask-checklist/progress.db"
    assert resolve_url("   ") == resolve_url(None)

    monkeypatch.setenv("CHECKLIST_APP_DB", str(tmp_path / "env.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path}/env.db"
    assert resolve_url(str(tmp_path / "given.db")) == f"sqlite:///{tmp_path}/given.db"

    monkeypatch.setenv("CHECKLIST_APP_DB", "postgresql+psycopg://team@db.example/checklist")
    assert resolve_url(None) == "postgresql+psycopg://team@db.example/checklist"


@pytest.mark.parametrize("given, expected", [
    ("sqlite:////data/p.db", "sqlite:////data/p.db"),
    ("postgresql+psycopg://u:pw@h:5432/db", "postgresql+psycopg://u:pw@h:5432/db"),
    ("/data/my stores/p.db", "sqlite:////data/my stores/p.db"),
    ("/data/odd?name#1%.db", "sqlite:////data/odd%3Fname%231%25.db"),
    ("/data/x://y.db", "sqlite:////data/x%3A/y.db"),
])
def test_resolve_url_of_paths_and_urls(given: str, expected: str) -> None:
    assert resolve_url(given) == expected


def test_relative_and_home_paths_become_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path.home()
    assert resolve_url("~/p.db") == f"sqlite:///{home}/p.db"
    assert resolve_url("rel/p.db") == f"sqlite:///{Path.cwd()}/rel/p.db"


def test_default_location_is_created_on_open() -> None:
    with Store.open(resolve_url(None)) as store:
        assert Path(store.name).name == "progress.db"
        assert Path(store.name).parent.name == "flask-checklist"
    assert Path(store.name).is_file()


def test_odd_characters_in_the_path_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "odd?name#1%.db"
    with Store.open(resolve_url(str(path))) as store:
        store.project("/work/shop", "shop")
        assert store.name == str(path)
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd?name#1%.db"]


def test_the_comparison_notices_a_model_change(store: Store) -> None:
    """The agreement test above can fail: a column missing from the migrations is reported."""
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["answers"].append_column(Column("reviewer", Text(), nullable=True))
    with store._engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        differences = compare_metadata(context, changed)
    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "answers", "reviewer")]


@pytest.mark.parametrize("code, error, words", [
    (5, StoreBusy, "is busy"),
    (6, StoreBusy, "try again"),
    (261, StoreBusy, "is busy"),  # SQLITE_BUSY_RECOVERY: extended codes count by their primary
    (11, StoreCorrupt, "is damaged"),
    (26, StoreCorrupt, "is damaged"),
    (8, StoreError, "cannot be written"),
    (10, StoreError, "check the disk"),
    (13, StoreError, "is full"),
    (14, StoreError, "cannot open the store"),
])
def test_sqlite_errors_become_store_errors(code: int, error: type[StoreError],
                                           words: str) -> None:
    original = sqlite3.OperationalError("from sqlite")
    original.sqlite_errorcode = code
    with pytest.raises(error, match=words) as raised, translate_errors("/data/p.db"):
        raise OperationalError("UPDATE answers ...", {}, original)
    assert "/data/p.db" in str(raised.value)


def test_other_database_errors_pass_through() -> None:
    original = sqlite3.IntegrityError("UNIQUE constraint failed")
    original.sqlite_errorcode = 2067
    with pytest.raises(IntegrityError), translate_errors("/data/p.db"):
        raise IntegrityError("INSERT ...", {}, original)
