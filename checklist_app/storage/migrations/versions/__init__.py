"""One file per revision; Alembic reads them by path."""
