"""File > Export…: the open project's report as HTML, Markdown, PDF, JSON, SARIF or CSV.

The text comes from `Workspace.report`; PDF is the HTML report rendered by `pdf_export`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from checklist_app.gui.errors import ErrorDisplay, show_error

if TYPE_CHECKING:
    from checklist_app.workspace import ProjectRecord, Workspace


@dataclass(frozen=True, slots=True)
class ExportFormat:
    key: str
    """As `Workspace.report` names it; "pdf" is rendered here."""
    name: str
    suffix: str


FORMATS = (
    ExportFormat("html", "HTML", ".html"),
    ExportFormat("markdown", "Markdown", ".md"),
    ExportFormat("pdf", "PDF", ".pdf"),
    ExportFormat("json", "JSON", ".json"),
    ExportFormat("sarif", "SARIF", ".sarif"),
    ExportFormat("csv", "CSV", ".csv"),
)


def format_named(key: str) -> ExportFormat:
    for export_format in FORMATS:
        if export_format.key == key:
            return export_format
    raise ValueError(f"unknown export format {key!r}")


def export_report(workspace: Workspace, project: ProjectRecord, key: str, path: Path) -> None:
    """Write the project's report in the format `key` to `path` (OSError, StoreError or
    PdfError when it cannot)."""
    if key == "pdf":
        from checklist_app.gui.pdf_export import write_pdf

        write_pdf(workspace.report(project, "html"), path)
        return
    path.write_text(workspace.report(project, key), encoding="utf-8")


def default_path(folder: Path, project_name: str, export_format: ExportFormat) -> Path:
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in project_name).strip(".-")
    return folder / f"{stem or 'project'}-checklist{export_format.suffix}"


class ExportDialog(QDialog):
    """Choose a format and a file, then Export."""

    exported = Signal(str)
    """The path written."""

    def __init__(self, workspace: Workspace, project: ProjectRecord, folder: Path,
                 show: ErrorDisplay = show_error, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the report")
        self.workspace = workspace
        self.project = project
        self._show_error = show
        self.format_box = QComboBox()
        for export_format in FORMATS:
            self.format_box.addItem(export_format.name, export_format.key)
        self.path_edit = QLineEdit(str(default_path(folder, project.name, FORMATS[0])))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        where = QHBoxLayout()
        where.addWidget(self.path_edit, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("File", where)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.buttons)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.resize(560, self.sizeHint().height())

    @property
    def export_format(self) -> ExportFormat:
        return format_named(str(self.format_box.currentData()))

    def choose_format(self, key: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(format_named(key).key))

    def _format_changed(self) -> None:
        """Keep the file name's suffix in step with the format."""
        text = self.path_edit.text().strip()
        if not text:
            return
        path = Path(text)
        if path.suffix.lower() in {f.suffix for f in FORMATS}:
            self.path_edit.setText(str(path.with_suffix(self.export_format.suffix)))

    def browse(self) -> None:
        export_format = self.export_format
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Export the report", self.path_edit.text(),
            f"{export_format.name} (*{export_format.suffix});;All files (*)")
        if chosen:
            self.path_edit.setText(chosen)

    def export(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            self._show_error(self, "Cannot export", "Choose a file to write.")
            return
        path = Path(text).expanduser()
        from checklist_app.gui.pdf_export import PdfError
        from checklist_app.workspace import StoreError

        try:
            export_report(self.workspace, self.project, self.export_format.key, path)
        except OSError as error:
            self._show_error(self, "Cannot export", f"{path}: {error.strerror or error}")
            return
        except (StoreError, PdfError, ValueError) as error:
            self._show_error(self, "Cannot export", str(error))
            return
        self.exported.emit(str(path))
        self.accept()
