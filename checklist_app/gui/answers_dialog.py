"""Shared answers: the proposals imported from a `.flask-checklist.yaml`, each with who gave it,
beside the local answer it would replace; Accept or Reject one by one. A proposal that differs
from the local answer is a conflict: accepting it asks first, nothing is replaced silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from checklist_app.findings import Answer
from checklist_app.gui.errors import ErrorDisplay, show_error
from checklist_app.gui.review_panel import Confirm, ask
from checklist_app.gui.wording import ANSWER_WORDS

if TYPE_CHECKING:
    from checklist_app.workspace import ProjectRecord, ProposalView, Workspace


def proposal_text(view: ProposalView) -> str:
    proposal = view.proposal
    text = f"{ANSWER_WORDS[proposal.value]} by {proposal.author} on {proposal.answered_at:%Y-%m-%d}"
    if proposal.justification:
        text += f"\nJustification: {proposal.justification}"
    if proposal.note:
        text += f"\nNote: {proposal.note}"
    if proposal.expires is not None:
        text += f"\nExpires {proposal.expires:%Y-%m-%d}"
    return text


def local_text(answer: Answer | None) -> str:
    if answer is None:
        return "no local answer"
    text = f"{ANSWER_WORDS[answer.value]} by {answer.author} on {answer.answered_at:%Y-%m-%d}"
    if answer.justification:
        text += f"\nJustification: {answer.justification}"
    if answer.note:
        text += f"\nNote: {answer.note}"
    if answer.expires is not None:
        text += f"\nExpires {answer.expires:%Y-%m-%d}"
    return text


def read_limited(path: Path) -> bytes:
    """The file's bytes, never more than one past the answers file's limit (the reader then
    refuses it with its message)."""
    from checklist_app.answers_file import MAX_BYTES

    with path.open("rb") as stream:
        return stream.read(MAX_BYTES + 1)


class ProposalsDialog(QDialog):
    """The open proposals of a project, with Accept / Reject on each row."""

    answers_changed = Signal()

    COL_ITEM, COL_STATE, COL_PROPOSED, COL_LOCAL, COL_ACTIONS = range(5)

    def __init__(self, workspace: Workspace, project: ProjectRecord, by: str,
                 show: ErrorDisplay = show_error, confirm: Confirm = ask,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Proposed answers — {project.name}")
        self.workspace = workspace
        self.project = project
        self.by = by
        self._show_error = show
        self._confirm = confirm
        self.views: tuple[ProposalView, ...] = ()
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            ["Item", "", "Proposed (from the file)", "Local answer", ""])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in (self.COL_ITEM, self.COL_STATE, self.COL_ACTIONS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (self.COL_PROPOSED, self.COL_LOCAL):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column_layout = QVBoxLayout(self)
        column_layout.addWidget(self.summary)
        column_layout.addWidget(self.table, 1)
        column_layout.addWidget(buttons)
        self.resize(980, 520)
        self.refresh()

    def refresh(self) -> None:
        from checklist_app.workspace import StoreError

        try:
            self.views = self.workspace.proposals(self.project)
        except StoreError as error:
            self._show_error(self, "Cannot read the proposals", str(error))
            return
        conflicts = sum(view.conflicts for view in self.views)
        self.summary.setText(
            f"{len(self.views)} open proposal(s), {conflicts} in conflict with a local answer. "
            "Accept makes a proposal the project's answer; Reject drops it."
            if self.views else "No open proposals.")
        self.table.setRowCount(len(self.views))
        for row, view in enumerate(self.views):
            proposal = view.proposal
            item = QTableWidgetItem(proposal.item_id)
            item.setToolTip(f"from {proposal.source}, imported by {proposal.proposed_by}")
            state = QTableWidgetItem("conflict" if view.conflicts else
                                     "same" if view.local is not None else "new")
            if view.conflicts:
                state.setForeground(QColor("#cf222e"))
            self.table.setItem(row, self.COL_ITEM, item)
            self.table.setItem(row, self.COL_STATE, state)
            self.table.setItem(row, self.COL_PROPOSED, QTableWidgetItem(proposal_text(view)))
            self.table.setItem(row, self.COL_LOCAL, QTableWidgetItem(local_text(view.local)))
            self.table.setCellWidget(row, self.COL_ACTIONS, self._actions(proposal.id))
        self.table.resizeRowsToContents()

    def _actions(self, proposal_id: int) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(2, 2, 2, 2)
        accept = QPushButton("Accept")
        accept.setObjectName(f"accept-{proposal_id}")
        accept.clicked.connect(lambda _c=False: self.accept_proposal(proposal_id))
        reject = QPushButton("Reject")
        reject.setObjectName(f"reject-{proposal_id}")
        reject.clicked.connect(lambda _c=False: self.reject_proposal(proposal_id))
        row.addWidget(accept)
        row.addWidget(reject)
        return box

    def button(self, proposal_id: int, action: str) -> QPushButton | None:
        """The Accept or Reject button of a proposal ("accept" or "reject")."""
        found = self.table.findChild(QPushButton, f"{action}-{proposal_id}")
        return found if isinstance(found, QPushButton) else None

    def accept_proposal(self, proposal_id: int) -> None:
        view = next((v for v in self.views if v.proposal.id == proposal_id), None)
        if view is None:
            return
        replace = False
        if view.conflicts:
            question = (f"Replace the local answer to {view.proposal.item_id}?\n\n"
                        f"Local: {local_text(view.local)}\n\n"
                        f"Proposed: {proposal_text(view)}")
            if not self._confirm(self, "Replace the local answer", question):
                return
            replace = True
        from checklist_app.workspace import AnswerRefused, StoreError

        try:
            self.workspace.accept_proposal(self.project, proposal_id, self.by, replace=replace)
        except (AnswerRefused, StoreError) as error:
            self._show_error(self, "The proposal was not accepted", str(error))
            self.refresh()
            return
        self.refresh()
        self.answers_changed.emit()

    def reject_proposal(self, proposal_id: int) -> None:
        from checklist_app.workspace import StoreError

        try:
            self.workspace.reject_proposal(self.project, proposal_id, self.by)
        except StoreError as error:
            self._show_error(self, "The proposal was not rejected", str(error))
        self.refresh()
