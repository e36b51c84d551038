"""Opening a store: check what is at the path, make the engine, back up, migrate.

SQLite: a file at the store path is inspected read-only before anything writes to it. A file
that is not SQLite, is damaged, belongs to another program or to a newer version of this app is
refused and left byte for byte as it was. Before pending migrations run, a copy is kept beside
it (`<name>.bak-<revision>-<timestamp>`). Every connection runs in WAL mode with foreign keys
on, a busy timeout and full sync; write transactions start with BEGIN IMMEDIATE, so two writers
queue on the lock instead of failing halfway.

PostgreSQL (`postgresql+psycopg://`): a lock timeout plays the part of the busy timeout, and
migrations take an advisory lock so two processes never migrate at once.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from checklist_app.storage import migrate
from checklist_app.storage.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreForeign,
    StoreTooNew,
)
from checklist_app.storage.location import display
from checklist_app.storage.models import Base

WRITE = "checklist_app_write"
"""Connection execution option: the transaction will write (SQLite: BEGIN IMMEDIATE)."""

SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)
_SQLITE_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SQLITE_PROBLEMS = {
    8: "the store {name} cannot be written ({error}): check the permissions of the file and "
       "of its folder, or choose another file with --db or CHECKLIST_APP_DB",
    10: "cannot read or write the store {name} ({error}): check the disk",
    13: "the disk holding the store {name} is full: free some space and try again",
    14: "cannot open the store {name} ({error}): check that its folder exists and can be "
        "written, or choose another file with --db or CHECKLIST_APP_DB",
}
_PG_BUSY = {"55P03", "40001", "40P01"}  # lock_not_available, serialization, deadlock
_MIGRATION_LOCK = 7_211_839_245  # pg_advisory_xact_lock key of our migrations
_OUR_TABLES = frozenset(Base.metadata.tables)


@dataclass(frozen=True, slots=True)
class Opened:
    engine: Engine
    name: str
    """The store as named in messages: its path, or its URL without the password."""
    backup: Path | None
    """The copy kept before migrating, when migrations ran on an existing SQLite file."""


def open_engine(url_text: str, busy_timeout_s: float,
                location: Path = migrate.MIGRATIONS) -> Opened:
    """Check, connect and migrate the store at `url_text`."""
    url = _parse(url_text)
    name = display(url)
    path = _sqlite_path(url)
    revision = _inspect_sqlite_file(path, busy_timeout_s) if path is not None else None
    if revision is not None and not migrate.is_known(revision, location):
        raise _too_new(name, revision)
    if path is not None:
        _make_folder(path.parent)
    engine = _create_engine(url, busy_timeout_s)
    try:
        with translate_errors(name):
            backup = _migrate(engine, name, path, location)
    except BaseException:
        engine.dispose()
        raise
    return Opened(engine, name, backup)


@contextmanager
def translate_errors(name: str) -> Iterator[None]:
    """Database errors that a person can act on become StoreError subclasses."""
    try:
        yield
    except DBAPIError as error:
        translated = _translated(error, name)
        if translated is None:
            raise
        raise translated from error


def _translated(error: DBAPIError, name: str) -> StoreError | None:
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = (getattr(original, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in _SQLITE_BUSY:
            return _busy(name)
        if code in _SQLITE_CORRUPT:
            return _corrupt(name, str(original))
        problem = _SQLITE_PROBLEMS.get(code)
        return StoreError(problem.format(name=name, error=original)) if problem else None
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate in _PG_BUSY:
        return _busy(name)
    if isinstance(error, OperationalError) and sqlstate is None:
        return StoreError(f"cannot reach the store {name}: {str(original).strip()}")
    return None


def _busy(name: str) -> StoreBusy:
    return StoreBusy(f"the store {name} is busy: another process is writing to it and held it "
                     "locked longer than the busy timeout; try again in a moment")


def _corrupt(name: str, problem: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"the store {name} is damaged or is not an SQLite database ({problem}). It was left "
        "unchanged: move it away (a *.bak-* copy beside it may hold an earlier state), or "
        "choose another file with --db or CHECKLIST_APP_DB")


def _too_new(name: str, revision: str) -> StoreTooNew:
    return StoreTooNew(
        f"the store {name} was written by a newer version of Flask Checklist (its schema "
        f"revision {revision!r} is unknown to this version). It was left unchanged: upgrade "
        "Flask Checklist, or choose another file with --db or CHECKLIST_APP_DB")


def _foreign(name: str, tables: frozenset[str]) -> StoreForeign:
    shown = ", ".join(sorted(tables)[:5])
    return StoreForeign(
        f"{name} is a database of another program (it has the tables {shown}), not a Flask "
        "Checklist store. It was left unchanged: choose another file with --db or "
        "CHECKLIST_APP_DB")


# --- the URL and the engine -----------------------------------------------------------------


def _parse(url_text: str) -> URL:
    try:
        url = make_url(url_text)
    except ArgumentError as error:
        raise StoreError(f"{url_text!r} is not a database URL or path: {error}") from None
    if url.drivername in ("postgres", "postgresql"):  # the driver we ship with
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"the store {display(url)}: only SQLite files and PostgreSQL "
                         "(postgresql+psycopg://...) are supported")
    return url


def _sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL; None for PostgreSQL and in-memory databases."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = str(url.database)
    if database.startswith("file:"):
        raise StoreError(f"the store {database}: give a plain path, not an SQLite file: URI")
    return Path(database).absolute()


def _create_engine(url: URL, busy_timeout_s: float) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    try:
        engine = create_engine(url)
    except ModuleNotFoundError as error:
        raise StoreError(f"the store {display(url)} is on PostgreSQL, which needs psycopg: "
                         f"pip install 'psycopg[binary]' ({error})") from None
    _configure_postgresql(engine, busy_timeout_s)
    return engine


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    memory = _sqlite_path(url) is None
    extra: dict[str, Any] = {"poolclass": StaticPool} if memory else {}
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s}, **extra)
    timeout_ms = max(0, round(busy_timeout_s * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # pysqlite's own transaction handling is off: the "begin" hook below emits BEGIN.
        dbapi_connection.isolation_level = None
        with closing(dbapi_connection.cursor()) as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = bool(connection.get_execution_options().get(WRITE))
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def _configure_postgresql(engine: Engine, busy_timeout_s: float) -> None:
    timeout_ms = str(max(1, round(busy_timeout_s * 1000)))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with closing(dbapi_connection.cursor()) as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", (timeout_ms,))
        dbapi_connection.autocommit = autocommit


# --- the SQLite file, read-only -------------------------------------------------------------


def _inspect_sqlite_file(path: Path, busy_timeout_s: float) -> str | None:
    """The schema revision of the store file (None: no file yet, or an empty one).

    Reads the file read-only; refuses anything that is not a sound store of ours."""
    name = str(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise StoreError(f"the store {name} is not a file (a folder?): choose a file path "
                         "with --db or CHECKLIST_APP_DB")
    try:
        with path.open("rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(f"cannot read the store {name}: {error.strerror}") from None
    if not header:
        return None
    if header != SQLITE_HEADER:
        raise _corrupt(name, f"it starts with {header[:16]!r}, not the SQLite header")
    try:
        with closing(_read_only(path, busy_timeout_s)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise _corrupt(name, "; ".join(str(p) for p in problems[:3]))
            tables = frozenset(row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"))
            if migrate.VERSION_TABLE not in tables:
                if tables:
                    raise _foreign(name, tables)
                return None
            versions = [row[0] for row in connection.execute(
                f"SELECT version_num FROM {migrate.VERSION_TABLE}")]
    except sqlite3.Error as error:
        code = (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in _SQLITE_BUSY:
            raise _busy(name) from None
        raise _corrupt(name, str(error)) from None
    if len(versions) > 1:
        raise _too_new(name, ", ".join(sorted(str(v) for v in versions)))
    return str(versions[0]) if versions else None


def _read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection that leaves no trace: when no -wal or -journal file is beside
    the database (nobody has it open, nothing to recover), it is opened as immutable, so
    SQLite creates no -wal/-shm files either; otherwise plainly read-only."""
    live = any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal"))
    options = "mode=ro" if live else "mode=ro&immutable=1"
    return sqlite3.connect(f"{path.as_uri()}?{options}", uri=True, timeout=busy_timeout_s)


def backup_sqlite_file(path: Path, revision: str, now: datetime) -> Path:
    """A consistent copy of the store beside it (SQLite's backup API, so the WAL is included),
    in rollback-journal mode (one self-contained file), written under a temporary name and then
    renamed: a copy that exists is complete."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.bak-{revision}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.bak-{revision}-{stamp}-{counter}")
    partial = target.with_name(f"{target.name}.partial")
    try:
        with closing(_read_only(path, 30.0)) as source, \
                closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        if partial.is_file():
            partial.unlink()
        raise StoreError(
            f"the store {path} needs migrating, but no copy of it could be kept first "
            f"({error}); it was left unchanged: free some disk space or make its folder "
            "writable, then open it again") from None
    return target


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder {folder} for the store: {error.strerror}; "
                         "choose another file with --db or CHECKLIST_APP_DB") from None


# --- migrating ------------------------------------------------------------------------------


def _migrate(engine: Engine, name: str, path: Path | None, location: Path) -> Path | None:
    """Apply pending migrations; the backup made first, if any."""
    head = migrate.head_revision(location)
    current = _current_revision(engine, name)
    if current == head:
        return None
    if current is not None and not migrate.is_known(current, location):
        raise _too_new(name, current)
    backup = None
    if path is not None and current is not None:
        backup = backup_sqlite_file(path, current, datetime.now(UTC))
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _MIGRATION_LOCK})
            migrate.upgrade(connection, location)
    return backup


def _current_revision(engine: Engine, name: str) -> str | None:
    with engine.connect() as connection:
        tables = frozenset(inspect(connection).get_table_names())
        if migrate.VERSION_TABLE not in tables:
            if tables & _OUR_TABLES:
                raise _foreign(name, tables & _OUR_TABLES)
            return None
        versions = connection.execute(
            text(f"SELECT version_num FROM {migrate.VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise _too_new(name, ", ".join(sorted(str(v) for v in versions)))
    return str(versions[0]) if versions else None
