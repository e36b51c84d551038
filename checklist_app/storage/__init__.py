"""The store: per-project progress in SQLite or PostgreSQL (SQLAlchemy 2.0, Alembic).

Layer rule: only frozen values cross this boundary (those of `checklist_app.findings` and of
`storage.values`); database sessions never leave `storage/`; nothing here imports Qt.
"""

from checklist_app.storage.errors import (
    AnswerConflict,
    ProjectExists,
    ProjectNotFound,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreForeign,
    StoreTooNew,
)
from checklist_app.storage.location import resolve_url
from checklist_app.storage.store import Store
from checklist_app.storage.values import AnswerChange, ProjectRecord, ScanSummary

__all__ = [
    "AnswerChange",
    "AnswerConflict",
    "ProjectExists",
    "ProjectNotFound",
    "ProjectRecord",
    "ScanSummary",
    "Store",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "StoreForeign",
    "StoreTooNew",
    "resolve_url",
]
