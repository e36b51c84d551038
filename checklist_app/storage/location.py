"""Where the store lives: `--db`, else CHECKLIST_APP_DB, else the user's data folder."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_VAR = "CHECKLIST_APP_DB"
APP_DIR = "flask-checklist"
DEFAULT_FILE = "progress.db"


def resolve_url(db: str | None) -> str:
    """The SQLAlchemy URL of the store.

    `db` (from --db), else the CHECKLIST_APP_DB environment variable, is either an SQLAlchemy
    URL (`postgresql+psycopg://...`, `sqlite:///...`) or a path to an SQLite file (`~` is
    expanded, a relative path is made absolute). Without either: `progress.db` in
    platformdirs.user_data_dir("flask-checklist").
    """
    for given in (db, os.environ.get(ENV_VAR)):
        if given is not None and given.strip():
            return _url_of(given.strip())
    import platformdirs

    folder = Path(platformdirs.user_data_dir(APP_DIR, appauthor=False))
    return sqlite_url(folder / DEFAULT_FILE)


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file, with any odd character in the path escaped."""
    url = URL.create("sqlite", database=str(path))
    return url.render_as_string(hide_password=False)


def _url_of(given: str) -> str:
    if "://" in given:
        try:
            make_url(given)
        except ArgumentError:
            pass
        else:
            return given
    return sqlite_url(Path(given).expanduser().absolute())


def display(url: URL) -> str:
    """How a store is named in messages: the file path, or the URL without its password."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return str(url.database)
    return url.render_as_string(hide_password=True)
