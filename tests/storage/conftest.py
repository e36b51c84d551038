"""Store fixtures: every store test runs on an SQLite file and, when CHECKLIST_APP_TEST_PG_URL
names a PostgreSQL database, on PostgreSQL too (each test in a schema of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from checklist_app.storage import Store
from checklist_app.storage.location import sqlite_url

PG_ENV = "CHECKLIST_APP_TEST_PG_URL"
PG_MISSING = (f"{PG_ENV} is not set: the PostgreSQL variant needs a server, e.g. "
              "postgresql+psycopg://postgres@127.0.0.1:54329/checklist_test (see .ci/run)")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    given = os.environ.get(PG_ENV, "").strip()
    if not given:
        pytest.skip(PG_MISSING)
    url = make_url(given)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A PostgreSQL URL whose search path is a fresh, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = pg_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with pg_admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    folder.mkdir()
    return folder / "progress.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, sqlite_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(sqlite_path)
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened
