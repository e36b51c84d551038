"""What can go wrong with a store, said so that a person can act on it.

Every message names the store (its path, or its URL without the password).
"""

from __future__ import annotations

from datetime import datetime


class StoreError(Exception):
    """The store cannot be opened or used; the message says why and what to do."""


class StoreCorrupt(StoreError):
    """The file at the store path is not an SQLite database, or is damaged. It is left as is."""


class StoreTooNew(StoreError):
    """The store was written by a newer version of the app. It is left as is."""


class StoreForeign(StoreError):
    """The database holds tables but is not a Flask Checklist store. It is left as is."""


class StoreBusy(StoreError):
    """Another process held the store locked for longer than the busy timeout."""


class ProjectNotFound(StoreError):
    pass


class ProjectExists(StoreError):
    """`relink` to a root that already has a project of its own."""


class AnswerConflict(StoreError):
    """Someone else changed the answer since the caller last saw it (optimistic locking)."""

    def __init__(self, item_id: str, expected_revision: int | None,
                 current_revision: int | None, changed_by: str | None,
                 changed_at: datetime | None) -> None:
        self.item_id = item_id
        self.expected_revision = expected_revision
        self.current_revision = current_revision
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(_conflict_message(item_id, expected_revision, current_revision,
                                           changed_by, changed_at))


def _conflict_message(item_id: str, expected: int | None, current: int | None,
                      changed_by: str | None, changed_at: datetime | None) -> str:
    seen = "no answer" if expected is None else f"revision {expected}"
    now = "no answer (it was cleared)" if current is None else f"revision {current}"
    who = changed_by or "someone"
    when = f" at {changed_at.isoformat(timespec='seconds')}" if changed_at else ""
    return (f"the answer to {item_id} was changed by {who}{when} since you last saw it "
            f"(you saw {seen}, it is now {now}); reload it and answer again")


class ReviewError(StoreError):
    """A review cannot be started, signed or closed as asked; the message says why."""


class ReviewNotFound(ReviewError):
    pass


class ReviewClosed(ReviewError):
    """The review is closed: it is a frozen record and takes no more sign-offs."""


class ReviewAlreadyOpen(ReviewError):
    """The project has an open review; close it before starting another."""


class ProposalError(StoreError):
    """A proposal that does not exist, or was already accepted or rejected."""
