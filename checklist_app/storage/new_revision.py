"""Developer tool: write the next migration from the difference between the models and the
newest migration, into `migrations/versions/v<NNNN>_<slug>.py`. Review it before committing.

    python -m checklist_app.storage.new_revision "add reviews"
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from checklist_app.storage import migrate
from checklist_app.storage.location import sqlite_url


def next_revision_id(location: Path = migrate.MIGRATIONS) -> str:
    head = migrate.scripts(location).get_current_head()
    return f"{int(head) + 1:04d}" if head is not None else "0001"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0].strip():
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(sqlite_url(Path(folder) / "head.db"))
        try:
            with engine.begin() as connection:
                migrate.upgrade(connection)
                config = migrate.alembic_config()
                config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
                config.attributes["connection"] = connection
                command.revision(config, args[0].strip(), autogenerate=True,
                                 rev_id=next_revision_id())
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
