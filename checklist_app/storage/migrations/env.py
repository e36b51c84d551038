"""Alembic environment. At run time the store passes an open connection in a transaction
(`config.attributes["connection"]`). For development (`python -m
checklist_app.storage.new_revision`) a URL can be given instead with `-x url=...`."""

from __future__ import annotations

from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine

from checklist_app.storage.migrate import VERSION_TABLE
from checklist_app.storage.models import Base, CleanText, UtcDateTime


def render_item(kind: str, obj: object, autogen: AutogenContext) -> str | Literal[False]:
    """Revisions never import the models: our column type is written as plain SQLAlchemy."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, CleanText):
        return "sa.Text()"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("the store's migrations run online only (no --sql)")
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database with -x url=sqlite:///path/to/store.db")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
