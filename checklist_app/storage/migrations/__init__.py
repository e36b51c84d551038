"""Alembic migrations of the store. Run by `checklist_app.storage.migrate`, never imported."""
