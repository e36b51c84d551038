"""Alembic, run programmatically: no alembic.ini at run time.

The migrations ship inside the package (`migrations/env.py`, `migrations/versions/`). Revision
ids are numbers and revision files are named `v<NNNN>_<slug>.py`, so the head is known from the
file names without importing Alembic (about a third of the import time of the store): Alembic is
only loaded when a migration actually runs. A test checks that both views agree.

The version table has its own name, so a team database shared with another Alembic app is never
confused with ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "flask_checklist_version"


def revisions(location: Path = MIGRATIONS) -> tuple[str, ...]:
    """Our revision ids, oldest first."""
    files = sorted((location / "versions").glob("v[0-9][0-9][0-9][0-9]_*.py"))
    return tuple(path.name[1:5] for path in files)


def head_revision(location: Path = MIGRATIONS) -> str:
    found = revisions(location)
    if not found:
        raise RuntimeError(f"no migrations in {location}")
    return found[-1]


def is_known(revision: str, location: Path = MIGRATIONS) -> bool:
    """Whether `revision` is one of our migrations."""
    return revision in revisions(location)


def alembic_config(location: Path = MIGRATIONS) -> Config:
    """An Alembic config that needs no ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(location).replace("%", "%%"))
    return config


def scripts(location: Path = MIGRATIONS) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(location))


def upgrade(connection: Connection, location: Path = MIGRATIONS) -> None:
    """Apply pending migrations inside the caller's transaction on `connection`."""
    from alembic import command

    config = alembic_config(location)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
