"""The report as PDF, rendered by Qt from the HTML report: A4, margins, page numbers.

`write_pdf(html, path)` is what the app and the CLI call. Qt's rich text understands a subset
of HTML and CSS, so the report's own style sheet is replaced by one written for that subset,
each inline SVG chart is drawn into a picture, and nothing else is ever loaded: no file, no
network (a report may quote hostile text; it is escaped, and even so no resource is fetched).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtSvg import QSvgRenderer

RESOLUTION = 300
"""Dots per inch of the PDF's layout (text stays vector; this sets the layout's units)."""
MARGINS_MM = QMarginsF(16, 14, 16, 14)
FOOTER_PT = 8
CHART_SCALE = 3
"""Charts are drawn at this multiple of their size, so they stay sharp when printed."""

PRINT_CSS = """
body { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif; font-size: 9pt;
       color: #1f2328; }
h1 { font-size: 16pt; margin-bottom: 2pt; }
h2 { font-size: 12.5pt; margin-top: 12pt; margin-bottom: 4pt; color: #1f2328; }
h3 { font-size: 10.5pt; margin-top: 8pt; margin-bottom: 3pt; }
p.meta { color: #57606a; }
table { border-collapse: collapse; margin-top: 3pt; margin-bottom: 3pt; }
th { background-color: #f6f8fa; font-weight: bold; text-align: left; }
th, td { padding: 3px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
td.num, th.num { text-align: right; }
code { font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 8pt; }
.evidence { font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 7.5pt;
            color: #57606a; }
.status { font-weight: bold; }
.met { color: #1a7f37; } .unmet { color: #cf222e; } .na { color: #6e7781; }
.unknown { color: #9a6700; }
.flag { background-color: #fff8c5; font-size: 7.5pt; }
.small { color: #57606a; font-size: 7.5pt; }
.answer { font-size: 8.5pt; }
"""

_STYLE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.IGNORECASE | re.DOTALL)
_SVG = re.compile(r"<svg\b.*?</svg\s*>", re.IGNORECASE | re.DOTALL)
_BAR = re.compile(r'<span class="bar"[^>]*><span[^>]*></span></span>')
_TABLE = re.compile(r"<table>", re.IGNORECASE)
_CHART_SCHEME = "chart"


class PdfError(Exception):
    """The PDF could not be written (the message says why)."""


class ReportDocument(QTextDocument):
    """A text document that loads only the charts it was given, never a file or a URL."""

    def __init__(self, charts: dict[str, QImage]) -> None:
        super().__init__()
        self._charts = charts

    def loadResource(self, kind: int, name: QUrl | str) -> object:
        url = QUrl(name) if isinstance(name, str) else name
        if url.scheme() == _CHART_SCHEME:
            return self._charts.get(url.path())
        return None


def ensure_gui_application() -> QGuiApplication:
    """The running Qt application, or a new one (offscreen when there is no display)."""
    existing = QGuiApplication.instance()
    if isinstance(existing, QGuiApplication):
        return existing
    if existing is not None:
        raise PdfError("a Qt application without a GUI is running: PDF needs fonts and "
                       "painting, start a QGuiApplication instead")
    if not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or sys.platform in ("darwin", "win32")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QGuiApplication([sys.argv[0] if sys.argv else "checklist-app"])


def printable_html(html: str) -> tuple[str, dict[str, QImage]]:
    """The report's HTML for Qt's rich text: its style sheet dropped, the empty progress bars
    dropped (the percentage is beside them), tables as wide as the page and each SVG chart
    replaced by a picture."""
    charts: dict[str, QImage] = {}

    def chart(match: re.Match[str]) -> str:
        image = svg_image(match.group(0))
        if image is None:
            return ""
        name = f"/{len(charts)}"
        charts[name] = image
        width = image.width() // CHART_SCALE
        return f'<p><img src="{_CHART_SCHEME}:{name}" width="{width}"></p>'

    text = _STYLE.sub("", html)
    text = _BAR.sub("", text)
    text = _TABLE.sub('<table width="100%" cellspacing="0" cellpadding="3">', text)
    return _SVG.sub(chart, text), charts


def svg_image(svg: str) -> QImage | None:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        return None
    size = renderer.defaultSize()
    if size.isEmpty() or size.width() > 4000 or size.height() > 4000:
        return None
    image = QImage(size * CHART_SCALE, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def write_pdf(html: str, path: Path) -> None:
    """Render `html` (a report from `Workspace.report(..., "html")`) to the PDF `path`: A4,
    with margins and "page n of m" at the foot of each page. PdfError when it cannot."""
    ensure_gui_application()
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(MARGINS_MM, QPageLayout.Unit.Millimeter)
    writer.setTitle(_title(html))
    writer.setCreator("Flask Checklist")
    body, charts = printable_html(html)
    document = ReportDocument(charts)
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(QFont("DejaVu Sans", 9))
    document.setDefaultStyleSheet(PRINT_CSS)
    document.setHtml(body)
    area = writer.pageLayout().paintRectPixels(RESOLUTION)
    footer = FOOTER_PT * RESOLUTION / 72 * 2.2
    page = QSizeF(area.width(), area.height() - footer)
    document.setPageSize(page)
    pages = max(1, document.pageCount())
    painter = QPainter()
    if not painter.begin(writer):
        raise PdfError(f"cannot write {path}")
    try:
        footer_font = QFont("DejaVu Sans")
        footer_font.setPointSizeF(FOOTER_PT)
        for number in range(pages):
            if number:
                writer.newPage()
            _draw_page(painter, document, page, number)
            painter.setFont(footer_font)
            painter.setPen(QColor("#57606a"))
            painter.drawText(QRectF(0, page.height(), page.width(), footer),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom),
                             f"page {number + 1} of {pages}")
    finally:
        painter.end()
    if not path.is_file() or path.stat().st_size == 0:
        raise PdfError(f"cannot write {path}")


def _draw_page(painter: QPainter, document: QTextDocument, page: QSizeF, number: int) -> None:
    painter.save()
    top = number * page.height()
    painter.translate(0, -top)
    context = QAbstractTextDocumentLayout.PaintContext()
    context.clip = QRectF(0, top, page.width(), page.height())
    painter.setClipRect(context.clip)
    document.documentLayout().draw(painter, context)
    painter.restore()


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.IGNORECASE | re.DOTALL)
    if found is None:
        return "Flask checklist report"
    from html import unescape

    return unescape(found.group(1)).strip()[:200]
