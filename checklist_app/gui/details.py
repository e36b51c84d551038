"""The details pane: one item's why and how, references, finding and evidence, the answer form
and the answer's history.

Text from the scanned project (finding messages, excerpts) and from people (notes,
justifications) is shown as plain text; text from checklists is escaped before it becomes rich
text. The pane decides nothing itself: it emits what the person asked for.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from checklist_app.findings import AnswerValue, Evidence, Outcome
from checklist_app.gui.icons import StatusIcons
from checklist_app.gui.models import EvidenceModel, HistoryLine, HistoryModel
from checklist_app.gui.wording import (
    ANSWER_WORDS,
    OUTCOME_WORDS,
    STATUS_WORDS,
    badge,
    when_text,
)
from checklist_app.progress import ItemProgress, justification_problem

MINIMUM_WIDTH = 240
"""The pane's narrowest: everything in it wraps or elides to fit."""
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
SAFE_LINK_SCHEMES = ("http", "https")


def checklist_html(text: str) -> str:
    """A checklist's why/how text as safe rich text: paragraphs, indented blocks as code,
    `inline code`. Everything is escaped first."""
    blocks: list[str] = []
    paragraph: list[str] = []
    code: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            escaped = html.escape(" ".join(line.strip() for line in paragraph))
            blocks.append("<p>" + _INLINE_CODE.sub(r"<code>\1</code>", escaped) + "</p>")
            paragraph.clear()

    def flush_code() -> None:
        while code and not code[-1].strip():
            code.pop()
        if code:
            blocks.append('<pre style="white-space: pre-wrap">' + html.escape("\n".join(code))
                          + "</pre>")
            code.clear()

    for line in text.splitlines():
        if line.startswith(("    ", "\t")) and not paragraph:
            code.append(line[4:] if line.startswith("    ") else line[1:])
        elif not line.strip():
            if code:
                code.append("")
            else:
                flush_paragraph()
        else:
            flush_code()
            paragraph.append(line)
    flush_paragraph()
    flush_code()
    return "".join(blocks)


def references_html(references: tuple[tuple[str, str], ...]) -> str:
    links = []
    for title, url in references:
        scheme = QUrl(url).scheme().lower()
        if scheme in SAFE_LINK_SCHEMES:
            links.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(title)}</a>')
        else:
            links.append(f"{html.escape(title)} ({html.escape(url)})")
    return "<br>".join(links)


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    """What the person asked to save."""

    item_id: str
    value: AnswerValue
    note: str
    justification: str
    expected_revision: int
    """The revision of the answer the person saw; 0 when they saw none."""


def _shrinkable(label: QLabel) -> QLabel:
    """A word-wrapped label that the pane may make narrower than its longest word (a long path
    in a finding): the pane's width decides, the label wraps to it and never widens the pane."""
    label.setWordWrap(True)
    label.setMinimumWidth(1)  # an explicit minimum replaces the longest-word minimum
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    return label


def _plain(text: str = "", *, selectable: bool = True) -> QLabel:
    label = _shrinkable(QLabel(text))
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _rich(selectable: bool = True) -> QLabel:
    label = _shrinkable(QLabel())
    label.setTextFormat(Qt.TextFormat.RichText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _heading(text: str) -> QLabel:
    label = _plain(text, selectable=False)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


class AnswerForm(QGroupBox):
    """met / unmet / n/a, a note and a justification, with a save button that stays disabled,
    saying why, while the answer cannot be saved."""

    submitted = Signal(object)  # AnswerRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Your answer", parent)
        self._entry: ItemProgress | None = None
        self._buttons = QButtonGroup(self)
        self.met = QRadioButton("&Met")
        self.unmet = QRadioButton("&Unmet")
        self.na = QRadioButton("N/&A")
        choices = QHBoxLayout()
        for value, button in self.choice_buttons().items():
            self._buttons.addButton(button)
            button.setToolTip(f"Answer {ANSWER_WORDS[value]}")
            choices.addWidget(button)
        choices.addStretch(1)
        self._buttons.buttonToggled.connect(self._refresh)
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional: context for the team")
        self.note.textChanged.connect(self._refresh)
        self.justification = QPlainTextEdit()
        self.justification.setPlaceholderText("why this answer holds")
        self.justification.setTabChangesFocus(True)
        self.justification.setFixedHeight(self.justification.fontMetrics().lineSpacing() * 4 + 12)
        self.justification.textChanged.connect(self._refresh)
        self.justification_label = QLabel("&Justification:")
        self.justification_label.setBuddy(self.justification)
        self.current = _plain()
        self.problem = _plain(selectable=False)
        self.problem.setObjectName("answerProblem")
        self.save = QPushButton("&Save answer")
        self.save.setDefault(False)
        self.save.clicked.connect(self._submit)
        self.revert = QPushButton("Re&vert")
        self.revert.setToolTip("Put back the saved answer")
        self.revert.clicked.connect(self._load_answer)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: field below
        form.addRow("Answer:", choices)
        note_label = QLabel("&Note:")
        note_label.setBuddy(self.note)
        form.addRow(note_label, self.note)
        form.addRow(self.justification_label, self.justification)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.set_entry(None)

    def choice_buttons(self) -> dict[AnswerValue, QRadioButton]:
        return {AnswerValue.MET: self.met, AnswerValue.UNMET: self.unmet,
                AnswerValue.NA: self.na}

    @property
    def entry(self) -> ItemProgress | None:
        return self._entry

    def chosen(self) -> AnswerValue | None:
        for value, button in self.choice_buttons().items():
            if button.isChecked():
                return value
        return None

    def choose(self, value: AnswerValue) -> None:
        self.choice_buttons()[value].setChecked(True)

    def set_entry(self, entry: ItemProgress | None) -> None:
        """Show an item's answer. The same item again (after a rescan or a save elsewhere)
        keeps what the person is typing, unless it was saved."""
        same = entry is not None and self._entry is not None \
            and entry.item.id == self._entry.item.id
        keep_edits = same and self.is_dirty() and not self._saved_matches(entry)
        self._entry = entry
        self.setEnabled(entry is not None)
        if not keep_edits:
            self._load_answer()
        self._show_current()
        self._refresh()

    def _saved_matches(self, entry: ItemProgress | None) -> bool:
        answer = entry.answer if entry is not None else None
        return answer is not None and answer.value is self.chosen() \
            and answer.note == self.note.text().strip() \
            and answer.justification == self.justification.toPlainText().strip()

    def _load_answer(self) -> None:
        answer = self._entry.answer if self._entry is not None else None
        self._buttons.setExclusive(False)
        for value, button in self.choice_buttons().items():
            button.setChecked(answer is not None and answer.value is value)
        self._buttons.setExclusive(True)
        self.note.setText(answer.note if answer is not None else "")
        self.justification.setPlainText(answer.justification if answer is not None else "")
        self._refresh()

    def _show_current(self) -> None:
        entry = self._entry
        if entry is None or entry.answer is None:
            self.current.setText("Not answered yet: the scan's finding decides the status.")
            return
        answer = entry.answer
        text = (f"Answered {ANSWER_WORDS[answer.value]} by {answer.author}, "
                f"{when_text(answer.answered_at)} (revision {answer.revision}).")
        if entry.needs_review:
            text += " The finding has changed since: check that the answer still holds."
        if entry.answer_expired:
            text += " The answer has expired: answer again."
        self.current.setText(text)

    def is_dirty(self) -> bool:
        """The form differs from the saved answer."""
        entry = self._entry
        if entry is None:
            return False
        answer = entry.answer
        if answer is None:
            return self.chosen() is not None or bool(self.note.text().strip()) \
                or bool(self.justification.toPlainText().strip())
        return not self._saved_matches(entry)

    def save_problem(self) -> str | None:
        """Why the answer cannot be saved as it stands, or None."""
        entry = self._entry
        if entry is None:
            return "select an item"
        value = self.chosen()
        if value is None:
            return "choose met, unmet or n/a"
        problem = justification_problem(entry.item, value, self.justification.toPlainText(),
                                        entry.finding)
        if problem:
            return problem
        if not self.is_dirty() and not entry.needs_review and not entry.answer_expired:
            return "nothing changed"
        return None

    def _refresh(self) -> None:
        entry = self._entry
        value = self.chosen()
        required = False
        if entry is not None and value is not None:
            required = justification_problem(entry.item, value, "", entry.finding) is not None
        self.justification_label.setText("&Justification (required):" if required
                                         else "&Justification:")
        if entry is not None:
            self.na.setEnabled(entry.item.na_allowed)
            self.na.setToolTip("Answer n/a" if entry.item.na_allowed else
                               "This item applies to every project: n/a is not allowed")
        problem = self.save_problem()
        self.save.setEnabled(problem is None)
        self.save.setToolTip(problem or "Save this answer (Ctrl+S)")
        quiet = (None, "nothing changed", "select an item", "choose met, unmet or n/a")
        self.problem.setText("" if problem in quiet else f"Cannot save: {problem}")
        self.problem.setVisible(problem not in quiet)
        self.revert.setEnabled(self.is_dirty())

    def _submit(self) -> None:
        entry = self._entry
        value = self.chosen()
        if entry is None or value is None or self.save_problem() is not None:
            return
        revision = entry.answer.revision if entry.answer is not None else 0
        self.submitted.emit(AnswerRequest(entry.item.id, value, self.note.text().strip(),
                                          self.justification.toPlainText().strip(), revision))

    def try_submit(self) -> bool:
        """Save when the answer can be saved as it stands; False (nothing sent) otherwise."""
        if self.save_problem() is not None:
            return False
        self._submit()
        return True


class DetailsPane(QScrollArea):
    """Everything about the selected item."""

    evidence_activated = Signal(object)  # Evidence
    link_activated = Signal(str)
    answer_submitted = Signal(object)  # AnswerRequest

    def __init__(self, icons: StatusIcons, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(MINIMUM_WIDTH)
        body = QWidget()
        body.setObjectName("detailsBody")
        layout = QVBoxLayout(body)
        # taller than the pane: scroll; wider: never, everything wraps to the pane's width
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(6)

        self.icon = QLabel()
        self.icon.setFixedSize(28, 28)
        self.title = _plain()
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.3)
        title_font.setBold(True)
        self.title.setFont(title_font)
        header = QHBoxLayout()
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.title, 1)
        layout.addLayout(header)
        self.subtitle = _plain()
        self.subtitle.setForegroundRole(self.subtitle.foregroundRole())
        layout.addWidget(self.subtitle)

        layout.addWidget(_heading("Finding"))
        self.finding = _plain()
        self.finding.setObjectName("findingText")
        layout.addWidget(self.finding)
        self.evidence_heading = _heading("Evidence")
        layout.addWidget(self.evidence_heading)
        self.evidence_model = EvidenceModel(self)
        self.evidence = QListView()
        self.evidence.setModel(self.evidence_model)
        self.evidence.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.evidence.setUniformItemSizes(True)
        self.evidence.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.evidence.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.evidence.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.evidence.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.evidence.setWordWrap(False)
        self.evidence.activated.connect(self._activate_evidence)
        self.evidence.setToolTip("Double-click or press Enter to open in your editor")
        layout.addWidget(self.evidence)

        layout.addWidget(_heading("Why it matters"))
        self.why = _rich()
        layout.addWidget(self.why)
        layout.addWidget(_heading("How to do it"))
        self.how = _rich()
        layout.addWidget(self.how)
        self.references_heading = _heading("References")
        layout.addWidget(self.references_heading)
        self.references = _rich(selectable=False)
        self.references.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                                | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.references.setOpenExternalLinks(False)
        self.references.linkActivated.connect(self.link_activated)
        layout.addWidget(self.references)

        self.answer = AnswerForm()
        self.answer.submitted.connect(self.answer_submitted)
        layout.addWidget(self.answer)

        layout.addWidget(_heading("History"))
        self.history_model = HistoryModel(self)
        self.history = QListView()
        self.history.setModel(self.history_model)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.history)
        self.no_history = _plain("No answer has been given yet.")
        layout.addWidget(self.no_history)
        layout.addStretch(1)
        self.setWidget(body)
        self._shown: tuple[ItemProgress | None, tuple[HistoryLine, ...]] | None = None
        self.show_entry(None)

    @property
    def entry(self) -> ItemProgress | None:
        return self.answer.entry

    def set_icons(self, icons: StatusIcons) -> None:
        self._icons = icons
        self._show_icon(self.entry)

    def reset(self) -> None:
        """Forget what is shown, the form too: the next `show_entry` starts afresh (after an
        answer was saved or refused, the stored answer replaces what was typed)."""
        self._shown = None
        self.answer.set_entry(None)

    def _show_icon(self, entry: ItemProgress | None) -> None:
        if entry is None:
            self.icon.clear()
        else:
            self.icon.setPixmap(self._icons.badge(badge(entry)).pixmap(28, 28))

    def show_entry(self, entry: ItemProgress | None,
                   history: tuple[HistoryLine, ...] = ()) -> None:
        if self._shown is not None and self._shown == (entry, history):
            return  # a rescan that changed nothing here: no relayout
        self._shown = (entry, history)
        self._show_icon(entry)
        self.answer.set_entry(entry)
        self.history_model.set_rows(history)
        self._fit(self.history, len(history), 6)
        self.history.setVisible(bool(history))
        self.no_history.setVisible(not history)
        if entry is None:
            self.title.setText("No item selected")
            self.subtitle.setText("Select an item to see why it matters, how to do it, "
                                  "what the scan found, and to answer it.")
            for label in (self.finding, self.why, self.how, self.references):
                label.clear()
            self.evidence_model.set_rows(())
            self.evidence.hide()
            self.evidence_heading.hide()
            self.references_heading.hide()
            return
        item = entry.item
        self.title.setText(item.title)
        self.subtitle.setText(f"{item.id}  ·  {item.level.value}  ·  "
                              f"status: {STATUS_WORDS[entry.status]}")
        self.finding.setText(self._finding_text(entry))
        evidence = entry.finding.evidence if entry.finding is not None else ()
        self.evidence_model.set_rows(evidence)
        self._fit(self.evidence, len(evidence), 8)
        self.evidence.setVisible(bool(evidence))
        self.evidence_heading.setVisible(bool(evidence))
        self.why.setText(checklist_html(item.why))
        self.how.setText(checklist_html(item.how))
        references = tuple((ref.title, ref.url) for ref in item.references)
        self.references.setText(references_html(references))
        self.references_heading.setVisible(bool(references))
        self.references.setVisible(bool(references))

    @staticmethod
    def _finding_text(entry: ItemProgress) -> str:
        finding = entry.finding
        if finding is None:
            return "Not scanned yet."
        words = OUTCOME_WORDS[finding.outcome]
        if finding.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE):
            words += f", {finding.confidence.words}"
        if finding.outcome is Outcome.ERROR:
            words += " (a bug in the detector, not in your project)"
        return f"{words[0].upper()}{words[1:]}: {finding.message}"

    @staticmethod
    def _fit(view: QListView, rows: int, most: int) -> None:
        height = view.sizeHintForRow(0) if rows else view.fontMetrics().lineSpacing()
        view.setFixedHeight(max(1, min(rows, most)) * max(height, 1) + 2 * view.frameWidth() + 4)

    def _activate_evidence(self, index: QModelIndex) -> None:
        evidence = index.data(EvidenceModel.EvidenceRole)
        if isinstance(evidence, Evidence):
            self.evidence_activated.emit(evidence)
