"""File > Export…: every format from the dialog, and the PDF renderer on its own."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from checklist_app.gui.export_dialog import FORMATS, default_path, format_named
from checklist_app.gui.main_window import MainWindow
from checklist_app.gui.pdf_export import ReportDocument, printable_html, write_pdf
from tests.gui.conftest import SCAN_TIMEOUT_MS, Dialogs
from tests.repos import Repo

WindowFactory = Callable[..., MainWindow]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def check_html(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>")
    assert "<code>guitest.changelog</code>" in text


def check_markdown(text: str) -> None:
    assert text.startswith("## Flask checklist: ")
    assert "`guitest.changelog`" in text


def check_json(text: str) -> None:
    document = json.loads(text)
    assert [i["id"] for i in document["items"] if i["id"].startswith("guitest.")] == [
        "guitest.readme", "guitest.changelog", "guitest.flask"]


def check_sarif(text: str) -> None:
    document = json.loads(text)
    assert document["version"] == "2.1.0"


def check_csv(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert any(row and row[0] == "guitest.changelog" for row in rows[1:])


CHECKS = {"html": check_html, "markdown": check_markdown, "json": check_json,
          "sarif": check_sarif, "csv": check_csv}


def test_every_format_is_exported_from_the_dialog(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        dialogs: Dialogs, tmp_path: Path) -> None:
    repo = make_repo({"README.md": "# <script>alert(1)</script>\n"})
    window = make_window(show=dialogs.show, confirm=dialogs.confirm)
    assert not window.export_action.isEnabled()
    assert window.open_export_dialog() is None
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.start(repo.root)
    assert window.export_action.isEnabled()
    out = tmp_path / "out"
    out.mkdir()
    for export_format in FORMATS:
        dialog = window.open_export_dialog()
        assert dialog is not None and dialog.isVisible()
        dialog.choose_format(export_format.key)
        assert dialog.path_edit.text().endswith(f"-checklist{export_format.suffix}")
        target = out / f"report{export_format.suffix}"
        dialog.path_edit.setText(str(target))
        with qtbot.waitSignal(dialog.exported, timeout=30_000) as written:
            dialog.export_button.click()
        assert written.args == [str(target)]
        assert not dialog.isVisible()
        data = target.read_bytes()
        if export_format.key == "pdf":
            assert data.startswith(b"%PDF-")
            assert pdf_pages(data) >= 2
        else:
            CHECKS[export_format.key](data.decode("utf-8"))
    assert dialogs.errors == []
    assert sorted(p.name for p in out.iterdir()) == [
        "report.csv", "report.html", "report.json", "report.md", "report.pdf", "report.sarif"]


def test_an_unwritable_file_shows_why_and_keeps_the_dialog(
        qtbot: QtBot, make_window: WindowFactory, make_repo: Callable[..., Repo],
        dialogs: Dialogs, tmp_path: Path) -> None:
    repo = make_repo({"README.md": "# x\n"})
    window = make_window(show=dialogs.show, confirm=dialogs.confirm)
    with qtbot.waitSignal(window.scanner.finished, timeout=SCAN_TIMEOUT_MS):
        window.start(repo.root)
    dialog = window.open_export_dialog()
    assert dialog is not None
    target = tmp_path / "missing" / "report.html"
    dialog.path_edit.setText(str(target))
    dialog.export_button.click()
    assert dialogs.errors == [("Cannot export", f"{target}: No such file or directory")]
    assert dialog.isVisible()


def test_default_names_and_formats(tmp_path: Path) -> None:
    cases = [("my app", "pdf", "my-app-checklist.pdf"),
             ("../../etc", "html", "etc-checklist.html"),
             ("...", "csv", "project-checklist.csv")]
    for name, key, expected in cases:
        assert default_path(tmp_path, name, format_named(key)) == tmp_path / expected


def test_the_pdf_has_its_pages_and_loads_no_outside_resource(
        qtbot: QtBot, tmp_path: Path) -> None:
    rows = "".join(f"<tr><td>row {n} &lt;b&gt;</td></tr>" for n in range(300))
    html = ('<!DOCTYPE html><html><head><title>T &amp; co</title><style>body{color:red}'
            '</style></head><body><h1>Report</h1><img src="file:///etc/hostname">'
            '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
            '<line x1="0" y1="0" x2="100" y2="50" stroke="black"/></svg>'
            f"<table>{rows}</table></body></html>")
    body, charts = printable_html(html)
    assert "<style" not in body and "<svg" not in body
    assert '<img src="chart:/0" width="100">' in body
    assert list(charts) == ["/0"] and charts["/0"].width() == 300
    document = ReportDocument(charts)
    resource = QTextDocument.ResourceType.ImageResource.value
    assert document.loadResource(resource, QUrl("file:///etc/hostname")) is None
    assert document.loadResource(resource, "https://example.com/x.png") is None
    assert document.loadResource(resource, QUrl("chart:/0")) is charts["/0"]
    document.setHtml(body)
    assert document.toPlainText().startswith("Report")
    assert "row 0 <b>\nrow 1 <b>" in document.toPlainText()
    target = tmp_path / "report.pdf"
    write_pdf(html, target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    assert pdf_pages(data) >= 3


def test_write_pdf_starts_its_own_offscreen_application_when_none_runs(tmp_path: Path) -> None:
    """What `checklist-app report --format pdf` does: no Qt application, no display."""
    target = tmp_path / "cli.pdf"
    code = ("import sys; from pathlib import Path; "
            "from checklist_app.gui.pdf_export import write_pdf; "
            "write_pdf('<html><body><h1>A &lt;b&gt; report</h1></body></html>', "
            "Path(sys.argv[1])); "
            "from PySide6.QtGui import QGuiApplication; "
            "print(QGuiApplication.platformName())")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-c", code, str(target)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "offscreen\n"), done.stderr
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and pdf_pages(data) == 1
