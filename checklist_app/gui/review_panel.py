"""The release review panel: start a review pinned to the current commit, sign off its topics,
close it (freezing every item's state), the past reviews, what changed since the previous
closed review, a comparison of any two points, and progress over time.

Everything goes through the `Workspace`; errors it raises (a closed review, a scan of another
commit...) are shown with their message and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.errors import ErrorDisplay, show_error
from checklist_app.gui.progress_chart import ProgressChart
from checklist_app.reviews import (
    Change,
    Comparison,
    Decision,
    ItemDelta,
    Review,
    TopicSignOff,
    TopicState,
)

if TYPE_CHECKING:
    from checklist_app.workspace import ProjectRecord, Workspace

Confirm = Callable[[QWidget, str, str], bool]
"""Asks the person to confirm: the parent, a title and the question; True to go ahead."""

NOW = -1
"""The point "now" in the comparison choosers (reviews are their ids)."""

DECISION_TEXT = {Decision.APPROVE: "Approve", Decision.CHANGES: "Request changes"}
STATE_COLOR = {TopicState.APPROVED: "#1a7f37", TopicState.CHANGES_REQUESTED: "#cf222e",
               TopicState.UNSIGNED: "#9a6700"}
SECTIONS = (
    (Change.REGRESSION, "Regressions"),
    (Change.IMPROVEMENT, "Improvements"),
    (Change.NEW, "New items"),
    (Change.REMOVED, "Removed items"),
    (Change.STATUS, "Other status changes"),
)
_STATUS = {"met": "met", "unmet": "unmet", "na": "n/a", "unknown": "unknown"}


def ask(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def review_summary(review: Review) -> str:
    """One line: id, title, commit, tag, state."""
    commit = review.commit[:10] if review.commit else "no commit"
    state = (f"closed {review.closed_at:%Y-%m-%d %H:%M} UTC by {review.closed_by}"
             if review.closed_at else "open")
    return f"Review {review.id}: {review.title} — {commit} ({review.tag_text}); {state}"


def sign_off_text(topic: TopicSignOff) -> str:
    return "\n".join(
        f"{sign.decision.value} by {sign.reviewer} on {sign.signed_at:%Y-%m-%d}"
        + (f": {sign.comment}" if sign.comment else "") for sign in topic.latest)


def _status(value: object) -> str:
    text = getattr(value, "value", None)
    return _STATUS.get(text, str(text)) if isinstance(text, str) else "—"


def _answer(delta_answer: object) -> str:
    if delta_answer is None:
        return "no answer"
    value = getattr(delta_answer, "value", None)
    author = getattr(delta_answer, "author", "")
    justification = getattr(delta_answer, "justification", "")
    text = f"{_status(value)} by {author}"
    return f"{text}: {justification}" if justification else text


def _delta_line(delta: ItemDelta) -> str:
    line = (f"<code>{escape(delta.item_id)}</code> {escape(delta.title)}: "
            f"{escape(_status(delta.before) if delta.before else 'new')} → "
            f"{escape(_status(delta.after) if delta.after else 'gone')}")
    if delta.answer_changed:
        line += (f"<br><small>answer: {escape(_answer(delta.answer_before))} → "
                 f"{escape(_answer(delta.answer_after))}</small>")
    return f"<li>{line}</li>"


def comparison_html(comparison: Comparison | None, none_text: str) -> str:
    """The comparison for a text browser: regressions, improvements, new items, other status
    changes and changed answers, each under its heading; everything escaped."""
    if comparison is None:
        return f"<p>{escape(none_text)}</p>"
    out = [f"<p><b>From {escape(comparison.before_label)} "
           f"({comparison.before.percent:.1f}%) to {escape(comparison.after_label)} "
           f"({comparison.after.percent:.1f}%)</b></p>"]
    if not comparison.deltas:
        out.append("<p>No change.</p>")
    for change, heading in SECTIONS:
        deltas = comparison.of(change)
        if deltas:
            out.append(f"<h4>{heading} ({len(deltas)})</h4><ul>"
                       + "".join(_delta_line(d) for d in deltas) + "</ul>")
    answers = comparison.of(Change.ANSWER)
    if answers:
        out.append(f"<h4>Changed answers ({len(answers)})</h4><ul>"
                   + "".join(_delta_line(d) for d in answers) + "</ul>")
    return "\n".join(out)


class ReviewPanel(QWidget):
    """Reviews of the open project, in three tabs: Review, Compare, Progress."""

    changed = Signal()
    """A review was started, signed or closed."""

    COL_TOPIC, COL_STATE = range(2)

    def __init__(self, show: ErrorDisplay = show_error, confirm: Confirm = ask,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._show_error = show
        self._confirm = confirm
        self.workspace: Workspace | None = None
        self.project: ProjectRecord | None = None
        self.reviews: tuple[Review, ...] = ()
        self.review: Review | None = None
        """The review shown (the latest, or the one chosen in the list)."""
        self.topics: tuple[TopicSignOff, ...] = ()
        self.changes: Comparison | None = None
        """What changed since the previous closed review, for the review shown."""
        self.comparison: Comparison | None = None
        """The last comparison of two chosen points."""

        self.tabs = QTabWidget()
        self.tabs.addTab(self._review_tab(), "Review")
        self.tabs.addTab(self._compare_tab(), "Compare")
        self.chart = ProgressChart()
        self.tabs.addTab(self.chart, "Progress")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self._update_buttons()

    # --- building ---------------------------------------------------------------------------

    def _review_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        self.heading = QLabel("No project open.")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.heading.setObjectName("reviewHeading")
        column.addWidget(self.heading)

        start = QHBoxLayout()
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("Title of a new review, e.g. Release 1.4")
        self.title_edit.setMaxLength(200)
        self.title_edit.returnPressed.connect(self.start_review)
        self.start_button = QPushButton("Start Review")
        self.start_button.setToolTip("Start a review pinned to the project's current commit")
        self.start_button.clicked.connect(self.start_review)
        start.addWidget(self.title_edit, 1)
        start.addWidget(self.start_button)
        column.addLayout(start)

        self.topic_table = QTableWidget(0, 2)
        self.topic_table.setHorizontalHeaderLabels(["Topic and sign-offs", "State"])
        self.topic_table.verticalHeader().hide()
        self.topic_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.topic_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.topic_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.topic_table.setWordWrap(True)
        self.topic_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.topic_table.horizontalHeader()
        header.setSectionResizeMode(self.COL_TOPIC, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.COL_STATE, QHeaderView.ResizeMode.ResizeToContents)
        self.topic_table.itemSelectionChanged.connect(self._update_buttons)
        self.topic_table.setMinimumHeight(170)
        column.addWidget(self.topic_table, 4)

        sign = QGroupBox("Sign off the selected topic")
        form = QFormLayout(sign)
        self.reviewer_edit = QLineEdit()
        self.reviewer_edit.setMaxLength(200)
        self.decision_box = QComboBox()
        for decision in Decision:
            self.decision_box.addItem(DECISION_TEXT[decision], decision.value)
        self.comment_edit = QLineEdit()
        self.comment_edit.setPlaceholderText("Needed when requesting changes")
        self.comment_edit.setMaxLength(2000)
        self.sign_button = QPushButton("Sign Off")
        self.sign_button.clicked.connect(self.sign_off)
        form.addRow("Reviewer", self.reviewer_edit)
        form.addRow("Decision", self.decision_box)
        form.addRow("Comment", self.comment_edit)
        form.addRow("", self.sign_button)
        column.addWidget(sign)

        self.close_button = QPushButton("Close Review…")
        self.close_button.setToolTip("Freeze the state of every item from the latest scan")
        self.close_button.clicked.connect(self.close_review)
        column.addWidget(self.close_button)

        column.addWidget(QLabel("Changes since the previous closed review"))
        self.changes_view = QTextBrowser()
        self.changes_view.setOpenLinks(False)
        column.addWidget(self.changes_view, 2)

        column.addWidget(QLabel("Reviews"))
        self.review_list = QListWidget()
        self.review_list.setWordWrap(True)
        self.review_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.review_list.currentItemChanged.connect(self._review_chosen)
        column.addWidget(self.review_list, 1)
        return page

    def _compare_tab(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        form = QFormLayout()
        self.before_box = QComboBox()
        self.after_box = QComboBox()
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare_chosen)
        form.addRow("From", self.before_box)
        form.addRow("To", self.after_box)
        form.addRow("", self.compare_button)
        column.addLayout(form)
        self.compare_view = QTextBrowser()
        self.compare_view.setOpenLinks(False)
        column.addWidget(self.compare_view, 1)
        return page

    # --- the project ------------------------------------------------------------------------

    def set_project(self, workspace: Workspace | None, project: ProjectRecord | None) -> None:
        self.workspace, self.project = workspace, project
        self.review = None
        self.comparison = None
        self.compare_view.clear()
        if project is not None:
            from checklist_app.workspace import default_author

            self.reviewer_edit.setText(default_author(Path(project.root)))
        self.refresh()

    def refresh(self) -> None:
        """Read the reviews and progress over time again, keeping the review shown."""
        from checklist_app.workspace import StoreError

        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            self.reviews, self.review, self.topics, self.changes = (), None, (), None
            self.heading.setText("No project open.")
            self._fill()
            return
        try:
            self.reviews = workspace.reviews(project)
            shown = self.review.id if self.review is not None else None
            self.review = next((r for r in self.reviews if r.id == shown),
                               self.reviews[-1] if self.reviews else None)
            self.topics = workspace.review_status(self.review) if self.review else ()
            self.changes = (workspace.review_changes(project, self.review)
                            if self.review else None)
            points = workspace.progress_over_time(project)
        except StoreError as error:
            self._show_error(self, "Cannot read the reviews", str(error))
            return
        titles = {c.topic: c.title for c in workspace.checklists.checklists}
        self.chart.set_points(points, titles)
        self._fill()

    def _fill(self) -> None:
        review = self.review
        if self.project is not None:
            self.heading.setText(review_summary(review) if review is not None
                                 else "No review yet: give it a title and start one.")
        self.topic_table.setRowCount(len(self.topics))
        for row, topic in enumerate(self.topics):
            signs = sign_off_text(topic)
            name = QTableWidgetItem(f"{topic.title}\n{signs}" if signs else topic.title)
            name.setData(Qt.ItemDataRole.UserRole, topic.topic)
            name.setToolTip(f"{topic.topic}\n{signs}" if signs else topic.topic)
            state = QTableWidgetItem(topic.state.value)
            state.setForeground(QColor(STATE_COLOR[topic.state]))
            self.topic_table.setItem(row, self.COL_TOPIC, name)
            self.topic_table.setItem(row, self.COL_STATE, state)
        self.topic_table.resizeRowsToContents()
        none_text = ("No earlier closed review to compare with." if review is not None
                     else "No review yet.")
        self.changes_view.setHtml(comparison_html(self.changes, none_text))
        self.review_list.blockSignals(True)
        self.review_list.clear()
        for past in reversed(self.reviews):
            entry = QListWidgetItem(review_summary(past))
            entry.setToolTip(review_summary(past))
            entry.setData(Qt.ItemDataRole.UserRole, past.id)
            self.review_list.addItem(entry)
            if review is not None and past.id == review.id:
                self.review_list.setCurrentItem(entry)
        self.review_list.blockSignals(False)
        self._fill_points()
        self._update_buttons()

    def _fill_points(self) -> None:
        for box, default in ((self.before_box, 1), (self.after_box, 0)):
            chosen = box.currentData()
            box.clear()
            box.addItem("now", NOW)
            for past in reversed(self.reviews):
                state = "" if past.closed else " (open: now)"
                box.addItem(f"review {past.id}: {past.title}{state}", past.id)
            index = box.findData(chosen) if chosen is not None else -1
            box.setCurrentIndex(index if index >= 0 else min(default, box.count() - 1))

    def _review_chosen(self, current: QListWidgetItem | None) -> None:
        if current is None or self.workspace is None or self.project is None:
            return
        review_id = current.data(Qt.ItemDataRole.UserRole)
        self.review = next((r for r in self.reviews if r.id == review_id), self.review)
        self.refresh()

    def selected_topic(self) -> str | None:
        rows = self.topic_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self._topic_at(rows[0].row())

    def _topic_at(self, row: int) -> str | None:
        cell = self.topic_table.item(row, self.COL_TOPIC)
        topic = cell.data(Qt.ItemDataRole.UserRole) if cell is not None else None
        return topic if isinstance(topic, str) else None

    def select_topic(self, topic: str) -> bool:
        for row in range(self.topic_table.rowCount()):
            if self._topic_at(row) == topic:
                self.topic_table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        has_project = self.workspace is not None and self.project is not None
        review = self.review
        open_review = any(not r.closed for r in self.reviews)
        self.start_button.setEnabled(has_project and not open_review)
        self.title_edit.setEnabled(has_project and not open_review)
        editable = review is not None and not review.closed
        self.sign_button.setEnabled(editable and self.selected_topic() is not None)
        self.close_button.setEnabled(editable)
        self.compare_button.setEnabled(has_project)

    # --- actions ----------------------------------------------------------------------------

    def start_review(self) -> None:
        workspace, project = self.workspace, self.project
        title = " ".join(self.title_edit.text().split())
        if workspace is None or project is None:
            return
        if not title:
            self._show_error(self, "Cannot start the review", "Give the review a title.")
            return
        from checklist_app.workspace import StoreError

        try:
            self.review = workspace.start_review(project, title, self._reviewer(project))
        except StoreError as error:
            self._show_error(self, "Cannot start the review", str(error))
            return
        self.title_edit.clear()
        self.refresh()
        self.changed.emit()

    def sign_off(self) -> None:
        workspace, project, review = self.workspace, self.project, self.review
        topic = self.selected_topic()
        if workspace is None or project is None or review is None or topic is None:
            return
        decision = Decision(str(self.decision_box.currentData()))
        from checklist_app.workspace import StoreError

        try:
            workspace.sign_review(project, topic, self._reviewer(project), decision,
                                  self.comment_edit.text(), review.id)
        except StoreError as error:
            self._show_error(self, "The sign-off was not recorded", str(error))
            return
        self.comment_edit.clear()
        self.refresh()
        self.select_topic(topic)
        self.changed.emit()

    def close_review(self) -> None:
        workspace, project, review = self.workspace, self.project, self.review
        if workspace is None or project is None or review is None or review.closed:
            return
        unsigned = [t.title for t in self.topics if t.state is not TopicState.APPROVED]
        question = (f"Close review {review.id} ({review.title})? The state of every item is "
                    "frozen from the latest scan; no sign-off can be added afterwards.")
        if unsigned:
            question += f"\n\nNot approved: {', '.join(unsigned)}."
        if not self._confirm(self, "Close the review", question):
            return
        from checklist_app.workspace import StoreError

        try:
            self.review = workspace.close_review(project, self._reviewer(project), review.id)
        except StoreError as error:
            self._show_error(self, "The review was not closed", str(error))
            return
        self.refresh()
        self.changed.emit()

    def compare_chosen(self) -> None:
        workspace, project = self.workspace, self.project
        if workspace is None or project is None:
            return
        before, after = self.before_box.currentData(), self.after_box.currentData()
        from checklist_app.workspace import StoreError

        try:
            self.comparison = workspace.compare(
                project, None if before == NOW else int(before),
                None if after == NOW else int(after))
        except (StoreError, TypeError, ValueError) as error:
            self._show_error(self, "Cannot compare", str(error))
            return
        self.compare_view.setHtml(comparison_html(self.comparison, ""))

    def choose_points(self, before: int | None, after: int | None) -> None:
        """Set the two points to compare (review ids; None: now)."""
        for box, point in ((self.before_box, before), (self.after_box, after)):
            box.setCurrentIndex(box.findData(NOW if point is None else point))

    def _reviewer(self, project: ProjectRecord) -> str:
        given = " ".join(self.reviewer_edit.text().split())
        if given:
            return given
        from checklist_app.workspace import default_author

        return default_author(Path(project.root))
